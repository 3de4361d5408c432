"""The regression gate: compare an eval summary with the recorded baseline of a model.

``evals/baseline.json``::

    {"models": {"<model>": {"<metric>": value, ...}},
     "splits": {"<model>": {"dev": {"<metric>": value, ...}, "test": {...}}},
     "fixtures": {"<model>": ["<fixture id>", ...]},
     "tolerance": {"default": 0.03, "<metric>": allowed drop, ...},
     "headline": ["event_f1", ...]}

The headline metrics are gated over all fixtures and, where the baseline has them, over each
split on its own (rows named ``dev/event_f1``, ``test/event_f1``): a change tuned on ``dev`` that
costs ``test`` fails here too.

A metric passes when it is no worse than its baseline by more than its tolerance; "worse" is
lower for most metrics and higher for those in ``LOWER_IS_BETTER`` (invented items, cost).
A headline metric missing from the baseline is shown but does not fail; one missing from the
current run fails. Summaries are ``report.summary_to_dict`` output (or a flat metric dict).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from ..errors import FixtureError

HEADLINE = (
    "event_f1", "claim_f1", "claim_speaker", "claim_content_exact", "event_type",
    "grounding_rate", "invented_items", "schema_valid_rate",
)  # fmt: skip
LOWER_IS_BETTER = frozenset(
    {"invented_items", "attempts", "prompt_tokens", "completion_tokens", "latency_s"}
)
DEFAULT_TOLERANCE = 0.03
#: Count-valued metrics get no slack by default: one more invented item is a regression.
_DEFAULT_TOLERANCES = {"default": DEFAULT_TOLERANCE, "invented_items": 0.0}
BASELINE_PATH = Path("evals") / "baseline.json"


@dataclass(frozen=True)
class GateRow:
    metric: str
    baseline: float | None
    current: float | None
    delta: float | None
    ok: bool
    tolerance: float


@dataclass(frozen=True)
class GateResult:
    model: str
    passed: bool
    rows: tuple[GateRow, ...]


def metrics_of(summary: Mapping[str, object]) -> Mapping[str, object]:
    """The metric mapping of a ``summary_to_dict`` result (or the mapping itself if flat)."""
    inner = summary.get("metrics")
    return inner if isinstance(inner, Mapping) else summary


def splits_of(summary: Mapping[str, object]) -> dict[str, Mapping[str, object]]:
    """``{split: metrics}`` of a ``summary_to_dict`` result; empty when it has no splits."""
    splits = summary.get("splits")
    if not isinstance(splits, Mapping):
        return {}
    return {name: metrics_of(value) for name, value in splits.items() if isinstance(value, Mapping)}


def tolerance_for(baseline: Mapping[str, object], metric: str) -> float:
    table: Mapping[str, float] = baseline.get("tolerance") or {}  # type: ignore[assignment]
    return float(table.get(metric, table.get("default", DEFAULT_TOLERANCE)))


def headline_of(baseline: Mapping[str, object]) -> tuple[str, ...]:
    return tuple(baseline.get("headline") or HEADLINE)  # type: ignore[arg-type]


def meets(metric: str, current: float, reference: float, tolerance: float = 0.0) -> bool:
    """``current`` is no worse than ``reference`` by more than ``tolerance``, by direction."""
    if metric in LOWER_IS_BETTER:
        return current <= reference + tolerance + 1e-9
    return current >= reference - tolerance - 1e-9


def _row(metric: str, base: object, current: object, tolerance: float) -> GateRow:
    """``metric`` may carry a split prefix (``test/event_f1``); its direction is the metric's."""
    b = float(base) if isinstance(base, int | float) else None
    c = float(current) if isinstance(current, int | float) else None
    if c is None:
        return GateRow(metric, b, None, None, b is None, tolerance)
    if b is None:
        return GateRow(metric, None, c, None, True, tolerance)
    return GateRow(metric, b, c, c - b, meets(metric.rpartition("/")[2], c, b, tolerance), tolerance)


def compare_to_baseline(
    summary: Mapping[str, object], baseline: Mapping[str, object], model: str
) -> GateResult:
    """One row per headline metric; passed when every row is ok."""
    models: Mapping[str, Mapping[str, object]] = baseline.get("models") or {}  # type: ignore
    if model not in models:
        known = ", ".join(sorted(models)) or "none"
        raise FixtureError(
            f"baseline has no entry for model {model!r} (has: {known}); write one with "
            "python -m harness eval --update-baseline before gating on it"
        )
    recorded, current = models[model], metrics_of(summary)
    rows = [
        _row(m, recorded.get(m), current.get(m), tolerance_for(baseline, m))
        for m in headline_of(baseline)
    ]
    recorded_splits = (baseline.get("splits") or {}).get(model) or {}  # type: ignore[union-attr]
    for split, metrics in splits_of(summary).items():
        if split in recorded_splits:
            rows += [
                _row(f"{split}/{m}", recorded_splits[split].get(m), metrics.get(m), tolerance_for(baseline, m))
                for m in headline_of(baseline)
            ]
    return GateResult(model, all(r.ok for r in rows), tuple(rows))


def _num(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def render_diff(result: GateResult, width: int = 100) -> str:
    """A text table of the gate rows and a one-line verdict."""
    table = Table(title=f"Baseline gate: {result.model}", box=box.ASCII)
    for header in ("metric", "baseline", "current", "delta", "tolerance", ""):
        table.add_column(header, justify="left" if header == "metric" else "right")
    for r in result.rows:
        arrow = " (lower is better)" if r.metric.rpartition("/")[2] in LOWER_IS_BETTER else ""
        cells = (_num(r.baseline), _num(r.current), _num(r.delta, True), _num(r.tolerance))
        table.add_row(r.metric + arrow, *cells, "ok" if r.ok else "FAIL")
    console = Console(file=StringIO(), width=width, color_system=None)
    console.print(table)
    failed = [r.metric for r in result.rows if not r.ok]
    verdict = "PASSED" if result.passed else f"FAILED: {', '.join(failed)} regressed"
    return console.file.getvalue() + verdict + "\n"  # type: ignore[attr-defined]


def update_baseline(
    baseline: Mapping[str, object], model: str, summary: Mapping[str, object],
    fixtures: Sequence[str] | None = None,
) -> dict[str, object]:
    """A new baseline with ``model``'s numeric metrics replaced by this run's (input untouched).

    ``fixtures`` names the fixtures the scores cover (those recorded for that model)."""
    def numbers(metrics: Mapping[str, object]) -> dict[str, object]:
        return {k: v for k, v in metrics.items() if isinstance(v, int | float)}

    models = dict(baseline.get("models") or {})  # type: ignore[call-overload]
    models[model] = numbers(metrics_of(summary))
    splits = dict(baseline.get("splits") or {})  # type: ignore[call-overload]
    splits[model] = {name: numbers(metrics) for name, metrics in splits_of(summary).items()}
    covered = dict(baseline.get("fixtures") or {})  # type: ignore[call-overload]
    if fixtures is not None:
        covered[model] = sorted(fixtures)
    return {
        "models": models,
        "splits": splits,
        "fixtures": covered,
        "tolerance": dict(baseline.get("tolerance") or _DEFAULT_TOLERANCES),  # type: ignore
        "headline": list(headline_of(baseline)),
    }


def fixtures_of(baseline: Mapping[str, object], model: str) -> list[str] | None:
    """The fixtures ``model``'s baseline covers, or None when it does not say (all of them)."""
    covered = baseline.get("fixtures") or {}
    return list(covered[model]) if isinstance(covered, dict) and model in covered else None


def pass_rate(runs: Sequence[Mapping[str, object]], metric: str, threshold: float) -> float:
    """Share of repeated runs whose ``metric`` meets ``threshold`` (by direction); a run
    without the metric counts as a failure."""
    if not runs:
        return 0.0
    hits = 0
    for run in runs:
        value = metrics_of(run).get(metric)
        hits += isinstance(value, int | float) and meets(metric, float(value), threshold)
    return hits / len(runs)


def load_baseline(path: Path = BASELINE_PATH) -> dict[str, object]:
    """Read a baseline file; a missing file is an empty baseline."""
    path = Path(path)
    if not path.exists():
        return {"models": {}, "tolerance": dict(_DEFAULT_TOLERANCES), "headline": list(HEADLINE)}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FixtureError(
            f"{path}: not valid JSON ({exc}); fix it, or delete it to record a new baseline"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise FixtureError(
            f"{path}: expected an object with a 'models' mapping of model name -> metrics"
        )
    return data


def save_baseline(path: Path, baseline: Mapping[str, object]) -> None:
    Path(path).write_text(json.dumps(baseline, indent=2, sort_keys=True) + "\n", encoding="utf-8")
