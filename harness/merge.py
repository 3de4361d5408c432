"""Merge: join the extractions of a document's chunks into one, without duplicates.

Each part must already be grounded with offsets into the whole document. Items seen in several
chunks (the overlap between neighbours, or an event reported in two places) are merged into the
first one seen: its spans are united, and a field it left empty is taken from the other. Ids are
then renumbered ``e1..eN`` / ``c1..cN`` in document order, and each claim's ``event_ids`` are
mapped to the new ids; a link to an event that does not exist is dropped with a warning.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from rapidfuzz import fuzz

from schemas import Claim, Event, Extraction, Span
from schemas.taxonomy import family

__all__ = ["CLAIM_SIMILARITY", "merge_extractions"]

# Same speaker and content at least this similar (rapidfuzz ratio on folded text, 0-100): one
# claim seen twice, e.g. quoted whole in one chunk and cut off by the chunk edge in the next.
CLAIM_SIMILARITY = 90.0


def _fold(text: str | None) -> str:
    return " ".join(re.findall(r"\w+", (text or "").lower()))


def _grounded(spans: Sequence[Span | None]) -> list[tuple[int, int]]:
    """Offsets of the spans that have them."""
    return [
        (s.start, s.end)
        for s in spans
        if s is not None and s.start is not None and s.end is not None
    ]


def _overlap(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    return any(s1 < e2 and s2 < e1 for s1, e1 in a for s2, e2 in b)


def _event_spans(event: Event) -> list[Span | None]:
    return [event.trigger, *event.evidence]


def _same_event(a: Event, b: Event) -> bool:
    if family(a.type) == family(b.type) and _overlap(
        _grounded(_event_spans(a)), _grounded(_event_spans(b))
    ):
        return True
    if a.type != b.type or not (a.date and b.date and a.location and b.location):
        return False
    same_date = a.date.value is not None and a.date.value == b.date.value
    name_a, name_b = _fold(a.location.name), _fold(b.location.name)
    return same_date and bool(name_a) and name_a == name_b


def _speaker_keys(claim: Claim) -> set[str]:
    return {k for k in (_fold(claim.speaker.name), _fold(claim.speaker.role)) if k}


def _same_claim(a: Claim, b: Claim) -> bool:
    if _overlap(_grounded([a.content]), _grounded([b.content])):
        return True
    if not _speaker_keys(a) & _speaker_keys(b):
        return False
    return fuzz.ratio(_fold(a.content.text), _fold(b.content.text)) >= CLAIM_SIMILARITY


def _span_key(span: Span) -> tuple[object, ...]:
    return (span.start, span.end) if span.start is not None else (None, span.text)


def _union(kept: list[Any], extra: list[Any], key: Callable[[Any], Hashable]) -> list[Any]:
    """``kept`` followed by the items of ``extra`` whose key it does not hold yet."""
    seen = {key(x) for x in kept}
    out = list(kept)
    for item in extra:
        if key(item) not in seen:
            seen.add(key(item))
            out.append(item)
    return out


_LIST_KEYS: dict[str, Callable[[Any], Hashable]] = {
    "evidence": _span_key,
    "actors": lambda a: _fold(a.name),
    "responsibility": lambda r: (_fold(r.actor), _fold(r.attributed_by)),
    "flags": lambda f: f,
}  # event_ids are remapped separately


def _fill(kept: BaseModel, other: BaseModel) -> None:
    """Give ``kept`` what ``other`` has and it lacks; unite lists of spans, actors and flags."""
    for name in type(kept).model_fields:
        mine, theirs = getattr(kept, name), getattr(other, name)
        if theirs is None or theirs == []:
            continue
        if mine is None or mine == []:
            setattr(kept, name, theirs)
        elif isinstance(mine, list) and name in _LIST_KEYS:
            setattr(kept, name, _union(mine, theirs, _LIST_KEYS[name]))
        elif isinstance(mine, BaseModel) and not isinstance(mine, Span):
            _fill(mine, theirs)


def _first_start(spans: Sequence[Span | None]) -> float:
    starts = [s for s, _ in _grounded(spans)]
    return min(starts) if starts else math.inf


@dataclass
class _Kept:
    """A merged item, the parts (chunks) it came from and its claims' (part, old id) links."""

    item: Any
    parts: set[int] = field(default_factory=set)
    links: list[tuple[int, str]] = field(default_factory=list)


def _absorb(kept: list[_Kept], item: Any, part: int, same: Callable[[Any, Any], bool]) -> _Kept:
    """Merge ``item`` into the first kept item it matches, or keep it as a new one.

    Two items from the same part never merge: the model listed them apart on purpose (two
    strikes reported in one sentence are two events).
    """
    target = next((k for k in kept if part not in k.parts and same(k.item, item)), None)
    if target is None:
        target = _Kept(item)
        kept.append(target)
    else:
        _fill(target.item, item)
    target.parts.add(part)
    return target


def merge_extractions(parts: Sequence[Extraction]) -> tuple[Extraction, list[str]]:
    """One extraction from the chunks' extractions (grounded, global offsets) and warnings.

    Events merge when they share a type family and a span, or have the same type, date and
    place; claims when their contents overlap, or the same speaker says nearly the same words.
    """
    events: list[_Kept] = []
    claims: list[_Kept] = []
    event_of: dict[tuple[int, str], _Kept] = {}  # (part, old id) -> merged event
    for p, part in enumerate(parts):
        for event in part.events:
            event_of[(p, event.id)] = _absorb(events, event.model_copy(deep=True), p, _same_event)
        for claim in part.claims:
            kept = _absorb(claims, claim.model_copy(deep=True), p, _same_claim)
            kept.links.extend((p, old) for old in claim.event_ids if (p, old) not in kept.links)

    events.sort(key=lambda k: _first_start(_event_spans(k.item)))  # stable: ties keep first seen
    for n, kept in enumerate(events, 1):
        kept.item.id = f"e{n}"
    claims.sort(key=lambda k: _first_start([k.item.content, *k.item.evidence]))

    warnings: list[str] = []
    for n, kept in enumerate(claims, 1):
        claim = kept.item
        claim.id = f"c{n}"
        ids: list[str] = []
        for part_no, old in kept.links:
            target = event_of.get((part_no, old))
            if target is None:
                warnings.append(
                    f"claim {claim.id}: event id {old!r} (chunk {part_no + 1}) names no event; "
                    "link dropped"
                )
            elif target.item.id not in ids:
                ids.append(target.item.id)
        claim.event_ids = ids
    merged = Extraction(events=[k.item for k in events], claims=[k.item for k in claims])
    return merged, warnings
