"""One JSON object to one Document: which fields are read, and what a value of the wrong type
becomes.

A document object needs a string ``text``. Everything else is optional and forgiving, since
exports differ: ``id`` (or ``_id``, ``doc_id``) may be a string, a number or MongoDB's
``{"$oid": ...}``; ``title`` a string or a number; ``published`` a string, a year, or
MongoDB's ``{"$date": ...}`` (ISO text or epoch milliseconds, ``{"$numberLong": ...}`` too);
``source`` (or ``url``...) a string. A value of any other type (a list, an object, ``true``) is
left out with a warning on that document, never an error. Lone UTF-16 surrogates (``"\\ud800"``
is valid JSON) become U+FFFD with a warning: they cannot be written as UTF-8.

A harness Result (``doc_id``, ``events``, ``claims``, ``grounding``) is output, not a document:
``is_result`` tells it apart, so extract never reads its own Results back as input.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

#: the fields a document's id and source may come under ("_id": MongoDB exports, such as re3d's)
ID_FIELDS = ("id", "_id", "doc_id")
SOURCE_FIELDS = ("source", "url", "sourceUrl", "source_url")
#: keys every harness Result has (error records included), and no document needs
RESULT_KEYS = frozenset({"doc_id", "events", "claims", "grounding"})

_SURROGATE = re.compile("[\ud800-\udfff]")


def is_result(obj: object) -> bool:
    """True for a harness Result record: output of ``extract``, never a document."""
    return isinstance(obj, dict) and RESULT_KEYS <= obj.keys()


def kind_of(value: object) -> str:
    """``a list``, ``an object``, ``a boolean``...: the JSON type of ``value``, for messages."""
    names = {dict: "an object", list: "a list", bool: "a boolean", str: "a string",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def clean(value: str, warnings: list[str]) -> str:
    """``value`` with lone surrogates replaced by U+FFFD (one warning per document)."""
    if not _SURROGATE.search(value):
        return value
    note = "lone UTF-16 surrogate(s) in the input replaced with U+FFFD"
    if note not in warnings:
        warnings.append(note)
    return _SURROGATE.sub("\ufffd", value)


def _unwrap(value: Any) -> Any:
    """MongoDB extended JSON's one-key wrappers: {"$oid": x}, {"$numberLong": x}..."""
    while isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_id(obj: dict[str, Any], default: str, warnings: list[str]) -> str:
    """The document's id: the first id field that is a string or a number, else ``default``."""
    for name in ID_FIELDS:
        value = _unwrap(obj.get(name))
        if value is None or value == "":
            continue
        if isinstance(value, str):
            return clean(value, warnings)
        if _is_number(value):
            return str(value)
        warnings.append(f'"{name}" is {kind_of(value)}, not a string or number: this record is {default!r}')
        return default
    return default


def read_text_field(obj: dict[str, Any], names: tuple[str, ...], warnings: list[str]) -> str | None:
    """The first of ``names`` holding a string or a number, as text; other types are warned about."""
    for name in names:
        value = _unwrap(obj.get(name))
        if value is None or value == "":
            continue
        if isinstance(value, str):
            return clean(value, warnings)
        if _is_number(value):
            return str(value)
        warnings.append(f'"{name}" is {kind_of(value)}, not text: left out')
    return None


def read_published(obj: dict[str, Any], warnings: list[str]) -> str | None:
    """``published`` as text: a string as it is, a year, or MongoDB's ``{"$date": ...}``."""
    value = obj.get("published")
    if isinstance(value, dict) and len(value) == 1 and "$date" in value:
        value = _unwrap(value["$date"])
        # epoch milliseconds, as a number or as {"$numberLong": "1706572800000"}
        if _is_number(value) or (isinstance(value, str) and value.lstrip("-").isdigit()):
            try:
                return datetime.fromtimestamp(int(value) / 1000, UTC).isoformat()
            except (OverflowError, OSError, ValueError):
                warnings.append(f'"published" {{"$date": {str(value)[:40]}}} is no date: left out')
                return None
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return clean(value, warnings)
    if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
        return str(value)  # a year
    warnings.append(f'"published" is {kind_of(value)}, not a date: left out '
                    '(give ISO 8601 text, e.g. "2024-01-30")')
    return None
