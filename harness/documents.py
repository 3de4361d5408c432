"""Reading documents: files, folders, JSONL files and stdin, streamed one at a time.

Every input ends as a ``Document`` or as an ``InputFailure`` (an error record for that input);
nothing is dropped, nothing stops the batch.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .dates import detect_published

TEXT_SUFFIXES = {".txt", ".text", ".md", ".html", ".htm", ""}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
#: a ``.json`` file named on the command line: one object, an array of them, or JSON Lines (a
#: ``mongoexport``); inside a folder it is skipped (it may be anything: entities, metadata)
JSON_SUFFIXES = {".json"}
#: the fields a document's id and source may come under ("_id": MongoDB exports, such as re3d's)
ID_FIELDS = ("id", "_id", "doc_id")
SOURCE_FIELDS = ("source", "url", "sourceUrl", "source_url")


@dataclass
class Document:
    id: str
    text: str
    title: str | None = None
    published: str | None = None
    source: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass
class InputFailure:
    """An input that could not become a Document: it becomes an error record."""

    id: str
    message: str
    source: str | None = None


Item = Document | InputFailure


def decode(data: bytes, where: str) -> tuple[str | None, list[str], str | None]:
    """(text, warnings, error) for raw bytes: binary is refused, bad UTF-8 is replaced."""
    if b"\x00" in data[:8192]:
        return None, [], f"{where}: looks like a binary file (NUL bytes); give a UTF-8 text file"
    try:
        return data.decode("utf-8-sig"), [], None
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        return text, [f"invalid UTF-8 at byte {exc.start}: {bad} character(s) replaced with U+FFFD"], None


def _check_text(doc: Document, max_chars: int) -> Item:
    if not doc.text.strip():
        what = "empty" if not doc.text else "only whitespace"
        return InputFailure(doc.id, f"document {doc.id!r} is {what}: nothing to extract", doc.source)
    if len(doc.text) > max_chars:
        return InputFailure(
            doc.id,
            f"document {doc.id!r} has {len(doc.text):,} characters, over the limit of "
            f"{max_chars:,} (HARNESS_MAX_DOC_CHARS); split it or raise the limit",
            doc.source,
        )
    return doc


def _split_title(text: str) -> str | None:
    """A short first line followed by a blank line reads as a headline."""
    head, sep, rest = text.lstrip().partition("\n")
    if sep and rest.startswith(("\n", "\r\n")) and 0 < len(head.strip()) <= 200:
        return head.strip()
    return None


def read_text_file(path: Path, max_chars: int) -> Item:
    doc_id = path.stem or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        return InputFailure(doc_id, f"cannot read {path}: {exc.strerror or exc}", str(path))
    text, warnings, error = decode(data, str(path))
    if error:
        return InputFailure(doc_id, error, str(path))
    assert text is not None
    doc = Document(doc_id, text, _split_title(text), detect_published(text), str(path), warnings)
    return _check_text(doc, max_chars)


def iter_jsonl(lines: Iterable[bytes], where: str, max_chars: int) -> Iterator[Item]:
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        line_id = f"{Path(where).name}:{number}"
        text, warnings, error = decode(raw, f"{where} line {number}")
        if error:
            yield InputFailure(line_id, error, where)
            continue
        try:
            obj = json.loads(text or "")
        except json.JSONDecodeError as exc:
            yield InputFailure(line_id, f"{where} line {number} is not JSON: {exc.msg}", where)
            continue
        yield _from_object(obj, line_id, f"{where} line {number}", where, max_chars, warnings)


def _field(obj: dict, names: tuple[str, ...]) -> str | None:
    for name in names:
        value = obj.get(name)
        if isinstance(value, dict) and len(value) == 1:  # {"$oid": "..."}
            value = next(iter(value.values()))
        if value not in (None, ""):
            return str(value)
    return None


def _from_object(obj: object, default_id: str, what: str, where: str, max_chars: int,
                 warnings: list[str] | None = None) -> Item:
    """A document from one JSON object: ``text`` required; ``id`` (or ``_id``), ``title``,
    ``published``, ``source`` (or ``url``) optional."""
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        doc_id = (_field(obj, ID_FIELDS) if isinstance(obj, dict) else None) or default_id
        return InputFailure(doc_id, f"{what} needs a JSON object with a string \"text\" field", where)
    doc = Document(
        id=_field(obj, ID_FIELDS) or default_id,
        text=obj["text"],
        title=obj.get("title"),
        published=obj.get("published") or detect_published(obj["text"]),
        source=_field(obj, SOURCE_FIELDS) or where,
        warnings=warnings or [],
    )
    return _check_text(doc, max_chars)


def _first_line(handle: IO[bytes]) -> tuple[bytes, bool]:
    """(first line, whether the file is JSON Lines: that line is a whole object, and more follows)."""
    first = handle.readline()
    try:
        whole = isinstance(json.loads(first), dict)
    except (json.JSONDecodeError, UnicodeDecodeError):
        whole = False
    return first, whole and bool(handle.peek(1))  # type: ignore[attr-defined]


def iter_json_file(path: Path, max_chars: int) -> Iterator[Item]:
    """A ``.json`` file: JSON Lines (streamed), one document object, or an array of them."""
    name, where = path.name, str(path)
    try:
        with path.open("rb") as handle:
            first, lines = _first_line(handle)
            if lines:
                yield from iter_jsonl(_chain(first, handle), where, max_chars)
                return
            data = first + handle.read()
    except OSError as exc:
        yield InputFailure(path.stem, f"cannot read {path}: {exc.strerror or exc}", where)
        return
    text, warnings, error = decode(data, where)
    if error:
        yield InputFailure(path.stem, error, where)
        return
    try:
        value = json.loads(text or "")
    except json.JSONDecodeError as exc:
        yield InputFailure(path.stem, f"{where} is not JSON ({exc.msg}, line {exc.lineno}); an "
                           "article as plain text goes in a .txt file", where)
        return
    if isinstance(value, list):
        for number, obj in enumerate(value, 1):
            yield _from_object(obj, f"{name}:{number}", f"{where} item {number}", where, max_chars, warnings)
    else:
        yield _from_object(value, path.stem, where, where, max_chars, warnings)


def _iter_path(path: Path, max_chars: int) -> Iterator[Item]:
    if path.is_dir():
        try:
            children = sorted(p for p in path.iterdir() if not p.name.startswith("."))
        except OSError as exc:
            yield InputFailure(path.name, f"cannot list folder {path}: {exc.strerror or exc}", str(path))
            return
        for child in children:
            if child.is_dir():
                continue
            if child.suffix.lower() in JSONL_SUFFIXES or child.suffix.lower() in TEXT_SUFFIXES:
                yield from _iter_path(child, max_chars)
        return
    if not path.exists():
        # the id it would have if it existed, so --resume matches it either way
        yield InputFailure(path.stem or path.name, f"no such file or folder: {path}", str(path))
    elif path.suffix.lower() in JSONL_SUFFIXES:
        try:
            with path.open("rb") as handle:
                yield from iter_jsonl(handle, str(path), max_chars)
        except OSError as exc:
            yield InputFailure(path.name, f"cannot read {path}: {exc.strerror or exc}", str(path))
    elif path.suffix.lower() in JSON_SUFFIXES:
        yield from iter_json_file(path, max_chars)
    else:
        yield read_text_file(path, max_chars)


def _iter_stdin(stream: IO[bytes], max_chars: int) -> Iterator[Item]:
    first = stream.readline()
    if first.lstrip().startswith(b"{"):
        yield from iter_jsonl(_chain(first, stream), "<stdin>", max_chars)
        return
    text, warnings, error = decode(first + stream.read(), "<stdin>")
    if error:
        yield InputFailure("stdin", error, "<stdin>")
        return
    assert text is not None
    doc = Document("stdin", text, _split_title(text), detect_published(text), "<stdin>", warnings)
    yield _check_text(doc, max_chars)


def _chain(first: bytes, rest: Iterable[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def iter_documents(
    inputs: Iterable[str], max_chars: int, stdin: IO[bytes] | None = None
) -> Iterator[Item]:
    """Documents from paths (``-`` is stdin), in input order, with unique ids.

    A repeated id gets a ``~N`` suffix and a warning, so every input keeps its own record.
    """
    seen: dict[str, int] = {}
    for name in inputs:
        items = (
            _iter_stdin(stdin or sys.stdin.buffer, max_chars)
            if name == "-"
            else _iter_path(Path(name), max_chars)
        )
        for item in items:
            count = seen.get(item.id, 0) + 1
            seen[item.id] = count
            if count > 1:
                new_id = f"{item.id}~{count}"
                note = f"duplicate id {item.id!r}: this record is {new_id!r}"
                if isinstance(item, Document):
                    item.warnings.append(note)
                else:
                    item.message = f"{item.message} ({note})"
                item.id = new_id
            yield item


def is_multi(inputs: list[str]) -> bool:
    """True when the inputs may hold several documents (so output is JSONL)."""
    if len(inputs) != 1 or inputs[0] == "-":
        return True
    path = Path(inputs[0])
    if path.suffix.lower() in JSON_SUFFIXES and path.is_file():
        try:
            with path.open("rb") as handle:
                first, lines = _first_line(handle)
                return lines or first.lstrip().startswith(b"[")
        except OSError:
            return False
    return path.is_dir() or path.suffix.lower() in JSONL_SUFFIXES
