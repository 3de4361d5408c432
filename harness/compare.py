"""Cross-source comparison: align the events and claims of several Results about one story and
list where the reports disagree (reworded quotes, vaguer speakers, changed figures, items only
one report has, a different party held responsible).

Alignment is incremental maximum bipartite matching: the first Result's items seed the groups;
each further Result is matched one-to-one against the groups (``scipy`` ``linear_sum_assignment``
on the best similarity to any member), pairs below ``EVENT_THRESHOLD`` / ``CLAIM_THRESHOLD`` stay
apart, and unmatched items open new groups. A group holds at most one item per report.
Similarities are weighted means over the terms both sides can be judged on: a field one report
leaves empty never counts against a match (the vaguer report still aligns).

``compare`` is pure; ``compare_main`` is the file edge behind ``python -m harness compare``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError
from rapidfuzz import fuzz
from scipy.optimize import linear_sum_assignment

from schemas import Claim, Event, Result, Span, Speaker

from .compare_match import (
    _BLAME,
    _NUMBER_WORDS,
    _VAGUE,
    CLAIM_THRESHOLD,
    EVENT_THRESHOLD,
    DiscrepancyKind,
    ItemKind,
    _norm,
    claim_similarity,
    date_relation,
    event_similarity,
    figures,
    norm_name,
    resolve_group_reference,
    role_tokens,
    speaker_relation,
    word_diff,
)
from .errors import ConfigError, HarnessError, InputError
from .grounding import locate
from .output import same_file
from .result_files import NOT_RESULTS, read_records
from .terminal import printable, say
from .view import read_article, safe_name

# --- report model -------------------------------------------------------------------------------


class ItemRef(BaseModel):
    doc_id: str
    kind: ItemKind
    id: str


class SpanRef(BaseModel):
    """Where the compared words are: ``start``/``end`` index the document when known."""

    doc_id: str
    item_id: str
    text: str
    start: int | None = None
    end: int | None = None


class Group(BaseModel):
    """Items of several reports judged to be the same event or the same claim."""

    kind: ItemKind
    number: int = Field(description="1-based, per kind: E1, E2... and C1, C2...")
    label: str
    members: list[ItemRef]
    score: float | None = Field(None, description="Lowest similarity that joined a member.")


class Discrepancy(BaseModel):
    kind: DiscrepancyKind
    items: list[ItemRef]
    spans: list[SpanRef] = Field(default_factory=list)
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class DocInfo(BaseModel):
    doc_id: str
    title: str | None = None
    source: str | None = None
    published: str | None = None
    events: int = 0
    claims: int = 0


class ComparisonReport(BaseModel):
    docs: list[DocInfo]
    event_groups: list[Group]
    claim_groups: list[Group]
    discrepancies: list[Discrepancy]
    thresholds: dict[str, float] = Field(
        default_factory=lambda: {"event": EVENT_THRESHOLD, "claim": CLAIM_THRESHOLD}
    )

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in self.discrepancies:
            out[d.kind] = out.get(d.kind, 0) + 1
        return out


# --- text helpers -------------------------------------------------------------------------------

def _group(
    docs: Sequence[tuple[str, Sequence[Any]]], sim: Any, threshold: float
) -> list[tuple[list[tuple[str, Any]], float | None]]:
    """Incremental one-to-one assignment of each report's items to the groups so far."""
    groups: list[tuple[list[tuple[str, Any]], float | None]] = []
    for doc_id, items in docs:
        matched: set[int] = set()
        if groups and items:
            m = np.array([[max(sim(x, it) for _, x in g) for it in items] for g, _ in groups])
            for gi, ii in zip(*linear_sum_assignment(np.where(m >= threshold, m, 0.0), maximize=True)):
                if m[gi, ii] >= threshold:
                    members, low = groups[gi]
                    members.append((doc_id, items[ii]))
                    groups[gi] = (members, min(low if low is not None else 1.0, float(m[gi, ii])))
                    matched.add(int(ii))
        groups += [([(doc_id, it)], None) for i, it in enumerate(items) if i not in matched]
    return groups


def _refs(kind: ItemKind, members: list[tuple[str, Any]]) -> list[ItemRef]:
    return [ItemRef(doc_id=d, kind=kind, id=x.id) for d, x in members]


# --- discrepancies ------------------------------------------------------------------------------


def _span(doc_id: str, item_id: str, span: Span | None, texts: Mapping[str, str], lo: int = 0, hi: int | None = None) -> SpanRef | None:
    if span is None:
        return None
    text = span.text[lo:hi]
    doc = texts.get(doc_id)
    start = end = None
    if span.start is not None and span.end is not None:
        exact = doc is None or doc[span.start : span.end] == span.text
        if exact:
            start, end = span.start + lo, span.start + (len(span.text) if hi is None else hi)
    return SpanRef(doc_id=doc_id, item_id=item_id, text=text, start=start, end=end)


def _event_span(
    doc_id: str, e: Event, texts: Mapping[str, str], pattern: str | None = None, whole: bool = False,
    words: str | None = None,
) -> SpanRef | None:
    """The evidence words matching ``pattern`` (the whole sentence if ``whole``); else ``words``
    (the event's own casualty or date words), placed in the article when they are there; else
    the first evidence span."""
    spans = list(e.evidence) + ([e.trigger] if e.trigger else [])
    if pattern:
        for s in spans:
            m = re.search(pattern, s.text, re.IGNORECASE)
            if m:
                return _span(doc_id, e.id, s, texts, *((0, None) if whole else (m.start(), m.end())))
    if words:
        doc = texts.get(doc_id, "")
        found = locate(words, doc)  # quotes, dashes and case folded: "on Monday" is "On Monday"
        if found is None or found.similarity < 100:  # the words themselves, not a near miss
            return SpanRef(doc_id=doc_id, item_id=e.id, text=words)
        return SpanRef(doc_id=doc_id, item_id=e.id, text=doc[found.start : found.end],
                       start=found.start, end=found.end)
    return _span(doc_id, e.id, spans[0], texts) if spans else None


def _describe(s: Speaker) -> str:
    return ", ".join(x for x in (s.name, s.role) if x) or "?"


def _claim_pair(da: str, a: Claim, db: str, b: Claim, texts: Mapping[str, str]) -> list[Discrepancy]:
    items = [ItemRef(doc_id=da, kind="claim", id=a.id), ItemRef(doc_id=db, kind="claim", id=b.id)]
    spans = [s for s in (_span(da, a.id, a.content, texts), _span(db, b.id, b.content, texts)) if s]
    out: list[Discrepancy] = []
    if a.kind == "direct" and b.kind == "direct":
        na, nb = _norm(a.content.text), _norm(b.content.text)
        if f" {na} " not in f" {nb} " and f" {nb} " not in f" {na} ":  # an excerpt is no rewording
            whole = fuzz.ratio(na, nb)
            out.append(Discrepancy(
                kind="quote_wording", items=items, spans=spans,
                message=f"the quote attributed to {_describe(a.speaker)} is worded differently "
                f"(similarity {whole:.0f}/100)",
                details={"similarity": round(whole, 1), **_closest_wording(a.content.text, b.content.text)},
            ))
    _, relation = speaker_relation(a.speaker, b.speaker)
    if relation in ("vaguer", "differs"):
        kind = "speaker_vaguer" if relation == "vaguer" else "speaker_differs"
        named, vague = (a, b) if a.speaker.name or (not b.speaker.name and _fuller(a.speaker, b.speaker)) else (b, a)
        message = (f"{'named' if named.speaker.name else 'given'} as {_describe(named.speaker)!r} in one report, "
                   f"only {_describe(vague.speaker)!r} in the other"
                   if relation == "vaguer" else f"attributed to {_describe(a.speaker)!r} and to {_describe(b.speaker)!r}")
        out.append(Discrepancy(kind=kind, items=items, spans=spans, message=message,
                               details={"speakers": [a.speaker.model_dump(), b.speaker.model_dump()]}))
    fa, fb = figures(a.content.text), figures(b.content.text)
    va, vb = _VAGUE.search(a.content.text), _VAGUE.search(b.content.text)
    changed = {f[1] for f in fa} != {f[1] for f in fb} and (fa and fb or (fa and vb) or (fb and va))
    if changed:
        def where(doc_id: str, c: Claim, figs: list[Any], vague: Any) -> SpanRef | None:
            lo, hi = (figs[0][2], figs[0][3]) if figs else (vague.start(), vague.end()) if vague else (0, None)
            return _span(doc_id, c.id, c.content, texts, lo, hi)

        pair = [where(da, a, fa, va), where(db, b, fb, vb)]
        out.append(Discrepancy(
            kind="figure_differs", items=items, spans=[s for s in pair if s],
            message=f"figures differ: {_fig_words(fa, va)!r} vs {_fig_words(fb, vb)!r}",
            details={"a": [f[0] for f in fa], "b": [f[0] for f in fb]},
        ))
    return out


def _fuller(a: Speaker, b: Speaker) -> bool:
    """``a``'s description holds more than ``b``'s ("US officials" against "officials")."""
    return len(role_tokens(a.role, a.affiliation)) > len(role_tokens(b.role, b.affiliation))


def _closest_wording(a: str, b: str) -> dict[str, Any]:
    """The word diff of the whole quotes, and of the part of the longer quote that best matches
    the shorter one (a quote cut down in one report differs there only)."""
    out: dict[str, Any] = {"diff": word_diff(a, b)}
    short, long_, swap = (a, b, False) if len(a) <= len(b) else (b, a, True)
    if len(long_) > 1.5 * len(short):
        al = fuzz.partial_ratio_alignment(short.lower(), long_.lower())
        lo = long_.rfind(" ", 0, al.dest_start) + 1
        hi = long_.find(" ", al.dest_end)
        window = long_[lo : hi if hi >= 0 else None]
        pair = (window, short) if swap else (short, window)
        out.update(window=window, window_similarity=round(fuzz.ratio(_norm(pair[0]), _norm(pair[1])), 1),
                   window_diff=word_diff(*pair))
    return out


def _fig_words(figs: list[Any], vague: Any) -> str:
    return ", ".join(f[0] for f in figs) if figs else (vague.group(0) if vague else "no figure")


def _event_pair(da: str, a: Event, db: str, b: Event, texts: Mapping[str, str]) -> list[Discrepancy]:
    items = [ItemRef(doc_id=da, kind="event", id=a.id), ItemRef(doc_id=db, kind="event", id=b.id)]
    out: list[Discrepancy] = []
    for field in ("killed", "injured"):
        xa = getattr(a.fatalities, field) if a.fatalities else None
        xb = getattr(b.fatalities, field) if b.fatalities else None
        vague = [bool(x.fatalities and x.fatalities.text and _VAGUE.search(x.fatalities.text)) for x in (a, b)]
        if (xa is not None and xb is not None and xa != xb) or (xa is not None and xb is None and vague[1]) or (xb is not None and xa is None and vague[0]):
            words = [str(x) if x is not None else _fig_words([], _VAGUE.search(e.fatalities.text or "")) for x, e in ((xa, a), (xb, b))]  # type: ignore[union-attr]
            spans = [_event_span(d, e, texts, _fig_pattern(x, e), words=e.fatalities and e.fatalities.text)
                     for d, e, x in ((da, a, xa), (db, b, xb))]
            out.append(Discrepancy(kind="figure_differs", items=items, spans=[s for s in spans if s],
                                   message=f"{field}: {words[0]!r} vs {words[1]!r}",
                                   details={"field": field, "a": xa, "b": xb}))
    if date_relation(a, b) not in (None, 1.0):
        spans = [_event_span(d, e, texts, re.escape(e.date.text) if e.date and e.date.text else None,
                             words=e.date.text if e.date else None)
                 for d, e in ((da, a), (db, b))]
        va, vb = a.date.value, b.date.value  # type: ignore[union-attr]
        out.append(Discrepancy(kind="figure_differs", items=items, spans=[s for s in spans if s],
                               message=f"dates differ: {va} vs {vb}", details={"field": "date", "a": va, "b": vb}))
    ra, rb = _responsibility(a), _responsibility(b)
    _unify(ra, rb)
    if ra and rb:
        diff = {k: [sorted(ra.get(k, [])), sorted(rb.get(k, []))] for k in set(ra) | set(rb)
                if ra.get(k) != rb.get(k)}
        if diff:
            shown = {norm_name(r.actor): r.actor for r in reversed(b.responsibility + a.responsibility)}
            what = "; ".join(f"{shown.get(k, k)}: {'/'.join(x) or 'not named'} vs {'/'.join(y) or 'not named'}"
                             for k, (x, y) in sorted(diff.items()))
            spans = [_event_span(d, e, texts, _BLAME, whole=True) for d, e in ((da, a), (db, b))]
            out.append(Discrepancy(kind="responsibility_differs", items=items, spans=[s for s in spans if s],
                                   message=f"responsibility differs ({what})", details={"actors": diff}))
    return out


def _fig_pattern(value: int | None, e: Event) -> str:
    if value is not None:
        words = [k for k, v in _NUMBER_WORDS.items() if v == value]
        return r"\b(" + "|".join([str(value), *words]) + r")\b"
    return _VAGUE.pattern


def _responsibility(e: Event) -> dict[str, set[str]]:
    """Actor (normalised, near-duplicates merged) -> certainties."""
    out: dict[str, set[str]] = {}
    for r in e.responsibility:
        name = norm_name(r.actor)
        key = next((k for k in out if _same_actor(k, name)), name)
        out.setdefault(key, set()).add(r.certainty)
    return out


def _same_actor(a: str, b: str) -> bool:
    """Stricter than ``names_same``: ``Iran`` is not ``Iran-backed groups``."""
    return a == b or fuzz.token_sort_ratio(a, b) >= 90


def _unify(ra: dict[str, set[str]], rb: dict[str, set[str]]) -> None:
    """Rename rb's keys to ra's where they name the same actor (in place)."""
    for k in list(rb):
        match = next((x for x in ra if x != k and _same_actor(x, k)), None)
        if match and match not in rb:
            rb[match] = rb.pop(k)


# --- the comparison -----------------------------------------------------------------------------


def _label(kind: ItemKind, members: list[tuple[str, Any]]) -> str:
    x = members[0][1]
    if kind == "event":
        return x.summary
    return f"{_describe(x.speaker)}: {x.content.text[:80]}"


def compare(results: Sequence[Result], texts: Mapping[str, str] | None = None) -> ComparisonReport:
    """Align the events and claims of ``results`` (reports of one story) and list discrepancies.

    ``texts`` (doc_id -> article text) is optional: with it, a span is given offsets only where
    they really hold its words."""
    texts = texts or {}
    ids = [r.doc_id for r in results]
    if len(set(ids)) != len(ids):
        raise InputError(f"doc_ids must differ to be compared, got {ids}; rename the duplicates")
    ev_groups = _group([(r.doc_id, r.events) for r in results], event_similarity, EVENT_THRESHOLD)
    group_of = {(d, e.id): n for n, (members, _) in enumerate(ev_groups) for d, e in members}

    # claims as compared: a group named by description ("the militant group") gets its name
    resolved = {
        (r.doc_id, c.id): c.model_copy(update={"content": c.content.model_copy(
            update={"text": resolve_group_reference(c, r, texts.get(r.doc_id))})})
        for r in results for c in r.claims
    }

    def claim_sim(pair_a: tuple[str, Claim], b_item: tuple[str, Claim]) -> float:
        (da, a), (db, b) = pair_a, b_item
        ga = {group_of.get((da, i)) for i in a.event_ids} - {None}
        gb = {group_of.get((db, i)) for i in b.event_ids} - {None}
        return claim_similarity(resolved[da, a.id], resolved[db, b.id], bool(ga & gb) if ga and gb else None)

    cl_docs = [(r.doc_id, [(r.doc_id, c) for c in r.claims]) for r in results]
    raw_claims = _group(cl_docs, lambda x, y: claim_sim(x, y), CLAIM_THRESHOLD)
    cl_groups = [([(d, c) for d, (_, c) in members], low) for members, low in raw_claims]

    discrepancies: list[Discrepancy] = []
    for kind, groups, pair_fn in (("event", ev_groups, _event_pair), ("claim", cl_groups, _claim_pair)):
        for members, _ in groups:
            if len(members) == 1 and len(results) > 1:
                d, x = members[0]
                span = _event_span(d, x, texts) if kind == "event" else _span(d, x.id, x.content, texts)
                discrepancies.append(Discrepancy(
                    kind="missing", items=_refs(kind, members), spans=[span] if span else [],
                    message=f"{kind} only in {d}: {_label(kind, members)}",
                    details={"present_in": [d], "absent_from": [i for i in ids if i != d]},
                ))
            for i in range(len(members)):
                for j in range(i + 1, len(members)):
                    discrepancies.extend(pair_fn(*members[i], *members[j], texts))
    return ComparisonReport(
        docs=[DocInfo(doc_id=r.doc_id, title=r.title, source=r.source, published=r.published,
                      events=len(r.events), claims=len(r.claims)) for r in results],
        event_groups=_groups("event", ev_groups),
        claim_groups=_groups("claim", cl_groups),
        discrepancies=discrepancies,
    )


def _groups(kind: ItemKind, groups: list[tuple[list[tuple[str, Any]], float | None]]) -> list[Group]:
    ordered = sorted(groups, key=lambda g: -len(g[0]))  # shared items first
    return [
        Group(kind=kind, number=n, label=_label(kind, members), members=_refs(kind, members),
              score=None if low is None else round(low, 3))
        for n, (members, low) in enumerate(ordered, 1)
    ]


# --- file edge: python -m harness compare -------------------------------------------------------


def load_results(path: Path) -> list[tuple[Result, str | None]]:
    """Results in a JSON (one object or a list) or JSONL file, each with its article text: the
    record's own ``text`` field, else a ``<doc_id>.txt`` beside the file (read as ``extract``
    reads it). Gold files (``notes``, no provenance) load too."""
    records, _jsonl = read_records(Path(path))
    out = []
    for n, rec in enumerate(records, 1):
        text, rec = rec.get("text"), {k: v for k, v in rec.items() if k not in ("text", "notes")}
        try:
            result = Result.model_validate(rec)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InputError(f"{path}: record {n} is not a valid Result ({where}: {first['msg']}); "
                             f"{NOT_RESULTS}") from None
        sibling = Path(path).parent / f"{result.doc_id}.txt"
        if text is None and safe_name(result.doc_id) == result.doc_id and sibling.is_file():
            text = read_article(sibling)
        out.append((result, text))
    return out


def compare_main(paths: list[Path], html: Path | None = None, json_out: Path | None = None) -> int:
    """``python -m harness compare A.json B.json [...] [--html FILE] [--json FILE]``: exit code."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    try:
        for given in (html, json_out):
            if given is not None and any(same_file(given, p) for p in paths):
                raise ConfigError(f"{given} is one of the Results compared: choose another output")
        loaded = [item for p in paths for item in load_results(Path(p))]
        if len(loaded) < 2:
            raise InputError("compare needs at least two Results (two files, or a JSONL with two records)")
        results = [r for r, _ in loaded]
        texts = {r.doc_id: t for r, t in loaded if t is not None}
        report = compare(results, texts)
    except HarnessError as exc:
        say(f"{exc.kind}: {exc}")
        return 2
    shared = [g for g in report.event_groups + report.claim_groups if len(g.members) > 1]
    console.print(f"{len(report.docs)} reports; {len(shared)} aligned groups "
                  f"({sum(len(g.members) > 1 for g in report.event_groups)} events, "
                  f"{sum(len(g.members) > 1 for g in report.claim_groups)} claims)")
    table = Table("kind", "items", "what differs", show_lines=False)
    for d in sorted(report.discrepancies, key=lambda d: d.kind == "missing"):
        items = " / ".join(f"{i.doc_id}:{i.id}" for i in d.items)
        table.add_row(d.kind, Text(printable(items)), Text(printable(d.message)))  # words, not markup
    console.print(table)
    if json_out:
        Path(json_out).write_text(report.model_dump_json(indent=2), encoding="utf-8")
    if html:
        from .compare_html import render_comparison

        Path(html).write_text(render_comparison(report, results, texts), encoding="utf-8")
    return 0
