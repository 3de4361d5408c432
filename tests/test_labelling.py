"""The labelling helper: a draft gold file holds only exact spans of the article."""

from __future__ import annotations

from pathlib import Path

from harness.evaluation.fixtures import Fixture, FixtureMeta, span_problems
from harness.evaluation.labelling import draft_gold
from harness.grounding import ground_spans
from schemas import Extraction

ARTICLE = (Path(__file__).resolve().parents[1] / "evals/fixtures/seed-000-tower22/article.txt").read_text()


def test_draft_keeps_article_words_and_drops_inventions():
    extraction = Extraction.model_validate({
        "events": [{"id": "e1", "type": "explosion.air_drone_strike", "summary": "drone attack",
                    "trigger": "drone attack",
                    "evidence": ["The announcement comes just two days after a drone attack resulted in the "
                                 "deaths of three US service members and left 40 wounded in Jordan."]},
                   {"id": "e2", "type": "other", "summary": "invented", "evidence": ["Nothing like this is there."]}],
        "claims": [{"id": "c1", "content": "Actions have a greater impact than mere words", "kind": "direct",
                    "speaker": {"name": "Pat Ryder"}, "cue": "said"},
                   {"id": "c2", "content": "We're not looking to escalate here.", "kind": "direct",
                    "speaker": {"name": "John Kirby"}, "cue": "said"}],
    })
    ground_spans(extraction, ARTICLE)
    gold = draft_gold("seed", extraction.events, extraction.claims, ARTICLE)
    assert [e.id for e in gold.events] == ["e1"] and [c.id for c in gold.claims] == ["c2"]
    assert gold.events[0].evidence[0].text.startswith("This announcement")  # the article's words, not the model's
    assert "dropped event e2" in gold.notes and "dropped claim c1" in gold.notes
    meta = FixtureMeta(id="seed", licence="x", synthetic=False, split="dev")
    assert span_problems(Fixture(Path("seed"), meta, ARTICLE, gold)) == []
