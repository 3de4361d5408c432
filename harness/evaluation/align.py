"""One-to-one alignment of predicted and gold items (events, claims, actor names).

Items are paired by maximum bipartite matching (Kuhn-Munkres, as in CEAF) on a similarity in
[0, 1]; pairs below ``min_sim`` stay unmatched. ``event_similarity`` and ``claim_similarity``
are weighted sums of terms; a term neither side can be judged on (no offsets on either side, no
date on either side...) is left out and the remaining weights are renormalised.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TypeVar

import numpy as np
from rapidfuzz import fuzz
from scipy.optimize import linear_sum_assignment

from schemas import Claim, Event, Span, Speaker
from schemas.taxonomy import family

from ..compare_match import NAME_ALIASES

T = TypeVar("T")
Pair = tuple[int | None, int | None, float]

#: Pairs below these similarities are not matched (they count as a miss plus an invention).
EVENT_MIN_SIM = 0.35
CLAIM_MIN_SIM = 0.35
#: Contents compared as text (one side has no offsets) must be at least this similar: unrelated
#: sentences of news prose score 0.3-0.55 (an invented claim would otherwise pair with one).
MIN_PASSAGE_SIM = 0.6
#: Two names are "the same" at or above this rapidfuzz score (0-100) after normalisation.
NAME_MATCH = 85.0

#: Weights of the event similarity terms (renormalised over the terms that apply).
EVENT_WEIGHTS = {"span": 0.35, "type": 0.25, "summary": 0.2, "date": 0.1, "location": 0.1}
#: Type term: exact type 1, same family (``explosion.*``) this much, else 0.
TYPE_FAMILY_CREDIT = 0.5
#: Date term: one value a prefix of the other (``2024-01`` vs ``2024-01-28``) gets this much.
DATE_PREFIX_CREDIT = 0.5
#: Weights of the claim similarity terms.
CLAIM_WEIGHTS = {"content": 0.75, "speaker": 0.25}

_TITLES = {
    "mr", "mrs", "ms", "dr", "prof", "sir", "gen", "general", "maj", "major", "lt", "col",
    "colonel", "capt", "captain", "adm", "admiral", "brig", "sgt", "president", "minister",
    "prime", "secretary", "senator", "sen", "rep", "gov", "governor", "the", "spokesperson",
}  # fmt: skip
_NON_WORD = re.compile(r"[^\w\s]")


def align(
    pred: Sequence[T], gold: Sequence[T], sim: Callable[[T, T], float], min_sim: float
) -> list[Pair]:
    """Pairs ``(pred_index, gold_index, similarity)``, then unmatched ``(i, None, 0)`` and
    ``(None, j, 0)``. Every index appears exactly once; the matched pairs maximise total
    similarity among pairs at or above ``min_sim``."""
    if not pred or not gold:
        unmatched: list[Pair] = [(i, None, 0.0) for i in range(len(pred))]
        return unmatched + [(None, j, 0.0) for j in range(len(gold))]
    matrix = np.array([[sim(p, g) for g in gold] for p in pred], dtype=float)
    usable = np.where(matrix >= min_sim, matrix, 0.0)
    rows, cols = linear_sum_assignment(usable, maximize=True)
    pairs: list[Pair] = [
        (int(i), int(j), float(matrix[i, j])) for i, j in zip(rows, cols) if matrix[i, j] >= min_sim
    ]
    used_p = {p for p, _, _ in pairs}
    used_g = {g for _, g, _ in pairs}
    pairs += [(i, None, 0.0) for i in range(len(pred)) if i not in used_p]
    pairs += [(None, j, 0.0) for j in range(len(gold)) if j not in used_g]
    return pairs


def matched(pairs: Iterable[Pair]) -> list[tuple[int, int, float]]:
    """Only the aligned pairs of ``align``'s answer."""
    return [(p, g, s) for p, g, s in pairs if p is not None and g is not None]


# --- text helpers -----------------------------------------------------------------------------


@lru_cache(maxsize=4096)  # the similarity matrix asks for every item's text once per pair
def norm_text(text: str | None) -> str:
    """Lower case, punctuation dropped, whitespace collapsed."""
    return " ".join(_NON_WORD.sub(" ", (text or "").lower()).split())


@lru_cache(maxsize=4096)
def norm_name(name: str | None) -> str:
    """A person or body name without titles: ``Maj Gen Pat Ryder`` -> ``pat ryder``; one body's
    common names as one (``US`` -> ``united states``, the comparison's aliases)."""
    words = norm_text(name).split()
    joined = " ".join([w for w in words if w not in _TITLES] or words)
    return NAME_ALIASES.get(joined, joined)


def passage_similarity(a: str | None, b: str | None) -> float:
    """For passages without offsets (a claim's content, an event's sentences): the mean of
    rapidfuzz token_set and token_sort ratios, in [0, 1]. token_set alone scores a short text
    that shares a few words with a long one near 1, so an invented "We have no shelters." would
    pair with any gold quotation holding "we" and "no"."""
    a, b = norm_text(a), norm_text(b)
    return (fuzz.token_set_ratio(a, b) + fuzz.token_sort_ratio(a, b)) / 200 if a and b else 0.0


def text_similarity(a: str | None, b: str | None) -> float:
    """rapidfuzz token_set_ratio of the normalised texts, in [0, 1]; 0 when either is empty."""
    a, b = norm_text(a), norm_text(b)
    return fuzz.token_set_ratio(a, b) / 100 if a and b else 0.0


def name_similarity(a: str | None, b: str | None) -> float:
    """token_set_ratio of title-free names, in [0, 1] (a surname alone matches the full name)."""
    a, b = norm_name(a), norm_name(b)
    return fuzz.token_set_ratio(a, b) / 100 if a and b else 0.0


def names_match(a: str | None, b: str | None) -> bool:
    return name_similarity(a, b) * 100 >= NAME_MATCH


# --- spans ------------------------------------------------------------------------------------


def _intervals(spans: Iterable[Span | None]) -> list[tuple[int, int]]:
    """The characters the spans cover, as sorted, disjoint ``(start, end)`` runs."""
    runs: list[tuple[int, int]] = []
    for start, end in sorted((s.start, s.end) for s in spans
                             if s is not None and s.start is not None and s.end is not None and s.end > s.start):
        if runs and start <= runs[-1][1]:
            runs[-1] = (runs[-1][0], max(runs[-1][1], end))
        else:
            runs.append((start, end))
    return runs


def span_iou(a: Iterable[Span | None], b: Iterable[Span | None]) -> float | None:
    """Character-offset intersection over union of two groups of spans; ``None`` when either
    group has no offsets at all. Computed on runs of characters, not sets of them (the sets
    were 35% of scoring time)."""
    ra, rb = _intervals(a), _intervals(b)
    if not ra or not rb:
        return None
    shared, i, j = 0, 0, 0
    while i < len(ra) and j < len(rb):
        shared += max(0, min(ra[i][1], rb[j][1]) - max(ra[i][0], rb[j][0]))
        if ra[i][1] < rb[j][1]:
            i += 1
        else:
            j += 1
    covered = sum(e - s for s, e in ra) + sum(e - s for s, e in rb) - shared
    return shared / covered


def event_spans(event: Event) -> list[Span]:
    """The spans that place an event in the text: trigger then evidence."""
    return ([event.trigger] if event.trigger else []) + list(event.evidence)


# --- similarity terms -------------------------------------------------------------------------


def type_similarity(a: Event, b: Event) -> float:
    if a.type == b.type:
        return 1.0
    return TYPE_FAMILY_CREDIT if family(a.type) == family(b.type) else 0.0


def date_similarity(a: Event, b: Event) -> float | None:
    va = a.date.value if a.date else None
    vb = b.date.value if b.date else None
    if not va and not vb:
        return None
    if not va or not vb:
        return 0.0
    if va == vb:
        return 1.0
    return DATE_PREFIX_CREDIT if va.startswith(vb) or vb.startswith(va) else 0.0


def location_similarity(a: Event, b: Event) -> float | None:
    na = (a.location.name or a.location.text) if a.location else None
    nb = (b.location.name or b.location.text) if b.location else None
    if not na and not nb:
        return None
    return text_similarity(na, nb)


def _event_span_term(a: Event, b: Event) -> float | None:
    iou = span_iou(event_spans(a), event_spans(b))
    if iou is not None:
        return iou
    ta = " ".join(s.text for s in event_spans(a))
    tb = " ".join(s.text for s in event_spans(b))
    return passage_similarity(ta, tb) if ta and tb else None


def _weighted(terms: dict[str, float | None], weights: dict[str, float]) -> float:
    used = {k: v for k, v in terms.items() if v is not None}
    total = sum(weights[k] for k in used)
    return sum(weights[k] * v for k, v in used.items()) / total if total else 0.0


def event_similarity(a: Event, b: Event) -> float:
    """Span overlap, type, summary, date and location, weighted by ``EVENT_WEIGHTS``."""
    terms = {
        "span": _event_span_term(a, b),
        "type": type_similarity(a, b),
        "summary": text_similarity(a.summary, b.summary),
        "date": date_similarity(a, b),
        "location": location_similarity(a, b),
    }
    return _weighted(terms, EVENT_WEIGHTS)


def speaker_similarity(a: Speaker, b: Speaker) -> float:
    """Names when both have one; otherwise the best match of any name or role on either side."""
    if a.name and b.name:
        return name_similarity(a.name, b.name)
    sides_a = [x for x in (a.name, a.role) if x]
    sides_b = [x for x in (b.name, b.role) if x]
    return max((name_similarity(x, y) for x in sides_a for y in sides_b), default=0.0)


def claim_similarity(a: Claim, b: Claim) -> float:
    """Content (main term: offset IoU of the content spans, or text similarity when either lacks
    offsets) and speaker, weighted by ``CLAIM_WEIGHTS``; 0 when the contents are compared as
    text and fall below ``MIN_PASSAGE_SIM``."""
    content = span_iou([a.content], [b.content])
    if content is None:
        content = passage_similarity(a.content.text, b.content.text)
        if content < MIN_PASSAGE_SIM:
            return 0.0
    terms = {"content": content, "speaker": speaker_similarity(a.speaker, b.speaker)}
    return _weighted(terms, CLAIM_WEIGHTS)
