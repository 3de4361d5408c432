"""Deterministic corrections: repeats removed, quotation marks settle `kind`, claims linked."""

from __future__ import annotations

import random
from pathlib import Path

from harness.grounding import ground_spans
from harness.policy import apply_policy
from harness.refine import (
    dedupe, drop_contained, fix_speakers, join_adjacent, link_claims, quotations, settle_quotes, unique_event_ids,
)
from schemas import Extraction

ARTICLE = (Path(__file__).resolve().parents[1] / "evals/fixtures/seed-000-tower22/article.txt").read_text()
RYDER_SENTENCE = ("When questioned about the militia's statement, Pentagon press secretary Maj Gen Pat Ryder "
                  "responded during a briefing, saying, \"We've seen those reports. I don't have a specific "
                  "comment to provide other than that actions speak louder than words.\"")


def claim(cid, content, kind="indirect", name="Pat Ryder"):
    return {"id": cid, "content": content, "kind": kind, "speaker": {"name": name}, "cue": "said"}


def grounded(**parts) -> Extraction:
    extraction = Extraction.model_validate(parts)
    ground_spans(extraction, ARTICLE)
    return extraction


def test_repeated_claims_removed_once_each():
    line = "I will not get ahead of the president's decision-making."
    extraction = grounded(claims=[claim("c1", line, name="John Kirby")] * 3 + [claim("c4", "invented words here")] * 2)
    warnings = dedupe(extraction)
    assert [c.id for c in extraction.claims] == ["c1", "c4"] and warnings == ["3 repeated claim(s) removed"]


def test_sentence_narrowed_to_its_quotation_and_made_direct():
    extraction = grounded(claims=[claim("c1", RYDER_SENTENCE)])
    notes = settle_quotes(extraction, ARTICLE)
    content = extraction.claims[0].content
    assert content.text.startswith("We've seen those reports.") and content.text.endswith("louder than words.")
    assert ARTICLE[content.start:content.end] == content.text and extraction.claims[0].kind == "direct"
    assert "narrowed" in notes[0]


def test_quoted_words_become_direct_and_unquoted_words_indirect():
    extraction = grounded(claims=[
        claim("c1", "We're not looking to escalate here.", kind="indirect", name="John Kirby"),
        claim("c2", "it was not actively seeking war with Iran", kind="direct", name="White House"),
    ])
    settle_quotes(extraction, ARTICLE)
    assert [c.kind for c in extraction.claims] == ["direct", "indirect"]
    apply_policy(extraction, ARTICLE)
    assert "possible_misquote" not in extraction.claims[1].flags


def test_invented_direct_quote_keeps_its_misquote_flag():
    extraction = grounded(claims=[claim("c1", "Actions have a greater impact than mere words", kind="direct")])
    assert settle_quotes(extraction, ARTICLE) == []
    apply_policy(extraction, ARTICLE)
    assert "possible_misquote" in extraction.claims[0].flags


def test_claims_linked_to_events_in_their_sentence():
    extraction = grounded(
        events=[{"id": "e1", "type": "strategic.change_to_group_activity", "status": "announced", "summary": "x",
                 "evidence": ["The predominant Iran-backed militia in Iraq, Kataib Hezbollah, declared on Tuesday "
                              "the temporary suspension of its military operations against US forces, CNN reported."]}],
        claims=[claim("c1", "The predominant Iran-backed militia in Iraq, Kataib Hezbollah, declared on Tuesday "
                            "the temporary suspension of its military operations against US forces", name="CNN"),
                claim("c2", RYDER_SENTENCE)])
    apply_policy(extraction, ARTICLE)
    link_claims(extraction)
    assert extraction.claims[0].event_ids == ["e1"] and extraction.claims[1].event_ids == []


def test_claims_link_to_the_events_their_spans_overlap_as_a_scan_of_every_pair_would():
    # link_claims bisects the events' sorted spans; the definition is every claim against every
    # event. 300 random extractions (spans without offsets, repeated and nested ones included).
    rng = random.Random(8)

    def span(rng):
        if rng.random() < 0.1:
            return {"text": "x"}  # not found in the article: no offsets
        start = rng.randrange(0, 400)
        return {"text": "x", "start": start, "end": start + rng.randrange(1, 120)}

    for _ in range(300):
        extraction = Extraction.model_validate({
            "events": [{"id": f"e{n}", "type": "other", "summary": "s",
                        "trigger": span(rng) if rng.random() < 0.7 else None,
                        "evidence": [span(rng) for _ in range(rng.randrange(0, 3))]}
                       for n in range(rng.randrange(0, 8))],
            "claims": [claim(f"c{n}", span(rng)) for n in range(rng.randrange(0, 8))],
        })
        expected = [
            [e.id for e in extraction.events
             if any(w.start is not None and s.start is not None and w.start < s.end and s.start < w.end
                    for w in c.evidence or [c.content] for s in [*e.evidence, *filter(None, [e.trigger])])]
            for c in extraction.claims
        ]
        link_claims(extraction)
        assert [c.event_ids for c in extraction.claims] == expected


def test_quotations_found_with_curly_and_straight_marks():
    text = 'He said "one thing" and then “another thing” too.'
    assert [text[a:b] for a, b in quotations(text)] == ["one thing", "another thing"]


def test_statement_cut_in_sentences_is_joined_and_block_quote_is_direct():
    text = ("The Minister said:\n\nThe attack was horrific. It violated the peace.\n\nThe UK stands by Iraq.\n"
            "Others said the attack was planned.")
    extraction = Extraction.model_validate({"claims": [
        claim("c1", "The attack was horrific.", name="Foreign Office Minister"),
        claim("c2", "It violated the peace.", name="Foreign Office Minister"),
        claim("c3", "The UK stands by Iraq.", name="Foreign Office Minister"),
        claim("c4", "the attack was planned", name="Others")]})
    for c in extraction.claims:
        c.speaker.role = "Tobias Ellwood" if c.id != "c4" else None
    ground_spans(extraction, text)
    assert fix_speakers(extraction)[0].startswith("claim c1: speaker name and role swapped")
    join_adjacent(extraction, text)
    settle_quotes(extraction, text)
    first = extraction.claims[0]
    assert [c.id for c in extraction.claims] == ["c1", "c4"]
    assert first.content.text == "The attack was horrific. It violated the peace.\n\nThe UK stands by Iraq."
    assert first.speaker.name == "Tobias Ellwood" and first.kind == "direct"


def test_sentence_cut_before_the_closing_mark_is_still_narrowed():
    sentence = ('In an official statement, Kataib Hezbollah stated, "We are announcing the suspension of military '
                'and security operations against the occupation forces (US troops) in order to prevent '
                'embarrassment to the Iraqi government.')
    extraction = grounded(claims=[claim("c1", sentence, name="Kataib Hezbollah")])
    settle_quotes(extraction, ARTICLE)
    assert extraction.claims[0].content.text.startswith("We are announcing the suspension")
    assert extraction.claims[0].kind == "direct"


def test_part_of_a_quotation_widens_to_the_whole_quotation():
    extraction = grounded(claims=[claim("c1", "We're not looking to escalate here.", name="John Kirby"),
                                  claim("c2", "Make no mistake about that.", name="John Kirby")])
    notes = settle_quotes(extraction, ARTICLE)
    dedupe(extraction)
    assert len(extraction.claims) == 1 and "widened" in notes[0]
    content = extraction.claims[0].content
    assert content.text.startswith("We are not looking for war with Iran") and content.text.endswith("decision-making.")


def test_fragments_inside_a_claim_of_the_same_speaker_go():
    # usds-06's shape: the model repeated pieces of one sentence as further claims
    whole = "approximately 166 instances of US troops in the Middle East being targeted since October"
    extraction = grounded(claims=[
        claim("c1", whole, name="US officials"), claim("c2", "US troops in the Middle East", name="US officials"),
        claim("c3", whole, name="US officials"),  # the same words again (trimming can make them so)
        claim("c4", "US troops in the Middle East", name="John Kirby"),  # another speaker's: kept
    ])
    warnings = drop_contained(extraction)
    assert [c.id for c in extraction.claims] == ["c1", "c4"]
    assert warnings == ["claim(s) c2, c3 removed: words inside another claim of the same speaker"]


def test_an_event_repeated_under_other_types_is_kept_once_under_the_first():
    """Recorded: Qwen2.5-Coder-1.5B gave ukgov-04's one event six times, with the same summary and
    evidence, going through the ``strategic.*`` types in order."""
    text = (Path(__file__).resolve().parents[1] / "evals/fixtures/ukgov-04-eu-syria-sanctions/article.txt").read_text()
    headline = "Foreign Secretary welcomes new Syria sanctions listings"
    event = {"summary": "The UK welcomes new EU Syria sanctions listings.", "trigger": headline,
             "evidence": [headline]}
    types = ["strategic.agreement", "strategic.arrests", "strategic.change_to_group_activity"]
    extraction = Extraction.model_validate({
        "events": [{**event, "id": f"e{n}", "type": t} for n, t in enumerate(types, 1)]
        + [{**event, "id": "e4", "type": "politics.sanctions", "summary": "Another event, same words."}],
        "claims": [{**claim("c1", "13 new EU sanctions listings", name="Philip Hammond"), "event_ids": ["e1", "e2"]}],
    })
    ground_spans(extraction, text)
    warnings = dedupe(extraction)
    assert [(e.id, e.type.value) for e in extraction.events] == [("e1", "strategic.agreement"), ("e4", "politics.sanctions")]
    assert extraction.claims[0].event_ids == ["e1"]
    assert warnings == ["2 event(s) repeating an earlier event's summary and evidence under another type removed "
                        "(strategic.arrests, strategic.change_to_group_activity)"]


def test_a_direct_claim_found_nearly_word_for_word_outside_quotation_marks_becomes_indirect():
    """Recorded: the 1.5B model gave the lede's narration as a direct quote, one comma short."""
    words = "Kataib Hezbollah declared on Tuesday the temporary suspension of its military operations against US forces"
    extraction = grounded(claims=[claim("c1", words, kind="direct", name="Kataib Hezbollah")])
    assert extraction.claims[0].content.grounding == "fuzzy"
    notes = settle_quotes(extraction, ARTICLE)
    apply_policy(extraction, ARTICLE)
    assert extraction.claims[0].kind == "indirect" and "possible_misquote" not in extraction.claims[0].flags
    assert notes == ["claim c1: words are in the article but not inside quotation marks: kind set to indirect"]


def test_event_ids_the_model_repeated_are_renamed_so_the_record_validates():
    """Recorded: SmolLM2-135M gave ten events the id "e2" (syn-threats-hypothetical), which the
    record refuses: the whole article used to end as an InternalError."""
    from schemas import EventsPass

    output = EventsPass.model_validate({"events": [
        {"id": i, "type": "other", "summary": f"event {n}"} for n, i in enumerate(["e1", "e2", "e2", "e2"])
    ]})
    warnings = unique_event_ids(output)
    assert [e.id for e in output.events] == ["e1", "e2", "e3", "e4"]
    assert warnings == ["event ids repeated by the model renamed: e2 -> e3, e2 -> e4"]
    assert Extraction(events=output.events).events[2].id == "e3"
    assert unique_event_ids(output) == [] and unique_event_ids(object()) == []


def test_a_quotation_over_several_paragraphs_is_quoted_in_every_paragraph():
    """A real press release (re3d, uk-government): each paragraph of the statement opens with “
    and only the last closes. Every second paragraph used to count as unquoted narration."""
    doc = ("A Foreign Office spokesman said: “The Foreign Secretary met Sergei Lavrov today.\n\n"
           "“The ministers discussed the crisis in Syria.\n\n"
           "“Mr Johnson also raised the situation in Ukraine.”\nHe left for London.")
    assert [doc[a:b] for a, b in quotations(doc)] == [
        "The Foreign Secretary met Sergei Lavrov today.", "The ministers discussed the crisis in Syria.",
        "Mr Johnson also raised the situation in Ukraine."]
    extraction = Extraction.model_validate({"claims": [
        claim("c1", "The ministers discussed the crisis in Syria", kind="indirect", name="Foreign Office spokesman")]})
    ground_spans(extraction, doc)
    settle_quotes(extraction, doc)
    assert extraction.claims[0].kind == "direct"
    german = "„Wir bleiben“, sagte er. „Morgen auch.“"
    assert [german[a:b] for a, b in quotations(german)] == ["Wir bleiben", "Morgen auch."]
