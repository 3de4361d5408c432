"""The suite notices what it must notice: a changed request is a stale cassette (not an old
answer replayed), and a changed gold label changes the scores."""

from __future__ import annotations

import asyncio

from pytest_recording.network import blocking_context

from harness.config import Settings
from harness.evaluation.fixtures import iter_fixtures
from harness.evaluation.runner import run_fixtures, score_run

FIXTURE = "ukgov-03-aid-convoy-inquiry"


def test_a_changed_request_is_a_stale_cassette_with_the_rerecord_command():
    fixtures = list(iter_fixtures(pattern=FIXTURE))
    changed = Settings.from_env({}).with_(max_tokens=1535)  # one setting: a different request body
    with blocking_context(allowed_hosts=[]):
        run = asyncio.run(run_fixtures(fixtures, changed))
    message = run.stale[FIXTURE]
    assert "stale cassette" in message and f"{FIXTURE}.yaml" in message
    assert "python -m harness eval --live --record" in message


def test_deleting_a_gold_claim_changes_the_scores(eval_run, fixtures):
    fixture = next(f for f in fixtures if f.id == FIXTURE)
    before, _ = score_run(eval_run, [fixture])
    fewer = fixture.gold.model_copy(update={"claims": fixture.gold.claims[1:]})
    lowered = type(fixture)(fixture.path, fixture.meta, fixture.text, fewer)
    after, _ = score_run(eval_run, [lowered])
    assert before.micro["claim_precision"] != after.micro["claim_precision"] or \
        before.micro["claim_recall"] != after.micro["claim_recall"]
