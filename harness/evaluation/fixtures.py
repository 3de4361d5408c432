"""Eval fixtures: ``evals/fixtures/<id>/{article.txt, meta.json, gold.json}``.

Every file a person edits is loaded through a model that rejects unknown fields; a problem is a
``FixtureError`` naming the file and the field.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas import GoldResult, Span

from ..errors import FixtureError

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "evals" / "fixtures"


class FixtureMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str | None = None
    published: str | None = Field(None, description="YYYY-MM-DD: the date relative dates resolve to.")
    source: str | None = Field(None, description="Outlet or publisher.")
    url: str | None = None
    licence: str = Field(description="Licence of the article text, e.g. 'public domain', 'OGL-3.0'.")
    attribution: str | None = None
    language: str = "en"
    synthetic: bool = Field(description="True for articles written for the suite.")
    tags: list[str] = Field(default_factory=list, description="What the fixture covers.")
    split: Literal["dev", "test"] = Field(
        description="dev: rules and prompts may be tuned on it; test: reported only, never tuned on."
    )


@dataclass(frozen=True)
class Fixture:
    path: Path
    meta: FixtureMeta
    text: str
    gold: GoldResult

    @property
    def id(self) -> str:
        return self.meta.id


def load_json(path: Path) -> Any:
    """JSON from a file a person edits; a problem is a FixtureError naming the file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FixtureError(f"{path}: missing") from None
    except json.JSONDecodeError as exc:
        raise FixtureError(f"{path}: not valid JSON ({exc})") from None


def _validate(model: type[BaseModel], data: object, path: Path) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
        )
        raise FixtureError(f"{path}: {problems}") from None


def load_fixture(folder: Path) -> Fixture:
    folder = Path(folder)
    try:
        text = (folder / "article.txt").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FixtureError(f"{folder / 'article.txt'}: missing") from None
    meta = _validate(FixtureMeta, load_json(folder / "meta.json"), folder / "meta.json")
    gold = _validate(GoldResult, load_json(folder / "gold.json"), folder / "gold.json")
    if meta.id != folder.name or gold.doc_id != meta.id:
        raise FixtureError(
            f"{folder}: folder name, meta.json id and gold.json doc_id must agree "
            f"({folder.name!r}, {meta.id!r}, {gold.doc_id!r})"
        )
    return Fixture(folder, meta, text, gold)  # type: ignore[arg-type]


SPLITS = ("dev", "test")


def iter_fixtures(root: Path = FIXTURES_DIR, pattern: str = "*", split: str | None = None) -> Iterator[Fixture]:
    """The fixtures whose id matches ``pattern``, of one split (``dev``/``test``) or of both."""
    for folder in sorted(p for p in Path(root).iterdir() if p.is_dir()):
        if fnmatch.fnmatch(folder.name, pattern):
            fixture = load_fixture(folder)
            if split is None or fixture.meta.split == split:
                yield fixture


def iter_spans(model: BaseModel, where: str = "") -> Iterator[tuple[str, Span]]:
    """Every Span inside ``model`` with a readable path such as ``claims[2].content``."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        yield from _walk(value, f"{where}.{name}" if where else name)


def _walk(value: object, where: str) -> Iterator[tuple[str, Span]]:
    if isinstance(value, Span):
        yield where, value
    elif isinstance(value, BaseModel):
        yield from iter_spans(value, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{where}[{i}]")


def span_problems(fixture: Fixture) -> list[str]:
    """Gold spans whose offsets do not point at their text: each a readable line."""
    problems = []
    for where, span in iter_spans(fixture.gold):
        if span.start is None or span.end is None:
            problems.append(f"{fixture.path.name}/gold.json {where}: no offsets for {span.text!r}")
        elif fixture.text[span.start : span.end] != span.text:
            found = fixture.text[span.start : span.end]
            problems.append(
                f"{fixture.path.name}/gold.json {where}: offsets {span.start}-{span.end} hold "
                f"{found!r}, not {span.text!r}"
            )
    return problems
