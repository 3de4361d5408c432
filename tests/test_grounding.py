"""Grounding: exact, normalised and fuzzy matches, misses, repeats, windows and furniture."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.grounding import (
    FUZZY_THRESHOLD,
    count_grounding,
    ground_spans,
    locate,
)
from schemas import Claim, Event, Extraction, Grounding, GroundingCounts, Span

SEEDS = Path(__file__).resolve().parents[1] / "evals" / "pairs" / "seed-tower22"  # copies of the seeds
WIRE = (SEEDS / "000_b1a854914bfb7f38.txt").read_text(encoding="utf-8")
REWORDED = (SEEDS / "002_eaa5d8ad86e5cbbc.txt").read_text(encoding="utf-8")
IMPLICATED = "has specifically implicated Kataib Hezbollah in the recent drone attack"


def test_exact_match_points_at_the_text() -> None:
    needle = "declared on Tuesday the temporary suspension of its military operations"
    match = locate(needle, WIRE)
    assert match is not None
    assert match.grounding is Grounding.exact
    assert WIRE[match.start : match.end] == needle
    assert match.start == WIRE.index(needle)


@pytest.mark.parametrize(
    ("needle", "article_words"),
    [
        # straight quotes for the article's curly ones (an apostrophe inside the quote)
        (
            "\"We must respond in a manner that makes it clear we won't simply keep playing "
            'defensively,"',
            "We must respond in a manner that makes it clear we won\u2019t simply "
            "keep playing defensively",
        ),
        # an en dash for the article's hyphen
        ("near the Jordan\u2013Syrian border", "near the Jordan-Syrian border"),
        # a line break and double spaces for single spaces, and a different case
        (
            "THREE US SOLDIERS tragically\n lost  their lives",
            "Three US soldiers tragically lost their lives",
        ),
    ],
)
def test_normalised_match_maps_back_to_the_original_characters(
    needle: str, article_words: str
) -> None:
    match = locate(needle, REWORDED)
    assert match is not None
    assert REWORDED[match.start : match.end] == article_words
    assert match.grounding is Grounding.fuzzy
    assert match.similarity == 100


def test_reworded_sentence_is_found_fuzzily_without_touching_the_model_text() -> None:
    span = Span(text="The announcement comes just two days after a drone attack")
    counts = ground_spans(span, WIRE)
    assert counts == GroundingCounts(exact=0, fuzzy=1, none=0)
    assert span.text == "The announcement comes just two days after a drone attack"
    assert span.matched == "This announcement comes just two days after a drone attack"
    assert WIRE[span.start : span.end] == span.matched
    assert FUZZY_THRESHOLD <= span.similarity < 100


def test_missing_and_paraphrased_spans_are_not_grounded() -> None:
    paraphrase = Span(text="Actions have a greater impact than mere words")
    invented = Span(text="The Pentagon announced a ceasefire with Iran on Friday")
    for span in (paraphrase, invented):
        ground_spans(span, WIRE)
        assert span.grounding is Grounding.none
        assert span.start is None and span.end is None and span.matched is None


def test_short_needles_are_never_matched_fuzzily() -> None:
    assert locate("Irak", WIRE) is None  # "Iraq" is one letter away
    assert locate("Tower 23", REWORDED) is None


def test_repeated_quote_takes_the_occurrence_nearest_its_item() -> None:
    # "Make no mistake" occurs twice in one paragraph; "Kataib Hezbollah" many times.
    occurrences = [i for i in range(len(WIRE)) if WIRE.startswith("Kataib Hezbollah", i)]
    assert len(occurrences) > 2
    late = WIRE.index(IMPLICATED)
    event = Event(
        id="e1", type="explosion.air_drone_strike", summary="A drone attack.",
        trigger=Span(text="Kataib Hezbollah"),
        evidence=[Span(text=IMPLICATED)],
    )  # fmt: skip
    ground_spans(Extraction(events=[event]), WIRE)
    nearest = min(occurrences, key=lambda i: abs(i - late))
    assert event.trigger.start == nearest != occurrences[0]
    assert event.trigger.grounding is Grounding.exact


def test_locate_with_near_picks_nearest_and_without_picks_first() -> None:
    first, last = WIRE.index("Kataib Hezbollah"), WIRE.rindex("Kataib Hezbollah")
    assert first != last
    assert locate("Kataib Hezbollah", WIRE).start == first
    assert locate("Kataib Hezbollah", WIRE, near=len(WIRE)).start == last


def test_window_is_searched_first_and_offsets_stay_global() -> None:
    second = WIRE.index("CNN reported", WIRE.index("CNN reported") + 1)
    window = (second - 200, len(WIRE))
    match = locate("CNN reported", WIRE, window=window)
    assert match.start == second
    # outside the window it is still found, in the whole document
    assert locate("Baghdad [Iraq], January 31", WIRE, window=window).start == WIRE.index("Baghdad")


def test_excluded_ranges_are_a_last_resort() -> None:
    doc = "Share\nShare prices fell. Analysts said Share was a rally.\n"
    assert locate("Share", doc, exclude=[(0, 6)]).start == 6
    assert locate("Share", doc, exclude=[(0, len(doc))]).start == 0  # nothing else matches


def test_already_grounded_span_is_left_alone() -> None:
    second = WIRE.index("Kataib Hezbollah", 200)
    span = Span(text="Kataib Hezbollah", start=second, end=second + 16)
    ground_spans(span, WIRE)
    assert span.start == second and span.grounding is Grounding.exact


def test_stale_offsets_are_replaced() -> None:
    span = Span(text="Kataib Hezbollah", start=0, end=16, grounding="exact")
    ground_spans(span, WIRE)
    assert WIRE[span.start : span.end] == "Kataib Hezbollah"


def test_counts_and_claims_in_a_whole_extraction() -> None:
    claim = Claim(
        id="c1", speaker={"name": "Pat Ryder"}, cue="said", kind="direct",
        content="actions speak louder than words",
    )  # fmt: skip
    other = Claim(
        id="c2", speaker={"name": "Pat Ryder"}, cue="said", kind="direct",
        content="Actions have a greater impact than mere words",
    )  # fmt: skip
    extraction = Extraction(claims=[claim, other])
    counts = ground_spans(extraction, WIRE)
    assert counts == GroundingCounts(exact=1, fuzzy=0, none=1)
    assert count_grounding(extraction) == counts


def test_fifty_thousand_characters_and_two_hundred_spans_ground_quickly() -> None:
    paragraphs = [p for p in (WIRE + "\n" + REWORDED).split("\n") if len(p) > 60]
    document = ""
    copies = 0
    while len(document) < 50_000:
        document += "\n".join(f"{p} (part {copies})" for p in paragraphs) + "\n"
        copies += 1
    spans = []
    for i in range(200):
        p = paragraphs[i % len(paragraphs)]
        words = p.split()
        pick = " ".join(words[2:14])
        spans.append(Span(text=pick.replace("the", "a", 1) if i % 3 == 0 else pick))
    spans += [Span(text=f"an invented sentence number {i} about nothing at all") for i in range(20)]
    event = Event(id="e1", type="other", summary="x", evidence=spans)
    started = time.perf_counter()
    counts = ground_spans(Extraction(events=[event]), document)
    elapsed = time.perf_counter() - started
    assert counts.none >= 20 and counts.exact > 0 and counts.fuzzy > 0
    assert elapsed < 1.0, f"grounding took {elapsed:.2f}s"


def test_fuzzy_match_is_word_aligned_and_covers_the_whole_passage() -> None:
    # Kirby's quote with a word dropped: the article's longer version is matched whole,
    # from its first word to its last, without the quote mark before it.
    needle = (
        '"We are not looking for war with Iran; we are not seeking a conflict with the regime '
        'in a way."'
    )
    match = locate(needle, WIRE)
    assert match is not None and match.grounding is Grounding.fuzzy
    assert WIRE[match.start : match.end] == (
        "We are not looking for war with Iran; we are not seeking a conflict with the regime "
        "in a military way"
    )


@pytest.mark.parametrize("text", [
    "  a  b\n\n c   ", "İstanbul  İ x", "", "x", "   ", "a \u2014 \u201cb\u201d\t\tc  ",
    "Para one.\n\nPara  two,\u00a0 with \u2018quotes\u2019.\r\n",
])
def test_the_index_maps_offsets_like_a_table_per_character(text):
    """The normalised text maps back by bisecting its pieces; check it against the plain table
    (original offset of every normalised character) that it replaced."""
    from bisect import bisect_left

    from harness.grounding import _SPACES, _fold, _Index

    folded = _fold(text)
    assert len(folded) == len(text)
    table, prev = [], 0
    for run in _SPACES.finditer(folded):
        table.extend(range(prev, run.start() + 1))
        prev = run.end()
    table.extend(range(prev, len(folded)))
    idx = _Index.build(text)
    assert len(idx.norm) == len(table)
    assert [idx.to_norm(o) for o in range(len(text) + 1)] == [bisect_left(table, o) for o in range(len(text) + 1)]
    assert [idx.to_text(j, j + 1) for j in range(len(idx.norm))] == [(p, p + 1) for p in table]
