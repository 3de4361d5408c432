"""News-task rules applied after grounding and merging: flags, claim evidence, ungrounded items.

- A ``direct`` claim whose words are not in the article word for word gets the flag
  ``possible_misquote``. Word for word means an exact match, or a match that differs only in
  typography the model cannot be blamed for (curly vs straight quotes, dashes, spacing, case,
  surrounding quote marks): grounding ``fuzzy`` with similarity 100. Any other fuzzy match, or
  none, is a possible misquote.
- A claim whose content is not found at all gets the flag ``ungrounded``.
- Each claim's computed ``evidence`` becomes the sentence(s) that hold its content.
- An event with no span found in the article (trigger and evidence all ungrounded, or no spans)
  is reported; with ``drop_ungrounded`` such events and ungrounded claims are removed.
"""

from __future__ import annotations

from bisect import bisect_right

from schemas import Claim, Event, Extraction, Grounding, Span

from .chunking import sentence_spans

__all__ = ["MISQUOTE", "UNGROUNDED", "apply_policy"]

MISQUOTE = "possible_misquote"
UNGROUNDED = "ungrounded"


def _short(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _found(span: Span | None) -> bool:
    return span is not None and span.start is not None and span.grounding != Grounding.none


def _word_for_word(span: Span) -> bool:
    if span.grounding == Grounding.exact:
        return True
    return span.grounding == Grounding.fuzzy and (span.similarity or 0) >= 100


def _flag(claim: Claim, flag: str) -> None:
    if flag not in claim.flags:
        claim.flags.append(flag)


def _evidence(
    span: Span, sentences: list[tuple[int, int]], starts: list[int], document: str
) -> list[Span]:
    """Exact spans of the sentences overlapping ``span``."""
    assert span.start is not None and span.end is not None
    out = []
    for at in range(max(0, bisect_right(starts, span.start) - 1), len(sentences)):  # no copy
        a, b = sentences[at]
        if a >= span.end and out:
            break
        if a < max(span.end, span.start + 1) and span.start < b:
            out.append(Span(text=document[a:b], start=a, end=b, grounding=Grounding.exact))
    return out


def _event_grounded(event: Event) -> bool:
    return any(_found(s) for s in [event.trigger, *event.evidence])


def apply_policy(
    extraction: Extraction, document: str, *, drop_ungrounded: bool = False
) -> list[str]:
    """Apply the rules above to a grounded extraction in place; return the warnings."""
    warnings: list[str] = []
    sentences = sentence_spans(document)
    starts = [a for a, _ in sentences]
    for claim in extraction.claims:
        content = claim.content
        claim.flags = [f for f in claim.flags if f not in (MISQUOTE, UNGROUNDED)]  # recomputed
        if not _found(content):
            _flag(claim, UNGROUNDED)
            if claim.kind == "direct":
                _flag(claim, MISQUOTE)
            warnings.append(
                f"claim {claim.id}: content not found in the article: {_short(content.text)}"
            )
            continue
        if claim.kind == "direct" and not _word_for_word(content):
            _flag(claim, MISQUOTE)
            warnings.append(
                f"claim {claim.id}: direct quote differs from the article (possible misquote, "
                f"similarity {content.similarity}): model {_short(content.text)}, "
                f"article {_short(content.matched or '')}"
            )
        claim.evidence = _evidence(content, sentences, starts, document)

    ungrounded_events = [e for e in extraction.events if not _event_grounded(e)]
    for event in ungrounded_events:
        warnings.append(
            f"event {event.id}: none of its spans was found in the article "
            f"({_short(event.summary)})"
        )
    if not drop_ungrounded:
        return warnings

    dropped = {e.id for e in ungrounded_events}
    extraction.events = [e for e in extraction.events if e.id not in dropped]
    warnings.extend(f"event {e.id}: dropped (ungrounded)" for e in ungrounded_events)
    kept = []
    for claim in extraction.claims:
        if not _found(claim.content):
            warnings.append(f"claim {claim.id}: dropped (ungrounded)")
            continue
        gone = [i for i in claim.event_ids if i in dropped]
        if gone:
            claim.event_ids = [i for i in claim.event_ids if i not in dropped]
            warnings.append(f"claim {claim.id}: link to dropped event(s) {', '.join(gone)} removed")
        kept.append(claim)
    extraction.claims = kept
    return warnings
