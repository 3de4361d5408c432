"""The schema sent to the model: the task's Pydantic schema, made small and compilable.

- fields marked ``x-computed`` (offsets, grounding...) are removed: the harness fills them;
- models marked ``x-decode-as: string`` (Span) are asked for as plain strings;
- ``pattern``, ``format`` and similar constraints are dropped: some servers' schema-to-grammar
  converters crash on them (llama-cpp-python exits on a regex ``pattern``); Pydantic still
  validates the full schema afterwards, and a failure is re-asked;
- ``title`` keys go (tokens for nothing);
- every array gets ``maxItems`` (``MAX_ITEMS``): a small model under a grammar can otherwise
  loop on a list until it hits the token cap (measured: 1,600 tokens for a 2,000-character
  chunk). A chunk of ``HARNESS_CHUNK_CHARS`` rarely holds more; Pydantic does not enforce it.

``decoding_model(Model)`` returns a subclass whose ``model_json_schema()`` is that schema, so
instructor sends it in every mode while validating with the full model.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from pydantic import BaseModel

DROPPED_KEYWORDS = {"pattern", "format", "title", "examples", "x-computed", "x-decode-as"}
MAX_ITEMS = 12


def decoding_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = copy.deepcopy(model.model_json_schema())
    defs = schema.get("$defs", {})
    as_string = {name for name, d in defs.items() if d.get("x-decode-as") == "string"}
    for name in as_string:
        description = defs[name].get("properties", {}).get("text", {}).get("description")
        defs[name] = {"type": "string", **({"description": description} if description else {})}
    title = schema.get("title")
    _clean(schema)
    if title:
        schema["title"] = title  # instructor's tools mode names the function after it
    return schema


def _clean(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _clean(item)
        return
    if not isinstance(node, dict):
        return
    props = node.get("properties")
    if isinstance(props, dict):
        computed = [k for k, v in props.items() if isinstance(v, dict) and v.get("x-computed")]
        for key in computed:
            del props[key]
        if "required" in node:
            node["required"] = [k for k in node["required"] if k not in computed]
    if node.get("type") == "array":
        node.setdefault("maxItems", MAX_ITEMS)
    for key in DROPPED_KEYWORDS & node.keys():
        if key == "title" and isinstance(node.get("title"), dict):
            continue  # a property named "title", not the keyword
        del node[key]
    for key, value in list(node.items()):
        if key == "properties" and isinstance(value, dict):
            for child in value.values():
                _clean(child)
        else:
            _clean(value)


@cache
def decoding_model(model: type[BaseModel]) -> type[BaseModel]:
    """A subclass of ``model`` that advertises the decoding schema and validates fully."""
    frozen = json.dumps(decoding_schema(model))

    class Decoding(model):  # type: ignore[valid-type, misc]
        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            # a fresh copy per call (callers may change it); json.loads is ~10x copy.deepcopy
            return json.loads(frozen)

    Decoding.__name__ = Decoding.__qualname__ = model.__name__
    Decoding.__doc__ = model.__doc__
    return Decoding
