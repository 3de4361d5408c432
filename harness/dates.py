"""Dates: the article's own date, and event dates resolved against it ("on Sunday" -> 2024-01-28).

Pure functions. A relative date ("on Sunday", "yesterday", "last week", "two days earlier") is
resolved deterministically against the published date; past events look back, planned or
threatened ones look forward. The model's own value is kept when nothing can be resolved, and
dropped when the words are relative and the article has no date (it can only be a guess).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from schemas.news import Event, Precision

MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        1,
    )
    for m in names
}  # fmt: skip
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "a": 1}
FUTURE_STATUSES = {"planned", "threatened"}

_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DMY = re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<year>\d{{4}})\b", re.I)
_MDY = re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b", re.I)
_ISO = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b")
_DM = re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b", re.I)
_MD = re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b", re.I)
_AGO = re.compile(r"\b(?P<n>\d+|" + "|".join(NUMBERS) + r")\s+(?P<unit>day|week)s?\s+(?:ago|earlier|before)\b", re.I)


def _month(value: str) -> int:
    return value if isinstance(value, int) else MONTHS.get(value.lower().rstrip("."), 0) or int(value)


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date(text: str) -> date | None:
    """A full date written out in ``text`` (``Jan 30, 2024``, ``30 January 2024``, ``2024-01-30``)."""
    for pattern in (_ISO, _MDY, _DMY):
        found = pattern.search(text)
        if found:
            parts = found.groupdict()
            made = _make(int(parts["year"]), _month(parts["month"]), int(parts["day"]))
            if made:
                return made
    return None


def detect_published(text: str, head_chars: int = 400) -> str | None:
    """The article's date when its first lines carry one (a date line or a dated dateline)."""
    found = parse_date(text[:head_chars])
    return found.isoformat() if found else None


def resolve(text: str, reference: date, future: bool = False) -> tuple[str, Precision] | None:
    """Resolve date words against the reference date; None when they are not understood."""
    lowered = text.lower()
    absolute = parse_date(text)
    if absolute:
        return absolute.isoformat(), Precision.day
    if re.search(r"\btoday\b|\btonight\b|\bthis morning\b", lowered):
        return reference.isoformat(), Precision.day
    if "yesterday" in lowered or "a day ago" in lowered or "a day earlier" in lowered:
        return (reference - timedelta(days=1)).isoformat(), Precision.day
    if "tomorrow" in lowered:
        return (reference + timedelta(days=1)).isoformat(), Precision.day
    ago = _AGO.search(lowered)
    if ago:
        n = NUMBERS.get(ago["n"]) or int(ago["n"])
        days = n * (7 if ago["unit"] == "week" else 1)
        return (reference - timedelta(days=days)).isoformat(), Precision.day
    for index, name in enumerate(WEEKDAYS):
        if re.search(rf"\b{name}\b", lowered):
            delta = (reference.weekday() - index) % 7
            if future or "next" in lowered:
                delta = -((index - reference.weekday()) % 7 or 7)
            elif "last" in lowered and delta == 0:
                delta = 7
            return (reference - timedelta(days=delta)).isoformat(), Precision.day
    if "last week" in lowered:
        return (reference - timedelta(days=7)).isoformat(), Precision.week
    if "next week" in lowered:
        return (reference + timedelta(days=7)).isoformat(), Precision.week
    for pattern in (_DM, _MD):
        found = pattern.search(text)
        if found:
            month, day = _month(found["month"]), int(found["day"])
            year = reference.year
            candidate = _make(year, month, day)
            if candidate and not future and candidate > reference + timedelta(days=1):
                candidate = _make(year - 1, month, day)
            if candidate:
                return candidate.isoformat(), Precision.day
    month_only = re.search(rf"\b(?:in|during|since|last|early|late|mid-?)\s*{_MONTH}\b", text, re.I)
    if month_only:
        month = _month(month_only["month"])
        year = reference.year if month <= reference.month or future else reference.year - 1
        return f"{year:04d}-{month:02d}", Precision.month
    return None


def is_relative(text: str) -> bool:
    """Whether date words mean a day only against a reference ("today", "on Sunday", "in March"):
    they resolve, and differently against two different days."""
    one, other = resolve(text, date(2001, 6, 15)), resolve(text, date(2011, 3, 2))
    return one is not None and other is not None and one != other


def resolve_event_dates(events: list[Event], published: str | None) -> list[str]:
    """Fill or correct event date values from their wording; returns warnings."""
    try:
        reference = date.fromisoformat(published[:10]) if published else None
    except ValueError:
        reference = None
    warnings = []
    for event in events:
        when = event.date
        if when is None or not when.text:
            continue
        if reference is None:
            if when.value and is_relative(when.text):  # nothing to anchor it: the model guessed
                warnings.append(
                    f"event {event.id}: date {when.text!r} is relative and the article's date is "
                    f"unknown: the model's value {when.value} dropped (give the document a "
                    f"\"published\" date to resolve it)"
                )
                when.value, when.end, when.precision = None, None, Precision.unknown
            continue
        resolved = resolve(when.text, reference, future=event.status.value in FUTURE_STATUSES)
        if resolved is None:
            continue
        value, precision = resolved
        if when.value and when.value != value and not value.startswith(when.value):
            warnings.append(
                f"event {event.id}: date {when.text!r} resolved to {value} against {reference}; "
                f"the model said {when.value}"
            )
        when.value, when.precision, when.resolved = value, precision, True
        if when.end and when.end < value:
            when.end = None
    return warnings
