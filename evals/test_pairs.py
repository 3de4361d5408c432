"""Cross-source comparison scored on the labelled pairs (gold Results of the same story)."""

from __future__ import annotations

import pytest

from harness.evaluation.compare_scoring import iter_pairs, score_all_pairs

# Measured on the gold pairs when this suite was written; the seed pair (real articles) is the
# hardest: it scored alignment F1 0.91 and discrepancy F1 0.95. Falling below these is a regression.
MIN_ALIGNMENT_F1 = 0.85
MIN_DISCREPANCY_F1 = 0.85


@pytest.fixture(scope="module")
def scores():
    return {s["pair_id"]: s for s in score_all_pairs()}


def test_at_least_four_labelled_pairs():
    assert len(iter_pairs()) >= 4


def test_pairs_align_and_find_discrepancies(scores):
    rows = []
    for pair_id, s in scores.items():
        a, d = s["alignment"]["all"]["f1"], s["discrepancies"]["all"]["f1"]
        rows.append(f"{pair_id}: alignment F1 {a}, discrepancy F1 {d}")
        assert a is None or a >= MIN_ALIGNMENT_F1, rows[-1]
        assert d is None or d >= MIN_DISCREPANCY_F1, rows[-1]
    print("\n".join(rows))


def test_the_seed_pair_from_the_default_model_s_recorded_results(eval_run):
    """Issue #6's bar, from the embedded model's replayed Results (not the gold): the reworded
    Ryder quotation, the attack count made vague, and a speaker made vaguer."""
    from harness.compare import compare
    from harness.evaluation.fixtures import FIXTURES_DIR, load_fixture

    ids = ["seed-000-tower22", "seed-002-tower22-rewrite"]
    if eval_run.model != "qwen2.5-coder-1.5b" or not all(i in eval_run.results for i in ids):
        pytest.skip(f"the bar is set on qwen2.5-coder-1.5b's Results; this run replays {eval_run.model}")
    texts = {i: load_fixture(FIXTURES_DIR / i).text for i in ids}
    report = compare([eval_run.results[i] for i in ids], texts)
    found = {(d.kind, d.message) for d in report.discrepancies}
    assert any(k == "quote_wording" and "Pat Ryder" in m for k, m in found), found
    assert ("figure_differs", "figures differ: 'approximately 166' vs 'a significant number of'") in found
    assert ("speaker_vaguer", "named as 'United States' in one report, only 'Pentagon spokeswoman' in the other") in found
