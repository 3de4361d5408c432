"""Every fixture loads, its gold validates against the schema, and every gold span's offsets
point at its text: a mislabelled fixture fails here, before it can skew a score."""

from __future__ import annotations

import pytest

from harness.evaluation.fixtures import FIXTURES_DIR, iter_fixtures, span_problems

FIXTURES = list(iter_fixtures())
REQUIRED_TAGS = {
    "no_events", "no_claims", "conflicting_figures", "long", "relative_dates", "page_furniture",
    "prompt_injection", "non_english", "denial", "threat", "hypothetical", "several_speakers",
}


def test_at_least_24_fixtures():
    assert len(FIXTURES) >= 24, f"{len(FIXTURES)} fixtures in {FIXTURES_DIR}"


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.id for f in FIXTURES])
def test_gold_spans_point_at_their_text(fixture):
    assert span_problems(fixture) == []


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.id for f in FIXTURES])
def test_gold_links_and_ids(fixture):
    event_ids = [e.id for e in fixture.gold.events]
    claim_ids = [c.id for c in fixture.gold.claims]
    assert len(set(event_ids)) == len(event_ids) and len(set(claim_ids)) == len(claim_ids)
    for claim in fixture.gold.claims:
        assert set(claim.event_ids) <= set(event_ids), f"{claim.id} links to a missing event"


def test_real_fixtures_carry_licence_and_attribution():
    for fixture in FIXTURES:
        if not fixture.meta.synthetic:
            assert fixture.meta.licence and (fixture.meta.attribution or fixture.id.startswith("seed")), fixture.id


def test_required_cases_are_covered():
    tags = {tag for f in FIXTURES for tag in f.meta.tags}
    assert REQUIRED_TAGS <= tags, f"missing: {sorted(REQUIRED_TAGS - tags)}"
