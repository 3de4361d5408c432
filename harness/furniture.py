"""Page furniture: lines of a scraped page that are not article text.

Link lines ("See also ...", "Read more: ..."), widget labels ("Share", "About The Author",
"Advertisement"), subscription, newsletter, cookie and "Follow us on ..." lines. Conservative:
a line is furniture only when it matches a known shape as a whole and is short; a line that
merely mentions such words ("Share prices fell ...") is kept. The model is shown the text
without these lines; grounding still uses the full text (offsets never shift) and avoids them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["find_furniture", "original_offset", "without"]

_MAX_LINE = 240  # furniture is short; a longer line is treated as prose
_SEP = r"\s*(?:[:|\u00bb\u203a>]|\s[-\u2013\u2014])"  # "Related:", "Read more |", "See also - "

# A whole line (stripped, case-insensitive) that is one of these labels.
_LABELS = re.compile(
    r"(?:about (?:the|this) author|(?:share|share (?:this|the) (?:article|story|post|page))"
    r"|advertisements?|sponsored(?: content)?|story continues below(?: advertisement)?"
    r"|subscribe(?: now| today)?|sign up|log ?in|sign in|register|follow us|comments?"
    r"|print|e-?mail|tweet|related(?: articles| stories| content| news| coverage)?"
    r"|recommended(?: for you| stories)?|most (?:read|popular)|trending(?: now)?"
    r"|you may also like|more from .{1,40}|read more|see also|also read|read also|continue reading"
    r"|skip to (?:main )?content|back to top|loading\.*|all rights reserved\.?|photo|image)"
    r"[\s.:!\u2026]*",
    re.IGNORECASE,
)
# A line that starts with a link prefix: "See also", "Also read" (any spacing), or "Read more",
# "Related" ... followed by a separator.
_LINK = re.compile(
    rf"(?:(?:see also|also read|read also)(?:{_SEP}|[\s\u00a0])"
    rf"|(?:read more|related(?: articles| stories| coverage)?|more on this(?: story)?|recommended"
    rf"|watch|listen|trending|most read|don'?t miss|must read|top stories){_SEP})\s*\S",
    re.IGNORECASE,
)
_WIDGET_WORDS = frozenset(
    "share facebook twitter x email e-mail whatsapp linkedin print copy link telegram reddit "
    "pinterest messenger flipboard tweet".split()
)
_PLATFORMS = (
    r"(?:twitter|x|facebook|instagram|linkedin|tiktok|youtube|threads|telegram|whatsapp"
    r"|bluesky|mastodon|google news|social media)"
)
_PATTERNS = [
    re.compile(rf"follow (?:us|me|@\w+|[\w.]+(?: [\w.]+)?) on {_PLATFORMS}\b", re.IGNORECASE),
    re.compile(r"subscribe (?:to|for|now|today)\b", re.IGNORECASE),
    re.compile(r"(?:sign up|subscribe|register)(?: now)? (?:to|for) (?:our|the|a) (?:[\w'-]+ ){0,3}"
               r"newsletters?\b|\bdelivered (?:straight )?to your inbox\b", re.IGNORECASE),
    re.compile(r"(?:we|this (?:web)?site|our site) uses? cookies\b", re.IGNORECASE),
    re.compile(r"\b(?:accept|manage|reject)(?: all)? cookies\b|\bcookie (?:policy|settings)\b",
               re.IGNORECASE),
    re.compile(r"(?:\u00a9|\(c\)|copyright\b)\s*(?:\u00a9\s*)?\d{4}\b", re.IGNORECASE),
    re.compile(r"click here\b", re.IGNORECASE),
]  # fmt: skip
_ANCHORED = {0, 1, 5}  # patterns that must start the line; the others may appear anywhere


def _is_furniture(line: str) -> bool:
    stripped = line.strip().strip("\u00a0\u200b")
    if not stripped or len(stripped) > _MAX_LINE:
        return False
    if _LABELS.fullmatch(stripped) or _LINK.match(stripped):
        return True
    words = re.findall(r"[\w-]+", stripped.lower())
    if words and all(w in _WIDGET_WORDS for w in words) and len(stripped) < 60:
        return True
    for i, pattern in enumerate(_PATTERNS):
        hit = pattern.match(stripped) if i in _ANCHORED else pattern.search(stripped)
        if hit and (i in _ANCHORED or len(stripped) <= 160):
            return True
    return False


def find_furniture(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each furniture line, its newline included, in document order."""
    ranges = []
    for line in re.finditer(r"[^\n]*(?:\n|$)", text):
        if line.start() == line.end():
            continue
        if _is_furniture(line.group()):
            ranges.append((line.start(), line.end()))
    return ranges


def without(text: str, ranges: Sequence[tuple[int, int]]) -> str:
    """``text`` with the given ranges cut out (what the model is shown)."""
    parts, cursor = [], 0
    for start, end in sorted(ranges):
        start = max(start, cursor)
        if end <= start:
            continue
        parts.append(text[cursor:start])
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts)


def original_offset(offset: int, ranges: Sequence[tuple[int, int]]) -> int:
    """Where ``offset`` into ``without(text, ranges)`` lies in ``text``: e.g. to turn a chunk of
    the shown text into a grounding window over the full text."""
    for start, end in sorted(ranges):
        if start > offset:
            break
        offset += end - start
    return offset
