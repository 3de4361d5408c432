"""The OpenAI Batch API's JSONL files, as ``harness batch`` writes and reads them.

Input (one request a line, what ``batch export`` writes; ``vllm run-batch -i`` reads the same):
``{"custom_id": str, "method": "POST", "url": "/v1/chat/completions", "body": {...}}``.
Output and error files (what the provider writes back, lines in any order):
``{"id": str, "custom_id": str, "response": {"status_code": int, "request_id": str, "body": {...}}
| null, "error": {"code": str, "message": str} | null}``.
A provider takes at most 50,000 requests and 200 MB a file (``MAX_REQUESTS``, ``MAX_BYTES``).

``custom_id`` says which request a line is: ``<doc id, percent-encoded>:<text sha256, 12 hex>:
<chunk index>:<pass name>:<attempt>`` (attempt 1 is the first ask, 2 the first re-ask).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, unquote

from .errors import ConfigError, InputError

URL = "/v1/chat/completions"
MAX_REQUESTS = 50_000
MAX_BYTES = 200_000_000  # 200 MB, counted in decimal megabytes (the smaller reading)
SHA_CHARS = 12
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``200MB``, ``500kb``, ``1G`` or a plain number of bytes."""
    found = _SIZE.match(str(text))
    if not found:
        raise ConfigError(f"--max-bytes {text!r}: give a size such as 200MB, 500KB or 1000000")
    unit = (found.group(2) or "").lower().rstrip("b")
    value = int(float(found.group(1)) * {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[unit])
    if value < 1:
        raise ConfigError(f"--max-bytes {text!r} must be at least one byte")
    return value


@dataclass(frozen=True)
class RequestKey:
    doc_id: str
    sha: str  # the first SHA_CHARS hex digits of the document text's sha256
    chunk: int
    pass_name: str
    attempt: int

    @property
    def custom_id(self) -> str:
        return f"{quote(self.doc_id, safe='')}:{self.sha[:SHA_CHARS]}:{self.chunk}:{self.pass_name}:{self.attempt}"

    @classmethod
    def parse(cls, custom_id: str) -> RequestKey:
        try:
            doc, sha, chunk, pass_name, attempt = custom_id.rsplit(":", 4)
            return cls(unquote(doc), sha, int(chunk), pass_name, int(attempt))
        except (ValueError, AttributeError):
            raise InputError(f"custom_id {custom_id!r} was not written by `harness batch export`") from None

    @property
    def slot(self) -> str:
        """The custom_id without its attempt: the same request, asked again or re-asked."""
        return self.custom_id.rsplit(":", 1)[0]


def request_line(custom_id: str, body: bytes) -> bytes:
    """One input line; ``body`` is the exact JSON the live path POSTs (kept byte for byte)."""
    head = json.dumps({"custom_id": custom_id, "method": "POST", "url": URL}, ensure_ascii=False)
    return head[:-1].encode() + b', "body": ' + body + b"}\n"


@dataclass
class Answer:
    """What the provider said to one request: a completion body, or why there is none."""

    custom_id: str
    body: dict[str, Any] | None  # the chat completion, when status 200
    failure: str | None  # "HTTP 500: ...", "error rate_limit_exceeded: ..." when it failed
    request_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def parse_answer(line: str, where: str) -> Answer:
    """One line of an output or error file (the documented BatchRequestOutput object)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not JSON ({exc.msg}); pass the output or error file the provider wrote") from None
    if not isinstance(record, dict) or not isinstance(record.get("custom_id"), str):
        raise InputError(f"{where}: no string \"custom_id\"; pass the output or error file the provider wrote")
    custom_id = record["custom_id"]
    response = record.get("response") if isinstance(record.get("response"), dict) else None
    error = record.get("error")
    request_id = response.get("request_id") if response else None
    if error:
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        return Answer(custom_id, None, f"error {code or 'unknown'}: {str(message)[:300]}", request_id)
    if response is None:
        return Answer(custom_id, None, "no response and no error in the line", None)
    status = response.get("status_code")
    body = response.get("body")
    if status != 200:
        said = body.get("error") if isinstance(body, dict) else body
        said = said.get("message", said) if isinstance(said, dict) else said
        return Answer(custom_id, None, f"HTTP {status}: {str(said)[:300]}", request_id)
    if not isinstance(body, dict):
        return Answer(custom_id, None, "HTTP 200 without a JSON object body", request_id)
    return Answer(custom_id, body, None, request_id)


def iter_lines(path: Path) -> Any:
    """(line number, line) of a JSONL file, split at ``\\n`` only, blank lines skipped."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            for number, line in enumerate(_split(stream), 1):
                if line.strip():
                    yield number, line
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 (byte {exc.start})") from None


def _split(stream: IO[str]) -> Any:
    rest = ""
    while chunk := stream.read(1 << 20):
        rest += chunk
        *lines, rest = rest.split("\n")
        yield from lines
    if rest:
        yield rest


class Answers:
    """Every answer of the output and error files by custom_id, read once; only where each line
    lies is kept (file, offset, length), not its body, so a job of millions of requests fits.
    When a request was answered more than once (a re-export of a failed one), an answer that
    succeeded wins over one that failed, a later over an earlier."""

    def __init__(self, outputs: list[Path], errors: list[Path]):
        self.paths = [*outputs, *errors]
        self._where: dict[str, tuple[int, int, int, bool]] = {}  # custom_id -> (file, offset, length, ok)
        for index, path in enumerate(self.paths):
            for number, offset, line in _offsets(path):
                answer = parse_answer(_text(line, offset, f"{path} line {number}"), f"{path} line {number}")
                known = self._where.get(answer.custom_id)
                if known is None or answer.ok or not known[3]:
                    self._where[answer.custom_id] = (index, offset, len(line), answer.ok)

    def __contains__(self, custom_id: str) -> bool:
        return custom_id in self._where

    def __len__(self) -> int:
        return len(self._where)

    def get(self, custom_id: str) -> Answer | None:
        where = self._where.get(custom_id)
        if where is None:
            return None
        index, offset, length, _ok = where
        with open(self.paths[index], "rb") as stream:
            stream.seek(offset)
            line = stream.read(length)
        where = f"{self.paths[index]} at byte {offset}"
        return parse_answer(_text(line, offset, where), where)


def read_answers(outputs: list[Path], errors: list[Path]) -> Answers:
    return Answers(outputs, errors)


def _offsets(path: Path) -> Any:
    """(line number, byte offset, line bytes) of each non-blank line, split at ``\n`` only."""
    try:
        with open(path, "rb") as stream:
            offset = 0
            for number, line in enumerate(stream, 1):  # binary iteration splits at b"\n" only
                if line.strip():
                    yield number, offset, line
                offset += len(line)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _text(line: bytes, offset: int, where: str) -> str:
    try:
        return line.decode("utf-8-sig" if offset == 0 else "utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{where} is not UTF-8 (byte {exc.start})") from None


class SplitWriter:
    """Request lines into ``<stem>-<n>.jsonl`` files in ``folder``, a new file whenever the next
    line would pass ``max_requests`` lines or ``max_bytes`` bytes. Never opens an existing file:
    numbering goes on after the highest ``<stem>-<n>.jsonl`` there."""

    def __init__(self, folder: Path, stem: str, max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES):
        self.folder, self.stem = folder, stem
        self.max_requests, self.max_bytes = max_requests, max_bytes
        self.files: list[dict[str, Any]] = []  # {"name", "requests", "bytes"} per file written
        self._stream: IO[bytes] | None = None
        self.oversize: list[str] = []  # custom_ids of lines alone over max_bytes

    def _next_path(self) -> Path:
        taken = [int(m.group(1)) for p in self.folder.glob(f"{self.stem}-*.jsonl")
                 if (m := re.fullmatch(rf"{re.escape(self.stem)}-(\d+)\.jsonl", p.name))]
        return self.folder / f"{self.stem}-{max(taken, default=0) + 1}.jsonl"

    def write(self, custom_id: str, line: bytes) -> str:
        """Writes one line; returns the name of the file it went into."""
        current = self.files[-1] if self.files else None
        if (current is None or current["requests"] + 1 > self.max_requests
                or (current["requests"] and current["bytes"] + len(line) > self.max_bytes)):
            self.close()
            path = self._next_path()
            self._stream = open(path, "xb")  # noqa: SIM115 - kept open across writes; "x": never overwrite
            current = {"name": path.name, "requests": 0, "bytes": 0}
            self.files.append(current)
        if len(line) > self.max_bytes:
            self.oversize.append(custom_id)
        assert self._stream is not None
        self._stream.write(line)
        current["requests"] += 1
        current["bytes"] += len(line)
        return current["name"]

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
