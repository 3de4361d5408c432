"""Dates: the article's own date and relative dates resolved against it."""

from __future__ import annotations

from datetime import date

import pytest

from harness.dates import detect_published, resolve, resolve_event_dates
from schemas import Event

TUESDAY = date(2024, 1, 30)


@pytest.mark.parametrize("words, expected", [
    ("on Sunday", "2024-01-28"), ("Tuesday", "2024-01-30"), ("yesterday", "2024-01-29"),
    ("two days earlier", "2024-01-28"), ("3 days ago", "2024-01-27"), ("January 28", "2024-01-28"),
    ("28 Jan 2024", "2024-01-28"), ("in December", "2023-12"), ("today", "2024-01-30"),
])
def test_relative_dates_look_back_from_publication(words, expected):
    assert resolve(words, TUESDAY)[0] == expected


def test_threats_look_forward():
    assert resolve("on Friday", TUESDAY, future=True)[0] == "2024-02-02"


def test_unknown_words_are_left_alone():
    assert resolve("in recent months", TUESDAY) is None


def test_published_date_from_the_head_of_the_article():
    assert detect_published("Headline\n\nJan 30, 2024\n\nBaghdad [Iraq], January 31 : text") == "2024-01-30"
    assert detect_published("No date here at all.") is None


def test_event_dates_resolved_and_model_disagreement_warned():
    event = Event.model_validate({"id": "e1", "type": "explosion.air_drone_strike", "summary": "x",
                                  "date": {"text": "on Sunday", "value": "2024-01-30", "precision": "day"}})
    warnings = resolve_event_dates([event], "2024-01-30")
    assert event.date.value == "2024-01-28" and event.date.resolved is True
    assert warnings and "the model said 2024-01-30" in warnings[0]


def test_a_relative_date_without_the_article_s_date_loses_the_model_s_guess():
    # a re3d State Department statement: "... attacks in Iraq today", no date anywhere; Qwen
    # gave the event 2023-05-16
    def event(words: str, value: str) -> Event:
        return Event.model_validate({"id": "e1", "type": "explosion.air_drone_strike", "summary": "x",
                                     "date": {"text": words, "value": value, "precision": "day"}})

    today, dated, vague = event("today", "2023-05-16"), event("on 28 Jan 2024", "2024-01-28"), event("recently", "2023-05")
    warnings = resolve_event_dates([today, dated, vague], None)
    assert today.date.value is None and today.date.precision == "unknown" and today.date.text == "today"
    assert dated.date.value == "2024-01-28"  # absolute words: nothing to anchor, nothing lost
    assert vague.date.value == "2023-05"  # words not understood: the model's value stays
    assert len(warnings) == 1 and "'today' is relative and the article's date is unknown" in warnings[0]
