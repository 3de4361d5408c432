"""Prompt templates: ``prompts/<name>/{system.j2, user.j2, examples.json}``.

The messages are laid out so that everything fixed comes first and is byte-identical for every
document (system instructions, then each few-shot example as a user/assistant pair); the
article comes last, inside ``<article>`` delimiters, so a server can reuse its prompt cache.
The template's identity is its name plus the sha256 of its files.
"""

from __future__ import annotations

import hashlib
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
TEMPLATE_FILES = ("system.j2", "user.j2", "examples.json")


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    system: str
    examples: tuple[tuple[str, str], ...]
    user: jinja2.Template
    sha256: str

    @classmethod
    def load(cls, name: str = "news", output_model: type[BaseModel] | None = None,
             root: Path = PROMPTS_DIR) -> PromptTemplate:
        folder = root / name
        if not (folder / "system.j2").is_file():
            known = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
            raise ConfigError(f"no prompt template {name!r} in {root} (known: {', '.join(known)})")
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
            autoescape=False,  # prompts are plain text, not HTML
        )
        digest = hashlib.sha256()
        for file in TEMPLATE_FILES:
            path = folder / file
            if path.is_file():
                digest.update(file.encode() + b"\0" + path.read_bytes() + b"\0")
        context = {"event_types": [t.value for t in EventType]}
        system = env.get_template("system.j2").render(**context).strip()
        user = env.get_template("user.j2")
        examples = []
        examples_path = folder / "examples.json"
        if examples_path.is_file():
            for i, example in enumerate(json.loads(examples_path.read_text(encoding="utf-8"))):
                if output_model is not None:
                    try:
                        output_model.model_validate(example["output"])
                    except ValidationError as exc:
                        raise ConfigError(f"{examples_path} example {i}: {exc}") from None
                rendered = user.render(
                    text=example["text"], title=example.get("title"), published=example.get("published")
                ).strip()
                answer = json.dumps(example["output"], ensure_ascii=False, separators=(",", ":"))
                examples.append((rendered, answer))
        return cls(name, system, tuple(examples), user, digest.hexdigest())

    def messages(self, text: str, title: str | None = None,
                 published: str | None = None) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = [{"role": "system", "content": self.system}]
        for question, answer in self.examples:
            messages.append({"role": "user", "content": question})
            messages.append({"role": "assistant", "content": answer})
        article = self.user.render(text=text, title=title, published=published).strip()
        messages.append({"role": "user", "content": article})
        return messages
