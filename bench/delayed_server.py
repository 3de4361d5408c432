"""A loopback OpenAI-compatible server that answers every chat completion after a fixed delay.

It stands in for a model with a known, constant latency, so a benchmark measures what the
client side costs (HTTP, validation, grounding, writing) and how well it overlaps requests.

Two implementations, same answers (both built by ``tests/openai_server.py``'s ``_body``: one
event and one claim whose spans are the article's first sentence, only the fields the request's
schema asks for):

- ``aiohttp``: one asyncio event loop, the delay is ``asyncio.sleep`` (default; cheap at 64+
  concurrent requests);
- ``threaded``: ``tests/openai_server.py``'s ``FakeOpenAI`` (``ThreadingHTTPServer``, one
  thread per connection) with ``ok(delay=...)``.

A request without an ``<article>`` block (LangExtract's prompt: few-shot "Q:/A:" pairs, then the
text after the last "Q: ") gets a LangExtract-shaped answer, ``{"extractions": [...]}``, with one
event and one claim on that text's first sentence.

Run it as its own process (so its CPU time is not charged to the client being measured); it
prints its base URL on the first line of stdout, then serves until killed:

    python bench/delayed_server.py [--delay 0.2] [--impl aiohttp|threaded]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import openai_server as fake  # noqa: E402  (tests/openai_server.py, not edited)

LANGEXTRACT_Q = "Q: "


def langextract_answer(request: fake.Request) -> dict[str, Any]:
    """An OpenAI chat completion whose content is LangExtract's ``{"extractions": [...]}``."""
    prompt = next(
        (m.get("content") or "" for m in reversed(request.messages) if m.get("role") == "user"), ""
    )
    text = prompt.rsplit(LANGEXTRACT_Q, 1)[-1].rsplit("\nA:", 1)[0]
    sentence = fake.first_sentence(text)
    content = {
        "extractions": [
            {
                "event": sentence,
                "event_attributes": {"type": "strategic.other", "status": "occurred"},
            },
            {"claim": sentence, "claim_attributes": {"speaker": "A spokesperson", "cue": "said"}},
        ]
    }
    model = request.body.get("model", "fake") if isinstance(request.body, dict) else "fake"
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "usage": dict(fake.USAGE),
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": json.dumps(content)},
            }
        ],
    }


def answer(body: Any) -> dict[str, Any]:
    request = fake.Request("POST", "/v1/chat/completions", {}, body)
    if request.article:
        return fake._body(request, fake.ok())  # noqa: SLF001 - the canned extraction, reused
    return langextract_answer(request)


async def serve_aiohttp(delay: float, port: int) -> None:
    from aiohttp import web

    async def completions(http_request: web.Request) -> web.Response:
        body = await http_request.json()
        await asyncio.sleep(delay)
        return web.json_response(answer(body))

    async def models(_: web.Request) -> web.Response:
        return web.json_response(
            {"object": "list", "data": [{"id": "fake-model", "object": "model"}]}
        )

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_get("/v1/models", models)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - the port 0 resolved to
    print(f"http://127.0.0.1:{bound}/v1", flush=True)
    await asyncio.Event().wait()


def serve_threaded(delay: float) -> None:
    def policy(request: fake.Request) -> fake.Action:
        if request.article:
            return fake.ok(delay=delay)
        return fake.ok(
            content=langextract_answer(request)["choices"][0]["message"]["content"], delay=delay
        )

    with fake.FakeOpenAI(policy) as server:
        print(server.base_url, flush=True)
        threading.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delay", type=float, default=0.2, help="seconds before each answer")
    parser.add_argument("--impl", choices=("aiohttp", "threaded"), default="aiohttp")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        if args.impl == "aiohttp":
            asyncio.run(serve_aiohttp(args.delay, args.port))
        else:
            serve_threaded(args.delay)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
