"""Reading Result files back: one JSON Result, a JSON array of them, or JSON Lines.

The one reader behind ``view``, ``compare``, ``--resume`` and the tidying of a resumed output.
A JSONL line ends at ``\\n`` and nowhere else: ``str.splitlines`` also breaks at U+2028, U+2029
and U+0085, which JSON strings may hold unescaped, and would cut a Result in two.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import InputError

JSONL_SUFFIXES = (".jsonl", ".ndjson")
#: what every reader says of a file that is not Results
NOT_RESULTS = "pass a Result JSON or JSONL file written by `python -m harness extract`"


def split_lines(text: str) -> list[str]:
    """``text`` cut after every ``\\n`` (each line keeps it; a last line without one is kept)."""
    lines = text.split("\n")
    last = lines.pop()
    return [line + "\n" for line in lines] + ([last] if last else [])


def parse_record(line: str) -> tuple[dict[str, Any] | None, str | None]:
    """(record, None) for a JSON object with a string ``doc_id``, else (None, what is wrong)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} at column {exc.colno}"
    except RecursionError:
        return None, "JSON nested too deeply"
    if not isinstance(record, dict):
        return None, f"a JSON {type(record).__name__}, not an object"
    if not isinstance(record.get("doc_id"), str):
        return None, 'no string "doc_id"'
    return record, None


def read_records(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """The records of a Result file, and whether it is JSON Lines (several lines, or named so).

    Raises ``InputError`` naming the file, the line and the problem when any record is not a
    JSON object with a ``doc_id``.
    """
    try:
        raw = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}; check the path") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 (byte {exc.start}); {NOT_RESULTS}") from None
    try:
        whole = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        whole = None
    else:
        records = whole if isinstance(whole, list) else [whole]
        for number, record in enumerate(records, 1):
            if not isinstance(record, dict) or not isinstance(record.get("doc_id"), str):
                kind = type(record).__name__
                raise InputError(f"{path}: record {number} is not a valid Result (a JSON {kind} without a "
                                 f"string \"doc_id\"); {NOT_RESULTS}")
        return records, Path(path).suffix.lower() in JSONL_SUFFIXES  # one line is still a batch
    records = []
    for number, line in enumerate(split_lines(raw), 1):
        if not line.strip():
            continue
        record, problem = parse_record(line)
        if problem:
            raise InputError(f"{path} line {number} is not a valid Result ({problem}); {NOT_RESULTS}")
        records.append(record)
    return records, True
