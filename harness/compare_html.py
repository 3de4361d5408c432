"""One self-contained HTML page for a ComparisonReport: the reports side by side.

Each report is a column of its events and claims; items of one group carry the same number and
colour in every column, and hovering one lights up its partners. Discrepancies are listed on top
with both spans (word differences marked for reworded quotes). Nothing is loaded from the network:
CSS and JavaScript are inline, and jinja2 escapes every text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from schemas import Result

from .compare import ComparisonReport

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "compare.html.j2"


def _hue(kind: str, number: int) -> int:
    """A colour per group, spread around the wheel (golden angle), events and claims apart."""
    return int((number * 137.508 + (0 if kind == "event" else 60)) % 360)


def _columns(report: ComparisonReport, results: Sequence[Result]) -> list[dict[str, Any]]:
    where: dict[tuple[str, str, str], tuple[str, int, int]] = {}
    for g in report.event_groups + report.claim_groups:
        for m in g.members:
            where[(m.doc_id, m.kind, m.id)] = (f"{g.kind[0].upper()}{g.number}", _hue(g.kind, g.number), len(g.members))
    flagged: dict[tuple[str, str], list[str]] = {}
    for d in report.discrepancies:
        for i in d.items:
            flagged.setdefault((i.doc_id, i.id), []).append(d.kind)
    columns = []
    for r in results:
        items = []
        for kind, seq in (("event", r.events), ("claim", r.claims)):
            for x in seq:
                tag, hue, size = where.get((r.doc_id, kind, x.id), ("", 0, 1))
                items.append({
                    "kind": kind, "id": x.id, "group": tag, "hue": hue, "shared": size > 1,
                    "flags": sorted(set(flagged.get((r.doc_id, x.id), []))), "data": x.model_dump(mode="json"),
                })  # fmt: skip
        columns.append({"doc_id": r.doc_id, "title": r.title, "source": r.source, "items": items})
    return columns


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_comparison(
    report: ComparisonReport, results: Sequence[Result], texts: Mapping[str, str] | None = None
) -> str:
    """The page for ``report`` over the ``results`` it compared (``texts`` adds each article,
    folded, under its column)."""
    group_tag = {
        (m.doc_id, m.id): f"{g.kind[0].upper()}{g.number}" for g in report.event_groups + report.claim_groups for m in g.members
    }
    discrepancies = [
        {"d": d.model_dump(mode="json"), "tags": sorted({group_tag.get((i.doc_id, i.id), "") for i in d.items})}
        for d in sorted(report.discrepancies, key=lambda d: (d.kind == "missing", d.kind))
    ]
    return _environment().get_template(TEMPLATE_NAME).render(
        report=report.model_dump(mode="json"),
        columns=_columns(report, results),
        discrepancies=discrepancies,
        texts=dict(texts or {}),
        counts=report.counts(),
    )
