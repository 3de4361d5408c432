"""Scoring: detection P/R/F1, field accuracy on aligned pairs, grounding, run info."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.evaluation.scoring import (
    CLAIM_FIELDS,
    EVENT_FIELDS,
    Counts,
    aggregate,
    cue_stem,
    score_document,
)
from schemas import Claim, Event, Extraction, GoldResult, Result, Span

ARTICLE = Path(__file__).resolve().parents[1] / "evals" / "pairs" / "seed-tower22" / "000_b1a854914bfb7f38.txt"
TEXT = ARTICLE.read_text(encoding="utf-8")


def span(words: str) -> Span:
    start = TEXT.index(words)
    return Span(text=words, start=start, end=start + len(words), grounding="exact")


def build_items() -> dict[str, list]:
    events = [
        Event(
            id="e1", type="explosion.air_drone_strike", status="occurred",
            summary="A drone attack in Jordan killed three US service members and wounded 40.",
            trigger=span("drone attack"),
            evidence=[span("a drone attack resulted in the deaths of three US service members "
                           "and left 40 wounded in Jordan")],
            date={"text": "two days", "value": "2024-01-28", "precision": "day"},
            location={"text": "Jordan", "name": "Jordan", "country": "Jordan", "precision": "country"},
            actors=[{"name": "Kataib Hezbollah", "role": "perpetrator", "kind": "political_militia"},
                    {"name": "US service members", "role": "victim", "kind": "external_forces"}],
            fatalities={"killed": 3, "injured": 40},
            responsibility=[{"actor": "Kataib Hezbollah", "attributed_by": "United States"}],
        ),
        Event(
            id="e2", type="strategic.change_to_group_activity", status="announced",
            summary="Kataib Hezbollah announced the suspension of its operations against US forces.",
            trigger=span("temporary suspension"),
            evidence=[span("Kataib Hezbollah, declared on Tuesday the temporary suspension of its "
                           "military operations against US forces")],
            date={"text": "on Tuesday", "value": "2024-01-30", "precision": "day"},
            location={"text": "Iraq", "name": "Iraq", "country": "Iraq", "precision": "country"},
            actors=[{"name": "Kataib Hezbollah", "role": "announcer", "kind": "political_militia"}],
        ),
        Event(
            id="e3", type="explosion.air_drone_strike", status="occurred",
            summary="The US launched airstrikes in Iraq and Syria on Kataib Hezbollah.",
            trigger=span("launched airstrikes"),
            evidence=[span("the US has previously launched airstrikes in Iraq and Syria, targeting "
                           "Kataib Hezbollah and other groups linked to Iran")],
            location={"text": "Iraq and Syria", "name": "Iraq and Syria", "precision": "region"},
            actors=[{"name": "United States", "role": "perpetrator", "kind": "state_forces"}],
        ),
    ]
    claims = [
        Claim(
            id="c1", speaker={"name": "Kataib Hezbollah"}, cue="stated", kind="direct",
            content=span("We are announcing the suspension of military and security operations "
                         "against the occupation forces (US troops) in order to prevent "
                         "embarrassment to the Iraqi government."),
            event_ids=["e2"],
        ),
        Claim(
            id="c2", speaker={"name": "Pat Ryder", "role": "Pentagon press secretary"},
            cue="saying", kind="direct",
            content=span("We've seen those reports. I don't have a specific comment to provide "
                         "other than that actions speak louder than words."),
        ),
        Claim(
            id="c3", speaker={"name": "John Kirby", "role": "National Security Council spokesperson"},
            cue="said", kind="direct",
            content=span("We are not looking for war with Iran; we are not seeking a conflict "
                         "with the regime in a military way."),
        ),
        Claim(
            id="c4", speaker={"name": "Iran's Foreign Ministry"}, cue="refuted", kind="indirect",
            content=span("the claims of Tehran's involvement in the attack on a US base in Jordan"),
            event_ids=["e1"],
        ),
    ]
    return {"events": events, "claims": claims}


def replace(model, changes: dict):
    """A validated copy with some fields changed (model_copy does not validate)."""
    return type(model).model_validate({**model.model_dump(), **changes})


@pytest.fixture()
def gold() -> GoldResult:
    return GoldResult(doc_id="000", **build_items())


def perfect(gold: GoldResult) -> Extraction:
    return Extraction(events=gold.events, claims=gold.claims)


def fields_of(score) -> dict:
    return {k: v for k, v in score.metrics().items() if k in EVENT_FIELDS + CLAIM_FIELDS}


def test_gold_itself_scores_one_everywhere(gold):
    metrics = score_document(perfect(gold), gold, TEXT).metrics()
    quality = {k: metrics[k] for k in metrics if k not in
               ("invented_items", "attempts", "prompt_tokens", "completion_tokens", "latency_s")}
    assert quality == dict.fromkeys(quality, 1.0)
    assert metrics["invented_items"] == 0


def test_empty_prediction_has_zero_recall(gold):
    metrics = score_document(Extraction(), gold, TEXT).metrics()
    assert metrics["event_recall"] == 0 and metrics["claim_recall"] == 0
    assert metrics["event_f1"] == 0 and metrics["claim_f1"] == 0
    assert metrics["schema_valid_rate"] == 1.0
    assert all(v is None for v in fields_of(score_document(Extraction(), gold, TEXT)).values())


def test_failed_prediction_is_schema_invalid_with_zero_recall(gold):
    metrics = score_document(None, gold, TEXT).metrics()
    assert metrics["schema_valid_rate"] == 0.0
    assert metrics["event_recall"] == 0 and metrics["claim_recall"] == 0


def test_permutation_scores_the_same(gold):
    shuffled = Extraction(events=gold.events[::-1], claims=gold.claims[1:] + gold.claims[:1])
    assert score_document(shuffled, gold, TEXT).metrics() == score_document(
        perfect(gold), gold, TEXT).metrics()


def test_renamed_speaker_loses_exactly_the_speaker_field(gold):
    claims = list(gold.claims)
    claims[2] = replace(claims[2], {"speaker": {"name": "Jane Smith", "role": "analyst"}})
    base = score_document(perfect(gold), gold, TEXT).metrics()
    renamed = score_document(Extraction(events=gold.events, claims=claims), gold, TEXT).metrics()
    changed = {k for k in base if base[k] != renamed[k]}
    assert changed == {"claim_speaker"}
    assert renamed["claim_speaker"] == pytest.approx(3 / 4)


def test_invented_items_lower_precision_only(gold):
    invented_event = Event(id="e9", type="battle.armed_clash", summary="Troops clashed in Paris.",
                           trigger="clashes in Paris")
    invented_claim = Claim(id="c9", speaker={"name": "Emmanuel Macron"}, cue="said",
                           kind="direct", content="France will never surrender.")
    pred = Extraction(events=[*gold.events, invented_event], claims=[*gold.claims, invented_claim])
    base = score_document(perfect(gold), gold, TEXT)
    extra = score_document(pred, gold, TEXT)
    assert extra.metrics()["event_precision"] == pytest.approx(3 / 4)
    assert extra.metrics()["claim_precision"] == pytest.approx(4 / 5)
    assert (extra.metrics()["event_recall"], extra.metrics()["claim_recall"]) == (1.0, 1.0)
    assert fields_of(extra) == fields_of(base)
    assert extra.invented == 2 and base.invented == 0


def test_date_is_compared_at_gold_precision(gold):
    coarse = replace(gold.events[0], {"date": {"value": "2024-01", "precision": "month"}})
    coarse_gold = GoldResult(doc_id="000", events=[coarse])
    ok = score_document(Extraction(events=gold.events[:1]), coarse_gold, TEXT)
    assert ok.fields["event_date"] == (1.0,)
    bad = score_document(Extraction(events=[coarse]), gold, TEXT)
    assert bad.fields["event_date"] == (0.0,)
    assert bad.fields["event_type"] == (1.0,)


def test_speaker_titles_and_cue_forms_are_normalised(gold):
    c2 = replace(gold.claims[1], {"speaker": {"name": "Maj Gen Pat Ryder"}, "cue": "says"})
    score = score_document(Extraction(claims=[c2]), gold, TEXT)
    assert score.fields["claim_speaker"] == (1.0,)
    assert score.fields["claim_cue"] == (1.0,)
    assert cue_stem("said") == cue_stem("saying") == cue_stem("says")
    assert cue_stem("denied") == cue_stem("denies") and cue_stem("said") != cue_stem("denied")


def test_partial_quote_keeps_alignment_but_not_exactness(gold):
    c3 = replace(gold.claims[2], {"content": span("We are not looking for war with Iran")})
    score = score_document(Extraction(claims=[c3]), gold, TEXT)
    assert score.claims.tp == 1
    assert score.fields["claim_content_exact"] == (0.0,)
    assert 0 < score.fields["claim_content_overlap"][0] < 1


def test_casualty_counts_and_actors_are_separate_fields(gold):
    e1 = gold.events[0]
    wrong = replace(e1, {"fatalities": {"killed": 4, "injured": 40},
                                  "actors": e1.actors[:1]})
    score = score_document(Extraction(events=[wrong]), gold, TEXT)
    assert score.fields["event_killed"] == (0.0,) and score.fields["event_injured"] == (1.0,)
    assert score.fields["event_actors"] == (pytest.approx(2 / 3),)


def test_ungrounded_spans_count_as_invented_and_lower_grounding(gold):
    unplaced = replace(gold.claims[0], {"content": Span(text="We surrender.")})
    score = score_document(Extraction(claims=[unplaced, *gold.claims[1:]]), gold, TEXT)
    assert score.invented == 1
    assert score.spans_grounded == score.spans_total - 1
    raw = Extraction(claims=[replace(gold.claims[1], {"content": Span(
        text=gold.claims[1].content.text)})])
    assert score_document(raw, gold, TEXT).invented == 0  # verbatim text counts as grounded


def test_run_info_comes_from_result_provenance(gold):
    result = Result(
        doc_id="000", events=gold.events, claims=gold.claims,
        provenance={"model": "m", "endpoint": "http://x/v1", "prompt": "news",
                    "prompt_sha256": "0" * 64, "harness_version": "0.1.0", "attempts": 2,
                    "latency_s": 1.5, "usage": {"prompt_tokens": 900, "completion_tokens": 300}},
    )
    failed = Result(doc_id="000", error={"type": "ExtractionError", "message": "never valid"})
    ok, bad = score_document(result, gold, TEXT), score_document(failed, gold, TEXT)
    assert (ok.attempts, ok.prompt_tokens, ok.completion_tokens, ok.latency_s) == (2, 900, 300, 1.5)
    assert ok.schema_valid and not bad.schema_valid and "ExtractionError" in bad.error


def test_aggregate_micro_pools_and_macro_averages(gold):
    good = score_document(perfect(gold), gold, TEXT)
    half = score_document(Extraction(claims=gold.claims[:2]), gold, TEXT)
    summary = aggregate([good, half])
    assert summary.n_docs == 2
    assert summary.micro["claim_recall"] == pytest.approx(6 / 8)
    assert summary.macro["claim_recall"] == pytest.approx((1 + 0.5) / 2)
    assert summary.micro["event_type"] == 1.0  # only aligned pairs count
    assert summary.micro["schema_valid_rate"] == 1.0


def strip_offsets(model):
    """The same item as a model would return it: span texts only, no offsets or grounding."""
    data = model.model_dump(exclude_none=True)
    for key in ("trigger", "content"):
        if key in data:
            data[key] = data[key]["text"]
    if "evidence" in data:
        data["evidence"] = [s["text"] for s in data["evidence"]]
    return type(model).model_validate(data)


def test_prediction_without_offsets_aligns_by_text(gold):
    raw = Extraction(events=[strip_offsets(e) for e in gold.events],
                     claims=[strip_offsets(c) for c in gold.claims])
    score = score_document(raw, gold, TEXT)
    assert score.events == Counts(tp=3) and score.claims == Counts(tp=4)
    assert all(v == 1.0 for v in fields_of(score).values())
    assert score.spans_grounded == score.spans_total and score.invented == 0
