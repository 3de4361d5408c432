"""Alignment: one-to-one maximum matching and the event / claim similarities."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from harness.evaluation.align import (
    CLAIM_MIN_SIM,
    EVENT_MIN_SIM,
    align,
    claim_similarity,
    event_similarity,
    matched,
    norm_name,
    span_iou,
    speaker_similarity,
)
from schemas import Claim, Event, Span, Speaker

TEXT = (Path(__file__).resolve().parents[1] / "evals" / "pairs" / "seed-tower22" / "000_b1a854914bfb7f38.txt").read_text(encoding="utf-8")
RYDER = "actions speak louder than words"
KIRBY = "We are not looking for war with Iran"


def span(words: str) -> Span:
    start = TEXT.index(words)
    return Span(text=words, start=start, end=start + len(words), grounding="exact")


def table(values: dict[tuple[str, str], float]):
    return lambda a, b: values.get((a, b), 0.0)


def test_every_index_appears_once_and_pairs_are_one_to_one():
    pairs = align(["a", "b", "c"], ["x", "y"], table({("a", "x"): 0.9, ("b", "x"): 0.8}), 0.5)
    assert sorted(p for p, _, _ in pairs if p is not None) == [0, 1, 2]
    assert sorted(g for _, g, _ in pairs if g is not None) == [0, 1]
    assert matched(pairs) == [(0, 0, 0.9)]


def test_matching_maximises_total_similarity_not_greedy_choice():
    # Greedy would pair a-x (0.9) and leave b with nothing; the optimum is a-y + b-x.
    sim = table({("a", "x"): 0.9, ("a", "y"): 0.8, ("b", "x"): 0.7})
    assert sorted(matched(align(["a", "b"], ["x", "y"], sim, 0.5))) == [(0, 1, 0.8), (1, 0, 0.7)]


def test_pairs_below_the_minimum_stay_unmatched():
    pairs = align(["a"], ["x"], table({("a", "x"): 0.3}), 0.35)
    assert pairs == [(0, None, 0.0), (None, 0, 0.0)]
    assert align([], ["x"], table({}), 0.35) == [(None, 0, 0.0)]


def event(**changes) -> Event:
    base = {"id": "e1", "type": "explosion.air_drone_strike",
            "summary": "A drone attack in Jordan killed three US service members.",
            "trigger": span("drone attack"), "date": {"value": "2024-01-28"},
            "location": {"name": "Jordan"}}  # fmt: skip
    return Event.model_validate(base | changes)


def test_event_type_family_earns_partial_credit():
    same = event_similarity(event(), event())
    family = event_similarity(event(), event(type="explosion.shelling_artillery_missile_attack"))
    other = event_similarity(event(), event(type="politics.election"))
    assert same == pytest.approx(1.0)
    assert same > family > other


def test_events_without_offsets_fall_back_to_span_text():
    placed = event()
    unplaced = event(trigger=Span(text="drone attack"))
    assert event_similarity(placed, unplaced) == pytest.approx(1.0)


def test_distinct_events_in_the_article_do_not_align():
    attack = event()
    suspension = event(
        type="strategic.change_to_group_activity", trigger=span("temporary suspension"),
        summary="Kataib Hezbollah suspended attacks on US forces.", date={"value": "2024-01-30"},
        location={"name": "Iraq"},
    )
    assert event_similarity(attack, suspension) < EVENT_MIN_SIM


def claim(content: Span | str, name: str | None = "Pat Ryder", role: str | None = None) -> Claim:
    return Claim(id="c1", speaker={"name": name, "role": role}, cue="said", kind="direct",
                 content=content)


def test_claims_align_on_content_offsets_then_speaker():
    ryder = claim(span(RYDER))
    assert claim_similarity(ryder, ryder) == pytest.approx(1.0)
    assert claim_similarity(ryder, claim(span(KIRBY), "John Kirby")) < CLAIM_MIN_SIM
    renamed = claim_similarity(ryder, claim(span(RYDER), "Jane Smith"))
    assert CLAIM_MIN_SIM < renamed < 1.0


def test_claims_without_offsets_use_text_similarity():
    assert claim_similarity(claim(RYDER), claim(span(RYDER))) == pytest.approx(1.0)
    assert claim_similarity(claim("Actions have a greater impact than mere words"),
                            claim(span(RYDER))) < 1.0


def test_speaker_titles_are_ignored_and_roles_used_when_names_are_missing():
    assert norm_name("Maj Gen Pat Ryder") == "pat ryder"
    assert speaker_similarity(Speaker(name="Maj Gen Pat Ryder"), Speaker(name="Pat Ryder")) == 1.0
    named = Speaker(name="Pat Ryder", role="Pentagon press secretary")
    assert speaker_similarity(Speaker(role="Pentagon press secretary"), named) == 1.0
    assert speaker_similarity(Speaker(name="John Kirby"), named) < 0.5
    # one body's common names are one name (seed-002: "The US has suggested ..." is the United States')
    assert speaker_similarity(Speaker(name="US"), Speaker(name="United States")) == 1.0
    assert speaker_similarity(Speaker(name="Daesh"), Speaker(name="ISIL")) == 1.0


def _iou_by_sets(a: list[Span], b: list[Span]) -> float | None:
    """The definition: characters covered by both over characters covered by either."""
    ca = {i for s in a if s.start is not None for i in range(s.start, s.end)}
    cb = {i for s in b if s.start is not None for i in range(s.start, s.end)}
    return len(ca & cb) / len(ca | cb) if ca and cb else None


def test_span_iou_on_runs_equals_the_character_set_definition():
    rng = random.Random(5)

    def group() -> list[Span]:
        spans = []
        for _ in range(rng.randint(0, 4)):
            if rng.random() < 0.15:
                spans.append(Span(text="x"))  # no offsets
                continue
            start = rng.randint(0, 60)
            spans.append(Span(text="x", start=start, end=start + rng.randint(0, 20)))  # overlaps, empties
        return spans

    for _ in range(3000):
        a, b = group(), group()
        expected, got = _iou_by_sets(a, b), span_iou(a, b)
        assert (got is None) if expected is None else got == pytest.approx(expected), (a, b)
