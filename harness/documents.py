"""Reading documents: files, folders, JSONL files and stdin, streamed one at a time.

Every input ends as a ``Document`` or as an ``InputFailure`` (an error record for that input);
nothing stops the batch. Two things are left out on purpose, each with a warning: a harness
Result met as input (output is never read back as documents), and anything in a folder that is
not a regular file (a FIFO would block for ever). Nothing is read whole before its size is
checked: a text file or stdin up to 4 bytes a character of ``HARNESS_MAX_DOC_CHARS`` (UTF-8's
most), a JSON line or ``.json`` file up to 12 (a ``\\ud83d\\ude00`` escape pair per character).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .dates import detect_published
from .document_fields import (
    SOURCE_FIELDS,
    clean,
    is_result,
    kind_of,
    read_id,
    read_published,
    read_text_field,
)

TEXT_SUFFIXES = {".txt", ".text", ".md", ".html", ".htm", ""}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
#: a ``.json`` file named on the command line: one object, an array of them, or JSON Lines (a
#: ``mongoexport``); inside a folder it is skipped (it may be anything: entities, metadata)
JSON_SUFFIXES = {".json"}
BOM = b"\xef\xbb\xbf"

Warn = Callable[[str], None]


def _no_warning(_message: str) -> None:
    return None


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


@dataclass(frozen=True)
class _Oversize:
    """A JSON line longer than a document may be (skipped unread, counted)."""

    size: int


def text_bytes(max_chars: int) -> int:
    """The most bytes a text of ``max_chars`` characters takes: 4 a character, and a BOM."""
    return 4 * max_chars + len(BOM)


def json_bytes(max_chars: int) -> int:
    """The most bytes a JSON document of ``max_chars`` characters takes: 12 a character (an
    escaped surrogate pair), plus 1 MiB for its other fields."""
    return 12 * max_chars + (1 << 20)


def _too_big(where: str, size: int | None, limit: int, max_chars: int) -> str:
    amount = f"is {size:,} bytes" if size is not None else f"has more than {limit:,} bytes"
    return (f"{where} {amount}: more than {max_chars:,} characters (HARNESS_MAX_DOC_CHARS) in any "
            "encoding, so it was not read; split it or raise the limit")


def _lines(handle: IO[bytes], limit: int, first: bytes = b"") -> Iterator[bytes | _Oversize]:
    """The lines of ``handle`` (after ``first``, a line already read the same way), none read
    past ``limit`` bytes: a longer one is skipped to its end, unkept."""
    line = first or handle.readline(limit + 1)
    while line:
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
        else:
            size = len(line)
            while rest := handle.readline(1 << 20):
                size += len(rest)
                if rest.endswith(b"\n"):
                    break
            yield _Oversize(size)
        line = handle.readline(limit + 1)


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
    limit = text_bytes(max_chars)
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                return InputFailure(doc_id, _too_big(str(path), info.st_size, limit, max_chars), str(path))
            data = handle.read(limit + 1)
    except OSError as exc:
        return InputFailure(doc_id, f"cannot read {path}: {exc.strerror or exc}", str(path))
    if len(data) > limit:
        return InputFailure(doc_id, _too_big(str(path), None, limit, max_chars), str(path))
    return _text_document(doc_id, data, str(path), max_chars)


def _text_document(doc_id: str, data: bytes, where: str, max_chars: int) -> Item:
    text, warnings, error = decode(data, where)
    if error:
        return InputFailure(doc_id, error, where)
    assert text is not None
    doc = Document(doc_id, text, _split_title(text), detect_published(text), where, warnings)
    return _check_text(doc, max_chars)


def iter_jsonl(lines: Iterable[bytes | _Oversize], where: str, max_chars: int,
               warn: Warn = _no_warning) -> Iterator[Item]:
    results: list[int] = []
    for number, raw in enumerate(lines, 1):
        line_id = f"{Path(where).name}:{number}"
        if isinstance(raw, _Oversize):
            yield InputFailure(line_id, _too_big(f"{where} line {number}", raw.size, 0, max_chars), where)
            continue
        if not raw.strip():
            continue
        text, warnings, error = decode(raw, f"{where} line {number}")
        if error:
            yield InputFailure(line_id, error, where)
            continue
        obj, problem = _parse(text or "")
        if problem:
            yield InputFailure(line_id, f"{where} line {number} is not JSON: {problem}", where)
        elif is_result(obj):
            results.append(number)
        else:
            yield _from_object(obj, line_id, f"{where} line {number}", where, max_chars, warnings)
    _warn_results(warn, where, results, "line")


def _parse(text: str) -> tuple[object, str | None]:
    """(value, None) or (None, why ``text`` is not JSON this reader takes)."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, exc.msg
    except RecursionError:
        return None, "nested too deeply"
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        return None, str(exc)


def _warn_results(warn: Warn, where: str, numbers: list[int], what: str) -> None:
    if numbers:
        shown = ", ".join(map(str, numbers[:5])) + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")
        warn(f"{where}: {what} {shown}: a harness Result, not a document: skipped (extract reads "
             "articles; its Results are output)")


def _from_object(obj: object, default_id: str, what: str, where: str, max_chars: int,
                 warnings: list[str] | None = None) -> Item:
    """A document from one JSON object: ``text`` required; ``id`` (or ``_id``), ``title``,
    ``published``, ``source`` (or ``url``) optional (see ``document_fields``)."""
    warnings = list(warnings or [])
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        doc_id = read_id(obj, default_id, []) if isinstance(obj, dict) else default_id
        found = f' (its "text" is {kind_of(obj.get("text"))})' if isinstance(obj, dict) and "text" in obj else ""
        return InputFailure(doc_id, f"{what} needs a JSON object with a string \"text\" field{found}", where)
    text = clean(obj["text"], warnings)
    doc = Document(
        id=read_id(obj, default_id, warnings),
        text=text,
        title=read_text_field(obj, ("title",), warnings),
        published=read_published(obj, warnings) or detect_published(text),
        source=read_text_field(obj, SOURCE_FIELDS, warnings) or where,
        warnings=warnings,
    )
    return _check_text(doc, max_chars)


def _first_line(handle: IO[bytes], limit: int) -> tuple[bytes, bool]:
    """(first line, at most ``limit + 1`` bytes of it; whether the file is JSON Lines: that line
    is a whole object, and more follows)."""
    first = handle.readline(limit + 1)
    obj, problem = _parse(first.removeprefix(BOM).decode("utf-8", errors="replace"))
    return first, problem is None and isinstance(obj, dict) and bool(handle.peek(1))  # type: ignore[attr-defined]


def iter_json_file(path: Path, max_chars: int, warn: Warn = _no_warning) -> Iterator[Item]:
    """A ``.json`` file: JSON Lines (streamed), one document object, or an array of them."""
    where = str(path)
    limit = json_bytes(max_chars)
    try:
        with path.open("rb") as handle:
            first, lines = _first_line(handle, limit)
            if lines:
                yield from iter_jsonl(_lines(handle, limit, first), where, max_chars, warn)
                return
            data = first + handle.read(limit + 1 - len(first))
    except OSError as exc:
        yield InputFailure(path.stem, f"cannot read {path}: {exc.strerror or exc}", where)
        return
    yield from _json_documents(path, data, max_chars, warn)


def _json_documents(path: Path, data: bytes, max_chars: int, warn: Warn) -> Iterator[Item]:
    """The documents of a ``.json`` file that is not JSON Lines, from its bytes."""
    name, where = path.name, str(path)
    limit = json_bytes(max_chars)
    if len(data) > limit:
        yield InputFailure(path.stem, _too_big(where, None, limit, max_chars) + " (or give it as JSON "
                           "Lines, one document a line)", where)
        return
    text, warnings, error = decode(data, where)
    if error:
        yield InputFailure(path.stem, error, where)
        return
    value, problem = _parse(text or "")
    if problem:
        yield InputFailure(path.stem, f"{where} is not JSON ({problem}); an article as plain text "
                           "goes in a .txt file", where)
        return
    if isinstance(value, list):
        results = []
        for number, obj in enumerate(value, 1):
            if is_result(obj):
                results.append(number)
            else:
                yield _from_object(obj, f"{name}:{number}", f"{where} item {number}", where, max_chars, warnings)
        _warn_results(warn, where, results, "item")
    elif is_result(value):
        _warn_results(warn, where, [1], "item")
    else:
        yield _from_object(value, path.stem, where, where, max_chars, warnings)


#: a path never read as input (the run's own output); takes the path as found
Skip = Callable[[Path], bool]


def _never(_path: Path) -> bool:
    return False


def _iter_folder(path: Path, max_chars: int, warn: Warn, skip: Skip) -> Iterator[Item]:
    try:
        children = sorted(p for p in path.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        yield InputFailure(path.name, f"cannot list folder {path}: {exc.strerror or exc}", str(path))
        return
    for child in children:
        suffix = child.suffix.lower()
        if child.is_dir() or (suffix not in JSONL_SUFFIXES and suffix not in TEXT_SUFFIXES) or skip(child):
            continue
        if child.exists() and not child.is_file():  # a FIFO, socket or device: reading could block
            warn(f"{child} is not a regular file (a FIFO, socket or device): skipped")
            continue
        yield from _iter_path(child, max_chars, warn, skip)


def _iter_path(path: Path, max_chars: int, warn: Warn = _no_warning, skip: Skip = _never) -> Iterator[Item]:
    if path.is_dir():
        yield from _iter_folder(path, max_chars, warn, skip)
    elif not path.exists():
        # the id it would have if it existed, so --resume matches it either way
        yield InputFailure(path.stem or path.name, f"no such file or folder: {path}", str(path))
    elif path.suffix.lower() in JSONL_SUFFIXES:
        try:
            with path.open("rb") as handle:
                yield from iter_jsonl(_lines(handle, json_bytes(max_chars)), str(path), max_chars, warn)
        except OSError as exc:
            yield InputFailure(path.name, f"cannot read {path}: {exc.strerror or exc}", str(path))
    elif path.suffix.lower() in JSON_SUFFIXES:
        yield from iter_json_file(path, max_chars, warn)
    else:
        yield read_text_file(path, max_chars)


def _iter_stdin(stream: IO[bytes] | None, max_chars: int, warn: Warn) -> Iterator[Item]:
    if stream is None:
        yield InputFailure("stdin", "stdin is closed: nothing to read for '-'", "<stdin>")
        return
    first = stream.readline(json_bytes(max_chars) + 1)
    if first.removeprefix(BOM).lstrip().startswith(b"{"):
        lines = _lines(stream, json_bytes(max_chars), first)
        yield from iter_jsonl(lines, "<stdin>", max_chars, warn)
        return
    limit = text_bytes(max_chars)
    data = first + stream.read(max(0, limit + 1 - len(first)))
    if len(data) > limit:
        yield InputFailure("stdin", _too_big("<stdin>", None, limit, max_chars), "<stdin>")
        return
    yield _text_document("stdin", data, "<stdin>", max_chars)


def iter_documents(
    inputs: Iterable[str], max_chars: int, stdin: IO[bytes] | None = None,
    warn: Warn = _no_warning, skip: Skip = _never,
) -> Iterator[Item]:
    """Documents from paths (``-`` is stdin), in input order, with unique ids.

    A repeated id gets a ``~N`` suffix and a warning, so every input keeps its own record.
    ``warn`` is told what is left out (Results, FIFOs); ``skip`` names files a folder scan
    must pass over (the run's own output).
    """
    seen: dict[str, int] = {}
    for name in inputs:
        if name == "-":
            stream = stdin if stdin is not None else (sys.stdin.buffer if sys.stdin is not None else None)
            items = _iter_stdin(stream, max_chars, warn)
        else:
            items = _iter_path(Path(name), max_chars, warn, skip)
        yield from unique_ids(items, seen)


def iter_file_data(where: str, data: bytes, max_chars: int, warn: Warn = _no_warning) -> Iterator[Item]:
    """The documents of one file whose bytes were read elsewhere (Ray Data's ``read_binary_files``),
    as ``iter_documents`` reads that file named ``where``: the same ids, sources and warnings."""
    path = Path(where)
    suffix = path.suffix.lower()
    handle = io.BufferedReader(io.BytesIO(data))  # type: ignore[arg-type]  # peek, as a file's
    if suffix in JSONL_SUFFIXES:
        yield from iter_jsonl(_lines(handle, json_bytes(max_chars)), where, max_chars, warn)
    elif suffix in JSON_SUFFIXES:
        limit = json_bytes(max_chars)
        first, lines = _first_line(handle, limit)
        if lines:
            yield from iter_jsonl(_lines(handle, limit, first), where, max_chars, warn)
        else:
            yield from _json_documents(path, first + handle.read(limit + 1 - len(first)), max_chars, warn)
    elif len(data) > text_bytes(max_chars):
        doc_id = path.stem or path.name
        yield InputFailure(doc_id, _too_big(where, len(data), text_bytes(max_chars), max_chars), where)
    else:
        yield _text_document(path.stem or path.name, data, where, max_chars)


def unique_ids(items: Iterable[Item], seen: dict[str, int] | None = None) -> Iterator[Item]:
    """``items`` with every id made unique: a repeated id gets a ``~N`` suffix and a warning
    (``seen`` counts the ids met so far, across calls when shared)."""
    seen = {} if seen is None else seen
    for item in items:
        count = seen.get(item.id, 0) + 1
        seen[item.id] = count
        if count > 1:
            new_id = f"{item.id}~{count}"
            while new_id in seen:  # "a~2" given as an id of its own
                count += 1
                new_id = f"{item.id}~{count}"
            seen[item.id] = count
            seen[new_id] = 1
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
                first, lines = _first_line(handle, 1 << 20)
                return lines or first.removeprefix(BOM).lstrip().startswith(b"[")
        except OSError:
            return False
    return path.is_dir() or path.suffix.lower() in JSONL_SUFFIXES
