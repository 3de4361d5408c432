"""Scoring a comparison against a labelled pair."""

from __future__ import annotations

import pytest

from harness.compare import ComparisonReport, Discrepancy, DocInfo, Group, ItemRef
from harness.evaluation.compare_scoring import PAIRS_DIR, load_pair, prf, score_pair
from harness.errors import FixtureError


def _ref(doc: str, kind: str, id_: str) -> ItemRef:
    return ItemRef(doc_id=doc, kind=kind, id=id_)


def _report(claim_groups: list[list[tuple[str, str]]], discrepancies: list[tuple[str, list[tuple[str, str]]]]) -> ComparisonReport:
    return ComparisonReport(
        docs=[DocInfo(doc_id="a"), DocInfo(doc_id="b"), DocInfo(doc_id="c")],
        event_groups=[],
        claim_groups=[Group(kind="claim", number=n, label="", members=[_ref(d, "claim", i) for d, i in g])
                      for n, g in enumerate(claim_groups, 1)],
        discrepancies=[Discrepancy(kind=k, items=[_ref(d, "claim", i) for d, i in items], message="")
                       for k, items in discrepancies],
    )


EXPECTED = {
    "pair_id": "t", "docs": ["a", "b", "c"],
    "claim_groups": [[["a", "c1"], ["b", "c1"], ["c", "c1"]], [["a", "c2"], ["b", "c2"]]],
    "discrepancies": [
        {"kind": "quote_wording", "items": [["a", "c2"], ["b", "c2"]]},
        {"kind": "missing", "items": [["c", "c9"]]},
    ],
}


def test_perfect_prediction_scores_one():
    report = _report([[("a", "c1"), ("b", "c1"), ("c", "c1")], [("a", "c2"), ("b", "c2")]],
                     [("quote_wording", [("b", "c2"), ("a", "c2")]), ("missing", [("c", "c9")])])
    s = score_pair(report, EXPECTED)
    assert s["alignment"]["claims"]["f1"] == 1.0 and s["alignment"]["claims"]["tp"] == 4
    assert s["discrepancies"]["all"]["f1"] == 1.0
    assert s["alignment"]["events"]["precision"] is None  # nothing predicted, nothing expected


def test_split_group_and_wrong_kind_lower_the_scores():
    # the triple split into a pair and a single: 1 of 3 expected pairs from it
    report = _report([[("a", "c1"), ("b", "c1")], [("a", "c2"), ("b", "c2")]],
                     [("speaker_vaguer", [("a", "c2"), ("b", "c2")]), ("missing", [("c", "c9")])])
    s = score_pair(report, EXPECTED)
    claims = s["alignment"]["claims"]
    assert (claims["tp"], claims["predicted"], claims["expected"]) == (2, 2, 4)
    assert claims["precision"] == 1.0 and claims["recall"] == 0.5
    assert s["discrepancies"]["by_kind"]["quote_wording"]["recall"] == 0.0
    assert s["discrepancies"]["by_kind"]["speaker_vaguer"]["precision"] == 0.0
    assert s["discrepancies"]["all"]["precision"] == 0.5
    assert s["missed_discrepancies"] == ["quote_wording a:c2 + b:c2"]


def test_prf_handles_empty_sides():
    assert prf(set(), set())["f1"] is None
    assert prf({1}, set())["precision"] == 0.0 and prf({1}, set())["recall"] is None
    assert prf({1, 2}, {2, 3})["f1"] == pytest.approx(0.5)


def test_pair_folder_problems_name_the_file(tmp_path):
    (tmp_path / "expected.json").write_text('{"pair_id": "x", "docs": ["a", "b"]}')
    with pytest.raises(FixtureError, match="a.gold.json"):
        load_pair(tmp_path)


def test_seed_pair_loads_as_results_with_texts():
    pair = load_pair(PAIRS_DIR / "seed-tower22")
    assert [r.doc_id for r in pair.results] == pair.expected.docs
    assert all(pair.texts[r.doc_id] for r in pair.results)
