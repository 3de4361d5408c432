"""Event designs side by side, live: each prompt template's events on the same fixtures, same
model and server, scored by ``harness.evaluation.scoring``; completion tokens and seconds per
article counted per design (an experiment for issue #19, not a benchmark of the shipped code).

    HARNESS_BASE_URL=http://127.0.0.1:8731/v1 HARNESS_MODEL=qwen2.5-coder-1.5b \\
      python bench/exp_events.py --prompts news news-lean --split dev [--fixtures GLOB] \\
      [--json bench/out/exp_events_dev.json]

A template under another root (an events-only copy, to save the claims pass's time when only
events are compared) is named ``ROOT:NAME``. Designs alternate fixture by fixture, so a machine
that slows down mid-run slows both alike. Claims are scored too when the template has a claims
pass.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from harness.config import Settings
from harness.evaluation.fixtures import iter_fixtures
from harness.evaluation.runner import EvalRun, run_fixtures, score_run
from harness.prompting import PromptTemplate

KEYS = ("event_precision", "event_recall", "event_f1", "event_status", "event_type", "event_date",
        "event_location", "event_killed", "claim_f1")  # fmt: skip


def _slug(design: str) -> str:
    return design.replace("/", "_").replace(":", "_")


def _template(ref: str) -> tuple[str, Path | None]:
    root, _, name = ref.rpartition(":")
    return name, Path(root) if root else None


async def run(designs: list[str], fixtures, settings: Settings, record: Path | None = None,
              replay: bool = False) -> dict:
    templates = {}
    for design in designs:
        name, root = _template(design)
        templates[design] = PromptTemplate.load(name, root) if root else PromptTemplate.load(name)
    out: dict = {d: {"results": {}, "seconds": {}} for d in designs}
    for fixture in fixtures:
        for design in designs:
            started = time.monotonic()
            where = settings.with_(cassettes_dir=record / _slug(design)) if record else settings
            if replay:
                one = await run_fixtures([fixture], where.with_(retries=0), template=templates[design])
                if fixture.id not in one.results:
                    continue  # not recorded (a partial run)
            else:
                one = await run_fixtures([fixture], where, live=True, record=record is not None,
                                         template=templates[design])
            out[design]["results"][fixture.id] = one.results[fixture.id]
            out[design]["seconds"][fixture.id] = round(time.monotonic() - started, 1)
            usage = one.results[fixture.id].provenance
            tokens = usage.usage.completion_tokens if usage else None
            print(f"{design:>24} {fixture.id:<40} {out[design]['seconds'][fixture.id]:6.1f} s "
                  f"{tokens} completion tokens", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", nargs="+", required=True, help="templates (NAME or ROOT:NAME)")
    parser.add_argument("--fixtures", nargs="+", default=["*"], metavar="GLOB")
    parser.add_argument("--split", choices=("dev", "test"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--record", type=Path, metavar="DIR",
                        help="keep each design's answers as cassettes under DIR (a partial run can be scored later)")
    parser.add_argument("--replay", action="store_true", help="score the cassettes under --record instead of calling")
    args = parser.parse_args()
    fixtures = [f for glob in args.fixtures for f in iter_fixtures(pattern=glob, split=args.split)]
    settings = Settings.from_env()
    raw = asyncio.run(run(args.prompts, fixtures, settings, args.record, args.replay))
    report = {}
    for design, data in raw.items():
        fake = EvalRun("live", design, "", results=data["results"])
        summary, _ = score_run(fake, [f for f in fixtures if f.id in data["results"]])
        n = len(data["results"])
        tokens = [r.provenance.usage.completion_tokens for r in data["results"].values() if r.provenance]
        report[design] = {
            **{k: summary.micro.get(k) for k in KEYS},
            "fixtures": n,
            "completion_tokens_per_article": round(sum(tokens) / max(1, len(tokens)), 1),
            "seconds_per_article": round(sum(data["seconds"].values()) / max(1, n), 1),
            "events_found": sum(len(r.events) for r in data["results"].values()),
            "errors": [k for k, r in data["results"].items() if r.error],
        }
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
