"""Writing Results: JSON for one document, JSONL (one complete, flushed line each) for many.

A JSONL file written here survives a kill: every line is written whole and flushed, and
``--resume`` reads back the complete lines, cuts a torn last line, and skips what is done.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from schemas import Claim, Event, Extraction, Result

from .errors import ConfigError


def result_dict(result: Result) -> dict[str, Any]:
    return result.model_dump(mode="json", exclude={"text"} if result.text is None else None)


def dump_line(result: Result) -> str:
    """One compact JSON line: the same text as ``json.dumps(result_dict(result),
    ensure_ascii=False, separators=(",", ":"))``, written by pydantic-core in a third of the time."""
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


def iter_results(path: Path) -> Iterator[dict[str, Any]]:
    """Complete JSON lines of a Results file (a torn or invalid line is skipped)."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.endswith("\n"):
                return
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and "doc_id" in record:
                yield record


def prepare_resume(path: Path, retry_errors: bool = False) -> dict[str, str | None]:
    """Make ``path`` safe to append to and return {doc_id: text_sha256} of the documents done.

    A torn last line (the process was killed mid-write) is cut off. With ``retry_errors``,
    error records are removed (the file is rewritten atomically) so those documents run again.
    A document whose text changed since is run again and appended; its older record is
    removed here, or by ``keep_last`` at the end of that run, so each id has one record.
    """
    if not path.exists():
        return {}
    data = path.read_bytes()
    cut = data.rfind(b"\n") + 1
    if cut != len(data):
        with path.open("r+b") as handle:
            handle.truncate(cut)
    done: dict[str, str | None] = {}
    kept: dict[str, str] = {}
    lines = 0
    for record in iter_results(path):
        lines += 1
        if retry_errors and record.get("error"):
            continue
        done[record["doc_id"]] = record.get("text_sha256")
        kept.pop(record["doc_id"], None)  # a later record of the same id replaces the earlier
        kept[record["doc_id"]] = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
    if retry_errors or len(kept) != lines:
        _rewrite(path, kept.values())
    return done


def keep_last(path: Path, doc_ids: set[str]) -> None:
    """Keep only the last record of each of ``doc_ids`` in ``path`` (documents run again)."""
    if not doc_ids:
        return
    seen: set[str] = set()
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = []
    for line in reversed(lines):
        try:
            doc_id = json.loads(line).get("doc_id")
        except (json.JSONDecodeError, AttributeError):
            doc_id = None
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


def load_result(path: Path) -> list[Result]:
    """Results from a JSON file (one Result) or a JSONL file (one per line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    stripped = text.lstrip()
    try:
        if stripped.startswith("{") and "\n{" not in stripped.rstrip():
            return [Result.model_validate_json(text)]
        return [Result.model_validate_json(line) for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        raise ConfigError(f"{path} does not hold harness Results: {str(exc)[:300]}") from None


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
