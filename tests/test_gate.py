"""Baseline gate: direction-aware comparison, diff text, baseline update, pass rate."""

from __future__ import annotations

import pytest

from harness.errors import FixtureError
from harness.evaluation.gate import (
    HEADLINE,
    compare_to_baseline,
    load_baseline,
    pass_rate,
    render_diff,
    save_baseline,
    update_baseline,
)

RECORDED = {"event_f1": 0.80, "claim_f1": 0.70, "claim_speaker": 0.90, "claim_content_exact": 0.60,
            "event_type": 0.75, "grounding_rate": 0.95, "invented_items": 2.0,
            "schema_valid_rate": 1.0}  # fmt: skip


def baseline(**tolerance) -> dict:
    return {"models": {"m": dict(RECORDED)}, "tolerance": {"default": 0.03, **tolerance},
            "headline": list(HEADLINE)}  # fmt: skip


def summary(**changes) -> dict:
    return {"n_docs": 3, "metrics": {**RECORDED, **changes}}


def test_same_scores_pass_and_every_headline_metric_is_a_row():
    result = compare_to_baseline(summary(), baseline(), "m")
    assert result.passed
    assert [r.metric for r in result.rows] == list(HEADLINE)


def test_drop_beyond_tolerance_fails_within_tolerance_passes():
    assert compare_to_baseline(summary(claim_f1=0.68), baseline(), "m").passed
    failed = compare_to_baseline(summary(claim_f1=0.60), baseline(), "m")
    assert not failed.passed
    assert [r.metric for r in failed.rows if not r.ok] == ["claim_f1"]
    assert failed.rows[1].delta == pytest.approx(-0.10)


def test_invented_items_is_lower_is_better():
    assert compare_to_baseline(summary(invented_items=0.0), baseline(), "m").passed
    worse = compare_to_baseline(summary(invented_items=3.0), baseline(invented_items=0), "m")
    assert [r.metric for r in worse.rows if not r.ok] == ["invented_items"]


def test_metric_missing_from_run_fails_missing_from_baseline_does_not():
    run = summary()
    del run["metrics"]["event_type"]
    assert not compare_to_baseline(run, baseline(), "m").passed
    base = baseline()
    del base["models"]["m"]["event_type"]
    assert compare_to_baseline(summary(), base, "m").passed


def test_unknown_model_says_how_to_record_one():
    with pytest.raises(FixtureError, match="no entry for model 'other'"):
        compare_to_baseline(summary(), baseline(), "other")


def test_diff_names_the_regressed_metric():
    text = render_diff(compare_to_baseline(summary(event_f1=0.5), baseline(), "m"))
    assert "FAILED: event_f1 regressed" in text
    assert "-0.300" in text and "FAIL" in text


def test_update_baseline_replaces_one_model_and_leaves_input_alone():
    base = baseline()
    base["models"]["other"] = {"event_f1": 0.1}
    new = update_baseline(base, "m", summary(event_f1=0.9, latency_s=None))
    assert new["models"]["m"]["event_f1"] == 0.9 and "latency_s" not in new["models"]["m"]
    assert new["models"]["other"] == {"event_f1": 0.1}
    assert base["models"]["m"]["event_f1"] == 0.80
    assert compare_to_baseline(summary(event_f1=0.9), new, "m").passed


def test_pass_rate_over_repeated_runs_respects_direction():
    runs = [summary(claim_f1=v) for v in (0.5, 0.7, 0.9, 0.8)]
    assert pass_rate(runs, "claim_f1", 0.7) == 0.75
    assert pass_rate([summary(invented_items=v) for v in (0, 1, 5)], "invented_items", 1) == 2 / 3
    assert pass_rate([], "claim_f1", 0.5) == 0.0


def test_baseline_round_trips_and_bad_files_are_named(tmp_path):
    path = tmp_path / "baseline.json"
    assert load_baseline(path)["models"] == {}
    save_baseline(path, baseline())
    assert load_baseline(path) == baseline()
    path.write_text("{not json")
    with pytest.raises(FixtureError, match="baseline.json"):
        load_baseline(path)


def _with_splits(dev: dict, test: dict) -> dict:
    return {**summary(), "splits": {"dev": {"n_docs": 2, "metrics": {**RECORDED, **dev}},
                                    "test": {"n_docs": 1, "metrics": {**RECORDED, **test}}}}


def test_the_baseline_keeps_each_split_and_the_gate_checks_it_on_its_own():
    recorded = update_baseline(baseline(), "m", _with_splits({}, {}))
    assert set(recorded["splits"]["m"]) == {"dev", "test"}
    # the whole holds, dev rises, but test falls: the gate fails on test alone
    result = compare_to_baseline(_with_splits({"event_f1": 0.95}, {"event_f1": 0.60}), recorded, "m")
    assert not result.passed
    assert [r.metric for r in result.rows if not r.ok] == ["test/event_f1"]
    assert "test/event_f1" in render_diff(result)


def test_a_split_the_baseline_has_not_recorded_is_shown_nowhere_and_fails_nothing():
    result = compare_to_baseline(_with_splits({}, {"event_f1": 0.1}), baseline(), "m")
    assert result.passed and all("/" not in r.metric for r in result.rows)


def test_a_split_metric_keeps_its_direction():
    recorded = update_baseline(baseline(), "m", _with_splits({}, {}))
    worse = compare_to_baseline(_with_splits({}, {"invented_items": 5.0}), recorded, "m")
    assert [r.metric for r in worse.rows if not r.ok] == ["test/invented_items"]
