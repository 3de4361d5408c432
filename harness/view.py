"""One self-contained HTML page per Result: the article with every span highlighted.

``render_result`` is a pure function (Result + article text -> HTML string); ``write_views`` and
``view_main`` are the file edges used by ``python -m harness view``. The page loads nothing from
the network: CSS and a little JavaScript are inline, and every text is escaped by jinja2.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from schemas import Result

from .errors import InputError

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
    for a, b in zip(cuts, cuts[1:]):
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
    """A filesystem-safe file stem for a doc_id."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", doc_id).strip("._-")[:120]
    return stem or "document"


def write_views(
    results: Iterable[tuple[Result | dict[str, Any], str]], out_dir: Path
) -> list[Path]:
    """Write ``<safe-id>.html`` per (result, text) into ``out_dir``; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    used: set[str] = set()
    for result, text in results:
        model = as_result(result)
        stem, n = safe_name(model.doc_id), 1
        while stem.lower() in used:
            n += 1
            stem = f"{safe_name(model.doc_id)}-{n}"
        used.add(stem.lower())
        path = out_dir / f"{stem}.html"
        path.write_text(render_result(model, text), encoding="utf-8")
        written.append(path)
    return written


def _read_records(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """The Result dicts in a JSON or JSONL file, and whether it was JSONL."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}; check the path") from None
    try:
        data = json.loads(raw)
        return ([data] if isinstance(data, dict) else list(data)), False
    except json.JSONDecodeError:
        pass
    records = []
    for n, line in enumerate(raw.splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"{path}:{n}: not JSON ({exc.msg}); expected a Result JSON or JSONL file"
                ) from None
    return records, True


def view_main(result_path: Path, out: Path | None = None, article: Path | None = None) -> int:
    """``python -m harness view RESULT.json [--article FILE] [-o OUT]``; returns the exit code.

    A JSON file gives one page (default: RESULT.html beside it); a JSONL file gives one page per
    Result in a folder (default: RESULT_views/). The article text is ``--article`` when given,
    else the Result's own ``text`` field (``extract --include-text``).
    """
    result_path = Path(result_path)
    records, many = _read_records(result_path)
    if not records:
        raise InputError(f"{result_path} holds no Result; run `python -m harness extract` first")
    article_text = None
    if article is not None:
        try:
            article_text = Path(article).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the article {article}: {exc}; check --article") from None
    pairs = []
    for record in records:
        if not isinstance(record, dict):
            raise InputError(
                f"{result_path}: expected Result objects, found {type(record).__name__}"
            )
        text = article_text if article_text is not None else record.get("text")
        if not isinstance(text, str):
            raise InputError(
                f"{result_path}: Result {record.get('doc_id', '?')!r} has no article text; pass "
                "the "
                "article with --article FILE, or extract with --include-text"
            )
        pairs.append((record, text))
    if many or len(pairs) > 1:
        out_dir = out or result_path.with_name(result_path.stem + "_views")
        paths = write_views(pairs, out_dir)
    else:
        target = out or result_path.with_suffix(".html")
        if target.is_dir():
            paths = write_views(pairs, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render_result(*pairs[0]), encoding="utf-8")
            paths = [target]
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)
    return 0
