"""Grounding speed: a long article built from the seed articles, a few hundred spans.

Spans are a mix of verbatim passages, passages with typographic changes (straight quotes, case,
spacing), reworded passages (one word changed) and invented text. The baseline is plain
``str.find`` of every span text in the same document (what grounding costs at the very least).

    python bench/bench_grounding.py [--chars 50000] [--spans 200] [--repeat 5] [--articles DIR]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from harness.grounding import ground_spans
from schemas import Event, Extraction, Span

DEFAULT_ARTICLES = Path(__file__).resolve().parents[1] / "evals" / "pairs" / "seed-tower22"  # the seed articles


def build_document(articles: Path, chars: int) -> str:
    paragraphs = [
        line
        for path in sorted(articles.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if len(line) > 80
    ]
    parts, copy = [], 0
    while sum(len(p) + 1 for p in parts) < chars:
        parts.extend(f"[{copy}] {p}" for p in paragraphs)
        copy += 1
    return "\n".join(parts)[:chars]


def build_spans(lines: list[str], count: int, rng: random.Random, mix: str) -> list[str]:
    """``mixed``: verbatim, typography, one word changed, invented in turn; ``reworded``: every
    span has a word changed or is invented, so each one goes through the fuzzy pass."""
    spans = []
    for i in range(count):
        words = rng.choice(lines).split()[1:]
        a = rng.randrange(0, max(1, len(words) - 12))
        piece = " ".join(words[a : a + rng.randint(8, 25)])
        kind = i % 4 if mix == "mixed" else (3 if i % 8 == 3 else 2)
        if kind == 1:  # typography
            piece = piece.replace("\u2019", "'").replace("\u201c", '"').upper().replace(" ", "  ")
        elif kind == 2 and len(piece.split()) > 6:  # one word changed
            ws = piece.split()
            ws[len(ws) // 2] = "something"
            piece = " ".join(ws)
        elif kind == 3 and i % 8 == 3:  # invented
            piece = f"an invented statement number {i} that no article contains anywhere"
        spans.append(piece)
    return spans


def run(document: str, texts: list[str], repeat: int) -> dict[str, float]:
    ground_times, find_times = [], []
    counts = None
    for _ in range(repeat):
        extraction = Extraction(
            events=[
                Event(id=f"e{i}", type="other", summary="x", evidence=[Span(text=t) for t in ts])
                for i, ts in enumerate(texts[k::10] for k in range(10))
            ]
        )
        started = time.perf_counter()
        counts = ground_spans(extraction, document)
        ground_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        for t in texts:
            document.find(t)
        find_times.append(time.perf_counter() - started)
    assert counts is not None
    ground_s, find_s = statistics.median(ground_times), statistics.median(find_times)
    return {
        "exact": counts.exact, "fuzzy": counts.fuzzy, "none": counts.none,
        "ground_s": ground_s, "find_s": find_s, "ratio": ground_s / find_s,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chars", type=int, nargs="+", default=[5_000, 50_000, 200_000])
    parser.add_argument("--spans", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    header = (
        f"{'chars':>8} {'spans':>6} {'mix':>9} {'exact':>6} {'fuzzy':>6} {'none':>5} "
        f"{'ground s':>9} {'str.find s':>11} {'ratio':>7}"
    )
    print(header)
    print("-" * len(header))
    for chars in args.chars:
        document = build_document(args.articles, chars)
        lines = [line for line in document.splitlines() if len(line) > 80]
        for mix in ("mixed", "reworded"):
            texts = build_spans(lines, args.spans, rng, mix)
            r = run(document, texts, args.repeat)
            print(
                f"{len(document):>8} {len(texts):>6} {mix:>9} {r['exact']:>6} {r['fuzzy']:>6} "
                f"{r['none']:>5} {r['ground_s']:>9.4f} {r['find_s']:>11.5f} {r['ratio']:>7.0f}x"
            )


if __name__ == "__main__":
    main()
