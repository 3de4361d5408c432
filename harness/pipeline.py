"""One document through the flow, and a batch of them in order.

document -> furniture removed from what the model sees -> chunks -> prompt -> endpoint ->
typed object -> grounding (global offsets) -> merge -> dates resolved -> policy -> Result.
A failure on one chunk is a warning with its offsets; a failure of the whole document is an
error record. Nothing here knows the news task beyond ``Task``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass

from pydantic import BaseModel

from schemas import ErrorInfo, GroundingCounts, Provenance, Result, Usage

from . import __version__
from .chunking import Chunk, chunk_text
from .config import Settings
from .dates import resolve_event_dates
from .documents import Document, InputFailure, Item
from .endpoint import CallStats, Endpoint
from .errors import EndpointError, HarnessError, LocalServerError
from .event_checks import (
    check_responsibility,
    drop_advice,
    evidence_from_trigger,
    fix_actors,
    retype_events,
)
from .furniture import find_furniture, without
from .grounding import count_grounding, ground_spans
from .injection import drop_injected
from .merge import merge_extractions
from .policy import apply_policy
from .prompting import Pass, PromptTemplate
from .quotes import (
    drop_unattributed,
    name_unknown_speakers,
    recover_according_to,
    recover_quotes,
    recover_reported,
    speaker_from_subject,
    split_titled_names,
    trim_attribution,
)
from .refine import (
    cut_at_paragraph,
    dedupe,
    drop_contained,
    fix_speakers,
    join_adjacent,
    link_claims,
    settle_quotes,
    unique_event_ids,
)


@dataclass(frozen=True)
class Options:
    drop_ungrounded: bool = False
    strip_furniture: bool = True
    include_text: bool = False
    recover_quotes: bool = True


class Extractor:
    """Turns Documents into Results through one endpoint and one prompt template."""

    def __init__(self, settings: Settings, endpoint: Endpoint, template: PromptTemplate,
                 options: Options = Options(),
                 health_check: Callable[[], None] | None = None):
        self.settings = settings
        self.endpoint = endpoint
        self.template = template
        self.options = options
        self.health_check = health_check  # raises LocalServerError when the embedded server died

    def _provenance(self, stats: CallStats, chunks: int) -> Provenance:
        return Provenance(
            model=self.endpoint.model,
            endpoint=self.endpoint.display_url,
            mode=stats.mode or self.endpoint.mode,
            prompt=self.template.name,
            prompt_sha256=self.template.sha256,
            harness_version=__version__,
            usage=Usage(prompt_tokens=stats.prompt_tokens, completion_tokens=stats.completion_tokens),
            attempts=stats.attempts,
            latency_s=stats.latency_s,
            chunks=chunks,
        )

    async def _run_pass(self, pass_: Pass, shown: str, doc: Document, stats: CallStats) -> BaseModel:
        messages = pass_.messages(shown, doc.title, doc.published)
        if self.health_check is not None:
            self.health_check()  # a dead embedded server says so at once, instead of retrying
        call = CallStats()
        try:
            output, _ = await self.endpoint.extract(messages, pass_.output_model, call)
        except EndpointError:
            if self.health_check is not None:
                self.health_check()  # it died during the call: say that, not "connection refused"
            raise
        finally:
            stats.add(call)  # attempts and tokens count, failed calls included
        return output

    async def _extract_chunk(self, doc: Document, chunk: Chunk, furniture, stats: CallStats,
                             warnings: list[str]):
        local = [(max(s, chunk.start) - chunk.start, min(e, chunk.end) - chunk.start)
                 for s, e in furniture if s < chunk.end and e > chunk.start]
        shown = without(chunk.text, local) if local else chunk.text
        outcomes = await asyncio.gather(
            *(self._run_pass(p, shown, doc, stats) for p in self.template.passes), return_exceptions=True
        )
        return self._ground_chunk(doc, chunk, furniture, outcomes, warnings)

    def _ground_chunk(self, doc: Document, chunk: Chunk, furniture, outcomes: list, warnings: list[str]):
        """The passes' outputs of one chunk as one extraction, its spans found in the document."""
        passes = self.template.passes
        labels = [(f"{p.name} pass", f" (characters {chunk.start}-{chunk.end})") for p in passes]
        outputs = gathered(outcomes, labels, warnings)
        for output in outputs:
            warnings += unique_event_ids(output)  # the record refuses repeated ids
        extraction = self.template.combine(outputs)
        ground_spans(extraction, doc.text, window=(chunk.start, chunk.end), exclude=furniture)
        return extraction

    async def extract(self, doc: Document, stats: CallStats | None = None) -> Result:
        started = time.monotonic()
        stats = CallStats() if stats is None else stats
        warnings = list(doc.warnings)
        furniture, chunks = self._plan(doc, warnings)
        # Chunks go out together: a server with several slots (llama-server, vLLM) works on
        # them in parallel; the results are put back in document order.
        outcomes = await asyncio.gather(
            *(self._extract_chunk(doc, chunk, furniture, stats, warnings) for chunk in chunks),
            return_exceptions=True,
        )
        return self._finish(doc, chunks, furniture, outcomes, warnings, stats, started)

    def _plan(self, doc: Document, warnings: list[str]) -> tuple[list[tuple[int, int]], list[Chunk]]:
        """The page furniture kept from the model, and the chunks it is shown."""
        furniture = find_furniture(doc.text) if self.options.strip_furniture else []
        if furniture:
            warnings.append(f"{len(furniture)} page-furniture line(s) not shown to the model")
        return furniture, chunk_text(doc.text, self.settings.chunk_chars, self.settings.chunk_overlap)

    def _finish(self, doc: Document, chunks: list[Chunk], furniture, outcomes: list, warnings: list[str],
                stats: CallStats, started: float) -> Result:
        """The chunks' extractions merged, checked and settled into the document's Result."""
        labels = [(f"chunk {c.index + 1}/{len(chunks)}", f" (characters {c.start}-{c.end})") for c in chunks]
        parts = gathered(outcomes, labels, warnings)
        merged, merge_warnings = merge_extractions(parts) if len(parts) > 1 else (parts[0], [])
        warnings += merge_warnings
        warnings += evidence_from_trigger(merged, doc.text)
        warnings += resolve_event_dates(merged.events, doc.published)
        warnings += dedupe(merged)
        warnings += retype_events(merged)
        warnings += fix_actors(merged)
        warnings += drop_advice(merged, doc.text)
        warnings += check_responsibility(merged, doc.text)
        warnings += fix_speakers(merged)
        warnings += split_titled_names(merged)
        warnings += speaker_from_subject(merged, doc.text)  # before joining: speakers decide it
        warnings += join_adjacent(merged, doc.text)
        warnings += settle_quotes(merged, doc.text)
        warnings += dedupe(merged)  # widened quotations can coincide
        warnings += cut_at_paragraph(merged, doc.text)  # once quotation marks settled ``kind``
        warnings += trim_attribution(merged, doc.text)
        warnings += name_unknown_speakers(merged, doc.text)  # after the words' own attribution
        warnings += drop_contained(merged)
        warnings += drop_unattributed(merged, doc.text)
        if self.options.recover_quotes:
            warnings += recover_quotes(merged, doc.text, exclude=furniture)
            warnings += recover_according_to(merged, doc.text, exclude=furniture)
            warnings += recover_reported(merged, doc.text, exclude=furniture)
        warnings += apply_policy(merged, doc.text, drop_ungrounded=self.options.drop_ungrounded)
        warnings += drop_injected(merged, doc.text)  # last: no step may bring the words back
        link_claims(merged)
        warnings += stats.notes
        stats.latency_s = round(time.monotonic() - started, 3)
        return Result(
            doc_id=doc.id, title=doc.title, published=doc.published, source=doc.source,
            text_sha256=doc.sha256, events=merged.events, claims=merged.claims,
            grounding=count_grounding(merged), provenance=self._provenance(stats, len(chunks)),
            warnings=warnings,
            text=doc.text if self.options.include_text else None,
        )

    async def run_one(self, item: Item) -> Result:
        """A Result, or an error record: never an exception."""
        if isinstance(item, InputFailure):
            return error_record(item.id, "InputError", item.message, source=item.source)
        stats = CallStats()
        try:
            return await self.extract(item, stats)
        except HarnessError as exc:
            return error_record(item.id, exc.kind, self.endpoint.scrub(str(exc)), item, self._provenance(stats, 0))
        except Exception as exc:  # noqa: BLE001 - a bug must not cost the rest of the batch
            message = self.endpoint.scrub(f"{type(exc).__name__}: {exc}")  # a library's error may hold the URL
            return error_record(item.id, "InternalError", message, item)


def gathered(outcomes: list, labels: list[tuple[str, str]], warnings: list[str]) -> list:
    """The outputs of parts run together, in order. When some parts failed with a HarnessError,
    each is a warning ("<name> failed: <error> (<where>)") and the rest go on; when all failed, the
    first failure is raised; a dead embedded server or a bug is raised at once."""
    kept, failed = [], []
    for (name, where), outcome in zip(labels, outcomes):
        if isinstance(outcome, LocalServerError) or (
            isinstance(outcome, BaseException) and not isinstance(outcome, HarnessError)
        ):
            raise outcome
        if isinstance(outcome, HarnessError):
            failed.append((name, where, outcome))
        else:
            kept.append(outcome)
    if not kept:
        raise failed[0][2]
    warnings += [f"{name} failed: {exc.kind}: {exc}{where}" for name, where, exc in failed]
    return kept


def error_record(doc_id: str, kind: str, message: str, doc: Document | None = None,
                 provenance: Provenance | None = None, source: str | None = None) -> Result:
    return Result(
        doc_id=doc_id,
        title=doc.title if doc else None,
        published=doc.published if doc else None,
        source=doc.source if doc else source,
        text_sha256=doc.sha256 if doc else None,
        grounding=GroundingCounts(),
        provenance=provenance,
        warnings=list(doc.warnings) if doc else [],
        error=ErrorInfo(type=kind, message=message),
    )


async def run_ordered(
    items: Iterable[Item],
    work: Callable[[Item], Awaitable[Result]],
    concurrency: int,
) -> AsyncIterator[Result]:
    """Results in input order, at most ``concurrency`` in flight, the input read lazily.

    Memory stays bounded by the window (``concurrency * 4`` pending results), not the input.
    """
    semaphore = asyncio.Semaphore(concurrency)
    pending: deque[asyncio.Task[Result]] = deque()
    window = max(1, concurrency * 4)

    async def guarded(item: Item) -> Result:
        async with semaphore:
            return await work(item)

    try:
        for item in items:
            pending.append(asyncio.create_task(guarded(item)))
            while len(pending) >= window or (pending and pending[0].done()):
                yield await pending.popleft()
        while pending:
            yield await pending.popleft()
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
