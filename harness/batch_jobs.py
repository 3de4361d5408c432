"""``harness batch export`` / ``harness batch ingest``: the model calls as provider batch files.

Both run the live path itself (``Extractor.extract``: chunking, prompts, instructor's request
building and re-asks, grounding, steps, ``_finish``); only the POST differs:

- export: the POST writes the exact body the live path would send (``completion_body``) as one
  request line and stops that document there;
- ingest: the POST answers with the provider's output line for that request, so instructor
  validates it, bounds and salvage apply, and the document finishes as a live one would. A
  re-ask (attempt 2, 3...) with no answer yet is written into ``reask-N.jsonl``; a request that
  failed or has no answer makes the document an error record and is listed in
  ``RESULTS.missing.jsonl``, which ``batch export --missing`` turns into ``missing-N.jsonl``.

The job folder: ``manifest.json`` (settings, prompt, files; written last), ``documents.jsonl``
(each document with its text sha256, chunks, passes and request ids with their body sha256),
``requests-N.jsonl``, later ``reask-N.jsonl`` and ``missing-N.jsonl``. Nothing in it is
rewritten: every later file is new.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import openai

from schemas import Result

from . import __version__
from .batch_files import (
    MAX_BYTES,
    MAX_REQUESTS,
    URL,
    Answers,
    RequestKey,
    SplitWriter,
    iter_lines,
    read_answers,
    request_line,
)
from .config import Settings, redact_url
from .documents import Document, InputFailure, Item
from .endpoint import CallStats, Endpoint, completion_body, parse_completion
from .errors import ConfigError, InputError
from .output import JsonlSink, open_output, same_file
from .pipeline import Extractor, Options, error_record
from .prompting import PromptTemplate

FORMAT = "harness-batch/1"
MANIFEST, DOCUMENTS = "manifest.json", "documents.jsonl"
REQUEST_FILES = ("requests", "reask", "missing")
#: a base URL for the client object; never contacted (the POST is replaced)
UNUSED_URL = "http://batch.invalid/v1"
#: the settings that shape a request or a Result, kept in the manifest for ingest
KEPT_SETTINGS = ("mode", "max_tokens", "temperature", "reasks", "chunk_chars", "chunk_overlap", "max_doc_chars")

_ticket: ContextVar[Ticket] = ContextVar("batch_ticket")
_chunk: ContextVar[int] = ContextVar("batch_chunk")
_pass: ContextVar[str] = ContextVar("batch_pass")


def batch_mode(mode: str) -> str:
    """``auto`` has no endpoint to negotiate with: it is json_schema, what it picks against
    OpenAI and vLLM; a named mode stays."""
    return "json_schema" if mode == "auto" else mode


def body_sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:16]


class Pending(Exception):
    """A request of this document has no usable answer here (exported, missing, failed, or a
    re-ask still to send). Not a ``HarnessError``: ``gathered`` raises it at once."""


@dataclass
class Ticket:
    """What one document's requests met: filled by ``BatchEndpoint`` during ``extract``."""

    doc: Document
    expected: dict[str, str] | None = None  # custom_id -> body sha of the first asks (ingest)
    attempts: Counter = field(default_factory=Counter)
    asked: list[tuple[str, bytes]] = field(default_factory=list)  # bodies with no answer yet
    missing: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # first asks whose body differs from the export


class BatchEndpoint(Endpoint):
    """An ``Endpoint`` whose POST is a batch file: ``answers`` None writes, else reads."""

    def __init__(self, settings: Settings, model: str, display_url: str, answers: Answers | None,
                 sent: set[str] | None = None):
        super().__init__(settings, UNUSED_URL, model)
        self.display_url = display_url
        self._mode = batch_mode(settings.mode)
        self.answers = answers
        self.sent = sent or set()  # re-asks written by an earlier ingest
        self.used: set[str] = set()  # the custom_ids asked for that have an answer

    async def _post_completion(self, **params: Any):
        content, _ = completion_body(params)
        ticket, chunk, pass_name = _ticket.get(), _chunk.get(), _pass.get()
        ticket.attempts[chunk, pass_name] += 1
        key = RequestKey(ticket.doc.id, ticket.doc.sha256, chunk, pass_name, ticket.attempts[chunk, pass_name])
        custom_id = key.custom_id
        if self.answers is None or (key.attempt > 1 and custom_id not in self.answers
                                    and custom_id not in self.sent):
            ticket.asked.append((custom_id, content))  # export, or a re-ask to send
            raise Pending(custom_id)
        if custom_id in self.answers:
            self.used.add(custom_id)
        if key.attempt == 1 and ticket.expected is not None and ticket.expected.get(custom_id) != body_sha(content):
            ticket.changed.append(custom_id)
            raise Pending(custom_id)
        answer = self.answers.get(custom_id)
        if answer is None:
            ticket.missing.append(custom_id)
            raise Pending(custom_id)
        failure = answer.failure
        if failure is None:
            response = httpx2.Response(200, json=answer.body, request=httpx2.Request("POST", UNUSED_URL + URL[3:]))
            try:
                return parse_completion(response)
            except openai.APIResponseValidationError as exc:
                failure = exc.message
        ticket.failed.append((custom_id, failure))
        raise Pending(custom_id)

    def _translate(self, exc: BaseException, mode: str) -> Exception:
        seen, current = set(), exc
        while current is not None and id(current) not in seen:
            if isinstance(current, Pending):
                return current
            seen.add(id(current))
            current = current.__cause__ or current.__context__
        return super()._translate(exc, mode)


class BatchExtractor(Extractor):
    """The live ``Extractor``, telling the endpoint which chunk and pass a request is for."""

    async def _extract_chunk(self, doc, chunk, furniture, stats, warnings):
        _chunk.set(chunk.index)  # each chunk runs in its own task: the value stays in it
        return await super()._extract_chunk(doc, chunk, furniture, stats, warnings)

    async def _run_pass(self, pass_, shown, doc, stats):
        _pass.set(pass_.name)
        return await super()._run_pass(pass_, shown, doc, stats)

    async def extract(self, doc: Document, stats: CallStats | None = None) -> Result:
        stats = CallStats() if stats is None else stats
        try:
            return await super().extract(doc, stats)
        except Pending:
            return self._pending(doc, stats)

    def _pending(self, doc: Document, stats: CallStats) -> Result:
        ticket = _ticket.get()
        if ticket.changed:
            kind, what = "BatchChanged", (f"the request built now differs from the one exported for "
                                          f"{_ids(ticket.changed)} (prompt, schema or harness changed since "
                                          "the export): export this document again")
        elif ticket.failed:
            kind, what = "BatchRequestFailed", "; ".join(f"{cid}: {why}" for cid, why in ticket.failed[:3])
            what = f"{len(ticket.failed)} request(s) failed: {what}"
        elif ticket.missing:
            kind, what = "BatchRequestMissing", f"no answer to {_ids(ticket.missing)} in the output files given"
        else:
            kind, what = "BatchReaskPending", f"re-ask(s) {_ids([c for c, _ in ticket.asked])} to send"
        if ticket.failed or ticket.missing:
            what += "; `harness batch export --missing` re-exports them"
        return error_record(doc.id, kind, what, doc, self._provenance(stats, 0))


def _ids(ids: list[str]) -> str:
    return ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")


def _extractor(settings: Settings, manifest: dict[str, Any], template: PromptTemplate,
               answers: Answers | None, sent: set[str] | None = None) -> BatchExtractor:
    endpoint = BatchEndpoint(settings, manifest["model"], manifest["endpoint"], answers, sent)
    return BatchExtractor(settings, endpoint, template, Options(**manifest["options"]))


def _doc_line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


# --- export --------------------------------------------------------------------------------------
@dataclass
class ExportReport:
    documents: int = 0
    input_errors: int = 0
    requests: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)


def _check_new_job(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"-o {folder} is a file: give a folder for the batch files")
    if folder.is_dir() and any((folder / name).exists() for name in (MANIFEST, DOCUMENTS)) or any(
            folder.glob("requests-*.jsonl")):
        raise ConfigError(f"-o {folder} already holds a batch export: give a new folder (or --missing "
                          "to re-export what an ingest listed)")


async def export_batch(items, settings: Settings, options: Options, folder: Path, model: str,
                       prompt: str = "news", max_requests: int = MAX_REQUESTS,
                       max_bytes: int = MAX_BYTES) -> ExportReport:
    """One request line per (document, chunk, pass) into ``folder``; the manifest last."""
    _check_new_job(folder)
    template = PromptTemplate.load(prompt)
    settings = settings.with_(retries=0)
    manifest: dict[str, Any] = {
        "format": FORMAT, "harness_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "url": URL, "model": model,
        "endpoint": redact_url(settings.base_url) if settings.base_url else f"batch:{URL}",
        "prompt": template.name, "prompt_sha256": template.sha256,
        "passes": [p.name for p in template.passes],
        "settings": {name: getattr(settings, name) for name in KEPT_SETTINGS} | {"mode": batch_mode(settings.mode)},
        "options": asdict(options),
        "limits": {"max_requests": max_requests, "max_bytes": max_bytes},
    }
    folder.mkdir(parents=True, exist_ok=True)
    report = ExportReport()
    writer = SplitWriter(folder, "requests", max_requests, max_bytes)
    extractor = _extractor(settings.with_(mode=manifest["settings"]["mode"]), manifest, template, None)
    try:
        # local files in a command with nothing else on its event loop: blocking writes are fine
        with open(folder / DOCUMENTS, "xb") as documents:  # noqa: ASYNC230 - "x": never overwrite
            for item in items:
                record = await _export_one(item, extractor, writer, report)
                documents.write(_doc_line(record))
    finally:
        writer.close()
        await extractor.endpoint.aclose()
    report.files = writer.files
    manifest.update(documents=report.documents, input_errors=report.input_errors, requests=report.requests,
                    files=writer.files)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if writer.oversize:
        print(f"harness: {len(writer.oversize)} request(s) alone exceed --max-bytes ({_ids(writer.oversize)}); "
              "each is in a file of its own", file=sys.stderr)
    return report


async def _export_one(item: Item, extractor: BatchExtractor, writer: SplitWriter, report: ExportReport) -> dict:
    report.documents += 1
    if isinstance(item, InputFailure):
        report.input_errors += 1
        return {"id": item.id, "source": item.source, "error": {"type": "InputError", "message": item.message}}
    ticket = Ticket(item)
    _ticket.set(ticket)
    _furniture, chunks = extractor._plan(item, [])
    result = await extractor.run_one(item)
    record = {"id": item.id, "sha256": item.sha256, "title": item.title, "published": item.published,
              "source": item.source, "warnings": item.warnings, "text": item.text,
              "chunks": [[c.start, c.end] for c in chunks], "passes": [p.name for p in extractor.template.passes]}
    if result.error is not None and result.error.type != "BatchReaskPending":
        record["error"] = result.error.model_dump()  # failed before any request (not expected)
        return record
    order = {name: i for i, name in enumerate(record["passes"])}
    asked = sorted(ticket.asked, key=lambda a: (RequestKey.parse(a[0]).chunk, order[RequestKey.parse(a[0]).pass_name]))
    record["requests"] = {}
    for custom_id, content in asked:
        writer.write(custom_id, request_line(custom_id, content))
        record["requests"][custom_id] = body_sha(content)
        report.requests += 1
    return record


# --- ingest --------------------------------------------------------------------------------------
@dataclass
class IngestReport:
    documents: int = 0
    errors: int = 0
    listed: int = 0  # failed or missing requests written to the listing
    reasks: int = 0
    unknown: int = 0  # answers to no request of this job (another job's output file?)
    reask_files: list[str] = field(default_factory=list)
    listing: Path | None = None

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise ConfigError(f"{folder} holds no {MANIFEST}: give the folder `harness batch export -o` wrote "
                          "(an export that stopped before its end has none: export again)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ConfigError(f"{path} is not a {FORMAT} manifest")
    return manifest


def listing_path(results: Path) -> Path:
    """Where ingest lists the failed and missing requests: ``RESULTS.missing.jsonl``."""
    return results.with_name(results.name.removesuffix(results.suffix) + ".missing.jsonl")


def _exported_ids(folder: Path, stems: tuple[str, ...]) -> set[str]:
    ids: set[str] = set()
    for stem in stems:
        for path in sorted(folder.glob(f"{stem}-*.jsonl")):
            for number, line in iter_lines(path):
                try:
                    ids.add(json.loads(line)["custom_id"])
                except (ValueError, KeyError, TypeError):
                    raise InputError(f"{path} line {number} is not a batch request line") from None
    return ids


def _check_outputs(folder: Path, inputs: list[Path], out: Path) -> None:
    """Refuse an -o (or its listing) that is a folder, an output or error file given, or a file
    of the job: ingest never overwrites what it reads."""
    job = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    for target in (out, listing_path(out)):
        if target.is_dir():
            raise ConfigError(f"-o {out}: {target} is a folder: give a file, e.g. results.jsonl")
        if any(same_file(target, p) for p in [*inputs, *job]):
            raise ConfigError(f"-o {out} would overwrite {target}, an input of this ingest: write elsewhere")


async def ingest_batch(folder: Path, outputs: list[Path], errors: list[Path], out: Path) -> IngestReport:
    """One Result or error record per exported document, into ``out``."""
    manifest = read_manifest(folder)
    _check_outputs(folder, [*outputs, *errors], out)
    missing_inputs = [str(p) for p in [*outputs, *errors] if not p.is_file()]
    if missing_inputs:
        raise ConfigError(f"no such file: {', '.join(missing_inputs)}")
    template = PromptTemplate.load(manifest["prompt"])
    if template.sha256 != manifest["prompt_sha256"]:
        raise ConfigError(f"the prompt template {template.name!r} changed since the export "
                          f"({manifest['prompt_sha256'][:12]} then, {template.sha256[:12]} now): "
                          "its answers belong to the old one; export again")
    settings = Settings(model=manifest["model"], retries=0, **manifest["settings"]).validated()
    answers = read_answers(outputs, errors)
    sent = _exported_ids(folder, ("reask", "missing"))
    limits = manifest.get("limits", {})
    reasks = SplitWriter(folder, "reask", limits.get("max_requests", MAX_REQUESTS), limits.get("max_bytes", MAX_BYTES))
    report = IngestReport(listing=listing_path(out))
    extractor = _extractor(settings, manifest, template, answers, sent)
    listed: list[dict[str, Any]] = []
    try:
        with open_output(out, append=False) as stream:
            sink = JsonlSink(stream)
            for _number, line in iter_lines(folder / DOCUMENTS):
                result = await _ingest_one(json.loads(line), extractor, reasks, listed, report)
                sink.write(result)
                report.documents += 1
                report.errors += result.error is not None
    finally:
        reasks.close()
        await extractor.endpoint.aclose()
    report.reask_files = [f["name"] for f in reasks.files]
    report.unknown = len(answers) - len(extractor.endpoint.used)
    report.listed = len(listed)
    with open(report.listing, "w", encoding="utf-8") as stream:  # noqa: ASYNC230 - see export_batch
        stream.writelines(json.dumps(entry, ensure_ascii=False) + "\n" for entry in listed)
    return report


async def _ingest_one(record: dict[str, Any], extractor: BatchExtractor, reasks: SplitWriter,
                      listed: list[dict[str, Any]], report: IngestReport) -> Result:
    if "sha256" not in record:  # an input that never became a document
        error = record.get("error") or {"type": "InputError", "message": "unreadable input"}
        return error_record(record["id"], error["type"], error["message"], source=record.get("source"))
    doc = Document(record["id"], record["text"], record.get("title"), record.get("published"),
                   record.get("source"), list(record.get("warnings") or []))
    if doc.sha256 != record["sha256"]:
        return error_record(doc.id, "BatchChanged", f"{DOCUMENTS} holds a text whose sha256 is not the one "
                            "exported: the job folder was edited; export this document again", doc)
    if "error" in record:
        return error_record(doc.id, record["error"]["type"], record["error"]["message"], doc)
    ticket = Ticket(doc, expected=record.get("requests") or {})
    _ticket.set(ticket)
    result = await extractor.run_one(doc)
    for custom_id, content in sorted(ticket.asked):
        reasks.write(custom_id, request_line(custom_id, content))
        report.reasks += 1
    listed += [{"custom_id": c, "doc_id": doc.id, "status": "failed", "why": why} for c, why in ticket.failed]
    listed += [{"custom_id": c, "doc_id": doc.id, "status": "missing"} for c in ticket.missing]
    return result


# --- export --missing ----------------------------------------------------------------------------
def export_missing(folder: Path, ingested: list[Path], max_requests: int | None = None,
                   max_bytes: int | None = None) -> ExportReport:
    """The requests the ingests listed as failed or missing, copied byte for byte from the job's
    request files into ``missing-N.jsonl``; documents some ingest finished are left out."""
    from .result_files import read_records

    manifest = read_manifest(folder)
    limits = manifest.get("limits", {})
    done: set[str] = set()
    wanted: dict[str, str] = {}
    for path in ingested:
        listing = listing_path(path)
        if not listing.is_file():
            raise ConfigError(f"--ingested {path}: no {listing.name} next to it; give the -o file of "
                              "`harness batch ingest`")
        records, _ = read_records(path)
        done |= {r["doc_id"] for r in records if not r.get("error")}
        for _number, line in iter_lines(listing):
            entry = json.loads(line)
            wanted[entry["custom_id"]] = entry["doc_id"]
    wanted = {cid: doc for cid, doc in wanted.items() if doc not in done}
    writer = SplitWriter(folder, "missing", max_requests or limits.get("max_requests", MAX_REQUESTS),
                         max_bytes or limits.get("max_bytes", MAX_BYTES))
    report = ExportReport()
    copied: set[str] = set()
    try:
        for stem in ("requests", "reask"):
            for path in sorted(folder.glob(f"{stem}-*.jsonl")):
                for _number, line in iter_lines(path):
                    custom_id = json.loads(line)["custom_id"]
                    if custom_id in wanted and custom_id not in copied:
                        writer.write(custom_id, (line + "\n").encode())
                        copied.add(custom_id)
    finally:
        writer.close()
    lost = sorted(set(wanted) - copied)
    if lost:
        raise InputError(f"{len(lost)} listed request(s) are in no request file of {folder}: {_ids(lost)}")
    report.requests = len(copied)
    report.documents = len(set(wanted.values()))
    report.files = writer.files
    return report


# --- command line --------------------------------------------------------------------------------
def batch_main(args: Any, settings: Settings) -> int:
    """``harness batch export|ingest``: 0 all done, 1 some error records, 2 bad usage (raised)."""
    import asyncio
    import os

    from .batch_files import parse_size
    from .documents import iter_documents
    from .session import DEFAULT_REMOTE_MODEL
    from .terminal import warner

    if args.batch_command == "ingest":
        report = asyncio.run(ingest_batch(args.job, args.output_files, args.error_files, args.output))
        print(f"harness: {report.documents} document(s) into {args.output}, {report.errors} error record(s)",
              file=sys.stderr)
        if report.unknown:
            print(f"harness: warning: {report.unknown} answer(s) in the files given belong to no request of "
                  f"{args.job} (another job's output file?); they were not used", file=sys.stderr)
        if report.reasks:
            print(f"harness: {report.reasks} re-ask(s) to send: {', '.join(str(args.job / f) for f in report.reask_files)}"
                  "; ingest again with their output files added", file=sys.stderr)
        if report.listed:
            print(f"harness: {report.listed} request(s) failed or are missing, listed in {report.listing}; "
                  f"`harness batch export -o {args.job} --missing --ingested {args.output}` re-exports them",
                  file=sys.stderr)
        return report.exit_code
    max_requests = args.max_requests
    if max_requests is not None and max_requests < 1:
        raise ConfigError("--max-requests must be at least 1")
    max_bytes = parse_size(args.max_bytes) if args.max_bytes is not None else None
    if args.missing:
        if not args.ingested:
            raise ConfigError("--missing needs --ingested RESULTS.jsonl: the Results `batch ingest -o` wrote")
        if args.paths:
            print(f"harness: --missing re-exports from {args.output / DOCUMENTS}; the PATHs are not read",
                  file=sys.stderr)
        report = export_missing(args.output, args.ingested, max_requests, max_bytes)
    else:
        if args.ingested:
            raise ConfigError("--ingested goes with --missing")
        if not args.paths:
            raise ConfigError("batch export needs at least one PATH (or --missing --ingested RESULTS.jsonl)")
        missing = [p for p in args.paths if p != "-" and not Path(p).exists()]
        if len(missing) == len(args.paths):
            raise ConfigError(f"no such file or folder: {', '.join(missing)}")
        # with no base URL, Settings keeps a model name as the embedded one; a batch names it anyway
        model = settings.model or (settings.local_model if args.model or os.environ.get("HARNESS_MODEL")
                                   else DEFAULT_REMOTE_MODEL)
        options = Options(drop_ungrounded=args.drop_ungrounded, strip_furniture=not args.keep_furniture,
                          include_text=args.include_text, recover_quotes=not args.model_quotes_only)
        _check_new_job(args.output)
        items = iter_documents(args.paths, settings.max_doc_chars, sys.stdin.buffer if "-" in args.paths else None,
                               warner(False))
        report = asyncio.run(export_batch(items, settings, options, args.output, model, args.prompt,
                                          max_requests or MAX_REQUESTS, max_bytes or MAX_BYTES))
    files = ", ".join(f"{f['name']} ({f['requests']} requests, {f['bytes']:,} bytes)" for f in report.files)
    print(f"harness: {report.requests} request(s) of {report.documents} document(s) into {args.output}: "
          f"{files or 'no file'}", file=sys.stderr)
    return 0
