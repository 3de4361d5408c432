"""Score one prediction against its gold, field by field, and aggregate over fixtures.

Detection: predicted and gold items are aligned one-to-one (``align``); aligned pairs are true
positives, unaligned predictions false positives, unaligned gold false negatives. An empty
denominator gives 1.0 when the other side is empty too (nothing to find, nothing found), else 0.

Field accuracy is measured on aligned pairs only, so it never moves with precision or recall,
and each field is its own number (renaming one speaker lowers ``claim_speaker`` and nothing
else). Rules, where a choice had to be made:

- a field absent on both sides counts as correct, absent on one side as wrong;
- ``event_date``: compared at the GOLD precision, the gold value must be a prefix of the
  predicted one (gold ``2024-01`` accepts ``2024-01-28``; gold ``2024-01-28`` rejects ``2024-01``);
- ``event_location``: the place names (or texts) match fuzzily; countries decide only when either
  side names no place;
- ``event_actors`` / ``event_responsibility``: set F1 over fuzzily matched names;
- ``claim_cue``: reporting verbs compared after a small stemmer (said / says / saying -> say);
- ``claim_content_exact``: content texts equal after whitespace collapsing;
- ``claim_content_overlap``: character IoU of the content spans, else rapidfuzz ratio of texts.

Grounding counts the spans the model wrote (event trigger and evidence, claim content). A span not
yet grounded by the harness (``grounding`` null, e.g. a bare ``Extraction``) counts as exact when
its text occurs verbatim in the document, else as none. An item is *invented* when its key span
(claim content; all of an event's trigger and evidence) is ungrounded.

``Summary.micro`` pools counts and pairs over all documents (cost and ``invented_items`` are
totals); ``Summary.macro`` is the mean of per-document values (documents where a value is
undefined are skipped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from statistics import fmean
from typing import TypeVar

from rapidfuzz import fuzz

from schemas import Claim, Event, Extraction, GoldResult, Result, Span
from schemas.taxonomy import family

from .align import (
    CLAIM_MIN_SIM,
    EVENT_MIN_SIM,
    NAME_MATCH,
    Pair,
    align,
    claim_similarity,
    event_similarity,
    event_spans,
    matched,
    name_similarity,
    names_match,
    norm_text,
    span_iou,
    speaker_similarity,
)

T = TypeVar("T")
Prediction = Extraction | Result | None

EVENT_FIELDS = (
    "event_type", "event_type_family", "event_status", "event_date", "event_location",
    "event_actors", "event_killed", "event_injured", "event_responsibility",
)  # fmt: skip
CLAIM_FIELDS = (
    "claim_speaker", "claim_kind", "claim_cue", "claim_content_exact", "claim_content_overlap",
)  # fmt: skip
DETECTION = (
    "event_precision", "event_recall", "event_f1", "claim_precision", "claim_recall", "claim_f1",
)  # fmt: skip
OTHER = (
    "grounding_rate", "invented_items", "schema_valid_rate",
    "attempts", "prompt_tokens", "completion_tokens", "latency_s",
)  # fmt: skip
#: Every metric name, in report order.
METRICS = DETECTION + EVENT_FIELDS + CLAIM_FIELDS + OTHER
#: Metrics summed (not averaged) in ``Summary.micro``.
TOTALS = ("invented_items", "attempts", "prompt_tokens", "completion_tokens", "latency_s")


@dataclass(frozen=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float(self.fn == 0)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float(self.fp == 0)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class DocScore:
    """Everything measured on one document; ``metrics()`` flattens it to named numbers."""

    doc_id: str
    events: Counts
    claims: Counts
    fields: dict[str, tuple[float, ...]]
    spans_total: int
    spans_grounded: int
    invented: int
    schema_valid: bool
    error: str | None = None
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    event_pairs: tuple[Pair, ...] = ()
    claim_pairs: tuple[Pair, ...] = ()

    def metrics(self) -> dict[str, float | None]:
        out: dict[str, float | None] = _detection(self.events, self.claims)
        out |= {name: _mean(self.fields.get(name, ())) for name in EVENT_FIELDS + CLAIM_FIELDS}
        out["grounding_rate"] = self.spans_grounded / self.spans_total if self.spans_total else None
        out["invented_items"] = float(self.invented)
        out["schema_valid_rate"] = float(self.schema_valid)
        out |= {k: float(getattr(self, k)) for k in TOTALS if k != "invented_items"}
        return out


@dataclass(frozen=True)
class Summary:
    n_docs: int
    micro: dict[str, float | None] = field(default_factory=dict)
    macro: dict[str, float | None] = field(default_factory=dict)


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return fmean(values) if values else None


def _detection(events: Counts, claims: Counts) -> dict[str, float | None]:
    return {
        "event_precision": events.precision, "event_recall": events.recall, "event_f1": events.f1,
        "claim_precision": claims.precision, "claim_recall": claims.recall, "claim_f1": claims.f1,
    }  # fmt: skip


# --- field rules ------------------------------------------------------------------------------


def _both_absent_or(a: object, b: object, same: Callable[[], bool]) -> float:
    if a is None and b is None:
        return 1.0
    if a is None or b is None:
        return 0.0
    return float(same())


def _name_set_f1(pred: list[str], gold: list[str]) -> float:
    if not pred and not gold:
        return 1.0
    tp = len(matched(align(pred, gold, name_similarity, NAME_MATCH / 100)))
    return 2 * tp / (len(pred) + len(gold))


def date_correct(pred: Event, gold: Event) -> float:
    p = pred.date.value if pred.date else None
    g = gold.date.value if gold.date else None
    return _both_absent_or(p, g, lambda: p.startswith(g))  # type: ignore[union-attr,arg-type]


def location_correct(pred: Event, gold: Event) -> float:
    p, g = pred.location, gold.location
    pn = (p.name or p.text) if p else None
    gn = (g.name or g.text) if g else None
    pc = norm_text(p.country) if p else ""
    gc = norm_text(g.country) if g else ""
    if pn and gn:
        return float(names_match(pn, gn))
    if pn or gn or pc or gc:
        return float(bool(pc) and pc == gc)
    return 1.0


def _fatality(event: Event, name: str) -> int | None:
    return getattr(event.fatalities, name) if event.fatalities else None


def event_fields(pred: Event, gold: Event) -> dict[str, float]:
    killed_p, killed_g = _fatality(pred, "killed"), _fatality(gold, "killed")
    injured_p, injured_g = _fatality(pred, "injured"), _fatality(gold, "injured")
    return {
        "event_type": float(pred.type == gold.type),
        "event_type_family": float(family(pred.type) == family(gold.type)),
        "event_status": float(pred.status == gold.status),
        "event_date": date_correct(pred, gold),
        "event_location": location_correct(pred, gold),
        "event_actors": _name_set_f1([a.name for a in pred.actors], [a.name for a in gold.actors]),
        "event_killed": float(killed_p == killed_g),
        "event_injured": float(injured_p == injured_g),
        "event_responsibility": _name_set_f1(
            [r.actor for r in pred.responsibility], [r.actor for r in gold.responsibility]
        ),
    }


_SUFFIXES = (("ied", "i"), ("ies", "i"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("e", ""))
_IRREGULAR = {"said": "say", "told": "tell", "wrote": "write", "spoke": "speak", "spoken": "speak"}


def cue_stem(cue: str) -> str:
    """A crude stem of a reporting verb: said/says/saying -> sai, denied/denies/deny -> deni."""
    word = norm_text(cue).split()[0] if norm_text(cue) else ""
    word = _IRREGULAR.get(word, word)
    for suffix, repl in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: len(word) - len(suffix)] + repl
            break
    return word[:-1] + "i" if word.endswith("y") else word


def _squash(text: str) -> str:
    return " ".join(text.split())


def content_overlap(pred: Claim, gold: Claim) -> float:
    iou = span_iou([pred.content], [gold.content])
    if iou is not None:
        return iou
    return fuzz.ratio(norm_text(pred.content.text), norm_text(gold.content.text)) / 100


def claim_fields(pred: Claim, gold: Claim) -> dict[str, float]:
    return {
        "claim_speaker": float(speaker_similarity(pred.speaker, gold.speaker) * 100 >= NAME_MATCH),
        "claim_kind": float(pred.kind == gold.kind),
        "claim_cue": float(cue_stem(pred.cue) == cue_stem(gold.cue)),
        "claim_content_exact": float(_squash(pred.content.text) == _squash(gold.content.text)),
        "claim_content_overlap": content_overlap(pred, gold),
    }


# --- grounding --------------------------------------------------------------------------------


def is_grounded(span: Span, text: str) -> bool:
    """Exact or fuzzy per the harness; a span not yet grounded: found verbatim in ``text``."""
    if span.grounding is not None:
        return span.grounding.value != "none"
    return span.text in text


def predicted_spans(events: Sequence[Event], claims: Sequence[Claim]) -> list[Span]:
    """The spans a model writes: event trigger and evidence, claim content."""
    return [s for e in events for s in event_spans(e)] + [c.content for c in claims]


def invented_count(events: Sequence[Event], claims: Sequence[Claim], text: str) -> int:
    events_out = sum(not any(is_grounded(s, text) for s in event_spans(e)) for e in events)
    return events_out + sum(not is_grounded(c.content, text) for c in claims)


# --- documents and summaries ------------------------------------------------------------------


def _pair_fields(
    pairs: Sequence[Pair],
    pred: Sequence[T],
    gold: Sequence[T],
    rule: Callable[[T, T], dict[str, float]],
    names: Sequence[str],
) -> dict[str, tuple[float, ...]]:
    rows = [rule(pred[p], gold[g]) for p, g, _ in matched(pairs)]
    return {name: tuple(row[name] for row in rows) for name in names}


def _counts(pairs: Sequence[Pair]) -> Counts:
    tp = sum(p is not None and g is not None for p, g, _ in pairs)
    return Counts(tp, sum(g is None for _, g, _ in pairs), sum(p is None for p, _, _ in pairs))


def _run_info(pred: Prediction) -> dict[str, object]:
    if not isinstance(pred, Result):
        return {"schema_valid": pred is not None, "error": None if pred else "no prediction"}
    info: dict[str, object] = {
        "schema_valid": pred.error is None,
        "error": f"{pred.error.type}: {pred.error.message}" if pred.error else None,
    }
    if pred.provenance:
        prov = pred.provenance
        info |= {"attempts": prov.attempts, "latency_s": prov.latency_s,
                 "prompt_tokens": prov.usage.prompt_tokens,
                 "completion_tokens": prov.usage.completion_tokens}  # fmt: skip
    return info


def score_document(pred: Prediction, gold: GoldResult, text: str) -> DocScore:
    """Score one prediction (``None`` when extraction failed) against its gold."""
    events = list(pred.events) if pred is not None else []
    claims = list(pred.claims) if pred is not None else []
    event_pairs = align(events, gold.events, event_similarity, EVENT_MIN_SIM)
    claim_pairs = align(claims, gold.claims, claim_similarity, CLAIM_MIN_SIM)
    spans = predicted_spans(events, claims)
    return DocScore(
        doc_id=gold.doc_id,
        events=_counts(event_pairs),
        claims=_counts(claim_pairs),
        fields=_pair_fields(event_pairs, events, gold.events, event_fields, EVENT_FIELDS)
        | _pair_fields(claim_pairs, claims, gold.claims, claim_fields, CLAIM_FIELDS),
        spans_total=len(spans),
        spans_grounded=sum(is_grounded(s, text) for s in spans),
        invented=invented_count(events, claims, text),
        event_pairs=tuple(event_pairs),
        claim_pairs=tuple(claim_pairs),
        **_run_info(pred),  # type: ignore[arg-type]
    )


def _micro(scores: Sequence[DocScore]) -> dict[str, float | None]:
    events = sum((s.events for s in scores), Counts())
    claims = sum((s.claims for s in scores), Counts())
    out = _detection(events, claims)
    for name in EVENT_FIELDS + CLAIM_FIELDS:
        out[name] = _mean(v for s in scores for v in s.fields.get(name, ()))
    total = sum(s.spans_total for s in scores)
    out["grounding_rate"] = sum(s.spans_grounded for s in scores) / total if total else None
    out["schema_valid_rate"] = _mean(float(s.schema_valid) for s in scores)
    per_doc = [s.metrics() for s in scores]
    out |= {k: float(sum(m[k] or 0.0 for m in per_doc)) for k in TOTALS}
    return out


def _macro(scores: Sequence[DocScore]) -> dict[str, float | None]:
    per_doc = [s.metrics() for s in scores]
    return {k: _mean(m[k] for m in per_doc if m[k] is not None) for k in METRICS}


def aggregate(scores: Sequence[DocScore]) -> Summary:
    """Micro (pooled) and macro (mean of documents) values of every metric in ``METRICS``."""
    if not scores:
        return Summary(0, dict.fromkeys(METRICS), dict.fromkeys(METRICS))
    micro = _micro(scores)
    return Summary(len(scores), {k: micro[k] for k in METRICS}, _macro(scores))
