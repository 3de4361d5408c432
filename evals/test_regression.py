"""Every fixture the baseline covers replays from its cassette, and the scores hold against
evals/baseline.json. A changed prompt, schema or model changes the request body: the recording
no longer matches and the test fails naming the cassette and the command that re-records it."""

from __future__ import annotations

import pytest

from harness.evaluation.cassettes import RECORD_HINT
from harness.evaluation.fixtures import iter_fixtures
from harness.evaluation.gate import compare_to_baseline, fixtures_of, load_baseline, render_diff
from harness.evaluation.runner import BASELINE, check_coverage, score_run, scored_summary

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
    gate = compare_to_baseline(scored_summary(eval_run, fixtures), baseline, eval_run.model)
    print(render_diff(gate))
    assert gate.passed, "scores fell below the baseline:\n" + render_diff(gate) + f"\n({RECORD_HINT})"


def _replay(model: str, fixtures):
    import asyncio

    from pytest_recording.network import blocking_context

    from harness.config import Settings
    from harness.evaluation.runner import run_fixtures

    with blocking_context(allowed_hosts=[]):
        return asyncio.run(run_fixtures(fixtures, Settings.from_env({}).with_(model=model)))


def test_other_recorded_models_hold_their_baselines_and_rank_below_the_default(eval_run, fixtures, baseline):
    """Each other model recorded (e.g. SmolLM2-135M on a subset) replays and holds its own baseline,
    and on the same fixtures the scorer ranks it below the default model."""
    others = [m for m in baseline.get("models", {}) if m != eval_run.model]
    if not others:
        pytest.skip("only the default model is recorded")
    for model in others:
        covered = set(fixtures_of(baseline, model) or [])
        subset = [f for f in fixtures if f.id in covered]
        run = _replay(model, subset)
        assert not run.stale and not run.missing, f"{model}: {run.stale or run.missing}"
        summary, _ = score_run(run, subset)
        gate = compare_to_baseline(scored_summary(run, subset), baseline, model)
        assert gate.passed, f"{model} fell below its baseline:\n" + render_diff(gate)
        strong_summary, _ = score_run(eval_run, [f for f in subset if f.id in eval_run.results])
        weak, strong = summary.micro, strong_summary.micro
        print(f"{model}: event F1 {weak['event_f1']:.2f}, claim F1 {weak['claim_f1']:.2f}; "
              f"{eval_run.model}: event F1 {strong['event_f1']:.2f}, claim F1 {strong['claim_f1']:.2f}")
        assert weak["event_f1"] + weak["claim_f1"] < strong["event_f1"] + strong["claim_f1"]
