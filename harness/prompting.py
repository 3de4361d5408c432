"""Prompt templates: a task is ``prompts/<name>/`` with ``task.json``, ``user.j2`` and one folder
per pass (``<pass>/system.j2``, ``<pass>/examples.json``).

``task.json`` names the record model and, for each pass, the Pydantic model the model fills
(``"module:Class"``); a pass's output fields are a subset of the record's. The engine knows no
task: the news task is two passes (events, then claims) because a small model does better one
job at a time (measured: one combined call looped on repeated claims).

Each pass's messages put everything fixed first, byte-identical for every document (system
instructions, then each few-shot example as a user/assistant pair); the article comes last,
inside ``<article>`` delimiters, so a server can reuse its prompt cache. The template's identity
is its name plus the sha256 of all its files.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel, ValidationError

from schemas import EventType

from .errors import ConfigError

PROMPTS_DIR = Path(os.environ.get("HARNESS_PROMPTS_DIR") or Path(__file__).resolve().parents[1] / "prompts")


def _import(ref: str, where: Path) -> type[BaseModel]:
    module, _, name = ref.partition(":")
    try:
        model = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise ConfigError(f"{where}: cannot import {ref!r} (expected 'module:Class')") from None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise ConfigError(f"{where}: {ref!r} is not a Pydantic model")
    return model


@dataclass(frozen=True)
class Pass:
    name: str
    output_model: type[BaseModel]
    system: str
    examples: tuple[tuple[str, str], ...]
    user: jinja2.Template

    def messages(self, text: str, title: str | None = None,
                 published: str | None = None) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = [{"role": "system", "content": self.system}]
        for question, answer in self.examples:
            messages.append({"role": "user", "content": question})
            messages.append({"role": "assistant", "content": answer})
        article = self.user.render(text=text, title=title, published=published).strip()
        messages.append({"role": "user", "content": article})
        return messages


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    record_model: type[BaseModel]
    passes: tuple[Pass, ...]
    sha256: str

    @classmethod
    def load(cls, name: str = "news", root: Path = PROMPTS_DIR) -> PromptTemplate:
        folder = root / name
        task_file = folder / "task.json"
        if not task_file.is_file():
            known = sorted(p.name for p in root.iterdir() if (p / "task.json").is_file()) if root.is_dir() else []
            raise ConfigError(f"no prompt template {name!r} in {root} (known: {', '.join(known)})")
        try:
            task = json.loads(task_file.read_text(encoding="utf-8"))
            record = _import(task["record"], task_file)
            pass_specs = [(p["name"], _import(p["output"], task_file)) for p in task["passes"]]
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{task_file}: needs \"record\" and \"passes\" [{{\"name\", \"output\"}}] ({exc})") from None
        digest = hashlib.sha256()
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder), undefined=jinja2.StrictUndefined,
            autoescape=False,  # prompts are plain text, not HTML
        )
        user = env.get_template("user.j2")
        context = {"event_types": [t.value for t in EventType]}
        passes = tuple(
            Pass(pass_name, model, env.get_template(f"{pass_name}/system.j2").render(**context).strip(),
                 _examples(folder / pass_name / "examples.json", model, user), user)
            for pass_name, model in pass_specs
        )
        return cls(name, record, passes, digest.hexdigest())

    def combine(self, outputs: list[BaseModel]) -> BaseModel:
        """One record from the passes' outputs (each fills its own fields of the record). A pass
        whose model asks for less than the record holds gives the record's fields through its
        ``to_record()``; otherwise its fields are the record's own."""
        fields: dict[str, Any] = {}
        for output in outputs:
            to_record = getattr(output, "to_record", None)
            if callable(to_record):
                fields.update(to_record())
            else:
                fields.update({name: getattr(output, name) for name in type(output).model_fields})
        return self.record_model.model_validate(fields)


def _examples(path: Path, model: type[BaseModel], user: jinja2.Template) -> tuple[tuple[str, str], ...]:
    if not path.is_file():
        return ()
    examples = []
    for i, example in enumerate(json.loads(path.read_text(encoding="utf-8"))):
        try:
            model.model_validate(example["output"])
        except (ValidationError, KeyError) as exc:
            raise ConfigError(f"{path} example {i}: {exc}") from None
        question = user.render(text=example["text"], title=example.get("title"),
                               published=example.get("published")).strip()
        answer = json.dumps(example["output"], ensure_ascii=False, separators=(",", ":"))
        examples.append((question, answer))
    return tuple(examples)
