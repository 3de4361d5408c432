"""One self-contained HTML page per Result: the article with every span highlighted.

``render_result`` is a pure function (Result + article text -> HTML string); ``write_views`` and
``view_main`` are the file edges used by ``python -m harness view``. The page loads nothing from
the network: CSS and a little JavaScript are inline, and every text is escaped by jinja2.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from schemas import Result

from .documents import decode
from .errors import ConfigError, InputError
from .output import same_file
from .result_files import read_records
from .terminal import printable

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "view.html.j2"
UNGROUNDED_FLAGS = ("ungrounded", "possible_misquote")


@dataclass(frozen=True)
class Mark:
    """One span of one item, ready to place in the text."""

    key: str  # unique per span, e.g. "m3"
    item: str  # the item it belongs to, e.g. "ev0" or "cl2"
    family: str  # "event" | "claim"
    role: str  # "trigger" | "evidence" | "content" | "context"
    path: str  # e.g. "events[0].evidence[1]"
    span: dict[str, Any]
    grounding: str  # "exact" | "fuzzy" | "none" (as shown, see _grounding_of)
    problem: str | None = None  # why a span with offsets is shown as not found


@dataclass(frozen=True)
class Segment:
    """A run of text between two span boundaries and the marks covering all of it."""

    text: str
    marks: tuple[Mark, ...] = ()

    @property
    def items(self) -> list[str]:
        return list(dict.fromkeys(m.item for m in self.marks))

    @property
    def classes(self) -> str:
        names = {f"{m.family[:2]}-{m.role}" for m in self.marks}
        names |= {m.family[:2] for m in self.marks}
        if any(m.grounding == "fuzzy" for m in self.marks):
            names.add("fuzzy")
        depth = max(len({m.item for m in self.marks if m.family == f}) for f in ("event", "claim"))
        if depth > 1:
            names.add(f"d{min(depth, 3)}")
        return " ".join(sorted(names))


@dataclass
class Item:
    """An event or claim as the page shows it."""

    key: str
    family: str
    data: dict[str, Any]
    marks: list[Mark] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why it is listed as ungrounded

    @property
    def first_mark(self) -> str | None:
        shown = [m for m in self.marks if m.grounding != "none" and m.span["end"] > m.span["start"]]
        return min(shown, key=lambda m: m.span["start"]).key if shown else None


def as_result(result: Result | dict[str, Any]) -> Result:
    """A Result from a model or a plain dict (an optional ``text`` key is ignored here)."""
    if isinstance(result, Result):
        return result
    data = dict(result)
    if "text" not in Result.model_fields:
        data.pop("text", None)
    try:
        return Result.model_validate(data)
    except ValidationError as exc:
        where = data.get("doc_id", "?")
        raise InputError(
            f"result {where!r} is not a valid Result ({exc.error_count()} problems: "
            f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}); pass a file written by "
            "`python -m harness extract`"
        ) from None


def _grounding_of(span: dict[str, Any], text: str) -> tuple[str, str | None]:
    start, end = span.get("start"), span.get("end")
    stated = span.get("grounding")
    if start is None or end is None or stated == "none":
        return "none", None
    if end > len(text):
        return "none", f"offsets {start}-{end} run past the end of the text ({len(text)} chars)"
    if stated == "fuzzy":
        return "fuzzy", None
    if text[start:end] != span["text"]:
        if stated == "exact":
            return "fuzzy", "marked exact but the text at these offsets differs"
        return "fuzzy", None
    return "exact", None


def collect_items(result: Result, text: str) -> list[Item]:
    """Every event and claim with its spans (marks) and ungrounded reasons."""
    dumped = result.model_dump(mode="json")
    items: list[Item] = []
    counter = 0

    def add(item: Item, role: str, path: str, span: dict[str, Any] | None) -> None:
        nonlocal counter
        if not span:
            return
        grounding, problem = _grounding_of(span, text)
        item.marks.append(
            Mark(f"m{counter}", item.key, item.family, role, path, span, grounding, problem)
        )
        counter += 1
        if grounding == "none":
            item.reasons.append(f"{path.split('.', 1)[1]} not found in the article")

    for i, event in enumerate(dumped["events"]):
        item = Item(f"ev{i}", "event", event)
        add(item, "trigger", f"events[{i}].trigger", event.get("trigger"))
        for j, span in enumerate(event.get("evidence") or []):
            add(item, "evidence", f"events[{i}].evidence[{j}]", span)
        items.append(item)
    for i, claim in enumerate(dumped["claims"]):
        item = Item(f"cl{i}", "claim", claim)
        add(item, "content", f"claims[{i}].content", claim.get("content"))
        for j, span in enumerate(claim.get("evidence") or []):
            add(item, "context", f"claims[{i}].evidence[{j}]", span)
        item.reasons += [f"flagged {f}" for f in claim.get("flags") or [] if f in UNGROUNDED_FLAGS]
        items.append(item)
    return items


def segment_text(text: str, marks: Iterable[Mark]) -> list[Segment]:
    """Cut ``text`` at every span boundary; each piece carries the marks that cover it.

    Overlapping and nested spans need no special case: a piece is covered by a mark when it
    lies inside the mark's [start, end).
    """
    placed = [m for m in marks if m.grounding != "none" and m.span["end"] > m.span["start"]]
    cuts = sorted(
        {0, len(text)} | {m.span["start"] for m in placed} | {m.span["end"] for m in placed}
    )
    segments = []
    for a, b in pairwise(cuts):
        covering = tuple(m for m in placed if m.span["start"] <= a and b <= m.span["end"])
        segments.append(Segment(text[a:b], covering))
    return segments


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["short"] = lambda s, n=12: (s or "")[:n]
    return env


def render_result(result: Result | dict[str, Any], text: str) -> str:
    """The page for one Result over its article ``text`` (the text the offsets point into)."""
    model = as_result(result)
    items = collect_items(model, text)
    marks = [m for item in items for m in item.marks]
    notes = []
    if model.text_sha256 and hashlib.sha256(text.encode("utf-8")).hexdigest() != model.text_sha256:
        notes.append(
            "The article text given does not match the Result's text_sha256: offsets may point "
            "at the wrong words. Pass the exact file that was extracted (--article)."
        )
    return (
        _environment()
        .get_template(TEMPLATE_NAME)
        .render(
            r=model.model_dump(mode="json"),
            items=items,
            events=[i for i in items if i.family == "event"],
            claims=[i for i in items if i.family == "claim"],
            ungrounded=[i for i in items if i.reasons],
            fuzzy=[m for m in marks if m.grounding == "fuzzy"],
            segments=segment_text(text, marks),
            event_keys={i.data["id"]: i.key for i in items if i.family == "event"},
            notes=notes,
            text_chars=len(text),
        )
    )


def safe_name(doc_id: str) -> str:
    """A file stem for ``doc_id``: the id itself when it is a safe name (letters of any script,
    digits, ``.``, ``_``, ``-``); otherwise its safe characters and a hash of the whole id, so
    ids that differ only in what was replaced (``a/b``, ``a b``, ``a_b``; ``.``, ``..``) never
    share a page."""
    stem = re.sub(r"[^\w.-]+", "_", doc_id).strip("._-")
    while len(stem.encode("utf-8")) > 150:  # file names are 255 bytes at most
        stem = stem[:-1]
    if stem == doc_id:
        return stem
    return f"{stem or 'document'}-{hashlib.sha256(doc_id.encode('utf-8', 'replace')).hexdigest()[:10]}"


class PageWriter:
    """Writes pages into one folder, each under a name no other page of this writer has (a
    case-insensitive file system could still join two ids: the later gets ``-2``)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.used: set[str] = set()

    def write(self, result: Result | dict[str, Any], text: str) -> Path:
        model = as_result(result)
        base = stem = safe_name(model.doc_id)
        n = 1
        while stem.lower() in self.used:
            n += 1
            stem = f"{base}-{n}"
        self.used.add(stem.lower())
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{stem}.html"
        path.write_text(render_result(model, text), encoding="utf-8")
        return path


def write_views(
    results: Iterable[tuple[Result | dict[str, Any], str]], out_dir: Path
) -> list[Path]:
    """Write ``<safe-id>.html`` per (result, text) into ``out_dir``; returns the paths."""
    writer = PageWriter(out_dir)
    return [writer.write(result, text) for result, text in results]


def read_article(path: Path) -> str:
    """An article as ``extract`` reads it (UTF-8, a BOM dropped, CRLF kept), so offsets match."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the article {path}: {exc.strerror or exc}; check --article") from None
    text, _warnings, error = decode(data, str(path))
    if error:
        raise InputError(f"{error}; check --article")
    assert text is not None
    return text


def view_main(result_path: Path, out: Path | None = None, article: Path | None = None) -> int:
    """``python -m harness view RESULT.json [--article FILE] [-o OUT]``; returns the exit code.

    A JSON file gives one page (default: RESULT.html beside it); a JSONL file gives one page per
    Result in a folder (default: RESULT_views/). The article text is ``--article`` when given,
    else the Result's own ``text`` field (``extract --include-text``). An error record without
    text gets a page that shows its error.
    """
    result_path = Path(result_path)
    records, many = read_records(result_path)
    if not records:
        raise InputError(f"{result_path} holds no Result; run `python -m harness extract` first")
    article_text = read_article(article) if article is not None else None
    pairs = []
    for record in records:
        text = article_text if article_text is not None else record.get("text")
        if text is None and record.get("error"):
            text = ""  # nothing was extracted: the page shows the error
        if not isinstance(text, str):
            raise InputError(
                f"{result_path}: Result {record.get('doc_id', '?')!r} has no article text; pass "
                "the article with --article FILE, or extract with --include-text"
            )
        pairs.append((record, text))
    if many or len(pairs) > 1:
        out_dir = out or result_path.with_name(result_path.stem + "_views")
        _not_an_input(out_dir, result_path, article)
        paths = write_views(pairs, out_dir)
    else:
        target = out or result_path.with_suffix(".html")
        if target.is_dir():
            paths = write_views(pairs, target)
        else:
            _not_an_input(target, result_path, article)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render_result(*pairs[0]), encoding="utf-8")
            paths = [target]
    for path in paths:
        print(printable(f"wrote {path}"), file=sys.stderr)
    return 0


def _not_an_input(target: Path, *inputs: Path | None) -> None:
    for given in inputs:
        if given is not None and same_file(target, given):
            raise ConfigError(f"-o {target} is the input {given}: choose another output")
