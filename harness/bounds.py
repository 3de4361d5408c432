"""Bounds on what a model writes: every string of a parsed output capped at a sane length.

A model (or an endpoint pretending to be one) can answer a 20 MB ``summary``; the schema sent
to the model is left as it is (recorded cassettes match on the request body), so the bound is
applied after parsing. Verbatim copies of the article (models marked ``x-decode-as: string``,
such as Span, whose ``text`` is a quote or a sentence) may be as long as the text the model was
shown; every other string (a summary, a name, an id, a cue) at most ``FIELD_CHARS``.

``map_strings(obj, fn)`` is the walk both this module and ``harness.secrets`` use: ``fn(path,
value, verbatim)`` returns each string's new value, set in place.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

from pydantic import BaseModel

FIELD_CHARS = 1_000
VERBATIM_MIN_CHARS = 10_000
MARK = "…"

StringFix = Callable[[str, str, bool], str]


def _verbatim_model(model: BaseModel) -> bool:
    extra = type(model).model_config.get("json_schema_extra")
    return isinstance(extra, dict) and extra.get("x-decode-as") == "string"


def map_strings(obj: Any, fn: StringFix, path: str = "") -> Any:
    """Apply ``fn`` to every string inside ``obj`` (models, lists, dicts), in place where it can;
    returns ``obj`` (or the new string, when ``obj`` is one)."""
    if isinstance(obj, str) and not isinstance(obj, Enum):
        return fn(path, obj, False)
    if isinstance(obj, BaseModel):
        verbatim = _verbatim_model(obj)
        for name in type(obj).model_fields:
            value = getattr(obj, name, None)
            where = f"{path}.{name}" if path else name
            if isinstance(value, str) and not isinstance(value, Enum):
                new = fn(where, value, verbatim and name == "text")
                if new != value:
                    setattr(obj, name, new)
            elif value is not None:
                map_strings(value, fn, where)
        return obj
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            if isinstance(item, str) and not isinstance(item, Enum):
                obj[i] = fn(f"{path}[{i}]", item, False)
            else:
                map_strings(item, fn, f"{path}[{i}]")
        return obj
    if isinstance(obj, dict):
        for key, item in obj.items():
            if isinstance(item, str) and not isinstance(item, Enum):
                obj[key] = fn(f"{path}.{key}", item, False)
            else:
                map_strings(item, fn, f"{path}.{key}")
    return obj


def cap_strings(obj: Any, verbatim_chars: int) -> list[str]:
    """Cut every over-long string of ``obj`` in place; one note per string cut."""
    verbatim_limit = max(VERBATIM_MIN_CHARS, verbatim_chars)
    notes: list[str] = []

    def cap(path: str, value: str, verbatim: bool) -> str:
        limit = verbatim_limit if verbatim else FIELD_CHARS
        if len(value) <= limit:
            return value
        notes.append(f"model output {path or 'value'}: {len(value):,} characters cut to {limit:,} "
                     "(longer than any such field should be)")
        return value[: limit - 1] + MARK

    map_strings(obj, cap)
    return notes
