"""Every fixture the baseline covers replays from its cassette, and the scores hold against
evals/baseline.json. A changed prompt, schema or model changes the request body: the recording
no longer matches and the test fails naming the cassette and the command that re-records it."""

from __future__ import annotations

import pytest

from harness.evaluation.cassettes import RECORD_HINT
from harness.evaluation.fixtures import iter_fixtures
from harness.evaluation.gate import compare_to_baseline, fixtures_of, load_baseline, render_diff
from harness.evaluation.report import summary_to_dict
from harness.evaluation.runner import BASELINE, check_coverage, score_run

FIXTURE_IDS = [f.id for f in iter_fixtures()]


@pytest.fixture(scope="module")
def baseline():
    return load_baseline(BASELINE)


@pytest.mark.parametrize("fixture_id", FIXTURE_IDS)
def test_fixture_replays(eval_run, baseline, fixture_id):
    if fixture_id in eval_run.stale:
        pytest.fail(eval_run.stale[fixture_id], pytrace=False)
    covered = fixtures_of(baseline, eval_run.model)
    if fixture_id in eval_run.missing:
        if covered is not None and fixture_id not in covered:
            pytest.skip(f"not recorded for {eval_run.model}; {RECORD_HINT}")
        pytest.fail(check_coverage(eval_run, {"fixtures": {eval_run.model: [fixture_id]}})[0], pytrace=False)
    result = eval_run.results[fixture_id]
    assert result.provenance is not None and result.provenance.prompt_sha256 == eval_run.prompt_sha256
    # The model may have failed on it when it was recorded (that is scored: schema_valid_rate);
    # anything else (an endpoint error in replay) means the recording and the code disagree.
    assert result.error is None or result.error.type == "ExtractionError", f"{fixture_id}: {result.error}"


def test_scores_hold_against_baseline(eval_run, fixtures, baseline):
    assert eval_run.model in baseline.get("models", {}), (
        f"no baseline for {eval_run.model} in {BASELINE}: run python -m harness eval --update-baseline"
    )
    summary, docs = score_run(eval_run, fixtures)
    gate = compare_to_baseline(summary_to_dict(summary, docs), baseline, eval_run.model)
    print(render_diff(gate))
    assert gate.passed, "scores fell below the baseline:\n" + render_diff(gate) + f"\n({RECORD_HINT})"
