"""Writing Results: JSON for one document, JSONL (one complete, flushed line each) for many.

A JSONL file written here survives a kill: every line is written whole and flushed, and
``--resume`` reads back the complete lines, cuts a torn last line, and skips what is done.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from schemas import Claim, Event, Extraction, Result

from .errors import ConfigError
from .result_files import parse_record, split_lines


def result_dict(result: Result) -> dict[str, Any]:
    return result.model_dump(mode="json", exclude={"text"} if result.text is None else None)


def dump_line(result: Result) -> str:
    """One compact JSON line: the same text as ``json.dumps(result_dict(result),
    ensure_ascii=False, separators=(",", ":"))``, written by pydantic-core in a third of the time.
    Strings may hold U+2028, U+2029 and U+0085 unescaped: read it back split at ``\\n`` only
    (``result_files``), never with ``str.splitlines``."""
    return result.model_dump_json(exclude={"text"} if result.text is None else None) + "\n"


def dump_pretty(result: Result) -> str:
    return json.dumps(result_dict(result), ensure_ascii=False, indent=2) + "\n"


class JsonlSink:
    """Appends one line per Result and flushes it at once: a killed process (SIGINT or SIGKILL)
    leaves only complete lines behind. (No fsync per line: it blocked the event loop for 3-5 ms
    a document, and only an OS crash, not a killed process, needs it.)"""

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def write(self, result: Result) -> None:
        self.stream.write(dump_line(result))
        self.stream.flush()


def check_output(inputs: list[str], out: Path | None, html_dir: Path | None = None) -> None:
    """Refuse, before anything is opened, an output that is one of the inputs, a folder, or
    somewhere nothing can be written (``ConfigError``: exit 2, nothing touched)."""
    if out is not None:
        if out.is_dir():
            raise ConfigError(f"-o {out} is a folder: give a file, e.g. {out / 'results.jsonl'}")
        for name in inputs:
            if name != "-" and same_file(Path(name), out):
                raise ConfigError(f"-o {out} is the input {name}: extract would overwrite what it "
                                  "reads; write the Results to another file")
        _check_writable(out, "-o")
    if html_dir is not None:
        if html_dir.exists() and not html_dir.is_dir():
            raise ConfigError(f"--html {html_dir} is a file: give a folder for the pages")
        _check_writable(html_dir / "page.html", "--html")


def _check_writable(path: Path, flag: str) -> None:
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigError(f"{flag} {path}: {folder} is a file, not a folder: cannot write there")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"{flag} {path}: no permission to write it")
    if not path.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {path}: no permission to create files in {folder}")


def same_file(a: Path, b: Path) -> bool:
    """``a`` and ``b`` are one file (the same path, a link, a hard link)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return a.resolve() == b.resolve()


def outputs_of(out: Path | None, html_dir: Path | None) -> Callable[[Path], bool]:
    """Whether a file met in an input folder is this run's output (the Results file, a page)."""

    def is_output(path: Path) -> bool:
        if out is not None and path.name == out.name and same_file(path, out):
            return True
        return html_dir is not None and path.suffix.lower() == ".html" and same_file(path.parent, html_dir)

    return is_output


@contextmanager
def open_output(out: Path, append: bool) -> Iterator[IO[str]]:
    """The output file, opened for appending (``--resume``) or anew. When the run fails, closing
    it cannot hide why (a full disk fails the write, then the flush at close again)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle = out.open("a" if append else "w", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror or exc}") from None
    try:
        yield handle
    except BaseException:
        with suppress(OSError):
            handle.close()
        raise
    handle.close()


def prepare_resume(path: Path, retry_errors: bool = False,
                   warn: Callable[[str], None] | None = None) -> dict[str, str | None]:
    """Make ``path`` safe to append to and return {doc_id: text_sha256} of the documents done.

    A torn last line (the process was killed mid-write) is cut off; a line anywhere else that is
    not a Result (garbled, half a line) is removed with a warning, so its document runs again.
    With ``retry_errors``, error records are removed so those documents run again. A document
    whose text changed since is run again and appended; its older record is removed here, or
    by ``keep_last`` at the end of that run, so each id has one record. A file holding no
    Result at all is refused (``ConfigError``): --resume never rewrites what it did not write.
    """
    if not path.exists():
        return {}
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path} to resume it: {exc.strerror or exc}") from None
    if b"\n" in data.strip():  # one pretty-printed Result (single-document output)?
        whole, _problem = parse_record(data.decode("utf-8", errors="replace"))
        if whole is not None:
            return {} if retry_errors and whole.get("error") else {whole["doc_id"]: whole.get("text_sha256")}
    cut = data.rfind(b"\n") + 1
    done: dict[str, str | None] = {}
    kept: dict[str, str] = {}
    removed: list[str] = []
    results = 0
    lines = split_lines(data[:cut].decode("utf-8", errors="replace"))
    for number, line in enumerate(lines, 1):
        if not line.strip():
            removed.append("")
            continue
        record, problem = parse_record(line)
        if record is None:
            removed.append(f"line {number} ({problem})")
            continue
        results += 1
        if retry_errors and record.get("error"):
            continue
        done[record["doc_id"]] = record.get("text_sha256")
        kept.pop(record["doc_id"], None)  # a later record of the same id replaces the earlier
        kept[record["doc_id"]] = line
    shown = [r for r in removed if r]
    if shown and not results:
        raise ConfigError(f"{path} holds no harness Result: --resume adds to a file written by "
                          "`harness extract`; choose another -o FILE")
    if shown and warn is not None:
        more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
        warn(f"{path}: {', '.join(shown[:5])}{more} not a Result: removed, their documents run again")
    if cut != len(data):
        with path.open("r+b") as handle:
            handle.truncate(cut)
    if retry_errors or removed or len(kept) != len(lines):
        _rewrite(path, kept.values())
    return done


def result_files(folder: Path) -> list[Path]:
    """The JSONL Result files of an output folder, oldest run first (their names sort by run)."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jsonl", ".ndjson") and p.is_file())


def prepare_folder_resume(folder: Path, retry_errors: bool = False,
                          warn: Callable[[str], None] | None = None) -> dict[str, str | None]:
    """``prepare_resume`` for a folder of JSONL Result files added run after run (the Ray
    engine's output): every file made safe to keep as ``prepare_resume`` makes one, and a later
    file's record of an id replaces an earlier file's, which is removed. {doc_id: text_sha256}."""
    if not folder.is_dir():
        return {}
    done: dict[str, str | None] = {}
    owner: dict[str, Path] = {}
    held: list[tuple[Path, set[str]]] = []
    for path in result_files(folder):
        found = prepare_resume(path, retry_errors, warn)
        for doc_id, sha in found.items():
            done.pop(doc_id, None)
            done[doc_id] = sha
            owner[doc_id] = path
        held.append((path, set(found)))
    for path, ids in held:
        drop_records(path, {doc_id for doc_id in ids if owner[doc_id] != path})
    return done


def drop_records(path: Path, doc_ids: set[str]) -> None:
    """Remove every record of ``doc_ids`` from the JSONL file ``path`` (replaced elsewhere)."""
    if not doc_ids:
        return
    lines = split_lines(path.read_text(encoding="utf-8"))
    kept = [line for line in lines if (parse_record(line)[0] or {}).get("doc_id") not in doc_ids]
    if len(kept) != len(lines):
        _rewrite(path, kept)


def keep_last(path: Path, doc_ids: set[str]) -> None:
    """Keep only the last record of each of ``doc_ids`` in ``path`` (documents run again)."""
    if not doc_ids:
        return
    seen: set[str] = set()
    kept = []
    for line in reversed(split_lines(path.read_text(encoding="utf-8"))):
        record, _problem = parse_record(line)
        doc_id = record["doc_id"] if record else None
        if doc_id in doc_ids:
            if doc_id in seen:
                continue
            seen.add(doc_id)
        kept.append(line)
    _rewrite(path, reversed(kept))


def _rewrite(path: Path, lines: Iterable[str]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("".join(lines), encoding="utf-8")
    os.replace(temporary, path)


SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "result": Result,
    "event": Event,
    "claim": Claim,
    "extraction": Extraction,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """``{file name: JSON Schema}``: what ``harness schema`` writes and ``schemas/`` commits."""
    return {
        f"{name}.schema.json": model.model_json_schema(mode="serialization")
        for name, model in SCHEMA_MODELS.items()
    }


def write_schemas(folder: Path | None) -> None:
    schemas = json_schemas()
    if folder is None:
        json.dump(schemas["result.schema.json"], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    folder.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas.items():
        (folder / name).write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
