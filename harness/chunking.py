"""Chunking: cut a long document into sentence-aligned, overlapping pieces with their offsets.

``chunk_text`` returns one chunk for a document that fits; otherwise pieces of at most
``max_chars`` characters, cut between sentences, each sharing about ``overlap`` characters
(whole sentences) with the one before, so an item near a cut is seen whole at least once.
Offsets are into the whole document: ``chunk.text == document[chunk.start:chunk.end]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ConfigError

__all__ = ["Chunk", "chunk_text", "sentence_spans"]


@dataclass(frozen=True)
class Chunk:
    index: int
    start: int
    end: int
    text: str


# Words that end with a full stop without ending a sentence ("Maj. Gen.", "Mr.", "Jan.").
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt gen maj col lt sgt capt cpl pvt adm cmdr brig sen rep gov
    pres amb rev hon fr gen lieut supt insp det jan feb mar apr jun jul aug sep sept oct nov dec
    mon tue tues wed thu thur thurs fri sat sun no nos vol vs etc al approx est dept univ inc
    corp ltd co bros ave blvd rd fig p pp ca cf""".split()
)
# A candidate end: ., ! or ? (possibly repeated), closing quotes/brackets, then whitespace.
_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)")
# What may start the next sentence: a capital, a digit or an opening quote/bracket.
_NEXT = re.compile(r"\s+[\"'\u201c\u2018(\[]*[A-Z0-9\u00c0-\u00de]")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_LINES = re.compile(r"[^\n]+")


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the full stop at ``dot`` closes an abbreviation or an initial."""
    word = _WORD_BEFORE.search(text, max(0, dot - 20), dot)
    if word is None:
        return False
    token = word.group(1)
    if "." in token:  # U.S, e.g, U.N: dotted acronyms
        return True
    return len(token) == 1 and token.isupper() or token.lower() in _ABBREVIATIONS


def _line_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    cursor = start
    for m in _END.finditer(text, start, end):
        if not _NEXT.match(text, m.end(), end):
            continue
        if m.group() == "." and _is_abbreviation(text, m.start()):
            continue
        spans.append((cursor, m.end()))
        cursor = m.end()
    spans.append((cursor, end))
    trimmed = []
    for a, b in spans:
        piece = text[a:b]
        a += len(piece) - len(piece.lstrip())
        b -= len(piece) - len(piece.rstrip())
        if b > a:
            trimmed.append((a, b))
    return trimmed


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence, surrounding whitespace excluded.

    A line break always ends a sentence (news text keeps one paragraph per line); inside a line
    a sentence ends at ``.``, ``!`` or ``?`` (with any closing quotes) followed by a capital, a
    digit or an opening quote, unless the full stop closes an abbreviation ("Mr.", "U.S.",
    "Gen.") or an initial.
    """
    spans: list[tuple[int, int]] = []
    for line in _LINES.finditer(text):
        spans.extend(_line_sentences(text, line.start(), line.end()))
    return spans


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` at whitespace into pieces of at most ``max_chars``."""
    pieces = []
    while end - start > max_chars:
        cut = text.rfind(" ", start + 1, start + max_chars + 1)
        if cut == -1:
            ws = [m.start() for m in re.finditer(r"\s", text[start + 1 : start + max_chars + 1])]
            cut = start + 1 + ws[-1] if ws else start + max_chars
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


def chunk_text(text: str, max_chars: int, overlap: int) -> list[Chunk]:
    """Sentence-aligned chunks of at most ``max_chars`` characters, overlapping by about
    ``overlap`` characters of whole sentences. One chunk when the text fits."""
    if max_chars <= 0 or overlap < 0 or overlap >= max_chars:
        raise ConfigError(
            f"chunk size {max_chars} / overlap {overlap} cannot work: set HARNESS_CHUNK_CHARS "
            "to a positive number and HARNESS_CHUNK_OVERLAP to a smaller, non-negative one"
        )
    if len(text) <= max_chars:
        return [Chunk(0, 0, len(text), text)]
    units: list[tuple[int, int]] = []
    for a, b in sentence_spans(text):
        units.extend(_split_long(text, a, b, max_chars) if b - a > max_chars else [(a, b)])
    if not units:
        return [Chunk(0, 0, len(text), text)]
    chunks: list[Chunk] = []
    first = 0
    while True:
        last = first
        while last + 1 < len(units) and units[last + 1][1] - units[first][0] <= max_chars:
            last += 1
        start, end = units[first][0], units[last][1]
        chunks.append(Chunk(len(chunks), start, end, text[start:end]))
        if last + 1 >= len(units):
            return chunks
        following = last + 1
        for j in range(first + 1, last + 1):
            reach = units[last + 1][1] - units[j][0]  # the next chunk must get past ``last``
            if end - units[j][0] <= overlap and reach <= max_chars:
                following = j
                break
        first = following
