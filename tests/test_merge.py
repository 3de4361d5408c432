"""Merge: chunk extractions joined without duplicates, ids renumbered, links kept or dropped."""

from __future__ import annotations

from pathlib import Path

from harness.chunking import chunk_text
from harness.grounding import ground_spans
from harness.merge import merge_extractions
from schemas import Claim, Event, Extraction

WIRE = (Path(__file__).resolve().parents[1] / "evals" / "pairs" / "seed-tower22" / "000_b1a854914bfb7f38.txt").read_text(encoding="utf-8")

IMPLICATED = "has specifically implicated Kataib Hezbollah in the recent drone attack"
SUSPENSION = (
    "declared on Tuesday the temporary suspension of its military operations against US forces"
)
RYDER_CUT = "We've seen those reports."
RYDER_FULL = (
    "We've seen those reports. I don't have a specific comment to provide other than that "
    "actions speak louder than words."
)


def drone_attack(event_id: str, evidence: list[str], **fields: object) -> Event:
    return Event(
        id=event_id, type="explosion.air_drone_strike", summary="A drone attack in Jordan.",
        evidence=evidence, **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def ryder(claim_id: str, content: str, event_ids: list[str]) -> Claim:
    return Claim(
        id=claim_id, speaker={"name": "Pat Ryder", "role": "Pentagon press secretary"},
        cue="said", kind="direct", content=content, event_ids=event_ids,
    )  # fmt: skip


def chunked_parts() -> tuple[list[Extraction], list]:
    """What a model would return for each chunk of the wire report, grounded in its window."""
    chunks = chunk_text(WIRE, max_chars=1500, overlap=400)
    assert len(chunks) == 3
    first, second, third = chunks
    # the chunk cut falls inside Ryder's quote; the "implicated" sentence is in the overlap
    assert first.end == WIRE.index(RYDER_CUT) + len(RYDER_CUT)
    assert second.start <= WIRE.index(IMPLICATED) < first.end
    parts = [
        Extraction(
            events=[
                Event(
                    id="e1",
                    type="strategic.change_to_group_activity",
                    summary="Suspension.",
                    trigger="suspension",
                    evidence=[SUSPENSION],
                ),
                drone_attack(
                    "e2",
                    [IMPLICATED],
                    date={"value": "2024-01-28", "precision": "day"},
                    location={"text": "Jordan", "name": "Jordan"},
                ),
            ],
            claims=[ryder("c1", RYDER_CUT, ["e2"])],
        ),  # fmt: skip
        Extraction(
            events=[drone_attack("e1", [IMPLICATED], fatalities={"killed": 3, "injured": 40})],
            claims=[ryder("c1", RYDER_FULL, ["e1"])],
        ),
        Extraction(
            events=[
                drone_attack(
                    "e1",
                    ["The drone attack on US outpost in Jordan"],
                    trigger="drone attack",
                    date={"value": "2024-01-28"},
                    location={"name": "jordan", "country": "Jordan"},
                ),
            ],
            claims=[
                Claim(
                    id="c1",
                    speaker={"name": "John Kirby"},
                    cue="said",
                    kind="direct",
                    content="We're not looking to escalate here.",
                    event_ids=["e1", "e9"],
                ),
            ],
        ),  # fmt: skip
    ]
    for chunk, part in zip(chunks, parts, strict=True):
        ground_spans(part, WIRE, window=(chunk.start, chunk.end))
    return parts, chunks


def test_item_straddling_two_chunks_comes_back_once() -> None:
    parts, _ = chunked_parts()
    merged, _ = merge_extractions(parts)
    ryder_claims = [c for c in merged.claims if c.speaker.name == "Pat Ryder"]
    assert len(ryder_claims) == 1
    attacks_on_implicated = [
        e for e in merged.events if any(s.text == IMPLICATED for s in e.evidence)
    ]
    assert len(attacks_on_implicated) == 1
    # first seen is kept: the cut quote from chunk 1, not replaced by the longer one
    assert ryder_claims[0].content.text == RYDER_CUT


def test_richer_fields_and_evidence_are_united_without_duplicates() -> None:
    parts, _ = chunked_parts()
    merged, _ = merge_extractions(parts)
    drone = [e for e in merged.events if e.type.value == "explosion.air_drone_strike"]
    assert len(drone) == 1  # overlap in chunks 1-2, same type/date/place in chunk 3
    attack = drone[0]
    assert attack.fatalities is not None and attack.fatalities.killed == 3  # from chunk 2
    assert attack.date.value == "2024-01-28"  # from chunk 1
    assert attack.location.name == "Jordan" and attack.location.country == "Jordan"  # 1 + 3
    assert attack.trigger is not None and attack.trigger.start == WIRE.rindex("drone attack")
    offsets = [(s.start, s.end) for s in attack.evidence]
    assert len(offsets) == len(set(offsets)) == 2  # the shared sentence once, chunk 3's once


def test_ids_renumbered_in_document_order_and_links_remapped() -> None:
    parts, _ = chunked_parts()
    merged, warnings = merge_extractions(parts)
    assert [e.id for e in merged.events] == ["e1", "e2"]
    assert [c.id for c in merged.claims] == ["c1", "c2"]
    starts = [min(s.start for s in [e.trigger, *e.evidence] if s) for e in merged.events]
    assert starts == sorted(starts)
    assert merged.events[0].type.value == "strategic.change_to_group_activity"
    attack_id = merged.events[1].id
    assert merged.claims[0].event_ids == [attack_id]  # chunk 1's e2 and chunk 2's e1 are one
    kirby = merged.claims[1]
    assert kirby.speaker.name == "John Kirby" and kirby.event_ids == [attack_id]
    assert len(warnings) == 1 and "'e9'" in warnings[0] and "c2" in warnings[0]


def test_different_claims_by_one_speaker_stay_apart() -> None:
    a = Extraction(claims=[ryder("c1", "We've seen those reports.", [])])
    b = Extraction(claims=[ryder("c1", "actions speak louder than words", [])])
    for part in (a, b):
        ground_spans(part, WIRE)
    merged, warnings = merge_extractions([a, b])
    assert len(merged.claims) == 2 and warnings == []


def test_same_words_from_the_same_speaker_merge_even_ungrounded() -> None:
    a = Extraction(claims=[ryder("c1", "Actions have a greater impact than mere words", [])])
    b = Extraction(claims=[ryder("c1", "Actions have a greater impact than mere words!", [])])
    for part in (a, b):
        ground_spans(part, WIRE)
    assert a.claims[0].content.start is None
    merged, _ = merge_extractions([a, b])
    assert len(merged.claims) == 1


def test_parts_are_not_mutated() -> None:
    parts, _ = chunked_parts()
    before = [p.model_dump() for p in parts]
    merge_extractions(parts)
    assert [p.model_dump() for p in parts] == before


def test_two_events_one_chunk_listed_apart_stay_apart() -> None:
    sentence = "the US has previously launched airstrikes in Iraq and Syria"
    strikes = [
        Event(id=f"e{i}", type="explosion.air_drone_strike", summary=f"US strikes in {place}.",
              evidence=[sentence], location={"name": place})
        for i, place in enumerate(["Iraq", "Syria"], 1)
    ]  # fmt: skip
    part = Extraction(events=strikes)
    ground_spans(part, WIRE)
    merged, _ = merge_extractions([part])
    assert [e.location.name for e in merged.events] == ["Iraq", "Syria"]
