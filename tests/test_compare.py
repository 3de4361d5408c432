"""Cross-source comparison: alignment of variants, the seed pair's discrepancies, the HTML page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.compare import ComparisonReport, compare, compare_main, load_results
from harness.compare_match import event_similarity, figures, names_same, resolve_group_reference, speaker_relation
from harness.compare_html import render_comparison
from harness.errors import InputError
from harness.evaluation.compare_scoring import PAIRS_DIR, iter_pairs, load_pair
from schemas import Claim, Event, EventDate, Fatalities, Location, Result, Span, Speaker

SEED = PAIRS_DIR / "seed-tower22"
A, B = "000_b1a854914bfb7f38", "002_eaa5d8ad86e5cbbc"


@pytest.fixture(scope="module")
def seed() -> tuple[list[Result], dict[str, str], ComparisonReport]:
    pair = load_pair(SEED)
    return pair.results, pair.texts, compare(pair.results, pair.texts)


def _found(report: ComparisonReport, kind: str, a_id: str, b_id: str):
    for d in report.discrepancies:
        if d.kind == kind and {(i.doc_id, i.id) for i in d.items} == {(A, a_id), (B, b_id)}:
            return d
    raise AssertionError(f"no {kind} between {a_id} and {b_id}: {[d.message for d in report.discrepancies]}")


def test_seed_ryder_quote_rewording_is_found_with_the_changed_words(seed):
    _, texts, report = seed
    d = _found(report, "quote_wording", "c5", "d11")
    assert d.details["similarity"] < 100
    changed = " ".join(op["a"] + " " + op["b"] for op in d.details["window_diff"])
    assert "speak louder" in changed and "greater impact" in changed
    for span in d.spans:  # both spans point at the article's own words
        assert texts[span.doc_id][span.start : span.end] == span.text


def test_seed_vaguer_speaker_is_found(seed):
    d = _found(seed[2], "speaker_vaguer", "c4", "d10")
    assert "Pentagon spokeswoman" in d.message


def test_seed_attack_count_replaced_by_vague_quantifier(seed):
    _, texts, report = seed
    d = _found(report, "figure_differs", "c6", "d19")
    words = {s.doc_id: s.text for s in d.spans}
    assert "166" in words[A] and "significant number" in words[B]
    assert all(texts[s.doc_id][s.start : s.end] == s.text for s in d.spans)


def test_seed_attack_events_align_and_casualty_wording_differs(seed):
    report = seed[2]
    groups = [{(m.doc_id, m.id) for m in g.members} for g in report.event_groups]
    assert {(A, "e1"), (B, "e1")} in groups
    assert "40" in _found(report, "figure_differs", "e1", "e1").message


def _claim(cid: str, name: str | None, role: str | None, text: str, kind: str = "direct") -> Claim:
    return Claim(id=cid, speaker=Speaker(name=name, role=role), cue="said", kind=kind, content=text)


@pytest.mark.parametrize(
    "a, b",
    [
        (("Maj Gen Pat Ryder", "Pentagon press secretary"), ("Pat Ryder", "a Pentagon spokesperson")),
        (("Mr Ryder", None), ("Pat Ryder", None)),
        (("U.S.", None), ("United States", None)),
    ],
)
def test_speaker_variants_are_the_same_speaker(a, b):
    assert speaker_relation(Speaker(name=a[0], role=a[1]), Speaker(name=b[0], role=b[1])) == (1.0, "same")


def test_different_people_are_not_the_same_speaker():
    assert not names_same("John Kirby", "Pat Ryder")
    assert speaker_relation(Speaker(name="John Kirby"), Speaker(name="Pat Ryder")) == (0.0, "differs")


def test_a_group_and_its_officer_differ_but_are_linked():
    # the seed pair from the model's Results: Kataib Hezbollah's statement, and the same words
    # given to its secretary-general (gold: speaker_differs)
    group = Speaker(name="Kataib Hezbollah", role="the predominant Iran-backed militia in Iraq")
    officer = Speaker(name="Abu Hussein al-Hamidawi", role="Kataib Hezbollah Secretary-General")
    assert speaker_relation(group, officer) == (0.6, "differs")
    assert speaker_relation(Speaker(name="Hamas"), officer) == (0.0, "differs")


def test_role_only_speaker_aligns_when_content_matches_and_is_flagged_vaguer():
    quote = "We have seen those reports and actions speak louder than words"
    one = Result(doc_id="x", claims=[_claim("c1", "Maj Gen Pat Ryder", "Pentagon press secretary", quote),
                                     _claim("c2", "John Kirby", "NSC spokesperson", "We are not looking for war with Iran")])
    two = Result(doc_id="y", claims=[_claim("k1", None, "a Pentagon spokesperson", quote)])
    report = compare([one, two])
    shared = [g for g in report.claim_groups if len(g.members) == 2]
    assert [{m.id for m in g.members} for g in shared] == [{"c1", "k1"}]
    assert [d.kind for d in report.discrepancies if len(d.items) == 2] == ["speaker_vaguer"]
    assert [d.items[0].id for d in report.discrepancies if d.kind == "missing"] == ["c2"]


def test_a_description_that_drops_a_qualifier_is_vaguer():
    assert speaker_relation(Speaker(role="US officials"), Speaker(role="officials"))[1] == "vaguer"
    assert speaker_relation(Speaker(role="officials"), Speaker(role="Officials"))[1] == "unknown"
    assert speaker_relation(Speaker(role="Iraqi police"), Speaker(role="US officials"))[1] == "unknown"
    text = "there have been approximately 166 attacks on US troops since October"
    one = Result(doc_id="x", claims=[_claim("c1", None, "US officials", text, kind="indirect")])
    two = Result(doc_id="y", claims=[_claim("k1", None, "officials", text, kind="indirect")])
    (found,) = [d for d in compare([one, two]).discrepancies if d.kind == "speaker_vaguer"]
    assert found.message == "given as 'US officials' in one report, only 'officials' in the other"


def test_a_place_that_names_the_other_report_s_country_is_in_it():
    """Seed pair, embedded model's events: the strike on the "US outpost in Jordan" (no country)
    is the one "near the Jordan-Syrian border" (Jordan), not the one "in Iraq"."""
    def strike(eid: str, name: str, country: str | None) -> Event:
        return Event(id=eid, type="explosion.air_drone_strike", status="occurred", summary="A drone strike.",
                     location=Location(name=name, country=country))

    outpost = strike("a", "US outpost in Jordan", None)
    border, iraq = strike("b", "Jordan-Syrian border", "Jordan"), strike("c", "Iraq", "Iraq")
    assert event_similarity(outpost, border) > event_similarity(outpost, iraq)
    assert event_similarity(strike("d", "Baghdad", "Iraq"), strike("e", "central Baghdad", None)) == 1.0


def test_figure_and_date_discrepancies_point_at_the_event_s_own_words():
    """When the evidence sentence does not hold the figure or the date, the span shown is the
    event's casualty or date words, found in the article (the seed pair's model Results: "left
    40 injured" sits in another sentence than the model's evidence)."""
    texts = {"x": "A drone hit the base. It left 40 injured. On Monday officials spoke.",
             "y": "A drone hit the base on Sunday. Several were hurt."}
    def event(doc: str, evidence: str, fatalities: Fatalities, when: EventDate) -> Event:
        at = texts[doc].index(evidence)
        return Event(id="e1", type="explosion.air_drone_strike", summary="A drone hit the base.",
                     evidence=[Span(text=evidence, start=at, end=at + len(evidence), grounding="exact")],
                     fatalities=fatalities, date=when, location=Location(name="the base"))

    a = event("x", "A drone hit the base.", Fatalities(injured=40, text="left 40 injured"),
              EventDate(text="on Monday", value="2024-01-29", precision="day"))
    b = event("y", "A drone hit the base on Sunday.", Fatalities(injured=0, text="Several were hurt"),
              EventDate(text="on Sunday", value="2024-01-28", precision="day"))
    report = compare([Result(doc_id="x", events=[a]), Result(doc_id="y", events=[b])], texts)
    injured, dates = [d for d in report.discrepancies if d.kind == "figure_differs"]
    assert [(s.text, texts[s.doc_id][s.start : s.end]) for s in injured.spans] == [
        ("left 40 injured", "left 40 injured"), ("Several were hurt", "Several were hurt")]
    assert [s.text for s in dates.spans] == ["On Monday", "on Sunday"]  # the article's own words


def test_same_speaker_with_unrelated_statements_is_not_aligned():
    one = Result(doc_id="x", claims=[_claim("c1", "Pat Ryder", None, "There will be repercussions")])
    two = Result(doc_id="y", claims=[_claim("k1", "Pat Ryder", None, "We have seen those reports about the militia")])
    assert all(len(g.members) == 1 for g in compare([one, two]).claim_groups)
    # the seed pair's model Results: two US statements with no word in common score 50 on shared
    # letters ("responsible", "response"); the one that shares "responsibility" is the partner
    us = Result(doc_id="a", claims=[_claim("c1", "United States", None, "Iran responsible for supporting and arming these groups")])
    other = Result(doc_id="b", claims=[
        _claim("k1", "US", None, "the possibility of a military response that could occur in multiple stages"),
        _claim("k2", "US", None, "responsibility to Iranian-backed groups and is still in the process of "
                             "determining whether Kataib Hezbollah was involved")])
    [pair] = [g for g in compare([us, other]).claim_groups if len(g.members) == 2]
    assert [m.id for m in pair.members] == ["c1", "k2"]


def test_a_result_compared_with_itself_has_no_discrepancy(seed):
    results, texts, _ = seed
    copy = results[1].model_copy(update={"doc_id": "copy"})
    report = compare([results[1], copy], {B: texts[B], "copy": texts[B]})
    assert report.discrepancies == []
    assert all(len(g.members) == 2 for g in report.event_groups + report.claim_groups)


def test_excerpt_of_a_quote_is_not_a_rewording():
    one = Result(doc_id="x", claims=[_claim("c1", "Tobias Ellwood", None, "The attack was a horrific act of terror against innocent people in Karrada.")])
    two = Result(doc_id="y", claims=[_claim("k1", "Tobias Ellwood", None, "a horrific act of terror against innocent people")])
    report = compare([one, two])
    assert len(report.claim_groups) == 1 and report.discrepancies == []


def test_a_one_word_claim_is_not_aligned_by_being_inside_a_statement():
    # seed-002's model Results: Iran's "interests" (a quoted word) had aligned with seed-000's
    # Foreign Ministry statement, whose words include "the interests of their country"
    one = Result(doc_id="x", claims=[_claim("c1", "Iran", None, "resistance groups decide and work on their own principles as well as the interests of their country")])
    two = Result(doc_id="y", claims=[_claim("k1", "Iran", None, "interests")])
    assert all(len(g.members) == 1 for g in compare([one, two]).claim_groups)


def test_figures_skip_dates_and_years_and_read_number_words():
    found = [(w, v) for w, v, _, _ in figures("since 17 October 2023, approximately 166 attacks; three killed")]
    assert found == [("approximately 166", 166.0), ("three", 3.0)]


def test_duplicate_doc_ids_are_refused():
    with pytest.raises(InputError, match="doc_ids must differ"):
        compare([Result(doc_id="x"), Result(doc_id="x")])


def test_every_pair_gold_span_points_at_its_article():
    pairs = iter_pairs()
    assert len(pairs) >= 4
    for pair in pairs:
        for r in pair.results:
            text = pair.texts[r.doc_id]
            spans = [c.content for c in r.claims] + [s for e in r.events for s in [*e.evidence, *([e.trigger] if e.trigger else [])]]
            for s in spans:
                assert text[s.start : s.end] == s.text, f"{pair.path.name}/{r.doc_id}: {s.text!r}"


def test_report_is_json_serialisable(seed):
    report = seed[2]
    again = ComparisonReport.model_validate_json(report.model_dump_json())
    assert again == report


def test_html_is_self_contained_and_escapes_text(seed):
    results, texts, _ = seed
    evil = Result(doc_id="evil", claims=[_claim("c1", "<script>alert(1)</script>", None, "actions speak louder than words <b>x</b>")])
    page = render_comparison(compare([results[0], evil]), [results[0], evil], {**texts, "evil": "<img src=x>"})
    assert not re.search(r"https?://", page)
    assert not re.search(r"<[^>]*\s(src|href)\s*=", page, re.I)  # no tag loads anything
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x>" not in page and "<b>x</b>" not in page


def test_html_numbers_partners_alike_across_columns(seed):
    results, texts, report = seed
    page = render_comparison(report, results, texts)
    shared = next(g for g in report.claim_groups if {m.id for m in g.members} == {"c5", "d11"})
    assert page.count(f'data-group="C{shared.number}"') == 2


def test_compare_main_writes_json_and_html(tmp_path: Path, capsys):
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    code = compare_main([SEED / f"{A}.gold.json", SEED / f"{B}.gold.json"], html=out_html, json_out=out_json)
    assert code == 0
    data = json.loads(out_json.read_text())
    assert {d["kind"] for d in data["discrepancies"]} >= {"quote_wording", "speaker_vaguer", "figure_differs"}
    assert "Pat Ryder" in out_html.read_text()
    assert "quote_wording" in capsys.readouterr().out


def test_compare_main_reads_jsonl_with_text_and_rejects_bad_input(tmp_path: Path):
    pair = load_pair(SEED)
    lines = [json.dumps({**r.model_dump(mode="json"), "text": pair.texts[r.doc_id]}) for r in pair.results]
    (tmp_path / "both.jsonl").write_text("\n".join(lines))
    loaded = load_results(tmp_path / "both.jsonl")
    assert [t == pair.texts[r.doc_id] for r, t in loaded] == [True, True]
    (tmp_path / "bad.json").write_text('{"doc_id": "x", "events": [{"id": 1}]}')
    assert compare_main([tmp_path / "bad.json", tmp_path / "both.jsonl"]) == 2
    assert compare_main([tmp_path / "missing.json"]) == 2


def test_a_group_named_by_description_is_read_as_its_name():
    # seed-002's sentence: "the militant group" is Kataib Hezbollah, named just before
    text = ("Kataib Hezbollah and Hamas were mentioned. The US is still determining whether Kataib "
            "Hezbollah was involved.\n\nA Pentagon spokeswoman acknowledged that it displayed "
            "similarities to the activities of the militant group. Hamas said nothing.")
    words = "it displayed similarities to the activities of the militant group"
    start = text.index(words)
    claim = Claim(id="c1", kind="indirect", cue="acknowledged", speaker=Speaker(role="Pentagon spokeswoman"),
                  content=Span(text=words, start=start, end=start + len(words), grounding="exact"))
    actors = [{"name": "Hamas", "kind": "rebel_group"}, {"name": "Kataib Hezbollah", "kind": "rebel_group"},
              {"name": "US", "kind": "state_forces"}]
    result = Result(doc_id="b", events=[Event(id="e1", type="explosion.air_drone_strike", summary="x", actors=actors)],
                    claims=[claim])
    assert resolve_group_reference(claim, result, text) == words + " (Kataib Hezbollah)"
    assert resolve_group_reference(claim, result, None) == words  # no article: the words alone
    plain = claim.model_copy(update={"content": Span(text="the talks failed")})
    assert resolve_group_reference(plain, result, text) == "the talks failed"
