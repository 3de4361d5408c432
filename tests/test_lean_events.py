"""The lean events pass: what code can settle (evidence, a date's precision) is not asked of the
model, and the record it gives is a plain Extraction with the same Event fields."""

from __future__ import annotations

import json

from harness.decoding import decoding_schema
from harness.event_checks import evidence_from_trigger
from harness.grounding import ground_spans
from harness.prompting import PromptTemplate
from schemas import Event, Extraction
from schemas.news import EventsListPass, Precision

ARTICLE = (
    "TARVOS, March 12 (Wire) - Rebels shelled the market in Tarvos on Sunday, killing four. "
    "The army said it would respond.\nTalks are planned for May 2024."
)


def _draft(**over):
    event = {"id": "e1", "trigger": "shelled the market", "type": "explosion.shelling_artillery_missile_attack",
             "status": "occurred", "summary": "Rebels shelled the market.",
             "date": {"text": "on Sunday", "value": "2024-03-10"}, "fatalities": {"killed": 4}}
    return {**event, **over}


def test_the_schema_sent_asks_for_no_evidence_no_precision_and_no_casualty_words():
    schema = json.dumps(decoding_schema(EventsListPass))
    assert '"evidence"' not in schema
    assert '"precision"' not in schema and '"end"' not in schema
    assert '"approximate"' in schema and '"killed"' in schema


def test_the_pass_gives_plain_events_with_the_precision_of_their_value():
    output = EventsListPass.model_validate({"events": [
        _draft(), _draft(id="e2", trigger="Talks", date={"text": "May 2024", "value": "2024-05"}),
        _draft(id="e3", trigger="respond", date={"text": "soon", "value": None}),
    ]})
    record = PromptTemplate("t", Extraction, (), "x").combine([output])
    assert isinstance(record, Extraction)
    assert all(type(e) is Event for e in record.events)
    assert [e.date.precision for e in record.events] == [Precision.day, Precision.month, Precision.unknown]


def test_an_event_without_evidence_gets_the_sentence_of_its_trigger_without_the_dateline():
    record = Extraction(events=[Event.model_validate(_draft()),
                                Event.model_validate(_draft(id="e2", trigger="not in the article"))])
    ground_spans(record, ARTICLE)
    evidence_from_trigger(record, ARTICLE)
    first, second = record.events
    assert [s.text for s in first.evidence] == ["Rebels shelled the market in Tarvos on Sunday, killing four."]
    span = first.evidence[0]
    assert ARTICLE[span.start:span.end] == span.text and span.grounding.value == "exact"
    assert second.evidence == []  # its trigger is not in the article: nothing to point at


def test_evidence_the_model_gave_is_left_as_it_is():
    record = Extraction(events=[Event.model_validate(_draft(evidence=["The army said it would respond."]))])
    ground_spans(record, ARTICLE)
    evidence_from_trigger(record, ARTICLE)
    assert [s.text for s in record.events[0].evidence] == ["The army said it would respond."]


def test_the_lean_prompt_loads_and_its_example_triggers_are_in_its_text():
    template = PromptTemplate.load("news-lean")
    events = template.passes[0]
    assert events.output_model is EventsListPass
    (question, answer), = events.examples
    for event in json.loads(answer)["events"]:
        assert event["trigger"] in question
    statuses = {e["status"] for e in json.loads(answer)["events"]}
    assert statuses >= {"occurred", "announced", "planned", "threatened", "denied", "hypothetical"}
