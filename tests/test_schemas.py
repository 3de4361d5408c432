"""The record models: validators, the committed JSON Schema files, the decoding schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from harness.decoding import decoding_model, decoding_schema
from harness.output import dump_line, json_schemas, result_dict
from schemas import Claim, EventDate, Extraction, Fatalities, Result, Span, Speaker

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_committed_schema_matches_models(name):
    committed = json.loads((SCHEMAS / name).read_text())
    assert committed == json_schemas()[name], f"schemas/{name} is stale: run python -m harness schema --out schemas/"


def test_negative_casualties_rejected():
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        Fatalities(killed=-1)


def test_date_end_before_start_rejected():
    with pytest.raises(ValidationError, match="before its start"):
        EventDate(value="2024-01-28", end="2024-01-20", precision="day")
    assert EventDate(value="2024-01", end="2024-01-28").end == "2024-01-28"


def test_date_must_be_iso():
    with pytest.raises(ValidationError):
        EventDate(value="28 January 2024")


def test_claim_needs_a_speaker():
    with pytest.raises(ValidationError, match="needs a speaker"):
        Speaker(name=" ", role=None)
    assert Speaker(role="a Pentagon spokeswoman").name is None


def test_span_from_string_and_offsets_checked():
    assert Span.model_validate("words").text == "words"
    with pytest.raises(ValidationError, match="both be set"):
        Span(text="x", start=3)
    with pytest.raises(ValidationError, match="out of order"):
        Span(text="x", start=5, end=2)


def test_unknown_fields_rejected():
    with pytest.raises(ValidationError, match="extra"):
        Claim.model_validate({"id": "c1", "content": "x", "kind": "direct", "speaker": {"name": "A"},
                              "cue": "said", "confidence": 0.9})


def test_decoding_schema_drops_computed_fields_and_patterns():
    schema = json.dumps(decoding_schema(Extraction))
    assert '"pattern"' not in schema and '"start"' not in schema and '"grounding"' not in schema
    assert decoding_schema(Extraction)["$defs"]["Span"] == {
        "type": "string", "description": "Verbatim words copied from the article."}
    # the full model still validates what the model sends
    model = decoding_model(Extraction)
    parsed = model.model_validate({"events": [], "claims": [
        {"id": "c1", "content": "We've seen those reports.", "kind": "direct",
         "speaker": {"name": "Pat Ryder"}, "cue": "Said"}]})
    assert parsed.claims[0].cue == "said" and parsed.claims[0].content.start is None
    with pytest.raises(ValidationError):
        model.model_validate({"events": [{"id": "e1", "type": "explosion.air_drone_strike",
                                          "summary": "x", "date": {"value": "Sunday"}}]})


def test_results_validate_against_committed_schema():
    schema = json.loads((SCHEMAS / "result.schema.json").read_text())
    result = Result(doc_id="d", claims=[Claim(id="c1", content=Span(text="a", start=0, end=1, grounding="exact"),
                                               kind="direct", speaker=Speaker(name="A"), cue="said")])
    jsonschema.validate(json.loads(result.model_dump_json(exclude={"text"})), schema)


@pytest.mark.parametrize("text", [None, "Zürich — “Wir sind hier,” sagte sie.\n\tTab, \u2028, \x1f, 中文, 😀"])
def test_a_jsonl_line_is_the_compact_json_of_the_result(text):
    """``dump_line`` (pydantic-core) writes what ``json.dumps`` of the dumped dict would."""
    words = "“Wir sind hier,”"
    claim = Claim(id="c1", content=Span(text=words, start=0, end=len(words), grounding="exact"),
                  kind="direct", speaker=Speaker(name="Zoë Ündü"), cue="sagte")
    result = Result(doc_id="d", title="Zürich", claims=[claim], warnings=["é — ok"], text=text)
    assert dump_line(result) == json.dumps(result_dict(result), ensure_ascii=False, separators=(",", ":")) + "\n"
    assert ("text" in json.loads(dump_line(result))) == (text is not None)
