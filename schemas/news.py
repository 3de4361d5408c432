"""The shipped task: events reported and claims attributed in a news article.

These models are the only place the fields are defined. Two markers tie them to the engine
without importing it:

- a field whose ``json_schema_extra`` holds ``"x-computed": true`` is filled by the harness
  (offsets, grounding, resolved dates...) and is left out of the schema sent to the model;
- a model whose config holds ``"x-decode-as": "string"`` (``Span``) is asked of the model as
  a plain string and accepted as one.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .taxonomy import EventType

SCHEMA_VERSION = "1.0.0"

COMPUTED: dict[str, Any] = {"x-computed": True}
ISO_PARTIAL = r"^\d{4}(-\d{2}(-\d{2})?)?$"
_ISO_RE = re.compile(ISO_PARTIAL)


def computed(description: str = "", **kwargs: Any) -> Any:
    """A field the harness fills after extraction; never asked of the model."""
    if "default_factory" not in kwargs:
        kwargs.setdefault("default", None)
    return Field(description=description, json_schema_extra=COMPUTED, **kwargs)


class Strict(BaseModel):
    """Base for every record model: unknown fields are an error, names stay as written."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Grounding(str, Enum):
    exact = "exact"
    fuzzy = "fuzzy"
    none = "none"


class Span(Strict):
    """Text taken from the article and where it is.

    ``text`` is what the model (or the labeller) gave. When ``grounding`` is ``exact``,
    ``text == document[start:end]``. When ``fuzzy``, ``matched`` holds ``document[start:end]``,
    the article's own words, and ``similarity`` the score (0-100) of the match; the model's
    text is never overwritten. When ``none``, ``start`` and ``end`` are null.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"x-decode-as": "string"})

    text: str = Field(min_length=1, description="Verbatim words copied from the article.")
    start: int | None = computed(description="Offset of the first character in the document.")
    end: int | None = computed(description="Offset after the last character in the document.")
    grounding: Grounding | None = computed(description="How the text was found in the document.")
    matched: str | None = computed(description="document[start:end] when it differs from text.")
    similarity: float | None = computed(description="0-100 match score for fuzzy matches.")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_offsets(self) -> Span:
        if (self.start is None) != (self.end is None):
            raise ValueError("start and end must both be set or both be null")
        if self.start is not None and self.end is not None and not 0 <= self.start <= self.end:
            raise ValueError(f"span offsets out of order: start={self.start} end={self.end}")
        return self


class Status(str, Enum):
    occurred = "occurred"
    announced = "announced"
    planned = "planned"
    threatened = "threatened"
    denied = "denied"
    hypothetical = "hypothetical"


class Precision(str, Enum):
    day = "day"
    week = "week"
    month = "month"
    year = "year"
    unknown = "unknown"


class EventDate(Strict):
    text: str | None = Field(None, description="The date words as written, e.g. 'on Sunday'.")
    value: str | None = Field(
        None, pattern=ISO_PARTIAL, description="ISO 8601 date or partial date (YYYY, YYYY-MM)."
    )
    end: str | None = Field(None, pattern=ISO_PARTIAL, description="Last day, for a period.")
    precision: Precision = Precision.unknown
    resolved: bool | None = computed(description="True when value was computed from the dateline.")

    @model_validator(mode="after")
    def _end_after_start(self) -> EventDate:
        if self.value and self.end:
            width = min(len(self.value), len(self.end))
            if self.end[:width] < self.value[:width]:
                raise ValueError(f"date end {self.end} is before its start {self.value}")
        return self


class GeoPrecision(str, Enum):
    exact = "exact"
    near = "near"
    region = "region"
    country = "country"
    unknown = "unknown"


class Location(Strict):
    text: str | None = Field(None, description="The place words as written.")
    name: str | None = Field(None, description="Normalised place name.")
    country: str | None = None
    precision: GeoPrecision = GeoPrecision.unknown


ActorRole = Literal["perpetrator", "target", "victim", "participant", "announcer", "other"]
ActorKind = Literal[
    "state_forces", "rebel_group", "political_militia", "identity_militia", "rioters",
    "protesters", "civilians", "external_forces", "government", "organisation", "person", "other",
]  # fmt: skip


class Actor(Strict):
    name: str = Field(min_length=1)
    role: ActorRole = "other"
    kind: ActorKind = "other"


class Fatalities(Strict):
    killed: int | None = Field(None, ge=0)
    injured: int | None = Field(None, ge=0)
    text: str | None = Field(None, description="The casualty words as written.")
    approximate: bool = False


Certainty = Literal["claimed", "accused", "suspected", "confirmed", "denied"]


class Responsibility(Strict):
    actor: str = Field(min_length=1, description="Who is said to be responsible.")
    attributed_by: str | None = Field(None, description="Who says so (the actor itself if a claim).")
    certainty: Certainty = "accused"
    evidence: Span | None = computed(description="The article's sentence that says so.")


class Event(Strict):
    id: str = Field(min_length=1, description="Short id such as e1, used by claims.")
    type: EventType
    status: Status = Status.occurred
    summary: str = Field(min_length=1, description="One sentence: who did what to whom.")
    trigger: Span | None = Field(None, description="The words naming the event.")
    date: EventDate | None = None
    location: Location | None = None
    actors: list[Actor] = Field(default_factory=list)
    fatalities: Fatalities | None = None
    responsibility: list[Responsibility] = Field(default_factory=list)
    evidence: list[Span] = Field(default_factory=list, description="Sentences reporting it.")


class Speaker(Strict):
    name: str | None = Field(None, description="Person or body speaking, as named.")
    role: str | None = Field(None, description="Title or description, e.g. 'Pentagon press secretary'.")
    affiliation: str | None = None

    @model_validator(mode="after")
    def _someone(self) -> Speaker:
        if not (self.name or "").strip() and not (self.role or "").strip():
            raise ValueError("a claim needs a speaker: give the speaker's name or role")
        return self


class Claim(Strict):
    id: str = Field(min_length=1, description="Short id such as c1.")
    content: Span = Field(description="The words attributed, copied verbatim.")
    kind: Literal["direct", "indirect"] = Field(
        description="direct: quoted words; indirect: reported speech."
    )
    speaker: Speaker
    cue: str = Field(min_length=1, description="The reporting verb: said, denied, warned...")
    summary: str | None = None
    event_ids: list[str] = Field(default_factory=list)
    evidence: list[Span] = computed(
        default_factory=list, description="The sentence(s) holding the claim."
    )
    flags: list[str] = computed(default_factory=list, description="e.g. possible_misquote.")

    @field_validator("cue")
    @classmethod
    def _cue(cls, value: str) -> str:
        return value.strip().lower()


class Extraction(Strict):
    """What is asked of the model for one article (or one chunk of it)."""

    events: list[Event] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)

    @model_validator(mode="after")
    def _links(self) -> Extraction:
        ids = [e.id for e in self.events]
        if len(ids) != len(set(ids)):
            raise ValueError(f"event ids must be unique, got {ids}")
        return self


class EventsPass(Strict):
    """What the events pass asks of the model (small models do better one task at a time)."""

    events: list[Event] = Field(default_factory=list)


# --- the lean events pass: what code can settle is not asked of the model -----------------------
# Generated tokens are the cost on a CPU (about 20 a second). An event's evidence sentences were
# most of its tokens, and they are found in code: the sentences holding its trigger. So are a
# date's precision (from the value's length, or the resolved words), a place's precision and the
# casualty words. The model spends its tokens on listing every event instead.


class DateDraft(EventDate):
    end: str | None = computed(description="Not asked of the model.")
    precision: Precision = computed(default=Precision.unknown, description="From the value.")


class LocationDraft(Location):
    precision: GeoPrecision = computed(default=GeoPrecision.unknown, description="Not asked.")


class FatalitiesDraft(Fatalities):
    text: str | None = computed(description="Not asked of the model.")


class EventDraft(Event):
    """An Event as the lean events pass asks for it; ``to_event`` makes it a plain Event."""

    date: DateDraft | None = None
    location: LocationDraft | None = None
    fatalities: FatalitiesDraft | None = None
    evidence: list[Span] = computed(default_factory=list, description="The trigger's sentences.")

    def to_event(self) -> Event:
        event = Event.model_validate(self.model_dump())
        if event.date is not None and event.date.value and event.date.precision == Precision.unknown:
            event.date.precision = _PRECISION_OF_LENGTH.get(len(event.date.value), Precision.unknown)
        return event


_PRECISION_OF_LENGTH = {4: Precision.year, 7: Precision.month, 10: Precision.day}


class EventsListPass(Strict):
    """What the lean events pass asks of the model: every event, each without its evidence."""

    events: list[EventDraft] = Field(default_factory=list)

    def to_record(self) -> dict[str, Any]:
        """The record's fields (``Extraction.events``) from this pass's output."""
        return {"events": [e.to_event() for e in self.events]}


class ClaimsPass(Strict):
    """What the claims pass asks of the model."""

    claims: list[Claim] = Field(default_factory=list)


def iso_partial_ok(value: str) -> bool:
    return bool(_ISO_RE.match(value))
