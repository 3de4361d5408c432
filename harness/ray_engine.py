"""``harness extract --engine ray``: the same per-document flow, scheduled by Ray Data.

    files (read_binary_files) / Parquet (read_parquet)
      -> Documents, parsed in Ray tasks by the readers ``extract`` uses (same ids, sources,
         warnings); documents already in the output folder (id and text sha256) are skipped
      -> blocks of ``batch_size`` documents (streaming repartition)
      -> an actor pool of ``workers`` extractors (``map_batches`` with ``ExtractWorker``): each
         holds one ``Extractor`` (chunking, prompts, re-asks, grounding, steps, validation) and
         one endpoint client, and runs a batch with ``--concurrency`` documents in flight
      -> Result lines, written by a Ray Data file datasink into the output folder, one file a
         block: ``results-<run stamp>-...jsonl``, each line what ``extract`` writes (dump_line)

A document that fails is an error record, never a failed job. The output folder is never
rewritten, only added to and tidied: rerunning the same command resumes it (the JSONL
``--resume`` of ``extract``, file by file: ``output.prepare_folder_resume``), and a document
whose text changed is run again and its older record removed. ``ray`` is imported only here,
and this module only when ``--engine ray`` is asked for. ``ray.init`` takes its address from
``RAY_ADDRESS`` (unset: a local Ray instance, stopped at the end).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from .batch import BatchReport, skip_done
from .config import Settings
from .documents import (
    JSONL_SUFFIXES,
    TEXT_SUFFIXES,
    Document,
    InputFailure,
    Item,
    _from_object,
    _too_big,
    iter_file_data,
    text_bytes,
    unique_ids,
)
from .errors import ConfigError, HarnessError
from .output import drop_records, dump_line, prepare_folder_resume, result_files, same_file
from .pipeline import Extractor, Options, run_ordered
from .prompting import PROMPTS_DIR, PromptTemplate
from .result_files import parse_record, split_lines
from .session import open_endpoint
from .terminal import printable, say, warner

EXTRA = 'pip install -e ".[ray]"'
PARQUET = ".parquet"
FILE_PREFIX = "results-"


class RayRunError(HarnessError):
    """The Ray job itself failed (a worker could not start, the cluster went away)."""

    kind = "RayRunError"


@dataclass(frozen=True)
class RayOptions:
    workers: int = 2  # extractor actors
    batch_size: int = 16  # documents per block and per map_batches call
    worker_cpus: float = 1.0  # CPUs Ray reserves for each extractor


def require_ray():
    """``ray`` (with Ray Data), or a ``ConfigError`` naming the extra that installs it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"--engine ray needs Ray Data, which is not installed ({exc}): {EXTRA}") from None
    return ray


# --- inputs ----------------------------------------------------------------------------------
@dataclass
class Inputs:
    """What the driver found: files to read whole ({absolute path: the name ``extract`` gives
    it}), Parquet files, and inputs that are already error records."""

    files: dict[str, str] = field(default_factory=dict)
    parquet: list[str] = field(default_factory=list)
    failures: list[InputFailure] = field(default_factory=list)


def plan_inputs(paths: list[str], out: Path, max_chars: int, warn) -> Inputs:
    """The inputs as ``iter_documents`` walks them (a folder's regular files, sorted, hidden
    ones and sub-folders left out), plus ``.parquet`` files and folders of them."""
    plan = Inputs()
    for name in paths:
        if name == "-":
            raise ConfigError("--engine ray reads files and folders, not stdin (-): write the documents to a file")
        path = Path(name)
        if path.is_dir():
            if same_file(path, out):
                raise ConfigError(f"-o {out} is the input folder {name}: write the Results elsewhere")
            if path.suffix.lower() == PARQUET:
                plan.parquet.append(str(path.resolve()))
                continue
            try:
                children = sorted(p for p in path.iterdir() if not p.name.startswith("."))
            except OSError as exc:
                plan.failures.append(InputFailure(path.name, f"cannot list folder {path}: {exc.strerror or exc}", str(path)))
                continue
            for child in children:
                if child.is_dir() or same_file(child, out):
                    continue
                if child.exists() and not child.is_file():
                    warn(f"{child} is not a regular file (a FIFO, socket or device): skipped")
                    continue
                _add_file(plan, child, max_chars, folder=True)
        elif not path.exists():
            plan.failures.append(InputFailure(path.stem or path.name, f"no such file or folder: {path}", str(path)))
        else:
            _add_file(plan, path, max_chars, folder=False)
    return plan


def _add_file(plan: Inputs, path: Path, max_chars: int, folder: bool) -> None:
    suffix = path.suffix.lower()
    if suffix == PARQUET:
        plan.parquet.append(str(path.resolve()))
        return
    if folder and suffix not in JSONL_SUFFIXES and suffix not in TEXT_SUFFIXES:
        return  # as extract: a folder's .json files and others are not articles
    if suffix in TEXT_SUFFIXES:  # refused unread, as extract refuses it
        try:
            size = path.stat().st_size
        except OSError as exc:
            plan.failures.append(InputFailure(path.stem or path.name, f"cannot read {path}: {exc.strerror or exc}", str(path)))
            return
        if size > text_bytes(max_chars):
            message = _too_big(str(path), size, text_bytes(max_chars), max_chars)
            plan.failures.append(InputFailure(path.stem or path.name, message, str(path)))
            return
    plan.files[str(path.resolve())] = str(path)


def item_row(item: Item) -> dict[str, str]:
    """A Document or InputFailure as one row (a JSON string: no schema to infer per block)."""
    kind = "document" if isinstance(item, Document) else "failure"
    return {"item": json.dumps({"kind": kind, **asdict(item)}, ensure_ascii=False)}


def row_item(value: str) -> Item:
    fields = json.loads(value)
    kind = fields.pop("kind")
    return Document(**fields) if kind == "document" else InputFailure(**fields)


#: the row a step emits when all its documents are done: Ray 2.52's streaming repartition waits
#: for ever on a block of no rows (StreamingRepartitionRefBundler never flushes one), so no
#: block may be empty; the extractors pass over it
NOTHING = {"item": ""}


def file_documents(row: dict[str, Any], names: dict[str, str], max_chars: int,
                   done: dict[str, str | None], quiet: bool) -> list[dict[str, str]]:
    """``flat_map``: one file's bytes -> its documents not done yet, as rows."""
    where = names.get(row["path"], row["path"])
    items = unique_ids(iter_file_data(where, bytes(row["bytes"]), max_chars, warner(quiet)))
    return [item_row(item) for item in skip_done(items, done, BatchReport())] or [NOTHING]


def parquet_documents(table, max_chars: int, done: dict[str, str | None]) -> dict[str, list[str]]:
    """``map_batches`` over Parquet rows: each row is a document object (``text``; ``id`` or
    ``_id``, ``title``, ``published``, ``source`` or ``url``), read as a JSONL line is."""
    def rows() -> Iterator[Item]:
        for row in table.to_pylist():
            where = row.pop("path", None) or "<parquet>"
            obj = {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in row.items()}
            text = obj.get("text")
            digest = hashlib.sha256(text.encode()).hexdigest()[:12] if isinstance(text, str) else "no-text"
            yield _from_object(obj, f"{Path(where).name}:{digest}", f"{where} row", where, max_chars)

    items = [item_row(i)["item"] for i in skip_done(unique_ids(rows()), done, BatchReport())]
    return {"item": items or [NOTHING["item"]]}


# --- the extractors --------------------------------------------------------------------------
class ExtractWorker:
    """One Ray actor: one endpoint client and one ``Extractor``, on an event loop of its own
    that lives as long as the actor (the HTTP connection pool is kept between batches)."""

    def __init__(self, settings: Settings, base_url: str, model: str, prompt: str,
                 prompt_root: str, prompt_sha256: str, options: Options):
        from .endpoint import Endpoint

        template = PromptTemplate.load(prompt, Path(prompt_root))
        if template.sha256 != prompt_sha256:
            raise ConfigError(f"prompt {prompt!r} here ({template.sha256[:12]}) is not the driver's "
                              f"({prompt_sha256[:12]}): the workers need the same prompts/ folder")
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.endpoint = Endpoint(settings, base_url, model, settings.api_key)
        self.extractor = Extractor(settings, self.endpoint, template, options)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        items = [self._item(value) for value in batch["item"] if value]  # not NOTHING
        results = self.loop.run_until_complete(self._run(items))
        return {
            "doc_id": [r.doc_id for r in results],
            "error": [r.error.type if r.error else None for r in results],
            "line": [dump_line(r) for r in results],
        }

    @staticmethod
    def _item(value: str) -> Item:
        try:
            return row_item(value)
        except Exception as exc:  # noqa: BLE001 - a row that is no item is that document's error
            return InputFailure("unknown", f"a row the Ray engine could not read back: {exc}")

    async def _run(self, items: list[Item]) -> list:
        return [r async for r in run_ordered(items, self.extractor.run_one, self.settings.concurrency)]


def _result_lines_datasink(folder: str, stamp: str):
    """A Ray Data file datasink writing each block's ``line`` column as one JSONL file."""
    from ray.data.datasource import BlockBasedFileDatasink, FilenameProvider

    class RunFiles(FilenameProvider):
        def get_filename_for_block(self, block, write_uuid, task_index, block_index):
            return f"{FILE_PREFIX}{stamp}-{write_uuid[:8]}-{task_index:06}-{block_index:06}.jsonl"

    class ResultLines(BlockBasedFileDatasink):
        def __init__(self):
            super().__init__(folder, file_format="jsonl", filename_provider=RunFiles())

        def write_block_to_file(self, block, file):
            file.write("".join(block.to_arrow().column("line").to_pylist()).encode("utf-8"))

    return ResultLines()


# --- the run ---------------------------------------------------------------------------------
def check_folder(paths: list[str], out: Path | None) -> None:
    if out is None:
        raise ConfigError("--engine ray needs -o DIR: the folder its Result files go into (and rerun from)")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"-o {out} is a file: with --engine ray, -o names a folder of Result files")
    for name in paths:
        if name != "-" and Path(name).is_file() and out.exists() and same_file(Path(name).parent, out):
            raise ConfigError(f"-o {out} holds the input {name}: write the Results to another folder")


def run_ray(paths: list[str], settings: Settings, options: Options, out: Path | None, *,
            ray_options: RayOptions = RayOptions(), retry_errors: bool = False, prompt: str = "news",
            quiet: bool = False) -> BatchReport:
    ray = require_ray()
    check_folder(paths, out)
    assert out is not None
    warn = warner(quiet)
    template = PromptTemplate.load(prompt)
    done = prepare_folder_resume(out, retry_errors, warn)
    plan = plan_inputs(paths, out, settings.max_doc_chars, warn)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    started_ray = not ray.is_initialized()
    if started_ray:
        ray.init(address=os.environ.get("RAY_ADDRESS") or None, include_dashboard=False,
                 logging_level=logging.WARNING, log_to_driver=not quiet)
    loop = asyncio.new_event_loop()
    stack = AsyncExitStack()
    try:
        endpoint, _health = loop.run_until_complete(
            stack.enter_async_context(open_endpoint(settings, log=(lambda _m: None) if quiet else None)))
        dataset = _dataset(ray, plan, settings, done, quiet, ray_options)
        if dataset is not None:
            worker = {
                "settings": settings, "base_url": endpoint.base_url, "model": endpoint.model,
                "prompt": template.name, "prompt_root": str(PROMPTS_DIR),
                "prompt_sha256": template.sha256, "options": options,
            }
            results = dataset.map_batches(
                ExtractWorker, fn_constructor_kwargs=worker, batch_size=ray_options.batch_size,
                compute=ray.data.ActorPoolStrategy(size=ray_options.workers), num_cpus=ray_options.worker_cpus,
            )
            try:
                results.write_datasink(_result_lines_datasink(str(out.resolve()), stamp))
            except HarnessError:
                raise
            except Exception as exc:  # the job, not a document: Ray's own error, named
                raise RayRunError(f"the Ray job failed: {type(exc).__name__}: {exc}; the Result files "
                                  f"written so far are kept in {out}: rerun the same command") from exc
    finally:
        loop.run_until_complete(stack.aclose())
        loop.close()
        if started_ray:
            ray.shutdown()
    return _report(out, stamp, done, quiet)


def _dataset(ray, plan: Inputs, settings: Settings, done: dict[str, str | None], quiet: bool,
             ray_options: RayOptions):
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = not quiet and sys.stderr.isatty()
    if quiet:
        logging.getLogger("ray.data").setLevel(logging.WARNING)
    parts = []
    if plan.files:
        parts.append(ray.data.read_binary_files(list(plan.files), include_paths=True).flat_map(
            file_documents, fn_kwargs={"names": plan.files, "max_chars": settings.max_doc_chars,
                                       "done": done, "quiet": quiet}))
    if plan.parquet:
        parts.append(ray.data.read_parquet(plan.parquet, include_paths=True).map_batches(
            parquet_documents, batch_format="pyarrow",
            fn_kwargs={"max_chars": settings.max_doc_chars, "done": done}))
    failures = [item_row(f) for f in skip_done(iter(plan.failures), done, BatchReport())]
    if failures:
        parts.append(ray.data.from_items(failures))
    if not parts:
        return None
    dataset = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    return dataset.repartition(target_num_rows_per_block=ray_options.batch_size)


def _report(out: Path, stamp: str, done: dict[str, str | None], quiet: bool) -> BatchReport:
    """This run's files read back: documents and errors counted, errors named, and the older
    records of documents run again (their text changed) removed from earlier files."""
    report = BatchReport()
    if not out.is_dir():
        return report
    files = result_files(out)
    new = [p for p in files if p.name.startswith(f"{FILE_PREFIX}{stamp}-")]
    written: set[str] = set()
    for path in new:
        for line in split_lines(path.read_text(encoding="utf-8")):
            record, _problem = parse_record(line)
            if record is None:
                continue
            written.add(record["doc_id"])
            report.documents += 1
            error = record.get("error")
            if error:
                report.errors += 1
                if not quiet:
                    say(printable(f"{record['doc_id']}: {error.get('type')}: {error.get('message')}"))
    report.changed = written & set(done)
    for path in files:
        if path not in new:
            drop_records(path, report.changed)
    report.skipped = max(0, len(done) - len(report.changed))
    if not quiet:
        say(f"{report.documents} Result(s) written into {out} ({len(new)} file(s)); "
            f"{len(done)} were there before this run")
    return report


def ray_main(paths: list[str], settings: Settings, options: Options, out: Path | None,
             ray_options: RayOptions, **kwargs) -> int:
    return run_ray(paths, settings, options, out, ray_options=ray_options, **kwargs).exit_code
