"""Policy: misquote and ungrounded flags, claim evidence sentences, ungrounded events."""

from __future__ import annotations

from pathlib import Path

from harness.grounding import ground_spans
from harness.policy import MISQUOTE, UNGROUNDED, apply_policy
from schemas import Claim, Event, Extraction, Grounding

WIRE = (Path(__file__).resolve().parents[1] / "evals" / "pairs" / "seed-tower22" / "000_b1a854914bfb7f38.txt").read_text(encoding="utf-8")


def claim(
    claim_id: str, content: str, kind: str = "direct", event_ids: list[str] | None = None
) -> Claim:
    return Claim(
        id=claim_id, speaker={"name": "Pat Ryder"}, cue="said", kind=kind, content=content,
        event_ids=event_ids or [],
    )  # fmt: skip


def grounded(extraction: Extraction) -> Extraction:
    ground_spans(extraction, WIRE)
    return extraction


def test_direct_quote_not_in_the_article_word_for_word_is_a_possible_misquote() -> None:
    extraction = grounded(
        Extraction(claims=[claim("c1", "Actions have a greater impact than mere words")])
    )
    warnings = apply_policy(extraction, WIRE)
    flags = extraction.claims[0].flags
    assert MISQUOTE in flags and UNGROUNDED in flags
    assert any("c1" in w and "Actions have a greater impact" in w for w in warnings)


def test_reworded_direct_quote_found_fuzzily_is_a_possible_misquote() -> None:
    extraction = grounded(
        Extraction(
            claims=[claim("c1", "We have seen those reports. I don't have a specific comment")]
        )
    )
    assert extraction.claims[0].content.grounding is Grounding.fuzzy
    warnings = apply_policy(extraction, WIRE)
    assert extraction.claims[0].flags == [MISQUOTE]
    assert any("c1" in w and "We've seen those reports" in w for w in warnings)


def test_exact_and_typographic_variants_of_a_quote_are_not_flagged() -> None:
    extraction = grounded(
        Extraction(
            claims=[
                claim("c1", "actions speak louder than words"),
                claim("c2", "\u201cWe\u2019ve seen those reports.\u201d"),  # curly for straight
                claim("c3", "the White House emphasised it was not seeking war", kind="indirect"),
            ]
        )
    )
    assert extraction.claims[1].content.grounding is Grounding.fuzzy
    warnings = apply_policy(extraction, WIRE)
    assert [c.flags for c in extraction.claims[:2]] == [[], []]
    assert MISQUOTE not in extraction.claims[2].flags  # indirect speech is never a misquote
    assert not any("c1" in w or "c2" in w for w in warnings)


def test_claim_evidence_is_the_sentences_holding_the_content() -> None:
    content = "seen those reports. I don't have a specific comment"
    extraction = grounded(Extraction(claims=[claim("c1", content)]))
    apply_policy(extraction, WIRE)
    evidence = extraction.claims[0].evidence
    assert [s.text for s in evidence] == [
        "When questioned about the militia's statement, Pentagon press secretary Maj Gen Pat Ryder "
        "responded during a briefing, saying, \"We've seen those reports.",
        "I don't have a specific comment to provide other than that actions speak louder than "
        'words."',
    ]
    for span in evidence:
        assert span.grounding is Grounding.exact and WIRE[span.start : span.end] == span.text


def test_policy_is_idempotent() -> None:
    extraction = grounded(
        Extraction(claims=[claim("c1", "Actions have a greater impact than mere words")])
    )
    apply_policy(extraction, WIRE)
    apply_policy(extraction, WIRE)
    assert sorted(extraction.claims[0].flags) == sorted([MISQUOTE, UNGROUNDED])


def invented_event() -> Event:
    return Event(
        id="e2", type="strategic.agreement", summary="A ceasefire was signed in Geneva.",
        trigger="signed a ceasefire",
        evidence=["The parties signed a ceasefire in Geneva on Friday."],
    )  # fmt: skip


def real_event() -> Event:
    return Event(
        id="e1", type="explosion.air_drone_strike", summary="A drone attack in Jordan.",
        evidence=["a drone attack resulted in the deaths of three US service members"],
    )  # fmt: skip


def test_ungrounded_event_is_reported_and_kept_by_default() -> None:
    extraction = grounded(Extraction(events=[real_event(), invented_event()]))
    warnings = apply_policy(extraction, WIRE)
    assert [e.id for e in extraction.events] == ["e1", "e2"]
    assert [w for w in warnings if w.startswith("event")] == [
        "event e2: none of its spans was found in the article ('A ceasefire was signed in Geneva.')"
    ]


def test_drop_ungrounded_removes_events_and_claims_and_dangling_links() -> None:
    extraction = grounded(
        Extraction(
            events=[
                real_event(),
                invented_event(),
                Event(id="e3", type="other", summary="No spans."),
            ],
            claims=[
                claim("c1", "actions speak louder than words", event_ids=["e1", "e2"]),
                claim("c2", "Actions have a greater impact than mere words", event_ids=["e1"]),
            ],
        )
    )
    warnings = apply_policy(extraction, WIRE, drop_ungrounded=True)
    assert [e.id for e in extraction.events] == ["e1"]
    assert [c.id for c in extraction.claims] == ["c1"]
    assert extraction.claims[0].event_ids == ["e1"]
    for text in ("event e2: dropped", "event e3: dropped", "claim c2: dropped", "claim c1: link"):
        assert any(w.startswith(text) for w in warnings), text
