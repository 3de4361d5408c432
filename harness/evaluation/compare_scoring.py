"""Scores of a cross-source comparison against a labelled pair (``evals/pairs/<id>/``).

Alignment is scored on aligned item pairs: every two members of a group make one pair, and the
predicted pairs are compared with the expected ones (precision, recall, F1), per kind and
overall. A discrepancy is found when a predicted one has the same kind and the same set of
involved items, ``(doc_id, item id)``; precision/recall/F1 per kind and overall, and overall
without ``missing`` (which follows from alignment and would otherwise dominate).

A pair folder holds ``<doc_id>.txt`` and ``<doc_id>.gold.json`` per report (``GoldResult``),
``meta.json`` and ``expected.json``::

    {"pair_id": ..., "docs": [doc ids in comparison order],
     "event_groups": [[[doc_id, id], [doc_id, id]], ...],   # groups of 2+ items
     "claim_groups": [...],
     "discrepancies": [{"kind": ..., "items": [[doc_id, id], ...], "note": ...}, ...]}
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas import GoldResult, Result

from ..compare import ComparisonReport, compare
from ..errors import FixtureError
from .fixtures import load_json

PAIRS_DIR = Path(__file__).resolve().parents[2] / "evals" / "pairs"

Ref = tuple[str, str]


class ExpectedDiscrepancy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str
    items: list[tuple[str, str]] = Field(min_length=1)
    note: str | None = None


class Expected(BaseModel):
    """``expected.json`` of a pair."""

    model_config = ConfigDict(extra="forbid")

    pair_id: str
    docs: list[str] = Field(min_length=2)
    event_groups: list[list[tuple[str, str]]] = Field(default_factory=list)
    claim_groups: list[list[tuple[str, str]]] = Field(default_factory=list)
    discrepancies: list[ExpectedDiscrepancy] = Field(default_factory=list)


def prf(predicted: set[Any], expected: set[Any]) -> dict[str, float | int | None]:
    """Precision, recall, F1 and the counts; a ratio with nothing to count is None."""
    tp = len(predicted & expected)
    p = tp / len(predicted) if predicted else None
    r = tp / len(expected) if expected else None
    f1 = 2 * p * r / (p + r) if p is not None and r is not None and p + r else (0.0 if p is not None and r is not None else None)
    return {"precision": p, "recall": r, "f1": f1, "tp": tp, "predicted": len(predicted), "expected": len(expected)}


def _pairs(groups: Iterable[Iterable[Ref]]) -> set[frozenset[Ref]]:
    return {frozenset(p) for g in groups for p in combinations(sorted(set(map(tuple, g))), 2)}  # type: ignore[arg-type]


def score_pair(report: ComparisonReport, expected: dict[str, Any] | Expected) -> dict[str, Any]:
    """Alignment and discrepancy scores of ``report`` against a pair's ``expected.json``."""
    exp = expected if isinstance(expected, Expected) else Expected.model_validate(expected)
    alignment: dict[str, Any] = {}
    all_pred: set[Any] = set()
    all_exp: set[Any] = set()
    for kind, groups, gold in (("events", report.event_groups, exp.event_groups),
                               ("claims", report.claim_groups, exp.claim_groups)):  # fmt: skip
        pred = _pairs([(m.doc_id, m.id) for m in g.members] for g in groups)
        want = _pairs(gold)
        alignment[kind] = prf(pred, want)
        all_pred |= {(kind, p) for p in pred}
        all_exp |= {(kind, p) for p in want}
    alignment["all"] = prf(all_pred, all_exp)

    pred_d = {(d.kind, frozenset((i.doc_id, i.id) for i in d.items)) for d in report.discrepancies}
    exp_d = {(d.kind, frozenset(d.items)) for d in exp.discrepancies}
    kinds = sorted({k for k, _ in pred_d | exp_d})
    by_kind = {k: prf({x for x in pred_d if x[0] == k}, {x for x in exp_d if x[0] == k}) for k in kinds}

    def show(items: set[Any]) -> list[str]:
        return sorted(f"{k} " + " + ".join(f"{d}:{i}" for d, i in sorted(refs)) for k, refs in items)

    return {
        "pair_id": exp.pair_id,
        "alignment": alignment,
        "discrepancies": {
            "by_kind": by_kind,
            "all": prf(pred_d, exp_d),
            "all_but_missing": prf({x for x in pred_d if x[0] != "missing"}, {x for x in exp_d if x[0] != "missing"}),
        },
        "false_discrepancies": show(pred_d - exp_d),
        "missed_discrepancies": show(exp_d - pred_d),
    }


# --- pair folders -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    path: Path
    expected: Expected
    results: list[Result]
    texts: dict[str, str]


def load_pair(folder: Path) -> Pair:
    """A pair folder's gold Results (as Results), article texts and expected alignment."""
    folder = Path(folder)
    try:
        expected = Expected.model_validate(load_json(folder / "expected.json"))
    except ValidationError as exc:
        raise FixtureError(f"{folder / 'expected.json'}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None
    results, texts = [], {}
    for doc_id in expected.docs:
        path = folder / f"{doc_id}.gold.json"
        try:
            gold = GoldResult.model_validate(load_json(path))
        except ValidationError as exc:
            raise FixtureError(f"{path}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None
        if gold.doc_id != doc_id:
            raise FixtureError(f"{path}: doc_id {gold.doc_id!r} should be {doc_id!r} (the file name)")
        try:
            texts[doc_id] = (folder / f"{doc_id}.txt").read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FixtureError(f"{folder / f'{doc_id}.txt'}: missing; copy the article text beside its gold file") from None
        results.append(Result(doc_id=doc_id, events=gold.events, claims=gold.claims))
    return Pair(folder, expected, results, texts)


def iter_pairs(root: Path = PAIRS_DIR) -> list[Pair]:
    return [load_pair(p) for p in sorted(Path(root).iterdir()) if (p / "expected.json").is_file()]


def score_all_pairs(root: Path = PAIRS_DIR) -> list[dict[str, Any]]:
    """Compare the gold Results of every pair and score each comparison."""
    return [score_pair(compare(p.results, p.texts), p.expected) for p in iter_pairs(root)]


PAIR_COLUMNS = ("pair", "align P", "align R", "align F1", "disc P", "disc R", "disc F1", "disc F1 (no missing)")


def pair_rows(scores: list[dict[str, Any]]) -> list[list[str]]:
    """One row of formatted cells per scored pair (``PAIR_COLUMNS``)."""
    def f(x: Any) -> str:
        return "-" if x is None else f"{x:.2f}"

    rows = []
    for s in scores:
        a, d, m = s["alignment"]["all"], s["discrepancies"]["all"], s["discrepancies"]["all_but_missing"]
        rows.append([s["pair_id"], f(a["precision"]), f(a["recall"]), f(a["f1"]),
                     f(d["precision"]), f(d["recall"]), f(d["f1"]), f(m["f1"])])
    return rows


def pair_table(scores: list[dict[str, Any]]) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(*PAIR_COLUMNS, title="Cross-source comparison of the labelled pairs (gold Results)", box=box.ASCII)
    for row in pair_rows(scores):
        table.add_row(*row)
    return table


def main() -> int:
    """``python -m harness.evaluation.compare_scoring``: a table of the scores of every pair."""
    from rich.console import Console

    Console().print(pair_table(score_all_pairs()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
