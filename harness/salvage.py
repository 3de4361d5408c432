"""Salvage the complete items of an answer cut off at ``max_tokens``.

A small model can loop until the token cap; the JSON is then unfinished and a strict parse
loses everything, the good items before the loop included (LangExtract drops such chunks with
only a log line). Here the partial JSON is read with jiter's partial mode, the item that was
being written when the cap hit is dropped, every other item is validated on its own, and the
caller reports how many were kept and dropped. Pure function, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import jiter
from pydantic import BaseModel, ValidationError

FENCE = re.compile(r"^\s*```(?:json)?\s*", re.I)


@dataclass(frozen=True)
class Salvaged:
    output: BaseModel
    kept: int
    dropped: int


def salvage(text: str, output_model: type[BaseModel]) -> Salvaged | None:
    """The complete, valid items of a truncated JSON answer, or None when nothing is usable."""
    try:
        data = jiter.from_json(FENCE.sub("", text or "").encode(), partial_mode=True)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    lists = [name for name, value in data.items() if name in output_model.model_fields and isinstance(value, list)]
    if not lists:
        return None
    fields: dict[str, list] = {}
    kept = dropped = 0
    for name in lists:
        items = list(data[name])
        if name == lists[-1] and items:
            items.pop()  # the item being written when the cap hit: maybe valid, surely cut short
            dropped += 1
        fields[name] = []
        for item in items:
            try:
                output_model.model_validate({name: [item]})
            except ValidationError:
                dropped += 1
                continue
            fields[name].append(item)
            kept += 1
    try:
        output = output_model.model_validate(fields)
    except ValidationError:  # the items are fine alone but not together (e.g. repeated ids)
        return None
    return Salvaged(output, kept, dropped) if kept else None


def completion_text(completion: object) -> str:
    """The answer text of a chat completion: message content, or the first tool call's arguments."""
    choices = getattr(completion, "choices", None) or []
    if not choices:
        return ""
    message = choices[0].message
    calls = getattr(message, "tool_calls", None) or []
    if calls:
        return calls[0].function.arguments or ""
    return message.content or ""
