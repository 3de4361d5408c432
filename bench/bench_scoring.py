"""Speed and peak memory of scoring (``score_document``) and grounding (``ground_spans``).

Predictions are made from the gold of ``evals/fixtures`` by perturbing it (seeded): items dropped,
renamed (speaker, event type, cue, actor names), duplicated under a new id, and their span
offsets cleared or their texts retyped (straight quotes, upper case, one word changed), so the
scorer aligns imperfect predictions and the grounder searches for text rather than trusting
offsets. Longer articles and larger item counts are built by concatenating the fixture articles
(SYNTHETIC; gold offsets shifted to match).

- scoring: ``--pairs`` (10,000) prediction/gold pairs scored one by one, then ``aggregate``;
- grounding: ``--articles`` (1,000) fixture articles grounded, one fresh prediction each;
- growth: both again over article length (items fixed) and item count (length fixed).

Time is this process's CPU time (``time.process_time``; the machine may be shared, so wall time
would measure the neighbours), measured without tracemalloc; wall time is reported beside it.
Peak memory is tracemalloc's peak (Python allocations only) in a second pass, scores kept as
``aggregate`` needs them; for the 10,000 scoring pairs that pass covers ``--traced-pairs``
(1,000: tracemalloc slows scoring several times) and the process's RSS high-water growth over
the untraced full run (``ru_maxrss``, predictions built beforehand) is reported too.

    python bench/bench_scoring.py [--pairs 10000] [--articles 1000] [--json bench/out/scoring.json]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.evaluation.fixtures import iter_fixtures, iter_spans
from harness.evaluation.scoring import aggregate, score_document
from harness.grounding import ground_spans
from schemas import Claim, Event, Extraction, GoldResult

OUT = Path(__file__).resolve().parent / "out"
EVENT_TYPES = (
    "strategic.other",
    "battle.armed_clash",
    "explosion.shelling_artillery_missile",
    "violence_against_civilians.attack",
    "protest.peaceful",
)


@dataclass(frozen=True)
class Case:
    """One article with its gold."""

    text: str
    gold: GoldResult


def fixture_cases() -> list[Case]:
    return [Case(f.text, f.gold) for f in iter_fixtures()]


def _shifted(item: Event | Claim, offset: int, suffix: str) -> Event | Claim:
    copy = item.model_copy(deep=True)
    for _where, span in iter_spans(copy):
        if span.start is not None and span.end is not None:
            span.start, span.end = span.start + offset, span.end + offset
    copy.id = f"{copy.id}{suffix}"
    if isinstance(copy, Claim):
        copy.event_ids = [f"{e}{suffix}" for e in copy.event_ids]
    return copy


def combined_case(cases: Sequence[Case], chars: int, events: int, claims: int) -> Case:
    """A SYNTHETIC article: fixture articles (shortest first) one after another until it holds
    ``chars`` characters, with ``events`` and ``claims`` of their gold items spread over it
    (repeated under new ids when it holds fewer)."""
    ordered = sorted(cases, key=lambda c: len(c.text))
    parts: list[str] = []
    all_events: list[Event | Claim] = []
    all_claims: list[Event | Claim] = []
    size = 0
    while size < chars:
        case = ordered[len(parts) % len(ordered)]
        suffix = f"_{len(parts)}"
        all_events += [_shifted(e, size, suffix) for e in case.gold.events]
        all_claims += [_shifted(c, size, suffix) for c in case.gold.claims]
        parts.append(case.text)
        size += len(case.text) + 2
    gold = GoldResult(
        doc_id=f"synthetic-{chars}-{events}-{claims}",
        events=_spread(all_events, events),
        claims=_spread(all_claims, claims),
    )
    return Case("\n\n".join(parts), gold)


def _spread(items: Sequence[Event | Claim], n: int) -> list[Any]:
    """``n`` items taken evenly from ``items``; past its length, copies under new ids."""
    picked = []
    for i in range(n):
        item = items[int(i * len(items) / n)] if n <= len(items) else items[i % len(items)]
        picked.append(item if n <= len(items) or i < len(items) else _shifted(item, 0, f"r{i}"))
    return picked


def _retype(text: str, rng: random.Random) -> str:
    choice = rng.randrange(3)
    if choice == 0:
        return text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
    if choice == 1:
        return text.upper()
    words = text.split()
    if len(words) > 6:
        words[len(words) // 2] = "something"
    return " ".join(words)


def as_prediction(
    gold: GoldResult, rng: random.Random, perturb: bool = True, clear: float = 0.5
) -> Extraction:
    """A model-like prediction: gold items dropped/renamed/duplicated, spans without offsets."""
    events = [e.model_copy(deep=True) for e in gold.events]
    claims = [c.model_copy(deep=True) for c in gold.claims]
    if perturb:
        for items in (events, claims):
            if items and rng.random() < 0.5:
                items.pop(rng.randrange(len(items)))  # drop
            if items and rng.random() < 0.3:
                twin = items[rng.randrange(len(items))].model_copy(deep=True)
                twin.id = f"{twin.id}dup"
                items.append(twin)  # duplicate
        for event in events:
            if rng.random() < 0.3:
                event.type = rng.choice(EVENT_TYPES)  # type: ignore[assignment]
            for actor in event.actors:
                if rng.random() < 0.3:
                    actor.name = actor.name.split()[0] + " Group"
        for claim in claims:
            if rng.random() < 0.3:
                claim.speaker.name = "Unnamed official"
            if rng.random() < 0.3:
                claim.cue = "stated"
    for item in (*events, *claims):
        for _where, span in iter_spans(item):
            if rng.random() < clear:
                span.start = span.end = span.grounding = span.matched = span.similarity = None
                if rng.random() < 0.25:
                    span.text = _retype(span.text, rng) or span.text
    return Extraction(events=events, claims=claims)


def _timed(run: Callable[[], Any]) -> tuple[Any, float]:
    """``run()`` and the CPU seconds it took (wall time in ``_timed.wall_s``)."""
    cpu, wall = time.process_time(), time.perf_counter()
    value = run()
    _timed.wall_s = time.perf_counter() - wall  # type: ignore[attr-defined]
    return value, time.process_time() - cpu


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_mib(run: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def bench_scoring(cases: Sequence[Case], pairs: int, traced: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    work = [
        (as_prediction(c.gold, rng), c.gold, c.text)
        for c in (cases[i % len(cases)] for i in range(pairs))
    ]

    def run(n: int) -> Any:
        return aggregate([score_document(p, g, t) for p, g, t in work[:n]])

    rss_before = _maxrss_mib()
    _, seconds = _timed(lambda: run(pairs))
    return {
        "pairs": pairs,
        "seconds": seconds,
        "wall_s": _timed.wall_s,  # type: ignore[attr-defined]
        "ms_per_pair": 1000 * seconds / pairs,
        "rss_growth_mib": _maxrss_mib() - rss_before,
        "traced_pairs": min(traced, pairs),
        "peak_mib": _peak_mib(lambda: run(traced)),
        "items_per_pair": sum(len(g.events) + len(g.claims) for _p, g, _t in work) / pairs,
    }


def bench_grounding(cases: Sequence[Case], articles: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)

    def make() -> list[tuple[Extraction, str]]:
        return [
            (as_prediction(c.gold, rng, perturb=False, clear=1.0), c.text)
            for c in (cases[i % len(cases)] for i in range(articles))
        ]

    work = make()
    spans = sum(sum(1 for _ in iter_spans(p)) for p, _t in work)
    counts, seconds = _timed(lambda: [ground_spans(p, t) for p, t in work])
    again = make()
    return {
        "articles": articles,
        "spans": spans,
        "seconds": seconds,
        "wall_s": _timed.wall_s,  # type: ignore[attr-defined]
        "ms_per_article": 1000 * seconds / articles,
        "exact": sum(c.exact for c in counts),
        "fuzzy": sum(c.fuzzy for c in counts),
        "none": sum(c.none for c in counts),
        "peak_mib": _peak_mib(lambda: [ground_spans(p, t) for p, t in again]),
    }


def growth(
    cases: Sequence[Case], sizes: Sequence[tuple[int, int]], repeat: int, seed: int
) -> list[dict[str, Any]]:
    """Per size (chars, items of each kind): ms and peak KiB for one score and one grounding."""
    rows = []
    for chars, items in sizes:
        case = combined_case(cases, chars, items, items)
        rng = random.Random(seed)
        preds = [as_prediction(case.gold, rng) for _ in range(repeat)]
        score_document(preds[0], case.gold, case.text)  # warm: caches, first-call imports
        _, score_s = _timed(lambda: [score_document(p, case.gold, case.text) for p in preds])
        score_peak = _peak_mib(lambda: score_document(preds[0], case.gold, case.text))
        to_ground = [as_prediction(case.gold, rng, perturb=False, clear=1.0) for _ in range(repeat)]
        _, ground_s = _timed(lambda: [ground_spans(p, case.text) for p in to_ground])
        fresh = as_prediction(case.gold, rng, perturb=False, clear=1.0)
        ground_peak = _peak_mib(lambda: ground_spans(fresh, case.text))
        rows.append(
            {
                "chars": len(case.text),
                "events": len(case.gold.events),
                "claims": len(case.gold.claims),
                "spans": sum(1 for _ in iter_spans(to_ground[0])),
                "score_ms": 1000 * score_s / repeat,
                "score_peak_kib": score_peak * 1024,
                "ground_ms": 1000 * ground_s / repeat,
                "ground_peak_kib": ground_peak * 1024,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument(
        "--traced-pairs", type=int, default=1_000, help="pairs scored under tracemalloc"
    )
    parser.add_argument("--articles", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs per growth size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=OUT / "scoring.json")
    args = parser.parse_args()
    cases = fixture_cases()
    scoring = bench_scoring(cases, args.pairs, args.traced_pairs, args.seed)
    print(
        f"scoring: {scoring['pairs']} pairs ({scoring['items_per_pair']:.1f} gold items each) in "
        f"{scoring['seconds']:.2f} CPU s ({scoring['wall_s']:.2f} wall) = {scoring['ms_per_pair']:.3f} "
        f"CPU ms/pair; RSS high-water growth {scoring['rss_growth_mib']:.1f} MiB; tracemalloc peak "
        f"{scoring['peak_mib']:.1f} MiB over {scoring['traced_pairs']} pairs",
        flush=True,
    )
    grounding = bench_grounding(cases, args.articles, args.seed)
    print(
        f"grounding: {grounding['articles']} articles, {grounding['spans']} spans "
        f"(exact {grounding['exact']}, fuzzy {grounding['fuzzy']}, none {grounding['none']}) in "
        f"{grounding['seconds']:.2f} CPU s ({grounding['wall_s']:.2f} wall) = "
        f"{grounding['ms_per_article']:.3f} CPU ms/article; "
        f"peak {grounding['peak_mib']:.1f} MiB",
        flush=True,
    )
    by_length = growth(
        cases, [(1_500, 8), (5_000, 8), (20_000, 8), (80_000, 8)], args.repeat, args.seed
    )
    by_items = growth(
        cases, [(5_000, 2), (5_000, 8), (5_000, 32), (5_000, 64)], args.repeat, args.seed
    )
    header = (
        f"{'chars':>7} {'events':>6} {'claims':>6} {'spans':>5} {'score ms':>9} {'score peak KiB':>14} "
        f"{'ground ms':>9} {'ground peak KiB':>15}   (ms: CPU per call)"
    )
    for title, rows in (("by article length", by_length), ("by item count", by_items)):
        print(f"\n{title}\n{header}")
        for r in rows:
            print(
                f"{r['chars']:>7} {r['events']:>6} {r['claims']:>6} {r['spans']:>5} {r['score_ms']:>9.2f} "
                f"{r['score_peak_kib']:>14.0f} {r['ground_ms']:>9.2f} {r['ground_peak_kib']:>15.0f}"
            )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "scoring": scoring,
                "grounding": grounding,
                "by_length": by_length,
                "by_items": by_items,
            },
            indent=2,
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
