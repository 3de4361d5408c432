"""``harness label ARTICLE``: draft a gold file from a model's output, for a person to correct.

Every span in the draft is exact: a fuzzy match is replaced by the article's own words at the
matched offsets, and a span the article does not contain is removed (an event or claim left
with no key span is dropped and listed in ``notes``), so the person starts from text that is
really in the article. Guidelines: evals/GUIDELINES.md.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from schemas import Claim, Event, GoldResult, Grounding, Span

from ..config import Settings
from ..documents import read_text_file
from ..errors import InputError
from ..pipeline import Extractor, Options
from ..prompting import PromptTemplate
from ..session import open_endpoint


def exact_span(span: Span | None, text: str) -> Span | None:
    """The span as the article has it, or None when it was not found."""
    if span is None or span.grounding in (None, Grounding.none) or span.start is None:
        return None
    words = text[span.start : span.end]
    return Span(text=words, start=span.start, end=span.end, grounding=Grounding.exact)


def draft_gold(doc_id: str, events: list[Event], claims: list[Claim], text: str) -> GoldResult:
    notes = []
    kept_events = []
    for event in events:
        evidence = [s for s in (exact_span(e, text) for e in event.evidence) if s]
        trigger = exact_span(event.trigger, text)
        if not evidence and trigger is None:
            notes.append(f"dropped event {event.id} ({event.summary!r}): no span found in the article")
            continue
        kept_events.append(event.model_copy(update={"evidence": evidence, "trigger": trigger}))
    kept_claims = []
    for claim in claims:
        content = exact_span(claim.content, text)
        if content is None:
            notes.append(f"dropped claim {claim.id} ({claim.content.text!r}): not in the article")
            continue
        kept_claims.append(claim.model_copy(update={"content": content, "evidence": [], "flags": []}))
    notes.append("DRAFT from a model: check every item against evals/GUIDELINES.md before use.")
    return GoldResult(doc_id=doc_id, events=kept_events, claims=kept_claims, notes="\n".join(notes))


async def _extract(path: Path, settings: Settings):
    item = read_text_file(path, settings.max_doc_chars)
    if not hasattr(item, "text"):
        raise InputError(item.message)
    async with open_endpoint(settings) as (endpoint, health):
        extractor = Extractor(settings, endpoint, PromptTemplate.load("news"), Options(), health_check=health)
        return item, await extractor.extract(item)


def label_main(article: Path, output: Path | None, doc_id: str | None, settings: Settings) -> int:
    doc, result = asyncio.run(_extract(article, settings))
    gold = draft_gold(doc_id or doc.id, result.events, result.claims, doc.text)
    payload = json.dumps(gold.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(payload)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(payload, encoding="utf-8")
        print(f"harness label: draft written to {output}; correct it by hand", file=sys.stderr)
    return 0
