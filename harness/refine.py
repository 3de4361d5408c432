"""Deterministic corrections of a grounded extraction, where the article settles the question.

- ``unique_event_ids``: event ids a model repeated ("e2" ten times) are renamed, so the record
  validates.
- ``dedupe``: a small model under a grammar can repeat an item; exact repeats (same span, or
  same words when unplaced) are removed, with a warning that counts them, and so is an event
  repeated with the same summary and evidence under another type (kept under its first).
- ``settle_quotes``: the article's quotation marks decide ``kind``: a claim whose content lies
  inside a quotation is ``direct`` and covers the whole quotation (run ``dedupe`` again after);
  one whose grounded words are outside any quotation is ``indirect`` (unless it is set off after
  "X said:" on its own lines, a block quote); a content span that holds a quotation plus its
  frame ("X said, "...."") is narrowed to the quoted words. Each change is reported.
- ``join_adjacent``: one statement that the model cut into sentence-claims (same speaker, the
  pieces next to each other with nothing but spaces, punctuation or quote marks between, a line
  break only inside a quoted statement) is one claim, as the labelling guidelines say.
- ``cut_at_paragraph``: indirect content that runs across a paragraph break is cut to the first
  paragraph, and ends without its sentence's final period.
- ``fix_speakers``: a name or role written as ``"null"`` is removed; a person's name given as
  ``role`` and a title given as ``name`` are swapped; a description given as ``name`` ("US
  officials") becomes the role.
- ``link_claims``: a claim with no ``event_ids`` is linked to the events whose evidence shares a
  sentence with it.

Run ``dedupe``, ``fix_speakers``, ``join_adjacent``, ``settle_quotes`` and ``cut_at_paragraph``
before the policy (misquote flags, claim evidence), and ``link_claims`` after it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

from schemas import Claim, Extraction, Grounding, Span

# The closing mark: ", ” or » ("…"/“…”/«…»), or a “ that is left in place: it closes „…“ and it
# opens the next paragraph of a quotation that runs over several, each paragraph opening with “
# and only the last closing (taking it would lose every second paragraph of such a statement).
QUOTE = re.compile(r"[\"“«„]([^\"“”«»„]{2,}?)(?:[\"”»]|(?=“))")
BLOCK_QUOTE = re.compile(r":[ \t]*(?:\r?\n)+[ \t]*$")
GAP = re.compile(r"[\s\"“”«»„',.;:]*")
TITLE_WORDS = re.compile(
    r"\b(minister|secretary|spokes(?:man|woman|person)|president|officials?|office|ministry|"
    r"government|department|press|general|chairman|envoy|ambassador|commander|chief|leader|"
    r"director|agency|council|army|police|statement|report)\b", re.I)


def _key(span: Span | None) -> tuple | None:
    if span is None:
        return None
    if span.start is not None and span.grounding not in (None, Grounding.none):
        return ("at", span.start, span.end)
    return ("text", " ".join(span.text.lower().split()))


def unique_event_ids(output: object) -> list[str]:
    """A model that repeats an event can repeat its id too ("e2" ten times): the repeats get the
    next free ids, so the record validates and ``dedupe`` can judge them; claims keep pointing to
    the first."""
    events = getattr(output, "events", None) or []
    taken = {e.id for e in events}
    seen: set[str] = set()
    renamed = []
    for event in events:
        if event.id in seen:
            n = len(taken) + 1
            while f"e{n}" in taken:
                n += 1
            renamed.append(f"{event.id} -> e{n}")
            event.id = f"e{n}"
            taken.add(event.id)
        seen.add(event.id)
    return [f"event ids repeated by the model renamed: {', '.join(renamed)}"] if renamed else []


def dedupe(extraction: Extraction) -> list[str]:
    warnings = []
    seen_claims: set = set()
    claims = []
    for claim in extraction.claims:
        key = (_key(claim.content), _speaker_key(claim))
        if key in seen_claims:
            continue
        seen_claims.add(key)
        claims.append(claim)
    if len(claims) < len(extraction.claims):
        warnings.append(f"{len(extraction.claims) - len(claims)} repeated claim(s) removed")
    seen_events: set = set()
    stories: set = set()
    events, retyped = [], []
    for event in extraction.events:
        story = (tuple(_key(s) for s in event.evidence), " ".join(event.summary.lower().split()))
        key = (event.type, _key(event.trigger), story)
        if key in seen_events:
            continue
        if story in stories:  # the model went on through the type list: one event, typed once
            retyped.append(event.type)
            continue
        seen_events.add(key)
        stories.add(story)
        events.append(event)
    if repeats := len(extraction.events) - len(events) - len(retyped):
        warnings.append(f"{repeats} repeated event(s) removed")
    if retyped:
        warnings.append(f"{len(retyped)} event(s) repeating an earlier event's summary and evidence "
                        f"under another type removed ({', '.join(retyped)})")
    removed = {e.id for e in extraction.events} - {e.id for e in events}
    if removed:
        for claim in claims:
            claim.event_ids = [i for i in claim.event_ids if i not in removed]
    extraction.claims, extraction.events = claims, events
    return warnings


def drop_contained(extraction: Extraction) -> list[str]:
    """A claim whose words lie inside another claim's, by the same speaker, is a fragment of
    that statement (a small model repeats pieces of one sentence as claims): it goes."""
    spans = [(n, c.content.start, c.content.end, _speaker_key(c)) for n, c in enumerate(extraction.claims)
             if c.content.start is not None and c.content.grounding == Grounding.exact]
    inside = {  # inside a longer one, or the same words as an earlier one (trimming can make them so)
        id(extraction.claims[n]) for n, s, e, who in spans
        if any(m != n and who == w and os <= s and e <= oe and ((oe - os) > (e - s) or m < n)
               for m, os, oe, w in spans)
    }
    if not inside:
        return []
    kept = [c for c in extraction.claims if id(c) not in inside]
    gone = [c.id for c in extraction.claims if id(c) in inside]
    extraction.claims = kept
    return [f"claim(s) {', '.join(gone)} removed: words inside another claim of the same speaker"]


@lru_cache(maxsize=1)  # one document's corrections and recoveries run back to back
def quotations(document: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of the words inside each pair of quotation marks (a paragraph of a quotation
    that runs on without a closing mark ends at its last non-space character)."""
    spans = []
    for m in QUOTE.finditer(document):
        start, end = m.span(1)
        while end > start and document[end - 1].isspace():
            end -= 1
        spans.append((start, end))
    return tuple(spans)


def _settle(claim: Claim, quotes: tuple[tuple[int, int], ...], document: str) -> str | None:
    content = claim.content
    if content.start is None or content.grounding in (None, Grounding.none):
        return None
    start, end = content.start, content.end
    inside = [q for q in quotes if q[0] <= start + 1 and end - 1 <= q[1]]
    if inside:
        q_start, q_end = inside[0]
        notes = []
        if (start, end) != (q_start, q_end):  # a quotation is one claim, as the guidelines say
            claim.content = Span(text=document[q_start:q_end], start=q_start, end=q_end,
                                 grounding=Grounding.exact)
            notes.append(f"content widened from {end - start} to the whole quotation ({q_end - q_start} characters)")
        if claim.kind != "direct":
            claim.kind = "direct"
            notes.append("content is inside quotation marks: kind set to direct")
        return f"claim {claim.id}: " + "; ".join(notes) if notes else None
    # quotations that open inside the span (the model may stop before the closing mark)
    held = [q for q in quotes if start <= q[0] - 1 and q[1] <= end + 1]
    if held:
        q_start, q_end = max(held, key=lambda q: q[1] - q[0])
        words = document[q_start:q_end]
        claim.content = Span(text=words, start=q_start, end=q_end, grounding=Grounding.exact)
        claim.kind = "direct"
        return (f"claim {claim.id}: content narrowed from the model's {end - start} characters "
                f"to the quotation they hold ({words[:60]!r})")
    if BLOCK_QUOTE.search(document[max(0, start - 8) : start]):
        if claim.kind != "direct":  # "X said:" then the statement itself, as in press releases
            claim.kind = "direct"
            return f"claim {claim.id}: a statement set off after a colon: kind set to direct"
        return None
    if claim.kind == "direct":  # exact, or fuzzy (a case or a word apart): not a quotation
        claim.kind = "indirect"
        return f"claim {claim.id}: words are in the article but not inside quotation marks: kind set to indirect"
    return None


def settle_quotes(extraction: Extraction, document: str) -> list[str]:
    quotes = quotations(document)
    notes = (_settle(claim, quotes, document) for claim in extraction.claims)
    return [note for note in notes if note]


def _titleish(value: str | None) -> bool:
    return bool(value and TITLE_WORDS.search(value))


#: what a model writes into a name or role it does not know: the JSON null spelled as a string
PLACEHOLDER_NAMES = {"null", "none", "n/a", "nan", "undefined"}


def fix_speakers(extraction: Extraction) -> list[str]:
    warnings = []
    for claim in extraction.claims:
        speaker = claim.speaker
        for part in ("name", "role"):
            value = getattr(speaker, part)
            if value and value.strip().lower() in PLACEHOLDER_NAMES:
                warnings.append(f"claim {claim.id}: speaker {part} {value!r} is a placeholder: removed")
                setattr(speaker, part, None)
        if speaker.name and not speaker.role and speaker.name.split()[-1][:1].islower():
            # "US officials", "a Pentagon spokeswoman": a description, not a name
            speaker.name, speaker.role = None, speaker.name
            warnings.append(f"claim {claim.id}: speaker {speaker.role!r} is a description: moved to role")
            continue
        if _titleish(speaker.name) and speaker.role and not _titleish(speaker.role):
            speaker.name, speaker.role = speaker.role, speaker.name
            warnings.append(f"claim {claim.id}: speaker name and role swapped ({speaker.name!r}, {speaker.role!r})")
    return warnings


def _speaker_key(claim: Claim) -> str:
    return " ".join((claim.speaker.name or claim.speaker.role or "").lower().split())


#: what reported speech does not end with: the sentence's period (not an abbreviation's), or
#: the comma, semicolon or colon of a clause the model stopped in
INDIRECT_END = re.compile(r"(?:(?<=[a-z0-9)])\.|\s*[,;:])$")


def cut_at_paragraph(extraction: Extraction, document: str) -> list[str]:
    """Reported speech does not run across paragraphs: an indirect claim whose words do is cut
    to its first paragraph (a small model sometimes copies a whole passage as one claim). One
    that ends with its sentence loses the final period, as the labelling guideline has it, and
    one that stops at a comma, semicolon or colon loses that."""
    warnings = []
    for claim in extraction.claims:
        content = claim.content
        if claim.kind != "indirect" or content.grounding != Grounding.exact or content.start is None:
            continue
        words = document[content.start : content.end]
        cut = words.find("\n")
        kept = INDIRECT_END.sub("", (words[:cut] if cut > 0 else words).rstrip())
        if kept == words:
            continue
        claim.content = Span(text=kept, start=content.start, end=content.start + len(kept),
                             grounding=Grounding.exact)
        if cut > 0:
            warnings.append(f"claim {claim.id}: indirect content ran across paragraphs: cut from "
                            f"{len(words)} to {len(kept)} characters (its first paragraph)")
    return warnings


def _joinable(first: Claim, then: Claim, document: str) -> bool:
    """Only spaces, punctuation and quote marks between; a line break only inside a quoted
    statement (both parts direct, or set off after "X said:"): reported speech does not run on
    across paragraphs."""
    gap = document[first.content.end : then.content.start]
    if not GAP.fullmatch(gap):
        return False
    block = BLOCK_QUOTE.search(document[max(0, first.content.start - 8) : first.content.start])
    return "\n" not in gap or first.kind == then.kind == "direct" or bool(block)


def join_adjacent(extraction: Extraction, document: str) -> list[str]:
    placed = sorted(
        (c for c in extraction.claims if c.content.start is not None and c.content.grounding == Grounding.exact),
        key=lambda c: c.content.start,
    )
    absorbed: set[str] = set()
    warnings = []
    current = None
    for claim in placed:
        if (current is not None and _speaker_key(claim) == _speaker_key(current)
                and current.content.end <= claim.content.start
                and _joinable(current, claim, document)):
            start, end = current.content.start, claim.content.end
            current.content = Span(text=document[start:end], start=start, end=end, grounding=Grounding.exact)
            current.event_ids = list(dict.fromkeys(current.event_ids + claim.event_ids))
            absorbed.add(claim.id)
            warnings.append(f"claim {claim.id} joined to claim {current.id}: one statement, cut in pieces")
            continue
        current = claim
    extraction.claims = [c for c in extraction.claims if c.id not in absorbed]
    return warnings


def link_claims(extraction: Extraction) -> None:
    """A claim with no ``event_ids`` is linked to every event whose trigger or evidence overlaps
    its evidence (or its words). The events' spans are sorted by start and searched by bisection:
    every claim against every event made a document of 42,000 claims and 2,600 chunks (one
    event each) quadratic."""
    spans = sorted((s.start, s.end, i) for i, event in enumerate(extraction.events)
                   for s in (*event.evidence, event.trigger) if s is not None and s.start is not None)
    starts = [start for start, _, _ in spans]
    longest = max((end - start for start, end, _ in spans), default=0)
    for claim in extraction.claims:
        if claim.event_ids:
            continue
        linked: set[int] = set()
        for where in claim.evidence or [claim.content]:
            if where.start is None:
                continue
            j = bisect_left(starts, where.end) - 1  # the last event span starting before its end
            while j >= 0 and starts[j] + longest > where.start:  # earlier ones end before it
                if where.start < spans[j][1]:
                    linked.add(spans[j][2])
                j -= 1
        claim.event_ids = [extraction.events[i].id for i in sorted(linked)]
