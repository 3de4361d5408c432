"""``harness extract``: documents in, Results out, in input order, resumable."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .config import Settings
from .documents import Document, Item, is_multi, iter_documents
from .errors import OutputError
from .output import (
    JsonlSink,
    check_output,
    dump_pretty,
    keep_last,
    open_output,
    outputs_of,
    prepare_resume,
)
from .pipeline import Extractor, Options, run_ordered
from .prompting import PromptTemplate
from .session import open_endpoint
from .terminal import printable, warner


@dataclass
class BatchReport:
    documents: int = 0
    errors: int = 0
    skipped: int = 0
    changed: set[str] = field(default_factory=set)  # done before, text changed since: run again

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


def skip_done(items: Iterator[Item], done: dict[str, str | None], report: BatchReport) -> Iterator[Item]:
    for item in items:
        if item.id in done:
            sha = done[item.id]
            if not isinstance(item, Document) or sha is None or sha == item.sha256:
                report.skipped += 1
                continue
            report.changed.add(item.id)
        yield item


async def run_extract(
    paths: list[str],
    settings: Settings,
    options: Options,
    out: Path | None = None,
    resume: bool = False,
    retry_errors: bool = False,
    html_dir: Path | None = None,
    prompt: str = "news",
    quiet: bool = False,
    stdin: IO[bytes] | None = None,
) -> BatchReport:
    report = BatchReport()
    check_output(paths, out, html_dir)  # before anything is opened, read or asked
    warn = warner(quiet)
    as_jsonl = is_multi(paths) or (out is not None and out.suffix.lower() in (".jsonl", ".ndjson"))
    done = prepare_resume(out, retry_errors, warn) if (resume and out is not None) else {}
    documents = iter_documents(paths, settings.max_doc_chars, stdin, warn, skip=outputs_of(out, html_dir))
    items = skip_done(documents, done, report)
    template = PromptTemplate.load(prompt)
    want_text = options.include_text or html_dir is not None
    run_options = replace(options, include_text=want_text)
    err = Console(file=sys.stderr)
    where = str(out) if out is not None else "stdout"
    # the endpoint first: one that cannot be reached stops the run before the output is touched
    async with open_endpoint(settings, log=None if not quiet else (lambda _m: None)) as (endpoint, health):
        with ExitStack() as stack:
            stream = sys.stdout if out is None else stack.enter_context(open_output(out, append=resume and as_jsonl))
            sink = JsonlSink(stream)  # flushed per line: a killed process loses no complete line
            pages = _pages(html_dir)
            progress = Progress(
                TextColumn("[bold]extract"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.fields[last]}"), console=err, transient=True,
                disable=quiet or not sys.stderr.isatty(),
            )
            stack.enter_context(progress)
            task = progress.add_task("extract", total=None, last="")
            extractor = Extractor(settings, endpoint, template, run_options, health_check=health)
            async for result in run_ordered(items, extractor.run_one, settings.concurrency):
                if result.error:
                    report.errors += 1
                    if not quiet:
                        progress.console.print(
                            printable(f"harness: {result.doc_id}: {result.error.type}: {result.error.message}"),
                            markup=False, highlight=False, style="yellow")
                if pages is not None:
                    try:
                        if result.text is not None:
                            pages.write(result, result.text)
                    except OSError as exc:
                        raise _lost(exc, f"a page in {html_dir}", report.documents, out is not None) from None
                    result = result.model_copy(update={"text": result.text if options.include_text else None})
                try:
                    if as_jsonl:
                        sink.write(result)
                    else:
                        stream.write(dump_pretty(result))
                        stream.flush()
                except OSError as exc:
                    raise _lost(exc, where, report.documents, out is not None) from None
                report.documents += 1
                progress.update(task, advance=1, last=escape(printable(result.doc_id)))  # words, not markup
    if out is not None and as_jsonl and report.changed:
        try:
            keep_last(out, report.changed)  # the new record replaces the one of the old text
        except OSError as exc:
            raise _lost(exc, where, report.documents, True) from None
    if report.skipped and not quiet:
        print(f"harness: --resume skipped {report.skipped} document(s) already done", file=sys.stderr)
    return report


def _pages(html_dir: Path | None):  # jinja2 and the page writer, only when asked for
    if html_dir is None:
        return None
    from .view import PageWriter

    return PageWriter(html_dir)


def _lost(exc: OSError, where: str, written: int, resumable: bool) -> OutputError:
    again = "rerun with --resume" if resumable else "run it again"
    return OutputError(f"cannot write {where}: {exc.strerror or exc}; {written} document(s) were "
                       f"written before it, the rest are missing: fix it (free space, permissions) "
                       f"and {again}")


def extract_main(paths: list[str], settings: Settings, options: Options, **kwargs) -> int:
    report = asyncio.run(run_extract(paths, settings, options, **kwargs))
    return report.exit_code
