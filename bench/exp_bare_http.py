"""EXPERIMENT, not a benchmark of the shipped code: how far the harness is from 90% of ideal at
16 in flight because of its HTTP path.

``bare`` replaces ``Endpoint._call`` (instructor + the openai SDK on aiohttp's transport) with a
bare aiohttp POST of the same JSON body and pydantic's ``model_validate_json`` of the answer:
no instructor (no re-asks, no modes but ``json_schema``), no SDK (no error mapping, no retries).
``no-sdk`` keeps instructor and replaces only the SDK's ``client.post`` in
``Endpoint._post_completion`` with a bare aiohttp POST whose answer is validated into the SDK's
``ChatCompletion`` (no error mapping: an HTTP error would surface as aiohttp's).
Everything else is the shipped harness: reading, chunking, prompt, grounding, checks, recovery,
policy, JSONL. ``sdk`` is the shipped harness unchanged. Both run in this process against
``delayed_server.py`` (200 SYNTHETIC documents, 200 ms delay), warmed up on 8 documents first,
with the same stage clock as ``bench_throughput.py``. Alternate the two to see past the noise:

    for m in bare no-sdk sdk bare no-sdk sdk; do python bench/exp_bare_http.py $m 1 4 16 64; done
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402
import pydantic_core  # noqa: E402

import bench_throughput as bench  # noqa: E402
from openai.types.chat import ChatCompletion  # noqa: E402

from harness import endpoint  # noqa: E402
from harness.decoding import decoding_model  # noqa: E402

SESSIONS: dict[int, aiohttp.ClientSession] = {}


def _session(owner: endpoint.Endpoint) -> aiohttp.ClientSession:
    session = SESSIONS.get(id(owner))
    if session is None:
        session = SESSIONS[id(owner)] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=128))
    return session


async def _post(owner: endpoint.Endpoint, body: dict[str, Any]) -> bytes:
    async with _session(owner).post(f"{owner.base_url}/chat/completions", data=pydantic_core.to_json(body),
                                    headers={"Content-Type": "application/json"}) as answer:
        answer.raise_for_status()
        return await answer.read()


async def bare_call(self: endpoint.Endpoint, mode: str, messages: Any, output_model: Any,
                    stats: endpoint.CallStats) -> Any:
    body = {
        "model": self.model, "messages": list(messages), "max_tokens": self.settings.max_tokens,
        "temperature": self.settings.temperature,
        "response_format": {"type": "json_schema", "json_schema": {
            "name": output_model.__name__, "schema": decoding_model(output_model).model_json_schema()}},
    }
    stats.attempts += 1
    data = json.loads(await _post(self, body))
    usage = data.get("usage") or {}
    stats.prompt_tokens += usage.get("prompt_tokens", 0)
    stats.completion_tokens += usage.get("completion_tokens", 0)
    return endpoint._response_model(output_model).model_validate_json(data["choices"][0]["message"]["content"])


async def post_without_sdk(self: endpoint.Endpoint, **params: Any) -> ChatCompletion:
    params.pop("timeout", None)
    extra = params.pop("extra_body", None) or {}
    body = {**params, **extra}
    return ChatCompletion.model_validate_json(await _post(self, body))


async def close_sessions() -> None:
    for session in SESSIONS.values():
        await session.close()
    SESSIONS.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", choices=("bare", "no-sdk", "sdk"))
    parser.add_argument("concurrency", type=int, nargs="+")
    parser.add_argument("--docs", type=int, default=200)
    args = parser.parse_args()
    if args.path == "bare":
        endpoint.Endpoint._call = bare_call  # type: ignore[method-assign]
        endpoint.Endpoint._mode = "json_schema"  # type: ignore[assignment]  # no negotiation
    elif args.path == "no-sdk":
        endpoint.Endpoint._post_completion = post_without_sdk  # type: ignore[method-assign]
    bench.STAGE_CLOCK.install()
    docs = bench.build_corpus(args.docs, 5000)
    with tempfile.TemporaryDirectory() as tmp, bench.delayed_server(0.2) as (url, _pid):
        work = Path(tmp)
        jsonl = bench.write_jsonl(docs, work / "docs.jsonl")
        bench.run_harness(bench.write_jsonl(docs[:8], work / "warm.jsonl"), url, 4, work / "warm-out.jsonl")
        asyncio.run(close_sessions())
        for concurrency in args.concurrency:
            row = bench.run_harness(jsonl, url, concurrency, work / f"out-{concurrency}.jsonl")
            asyncio.run(close_sessions())
            rate = row["docs"] / row["wall_s"]
            print(f"{args.path} {concurrency:>3}: {rate:6.1f} docs/s {100 * rate / (concurrency / 0.2):3.0f}% of ideal, "
                  f"client CPU {1000 * row['cpu_s'] / row['docs']:.2f} ms/doc, own stages "
                  f"{1000 * row['own_cpu_s'] / row['docs']:.2f}, errors {row['errors']}, "
                  f"spans exact {row['exact_spans']}/{row['spans']}", flush=True)


if __name__ == "__main__":
    main()
