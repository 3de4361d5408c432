"""Every fixture replays from its cassette, and the scores hold against evals/baseline.json."""

from __future__ import annotations

import pytest

from harness.evaluation.cassettes import RECORD_HINT
from harness.evaluation.fixtures import iter_fixtures
from harness.evaluation.gate import compare_to_baseline, load_baseline, render_diff
from harness.evaluation.report import summary_to_dict
from harness.evaluation.runner import BASELINE, score_run

FIXTURE_IDS = [f.id for f in iter_fixtures()]


@pytest.mark.parametrize("fixture_id", FIXTURE_IDS)
def test_fixture_replays(eval_run, fixture_id):
    if fixture_id in eval_run.stale:
        pytest.fail(eval_run.stale[fixture_id], pytrace=False)
    result = eval_run.results[fixture_id]
    assert result.provenance is not None and result.provenance.prompt_sha256 == eval_run.prompt_sha256


def test_scores_hold_against_baseline(eval_run, fixtures):
    summary, docs = score_run(eval_run, fixtures)
    report = summary_to_dict(summary, docs)
    baseline = load_baseline(BASELINE)
    assert eval_run.model in baseline.get("models", {}), (
        f"no baseline for {eval_run.model} in {BASELINE}: run python -m harness eval --update-baseline"
    )
    gate = compare_to_baseline(report, baseline, eval_run.model)
    print(render_diff(gate))
    assert gate.passed, "scores fell below the baseline:\n" + render_diff(gate) + f"\n({RECORD_HINT})"
