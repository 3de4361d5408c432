"""Tokens per article for each structured-output mode, the fixed prompt's cost, the cache's gain.

Against the embedded llama-server (Qwen2.5-Coder-1.5B; or ``HARNESS_BASE_URL``), for each mode
``json_schema``, ``json_object``, ``tools``, ``json``, ``md_json`` (``HARNESS_MODE``), the same
articles go through ``Extractor.run_one`` one after the other, and the run reports per article:

- prompt and completion tokens as the server's responses report them (``usage``);
- prompt tokens the server actually evaluated and those it reused from its prompt cache
  (``/metrics`` counters ``prompt_tokens_total`` and ``prompt_tokens_cached_total``), so the gain
  from reusing the fixed prefix (system prompt + few-shot example) is measured, not assumed;
- attempts (re-asks included), whether the Result validated, and seconds.

The fixed part of each pass (everything but the article) is tokenized once with the server's
``/apply-template`` and ``/tokenize``.

    python bench/bench_tokens.py [--fixtures ukgov-01-karrada-attack usds-04-dabiq-liberation]
        [--modes json_schema json_object tools json md_json] [--json bench/out/tokens.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_quality import OUT, model_server, server_tokens  # noqa: E402

MODES = ("json_schema", "json_object", "tools", "json", "md_json")
DEFAULT_FIXTURES = ("ukgov-01-karrada-attack", "usds-04-dabiq-liberation")


def _post(root: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(f"{root}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def fixed_prompt_tokens(url: str) -> dict[str, int] | None:
    """Tokens of each pass's messages with an empty article: the part every request repeats."""
    from harness.prompting import PromptTemplate

    root = url.rstrip("/").removesuffix("/v1")
    out = {}
    try:
        for p in PromptTemplate.load("news").passes:
            prompt = _post(root, "/apply-template", {"messages": p.messages("", None, None)})["prompt"]
            out[p.name] = len(_post(root, "/tokenize", {"content": prompt})["tokens"])
    except OSError:
        return None
    return out


def run_mode(mode: str, fixtures: list[Any], url: str, model: str) -> list[dict[str, Any]]:
    from harness.config import Settings
    from harness.endpoint import Endpoint
    from harness.evaluation.runner import document_for
    from harness.pipeline import Extractor, Options
    from harness.prompting import PromptTemplate

    settings = Settings.from_env().with_(mode=mode)
    rows = []

    async def main() -> None:
        endpoint = Endpoint(settings, url, model, settings.api_key)
        extractor = Extractor(settings, endpoint, PromptTemplate.load("news"), Options())
        try:
            for fixture in fixtures:
                before = server_tokens(url)
                started = time.monotonic()
                result = await extractor.run_one(document_for(fixture))
                seconds = time.monotonic() - started
                after = server_tokens(url)
                usage = result.provenance.usage if result.provenance else None
                row = {
                    "mode": mode, "fixture": fixture.id, "chars": len(fixture.text),
                    "valid": result.error is None,
                    "error": f"{result.error.type}: {result.error.message[:160]}" if result.error else None,
                    "attempts": result.provenance.attempts if result.provenance else None,
                    "prompt_tokens": usage.prompt_tokens if usage else None,
                    "completion_tokens": usage.completion_tokens if usage else None,
                    "seconds": round(seconds, 1),
                    "events": len(result.events), "claims": len(result.claims),
                }  # fmt: skip
                if before and after:
                    row |= {"evaluated_prompt_tokens": after[0] - before[0],
                            "cached_prompt_tokens": after[2] - before[2]}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
        finally:
            await endpoint.aclose()

    asyncio.run(main())
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", nargs="+", default=list(DEFAULT_FIXTURES))
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--json", type=Path, default=OUT / "tokens.json")
    args = parser.parse_args()

    from harness.config import Settings
    from harness.evaluation.fixtures import FIXTURES_DIR, load_fixture

    fixtures = [load_fixture(FIXTURES_DIR / name) for name in args.fixtures]
    OUT.mkdir(parents=True, exist_ok=True)
    with model_server(Settings.from_env()) as (url, model):
        fixed = fixed_prompt_tokens(url)
        rows = [row for mode in args.modes for row in run_mode(mode, fixtures, url, model)]
    args.json.write_text(json.dumps({"model": model, "fixed_prompt_tokens": fixed, "rows": rows}, indent=1),
                         encoding="utf-8")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
