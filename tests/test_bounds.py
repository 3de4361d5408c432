"""Every string a model writes is bounded after parsing; verbatim spans may be as long as the
text the model was shown."""

from __future__ import annotations

from harness.bounds import FIELD_CHARS, VERBATIM_MIN_CHARS, cap_strings
from schemas import Extraction


def extraction(summary: str, evidence: str) -> Extraction:
    return Extraction.model_validate({"events": [{
        "id": "e1", "type": "strategic.other", "status": "occurred", "summary": summary,
        "evidence": [evidence]}]})


def test_an_over_long_summary_is_cut_with_a_note():
    output = extraction("x" * 50_000, "short sentence.")
    notes = cap_strings(output, verbatim_chars=2_200)
    assert len(output.events[0].summary) == FIELD_CHARS and output.events[0].summary.endswith("…")
    assert notes == [("model output events[0].summary: 50,000 characters cut to 1,000 (longer than any "
                      "such field should be)")]


def test_verbatim_spans_may_be_as_long_as_the_chunk():
    long_sentence = "word " * 3_000  # 15,000 characters
    output = extraction("A summary.", long_sentence)
    assert cap_strings(output, verbatim_chars=20_000) == []
    assert cap_strings(output, verbatim_chars=2_000)  # the floor is VERBATIM_MIN_CHARS
    assert len(output.events[0].evidence[0].text) == VERBATIM_MIN_CHARS


def test_ordinary_output_is_untouched():
    output = extraction("A bomb exploded.", "A bomb exploded in the market on Sunday.")
    before = output.model_dump()
    assert cap_strings(output, verbatim_chars=2_200) == [] and output.model_dump() == before
