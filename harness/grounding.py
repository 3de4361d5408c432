"""Grounding: find each span of model text in the article and record where it is.

Every ``schemas.Span`` in a Pydantic tree gets character offsets into the *full* document and a
grounding level, tried in this order:

1. ``exact``: the span's text occurs verbatim (``document[start:end] == text``);
2. normalised: the text occurs once whitespace runs, curly/straight quotes, dashes and case are
   made uniform (and surrounding quote marks / trailing punctuation of the span are dropped).
   Offsets are mapped back to the original characters; reported as ``fuzzy`` with similarity
   100 and ``matched`` holding the article's own characters;
3. ``fuzzy``: the best approximate alignment (rapidfuzz) scoring at least ``FUZZY_THRESHOLD``;
   the model's ``text`` is kept and ``matched`` holds the article's words;
4. ``none``: not found; offsets are null. Nothing is ever moved silently.

Pure functions: the document is normalised once per call, nothing is kept between calls.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel
from rapidfuzz import fuzz

from schemas import Grounding, GroundingCounts, Span

__all__ = [
    "FUZZY_THRESHOLD",
    "MIN_FUZZY_CHARS",
    "Match",
    "count_grounding",
    "ground_spans",
    "locate",
]

# Indel similarity (0-100) a fuzzy alignment must reach. 85 accepts a changed word or two in a
# sentence ("The announcement comes just two days after" vs "This announcement ...": 96) and a
# dropped clause in a long quote, but rejects paraphrase ("Actions have a greater impact than
# mere words" vs "actions speak louder than words": 53), which is what a misquote check needs.
# LangExtract's aligner accepts at a comparable level (75% of tokens matched).
FUZZY_THRESHOLD = 85.0
# Below this many (normalised) characters a fuzzy hit is mostly chance: "Iran" is "Iraq" at 75,
# a short name matches many places. Short needles must match exactly or after normalisation.
MIN_FUZZY_CHARS = 12

_FOLD = str.maketrans(
    {
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u301d\u301e", '"'),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u0060\u00b4", "'"),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys("\t\n\r\x0b\x0c\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
                        "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000", " "),
    }
)  # fmt: skip
_FOLDABLE = re.compile("[" + re.escape("".join(map(chr, _FOLD))) + "]")
_SPACES = re.compile(" {2,}")
_EDGE = " \t\r\n\u00a0\"'`\u201c\u201d\u201e\u201f\u2018\u2019\u201a\u201b\u00ab\u00bb\u2032\u2033"
_TRAIL = _EDGE + ".,;:"


@dataclass(frozen=True)
class Match:
    """``document[start:end]`` is what matched the needle."""

    start: int
    end: int
    grounding: Grounding
    similarity: float


def _fold_char(m: re.Match[str]) -> str:
    return _FOLD[ord(m.group())]


def _fold(text: str) -> str:
    """Quotes, dashes and spaces made uniform, lower case; same length as ``text``."""
    # a regex over the few characters to fold: str.translate with a dict table walks every
    # character in Python-level lookups once the text holds one non-ASCII character (8x slower)
    folded = _FOLDABLE.sub(_fold_char, text) if _FOLDABLE.search(text) else text
    # "İ".lower() is two characters (the only one in Unicode): keep it as it is
    return "\u0130".join(part.lower() for part in folded.split("\u0130"))


@dataclass(frozen=True)
class _Index:
    """A document and its normalised form (runs of spaces cut to one). The normalised text is
    the original in pieces: piece ``k`` is ``lengths[k]`` characters at ``norm_starts[k]`` in it
    and at ``starts[k]`` in the document (offsets map by bisect, not a table per character)."""

    text: str
    norm: str
    norm_starts: list[int]
    starts: list[int]
    lengths: list[int]

    @classmethod
    def build(cls, text: str) -> _Index:
        folded = _fold(text)
        parts: list[str] = []
        norm_starts, starts, lengths = [], [], []
        prev = size = 0
        for run in _SPACES.finditer(folded):
            cut = run.start() + 1  # keep the first space of a run
            parts.append(folded[prev:cut])
            norm_starts.append(size), starts.append(prev), lengths.append(cut - prev)
            size += cut - prev
            prev = run.end()
        parts.append(folded[prev:])
        norm_starts.append(size), starts.append(prev), lengths.append(len(folded) - prev)
        return cls(text, "".join(parts), norm_starts, starts, lengths)

    @staticmethod
    @lru_cache(maxsize=4)
    def of(text: str) -> _Index:
        """``build``, kept for the last few documents: a document of N chunks is grounded N
        times (once per chunk), and building its index each time made a 4.9 MB document of 2,625
        chunks spend minutes here. Few entries, as an index is about the size of its document."""
        return _Index.build(text)

    def to_norm(self, offset: int) -> int:
        """The first normalised position whose character is at ``offset`` or after it."""
        k = bisect_right(self.starts, offset) - 1
        if k < 0:
            return 0
        inside = offset - self.starts[k]
        return self.norm_starts[k] + min(inside, self.lengths[k])

    def _text_at(self, j: int) -> int:
        k = bisect_right(self.norm_starts, j) - 1
        return self.starts[k] + j - self.norm_starts[k]

    def to_text(self, start: int, end: int) -> tuple[int, int]:
        return self._text_at(start), self._text_at(end - 1) + 1


def _clean(needle: str) -> str:
    """The needle without surrounding spaces and quote marks or trailing punctuation."""
    return needle.strip(_EDGE).rstrip(_TRAIL).strip(_EDGE)


def _subtract(region: tuple[int, int], exclude: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """``region`` minus the ``exclude`` ranges, as sorted non-empty pieces."""
    pieces = []
    cursor, stop = region
    for a, b in sorted(exclude):
        if b <= cursor or a >= stop:
            continue
        if a > cursor:
            pieces.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < stop:
        pieces.append((cursor, stop))
    return pieces


def _passes(
    n: int, window: tuple[int, int] | None, exclude: Sequence[tuple[int, int]]
) -> list[list[tuple[int, int]]]:
    """Region lists to search in turn: window, whole document; furniture only as a last resort."""
    whole = (0, n)
    scopes = [(max(0, window[0]), min(n, window[1])), whole] if window else [whole]
    passes = [_subtract(s, exclude) for s in scopes]
    if exclude:
        passes += [[s] for s in scopes]
    unique: list[list[tuple[int, int]]] = []
    for p in passes:
        if p and p not in unique:
            unique.append(p)
    return unique


def _find_all(haystack: str, needle: str, start: int, stop: int) -> Iterator[int]:
    at = haystack.find(needle, start, stop)
    while at != -1:
        yield at
        at = haystack.find(needle, at + 1, stop)


def _refine(
    needle: str, norm: str, start: int, end: int, lo: int, hi: int
) -> tuple[float, int, int]:
    """The best word-aligned ``norm[s:e]`` near a rough alignment: ``(score, s, e)``.

    rapidfuzz's window has the needle's length, so it can start or stop inside a word, or miss
    a word when the article's version is longer. Nearby word starts and ends are tried in
    turn (coordinate ascent on the score), which is cheap: a few dozen short comparisons.
    """
    slack = min(60, max(12, len(needle) // 5))
    starts = [
        i
        for i in range(max(lo, start - slack), min(hi - 1, start + slack) + 1)
        if norm[i].isalnum() and (i == lo or not norm[i - 1].isalnum())
    ]
    ends = [
        j
        for j in range(max(lo + 1, end - slack), min(hi, end + slack) + 1)
        if norm[j - 1].isalnum() and (j == hi or not norm[j].isalnum())
    ]
    if not starts or not ends:
        return fuzz.ratio(needle, norm[start:end]), start, end
    first, last = needle.split()[0], needle.split()[-1]

    def fit(i: int, j: int) -> float:
        """Similarity, plus a little for ending on the needle's first and last words, so that a
        quote missing a word is matched whole rather than cut before its last word."""
        piece = norm[i:j]
        return (
            fuzz.ratio(needle, piece) + 3.0 * piece.startswith(first) + 3.0 * piece.endswith(last)
        )

    s = min(starts, key=lambda i: abs(i - start))
    e = min(ends, key=lambda j: abs(j - end))
    for _ in range(3):
        before = (s, e)
        e = max((j for j in ends if j > s), key=lambda j: fit(s, j), default=e)
        s = max((i for i in starts if i < e), key=lambda i: fit(i, e), default=s)
        if (s, e) == before:
            break
    return fuzz.ratio(needle, norm[s:e]), s, e


def _fuzzy(needle: str, idx: _Index, regions: list[tuple[int, int]]) -> list[Match]:
    best: tuple[float, int, int] | None = None
    for a, b in regions:
        lo, hi = idx.to_norm(a), idx.to_norm(b)
        if hi - lo < len(needle) * 0.8:
            continue
        hit = fuzz.partial_ratio_alignment(needle, idx.norm[lo:hi], score_cutoff=FUZZY_THRESHOLD)
        if hit is None:
            continue
        found = _refine(needle, idx.norm, lo + hit.dest_start, lo + hit.dest_end, lo, hi)
        if found[0] >= FUZZY_THRESHOLD and (best is None or found[0] > best[0]):
            best = found
    if best is None:
        return []
    start, end = idx.to_text(best[1], best[2])
    return [Match(start, end, Grounding.fuzzy, round(best[0], 1))]


def _search(needle: str, idx: _Index, regions: list[tuple[int, int]]) -> list[Match]:
    """Every match at the first level (exact, cleaned, normalised, fuzzy) that finds any."""
    text = idx.text

    def literal(words: str, level: Grounding) -> list[Match]:
        return [Match(at, at + len(words), level, 100.0) for a, b in regions for at in _find_all(text, words, a, b)]

    hits = literal(needle, Grounding.exact)
    if hits:
        return hits
    cleaned = _clean(needle)
    if not cleaned:
        return []
    if cleaned != needle:
        hits = literal(cleaned, Grounding.fuzzy)
        if hits:
            return hits
    folded = _SPACES.sub(" ", _fold(cleaned))
    for a, b in regions:
        lo, hi = idx.to_norm(a), idx.to_norm(b)
        for at in _find_all(idx.norm, folded, lo, hi):
            start, end = idx.to_text(at, at + len(folded))
            level = Grounding.exact if text[start:end] == needle else Grounding.fuzzy
            hits.append(Match(start, end, level, 100.0))
    if hits or len(folded) < MIN_FUZZY_CHARS:
        return hits
    return _fuzzy(folded, idx, regions)


def _candidates(
    needle: str, idx: _Index, window: tuple[int, int] | None, exclude: Sequence[tuple[int, int]]
) -> list[Match]:
    for regions in _passes(len(idx.text), window, exclude):
        hits = _search(needle, idx, regions)
        if hits:
            return hits
    return []


def _nearest(hits: list[Match], near: float | None) -> Match | None:
    if not hits:
        return None
    if near is None:
        return hits[0]
    return min(hits, key=lambda m: (abs(m.start - near), m.start))


def locate(
    needle: str,
    document: str,
    *,
    near: int | None = None,
    window: tuple[int, int] | None = None,
    exclude: Sequence[tuple[int, int]] = (),
) -> Match | None:
    """Where ``needle`` is in ``document`` (offsets into the whole document), or ``None``.

    ``window`` is searched first, then the whole document; ``exclude`` ranges are used only when
    nothing else matches. Of several equally good occurrences, the one nearest ``near`` wins
    (the first one when ``near`` is not given).
    """
    if not needle:
        return None
    return _nearest(_candidates(needle, _Index.of(document), window, exclude), near)


def _spans(value: object) -> Iterator[Span]:
    if isinstance(value, Span):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _spans(getattr(value, name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _spans(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _spans(item)


def _groups(model: BaseModel) -> Iterator[list[Span]]:
    """Spans grouped by top-level item: each element of a top-level list is one group."""
    if isinstance(model, Span):
        yield [model]
        return
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, (list, tuple)):
            for item in value:
                yield list(_spans(item))
        else:
            yield list(_spans(value))


def _is_grounded(span: Span, document: str) -> bool:
    if span.start is None or span.end is None or span.end > len(document):
        return False
    held = document[span.start : span.end]
    return held == span.text or (span.grounding == Grounding.fuzzy and held == span.matched)


def _assign(span: Span, match: Match | None, document: str) -> None:
    if match is None:
        span.start = span.end = None
        span.grounding, span.matched, span.similarity = Grounding.none, None, None
        return
    span.start, span.end = match.start, match.end
    if document[match.start : match.end] == span.text:
        span.grounding, span.matched, span.similarity = Grounding.exact, None, None
    else:
        span.grounding, span.similarity = Grounding.fuzzy, match.similarity
        span.matched = document[match.start : match.end]


def ground_spans(
    model: BaseModel,
    document: str,
    *,
    window: tuple[int, int] | None = None,
    exclude: Sequence[tuple[int, int]] = (),
) -> GroundingCounts:
    """Ground every Span in ``model`` against ``document`` in place; return the counts.

    Spans already holding offsets that point at their text are left as they are. Within one
    top-level item (an event, a claim), spans that occur once are placed first; a span with
    several occurrences then takes the one nearest the mean position of the placed ones.
    """
    idx = _Index.of(document)
    found: dict[str, list[Match]] = {}
    for group in _groups(model):
        anchors: list[int] = []
        ambiguous: list[tuple[Span, list[Match]]] = []
        for span in group:
            if _is_grounded(span, document):
                if span.grounding is None:
                    span.grounding = Grounding.exact
                anchors.append(span.start)  # type: ignore[arg-type]
                continue
            if span.text not in found:
                found[span.text] = _candidates(span.text, idx, window, exclude)
            hits = found[span.text]
            if len(hits) > 1:
                ambiguous.append((span, hits))
                continue
            _assign(span, _nearest(hits, None), document)
            if hits:
                anchors.append(hits[0].start)
        near = sum(anchors) / len(anchors) if anchors else None
        for span, hits in ambiguous:
            _assign(span, _nearest(hits, near), document)
    return count_grounding(model)


def count_grounding(model: BaseModel) -> GroundingCounts:
    """How many spans in ``model`` are exact, fuzzy and none (not yet grounded counts as none)."""
    counts = {"exact": 0, "fuzzy": 0, "none": 0}
    for span in _spans(model):
        level = span.grounding.value if span.grounding is not None else "none"
        counts[level] += 1
    return GroundingCounts(**counts)
