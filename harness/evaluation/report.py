"""Render eval scores: text tables, a JSON-able dict and a self-contained HTML page.

``render_text(summary, docs)``: two rich tables (per metric, per fixture) as plain text.
``summary_to_dict(summary, docs, splits)``: ``{"n_docs", "metrics" (micro), "macro", "docs",
"splits": {"dev"|"test": {"n_docs", "metrics"}}}``; the gate reads ``metrics`` and ``splits``.
``render_html(summary, docs, texts, preds, golds)``: one HTML page, inline CSS, no script and no
external request; per fixture a ``<details>`` with the article text, gold spans marked *hit*
(aligned with a prediction) or *miss*, predicted spans that align with nothing marked
*invented*, plus the field errors of aligned pairs. ``texts``, ``preds`` and ``golds`` are keyed
by doc id (a missing prediction means the extraction failed).
``write_reports(folder, ...)`` writes ``report.txt``, ``report.json`` and ``report.html``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from jinja2 import Environment
from rich import box
from rich.console import Console
from rich.table import Table

from schemas import Claim, Event, GoldResult, Span

from .align import event_spans
from .scoring import (
    CLAIM_FIELDS,
    EVENT_FIELDS,
    METRICS,
    TOTALS,
    DocScore,
    Prediction,
    Summary,
    claim_fields,
    event_fields,
)

#: Columns of the per-fixture table: (metric, header).
DOC_COLUMNS = (
    ("event_precision", "ev P"), ("event_recall", "ev R"), ("event_f1", "ev F1"),
    ("claim_precision", "cl P"), ("claim_recall", "cl R"), ("claim_f1", "cl F1"),
    ("claim_speaker", "speaker"), ("claim_content_exact", "quote="), ("event_type", "type"),
    ("grounding_rate", "grounded"), ("invented_items", "invented"), ("schema_valid_rate", "valid"),
    ("prompt_tokens", "tok in"), ("completion_tokens", "tok out"), ("latency_s", "secs"),
)  # fmt: skip
_PRIORITY = {"hit": 1, "miss": 2, "invented": 3}


def fmt(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    if metric in TOTALS:
        whole = metric != "latency_s" and float(value).is_integer()
        return f"{value:.0f}" if whole else f"{value:.2f}"
    return f"{value:.3f}"


def summary_to_dict(summary: Summary, docs: Sequence[DocScore] = (),
                    splits: Mapping[str, Summary] | None = None) -> dict[str, object]:
    data: dict[str, object] = {
        "n_docs": summary.n_docs,
        "metrics": dict(summary.micro),
        "macro": dict(summary.macro),
        "docs": {d.doc_id: {**d.metrics(), "error": d.error} for d in docs},
    }
    if splits:
        data["splits"] = {name: {"n_docs": s.n_docs, "metrics": dict(s.micro)} for name, s in splits.items()}
    return data


def _to_text(table: Table, width: int) -> str:
    console = Console(file=StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(table)
    return console.file.getvalue()  # type: ignore[attr-defined]


def metric_table(summary: Summary) -> Table:
    table = Table(title=f"Scores over {summary.n_docs} fixtures", box=box.ASCII)
    for header in ("metric", "micro", "macro"):
        table.add_column(header, justify="left" if header == "metric" else "right")
    for name in METRICS:
        table.add_row(name, fmt(name, summary.micro.get(name)), fmt(name, summary.macro.get(name)))
    return table


def doc_table(docs: Sequence[DocScore]) -> Table:
    table = Table(title="Per fixture", box=box.ASCII)
    table.add_column("fixture")
    for _, header in DOC_COLUMNS:
        table.add_column(header, justify="right")
    for doc in docs:
        metrics = doc.metrics()
        cells = [fmt(name, metrics[name]) for name, _ in DOC_COLUMNS]
        table.add_row(doc.doc_id + (" (error)" if doc.error else ""), *cells)
    return table


def split_table(splits: Mapping[str, Summary]) -> Table:
    """Micro scores of each split side by side: ``dev`` (tuned on) and ``test`` (reported only)."""
    table = Table(title="Scores by split (dev: tuned on; test: reported only)", box=box.ASCII)
    table.add_column("metric")
    for name, s in splits.items():
        table.add_column(f"{name} ({s.n_docs})", justify="right")
    for metric in METRICS:
        table.add_row(metric, *(fmt(metric, s.micro.get(metric)) for s in splits.values()))
    return table


def render_text(summary: Summary, docs: Sequence[DocScore], width: int = 160,
                splits: Mapping[str, Summary] | None = None) -> str:
    text = _to_text(metric_table(summary), width)
    if splits:
        text += _to_text(split_table(splits), width)
    return text + _to_text(doc_table(docs), width)


# --- marked-up article ------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    start: int
    end: int
    kind: str  # hit | miss | invented
    label: str


def _key_span(item: Event | Claim) -> Span | None:
    spans = [item.content] if isinstance(item, Claim) else event_spans(item)
    return next((s for s in spans if s.start is not None and s.end is not None), None)


def _label(item: Event | Claim) -> str:
    if isinstance(item, Claim):
        who = item.speaker.name or item.speaker.role
        return f"{item.id}: {who} {item.cue}"
    return f"{item.id}: {item.type.value}"


def doc_marks(doc: DocScore, pred: Prediction, gold: GoldResult) -> list[Mark]:
    """Gold key spans as hit/miss, key spans of unaligned predictions as invented."""
    marks = []
    for pairs, gold_items, pred_items in (
        (doc.event_pairs, gold.events, pred.events if pred else []),
        (doc.claim_pairs, gold.claims, pred.claims if pred else []),
    ):
        for p, g, _ in pairs:
            item, kind = (gold_items[g], "hit" if p is not None else "miss") if g is not None \
                else (pred_items[p], "invented")  # type: ignore[index]
            span = _key_span(item)
            if span is not None and span.start is not None and span.end is not None:
                marks.append(Mark(span.start, span.end, kind, _label(item)))
    return marks


def segments(text: str, marks: Sequence[Mark]) -> list[tuple[str, str | None, str]]:
    """``(text, kind or None, labels)`` pieces covering ``text``; on overlap the worst kind
    (invented > miss > hit) colours the piece."""
    cuts = sorted({0, len(text), *(m.start for m in marks), *(m.end for m in marks)})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        over = [m for m in marks if m.start <= a and b <= m.end]
        kind = max((m.kind for m in over), key=_PRIORITY.__getitem__, default=None)
        out.append((text[a:b], kind, "; ".join(m.label for m in over)))
    return out


def unplaced(pred: Prediction, doc: DocScore) -> list[str]:
    """Unaligned predictions whose key span has no offsets (not found in the article)."""
    if pred is None:
        return []
    items: list[Event | Claim] = [pred.events[p] for p, g, _ in doc.event_pairs
                                  if p is not None and g is None]  # fmt: skip
    items += [pred.claims[p] for p, g, _ in doc.claim_pairs if p is not None and g is None]
    return [_label(i) for i in items if _key_span(i) is None]


def field_errors(doc: DocScore, pred: Prediction, gold: GoldResult) -> list[str]:
    """One line per aligned pair that got some field wrong."""
    if pred is None:
        return []
    lines = []
    for pairs, rule, names, preds, golds in (
        (doc.event_pairs, event_fields, EVENT_FIELDS, pred.events, gold.events),
        (doc.claim_pairs, claim_fields, CLAIM_FIELDS, pred.claims, gold.claims),
    ):
        for p, g, _ in pairs:
            if p is None or g is None:
                continue
            scores = rule(preds[p], golds[g])  # type: ignore[operator]
            wrong = [f"{n} {scores[n]:.2f}" for n in names if scores[n] < 1]
            if wrong:
                lines.append(f"{preds[p].id} vs gold {golds[g].id}: " + ", ".join(wrong))
    return lines


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.bar{background:#eee;width:16em;height:.9em;display:inline-block}.bar span{background:#4a7;height:100%;display:block}
.article{white-space:pre-wrap;border:1px solid #ccc;padding:1em;background:#fcfcfc}
mark.hit{background:#bfe8c4}mark.miss{background:#ffd39a}mark.invented{background:#f5a3a3}
.legend mark{padding:0 .4em}.err{color:#a22}details{margin:.6em 0}summary{cursor:pointer}
</style></head><body>
<h1>{{ title }}</h1>
<p>{{ summary.n_docs }} fixtures. Micro averages pool every item; macro averages each fixture.</p>
<table><tr><th>metric</th><th>micro</th><th></th><th>macro</th></tr>
{% for m in metrics %}<tr><td>{{ m.name }}</td><td>{{ m.micro }}</td>
<td>{% if m.width is not none %}<span class="bar"><span style="width:{{ m.width }}%"></span></span>{% endif %}</td>
<td>{{ m.macro }}</td></tr>
{% endfor %}</table>
{% if splits %}<h2>By split</h2>
<p><code>dev</code>: fixtures prompts and rules may be tuned on; <code>test</code>: reported only.</p>
<table><tr><th>metric</th>{% for name, s in splits.items() %}<th>{{ name }} ({{ s.n_docs }})</th>{% endfor %}</tr>
{% for row in split_rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>{% endif %}
{% if pairs %}<h2>Cross-source comparison</h2>
<p>The labelled pairs of <code>evals/pairs/</code>: <code>harness compare</code> on their gold Results,
alignment and discrepancies scored against the expected ones.</p>
<table><tr>{% for c in pairs.columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for r in pairs.rows %}<tr>{% for v in r %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>{% endif %}
<h2>Fixtures</h2>
<p class="legend"><mark class="hit">hit</mark> gold item found <mark class="miss">miss</mark>
gold item not found <mark class="invented">invented</mark> prediction matching no gold item</p>
{% for d in docs %}<details><summary><b>{{ d.id }}</b> {{ d.line }}{% if d.error %}
<span class="err">{{ d.error }}</span>{% endif %}</summary>
{% if d.errors %}<p>Field errors on aligned items:</p><ul>{% for e in d.errors %}<li>{{ e }}</li>{% endfor %}</ul>{% endif %}
{% if d.unplaced %}<p class="err">Predicted but not found in the text: {{ d.unplaced|join("; ") }}</p>{% endif %}
<div class="article">{% for text, kind, label in d.segments %}{% if kind %}<mark class="{{ kind }}" title="{{ label }}">{{ text }}</mark>{% else %}{{ text }}{% endif %}{% endfor %}</div>
</details>
{% endfor %}</body></html>
"""


def _metric_rows(summary: Summary) -> list[dict[str, object]]:
    rows = []
    for name in METRICS:
        micro = summary.micro.get(name)
        bar = micro is not None and name not in TOTALS
        width = round(100 * micro, 1) if micro is not None and bar else None
        macro = fmt(name, summary.macro.get(name))
        rows.append({"name": name, "micro": fmt(name, micro), "macro": macro, "width": width})
    return rows


def _doc_view(doc: DocScore, text: str, pred: Prediction, gold: GoldResult) -> dict[str, object]:
    m = doc.metrics()
    line = ", ".join(
        f"{label} {fmt(name, m[name])}"
        for name, label in (("event_f1", "events F1"), ("claim_f1", "claims F1"),
                            ("invented_items", "invented"))
    )  # fmt: skip
    return {"id": doc.doc_id, "line": line, "error": doc.error,
            "segments": segments(text, doc_marks(doc, pred, gold)),
            "errors": field_errors(doc, pred, gold), "unplaced": unplaced(pred, doc)}  # fmt: skip


def render_html(
    summary: Summary,
    docs: Sequence[DocScore],
    texts: Mapping[str, str],
    preds: Mapping[str, Prediction],
    golds: Mapping[str, GoldResult],
    title: str = "harness eval report",
    pairs: dict | None = None,
    splits: Mapping[str, Summary] | None = None,
) -> str:
    """The whole report as one self-contained HTML page (inputs keyed by doc id)."""
    views = [
        _doc_view(d, texts.get(d.doc_id, ""), preds.get(d.doc_id), golds[d.doc_id]) for d in docs
    ]
    split_rows = [[m, *(fmt(m, s.micro.get(m)) for s in (splits or {}).values())] for m in METRICS]
    template = Environment(autoescape=True).from_string(_TEMPLATE)
    return template.render(title=title, summary=summary, metrics=_metric_rows(summary), docs=views,
                           pairs=pairs, splits=splits, split_rows=split_rows)


def write_reports(
    folder: Path,
    summary: Summary,
    docs: Sequence[DocScore],
    texts: Mapping[str, str],
    preds: Mapping[str, Prediction],
    golds: Mapping[str, GoldResult],
    pairs: Sequence[dict] = (),
    splits: Mapping[str, Summary] | None = None,
) -> dict[str, Path]:
    """Write report.txt, report.json and report.html into ``folder``; returns their paths.
    ``pairs``: scores of the labelled cross-source pairs (``compare_scoring.score_all_pairs``);
    ``splits``: the summary of each split (``dev``, ``test``)."""
    from .compare_scoring import PAIR_COLUMNS, pair_rows, pair_table

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {k: folder / f"report.{k}" for k in ("txt", "json", "html")}
    text = render_text(summary, docs, splits=splits) + (_to_text(pair_table(list(pairs)), 160) if pairs else "")
    paths["txt"].write_text(text, encoding="utf-8")
    data = summary_to_dict(summary, docs, splits) | {"pairs": list(pairs)}
    paths["json"].write_text(json.dumps(data, indent=2), encoding="utf-8")
    pair_view = {"columns": PAIR_COLUMNS, "rows": pair_rows(list(pairs))} if pairs else None
    html = render_html(summary, docs, texts, preds, golds, pairs=pair_view, splits=splits)
    paths["html"].write_text(html, encoding="utf-8")
    return paths
