"""Target structures of the shipped task. Imports nothing from ``harness``."""

from .news import (
    SCHEMA_VERSION,
    Actor,
    Claim,
    ClaimsPass,
    Event,
    EventDate,
    EventsPass,
    Extraction,
    Fatalities,
    Grounding,
    Location,
    Responsibility,
    Span,
    Speaker,
    Status,
)
from .result import ErrorInfo, GoldResult, GroundingCounts, Provenance, Result, Usage
from .taxonomy import EventType, acled_labels

__all__ = [
    "SCHEMA_VERSION", "Actor", "Claim", "ClaimsPass", "ErrorInfo", "Event", "EventDate", "EventType", "EventsPass",
    "Extraction", "Fatalities", "GoldResult", "Grounding", "GroundingCounts", "Location",
    "Provenance", "Responsibility", "Result", "Span", "Speaker", "Status", "Usage", "acled_labels",
]
