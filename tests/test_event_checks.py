"""Events checked against the article: the type against its trigger, responsibility against a sentence that states it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.event_checks import (
    RESPONSIBILITY, check_responsibility, drop_advice, fix_actors, named_types, retype_events,
)
from harness.grounding import ground_spans
from schemas import Extraction
from schemas.taxonomy import EventType


def events(*pairs) -> Extraction:
    return Extraction.model_validate({"events": [
        {"id": f"e{n}", "type": t, "summary": "s", "trigger": trigger} for n, (t, trigger) in enumerate(pairs, 1)
    ]})


@pytest.mark.parametrize(("trigger", "expected"), [
    ("car bomb exploded", EventType.explosion_remote_explosive),
    ("a roadside bomb struck an army supply convoy", EventType.explosion_remote_explosive),
    ("Dovanese artillery had shelled the village", EventType.explosion_shelling_artillery_missile),
    ("rocket attack", EventType.explosion_shelling_artillery_missile),
    ("a suicide car bomb", EventType.explosion_suicide_bomb),  # the most specific word wins
    ("the US Drone strike", EventType.explosion_air_drone_strike),
    ("new Syria sanctions listings", EventType.politics_sanctions),
    ("police arrested four men", EventType.strategic_arrests),
    ("The River Asca burst its banks", EventType.disaster),
    # seed-000's and ukgov-06's triggers, which Qwen typed as an agreement and an election
    ("declared on Tuesday the temporary suspension of its military operations",
     EventType.strategic_change_to_group_activity),
    ("The visit by FCO Minister Tobias Ellwood", EventType.politics_diplomacy),
    ("peace talks in Port Renn", EventType.politics_diplomacy),
])
def test_a_trigger_naming_its_kind_retypes_the_event(trigger, expected):
    extraction = events(("strategic.agreement", trigger))
    warnings = retype_events(extraction)
    assert extraction.events[0].type == expected
    assert warnings == [f"event e1: type strategic.agreement changed to {expected.value}: its trigger says {trigger!r}"]


def test_a_type_among_those_the_trigger_names_or_a_trigger_naming_none_stays():
    extraction = events(
        ("explosion.remote_explosive_landmine_ied", "a suicide car bomb"),  # both readings fit
        ("violence_against_civilians.attack", "Da'esh claimed dual attacks"),  # "attacks": no kind
        ("battle.armed_clash", "bombing"),  # air raid or planted bomb: the word does not say
        ("strategic.agreement", "a ceasefire agreed in talks in Port Renn"),  # an agreement reached in talks
    )
    assert retype_events(extraction) == []
    assert [e.type.value for e in extraction.events] == [
        "explosion.remote_explosive_landmine_ied", "violence_against_civilians.attack", "battle.armed_clash",
        "strategic.agreement"]


def test_an_election_no_word_names_becomes_other():
    # a re3d US State Department message (not a fixture), where Qwen typed every event an election
    congratulation = "On behalf of President Obama and the American people, I congratulate the people of Turkey"
    extraction = Extraction.model_validate({"events": [
        {"id": "e1", "type": "politics.election", "summary": "s", "trigger": {"text": congratulation},
         "evidence": [{"text": congratulation + " as you celebrate the 93rd anniversary of the founding of your Republic."}]},
        {"id": "e2", "type": "politics.election", "summary": "s", "trigger": {"text": "the run-off"},
         "evidence": [{"text": "Voters return to the polls on Sunday for the run-off."}]},
        {"id": "e3", "type": "politics.election", "summary": "s", "trigger": {"text": "the result"},
         "evidence": [{"text": "Turnout at the polls was 61%, the commission said."}]},  # the evidence names it
    ]})
    warnings = retype_events(extraction)
    assert [e.type.value for e in extraction.events] == ["other", "politics.election", "politics.election"]
    assert warnings == ["event e1: type politics.election changed to other: no word of its trigger or "
                        "evidence names an election"]


@pytest.mark.parametrize(("model_type", "trigger", "evidence", "expected"), [
    # ukgov-05's, ukgov-01's and usds-02's events, which Qwen typed as strikes from afar
    ("explosion.shelling_artillery_missile_attack", "ISIL has killed 70 members of the Al bu Nimr tribe",
     "ISIL has killed 70 Sunni tribesmen in Anbar, Iraq.", "violence_against_civilians.attack"),
    ("explosion.air_drone_strike", "attack was a horrific act of terror",
     'He said: "The attack was a horrific act of terror against innocent people."', "violence_against_civilians.attack"),
    ("explosion.air_drone_strike", "Orsa's navy chief warned",  # a threat: not an attack either
     "Orsa's navy chief warned that his forces would retaliate.", "other"),
])
def test_an_explosion_no_word_names_is_not_one(model_type, trigger, evidence, expected):
    extraction = Extraction.model_validate({"events": [
        {"id": "e1", "type": model_type, "summary": "s", "trigger": {"text": trigger}, "evidence": [{"text": evidence}]}]})
    warnings = retype_events(extraction)
    assert extraction.events[0].type.value == expected
    assert warnings == [f"event e1: type {model_type} changed to {expected}: no word of its trigger or evidence "
                        "names an explosive weapon or a strike"]


@pytest.mark.parametrize(("trigger", "evidence"), [
    ("Da'esh attacks", "Two car bombs exploded in Jabla."),  # the evidence names the weapon
    ("the blast", "The blast killed 28 people."),
    ("US strikes against Iran-affiliated groups", "The US struck militia bases."),
    ("the militants fired on the town", "Militants fired on the town overnight."),
])
def test_an_explosion_its_words_name_stays(trigger, evidence):
    extraction = Extraction.model_validate({"events": [
        {"id": "e1", "type": "explosion.air_drone_strike", "summary": "s", "trigger": {"text": trigger},
         "evidence": [{"text": evidence}]}]})
    assert retype_events(extraction) == []
    assert extraction.events[0].type == EventType.explosion_air_drone_strike


@pytest.mark.parametrize(("model_type", "trigger", "expected"), [
    # usds-04's, ukgov-02's and syn-long-chunking's events
    ("strategic.agreement", "Syrian opposition forces liberated the Syrian town of Dabiq",
     "battle.non_state_actor_overtakes_territory"),
    ("politics.election", "Syrian army now claims full control of Aleppo", "battle.government_regains_territory"),
    ("explosion.shelling_artillery_missile_attack", "HLM fighters in pickup trucks overran army checkpoints",
     "battle.non_state_actor_overtakes_territory"),  # the side named first took it
    ("battle.armed_clash", "army units backed by helicopters recaptured the village of Ilsk",
     "battle.government_regains_territory"),
    ("other", "ISIL militants seized control of the border crossing", "battle.non_state_actor_overtakes_territory"),
])
def test_ground_taken_is_typed_by_who_took_it(model_type, trigger, expected):
    extraction = events((model_type, trigger))
    warnings = retype_events(extraction)
    assert extraction.events[0].type.value == expected
    assert warnings == [f"event e1: type {model_type} changed to {expected}: its trigger says {trigger!r}"]


def test_ground_taken_by_no_named_side_or_no_ground_taken_stays():
    extraction = events(
        ("battle.government_regains_territory", "the recent liberation of Fallujah"),  # nobody named
        ("battle.armed_clash", "rebels clashed with the army near Tarvos"),  # no ground changed hands
        ("strategic.agreement", "the government will take control of the port under the deal"),  # no force
        # only the side that lost it is named (re3d's UK government statement on Mosul, not a fixture)
        ("battle.government_regains_territory", "operations to retake the city of Mosul, clearing Daesh from Iraq"),
    )
    assert retype_events(extraction) == []
    assert [e.type.value for e in extraction.events] == [
        "battle.government_regains_territory", "battle.armed_clash", "strategic.agreement",
        "battle.government_regains_territory"]


def test_words_are_matched_whole_and_in_any_case():
    assert named_types("SHELLING of the town") == [EventType.explosion_shelling_artillery_missile]
    assert named_types("a reshelved plan; the missileer") == []
    assert named_types("an election rally") == [EventType.politics_election]


DENIAL = (Path(__file__).resolve().parents[1] / "evals/fixtures/syn-denial/article.txt").read_text()  # synthetic


def strike(*responsible, actors=()) -> Extraction:
    return Extraction.model_validate({"events": [{
        "id": "e1", "type": "explosion.air_drone_strike", "summary": "A drone strike killed seven in Malik.",
        "actors": [{"name": n, "role": r} for n, r in actors],
        "responsibility": [{"actor": a} for a in responsible],
    }]})


def test_responsibility_a_sentence_states_is_kept_and_points_to_that_sentence():
    extraction = strike("Dovanese army", "Dovan’s defence ministry")  # the apostrophe as the model wrote it
    assert check_responsibility(extraction, DENIAL) == []
    kept = extraction.events[0].responsibility
    sentence = ("Dovan's defence ministry on Sunday denied that its forces carried out a "
                "drone strike that killed seven people at a market in the Kestrian border town of Malik, after "
                "Kestria's government accused the Dovanese army of the attack.")
    for entry in kept:
        assert entry.evidence.grounding == "exact" and DENIAL[entry.evidence.start:entry.evidence.end] == entry.evidence.text
    assert [e.evidence.text for e in kept] == [sentence, sentence]  # the dateline is not the sentence's


def test_responsibility_no_sentence_states_or_given_to_the_victim_is_removed():
    extraction = strike("Kestria's health ministry", "civilians", "Dovanese army",
                        actors=[("civilians", "victim"), ("Dovanese army", "perpetrator")])
    warnings = check_responsibility(extraction, DENIAL)
    assert [e.actor for e in extraction.events[0].responsibility] == ["Dovanese army"]
    assert warnings == [
        "event e1: responsibility of \"Kestria's health ministry\" removed: no sentence of the article names it "
        "with words of responsibility",
        "event e1: responsibility of 'civilians' removed: it is the event's target or victim",
    ]


def test_an_event_without_a_perpetrator_keeps_no_responsibility():
    # seed-000's shape: Qwen gave Kataib Hezbollah "confirmed" responsibility for its own
    # suspension of operations, and a sentence of the article does name it with words of blame
    doc = ("Kataib Hezbollah declared on Tuesday the temporary suspension of its operations. "
           "The United States accused Kataib Hezbollah of the drone attack.")
    extraction = Extraction.model_validate({"events": [
        {"id": "e1", "type": "strategic.change_to_group_activity", "summary": "s",
         "responsibility": [{"actor": "Kataib Hezbollah", "certainty": "confirmed"}]},
        {"id": "e2", "type": "explosion.air_drone_strike", "summary": "s",
         "responsibility": [{"actor": "Kataib Hezbollah", "certainty": "accused"}]},
    ]})
    warnings = check_responsibility(extraction, doc)
    assert [len(e.responsibility) for e in extraction.events] == [0, 1]
    assert warnings == ["event e1: responsibility of 'Kataib Hezbollah' removed: a "
                        "strategic.change_to_group_activity event has no perpetrator"]


def test_words_of_responsibility():
    for sentence in ("Dae’sh claimed dual attacks in Baghdad.", "No group has claimed responsibility.",
                     "Officials believe the militia was behind the blast.", "Kestria accused Dovan.",
                     "The US implicated Kataib Hezbollah.", "Dovan denied it."):
        assert RESPONSIBILITY.search(sentence), sentence
    for sentence in ("Armed men stood behind him.", "The army carried out the strike.", "He claimed his seat."):
        assert not RESPONSIBILITY.search(sentence), sentence


def test_a_weapon_is_no_actor_but_its_owner_is():
    extraction = strike(actors=[("US drone strike", "perpetrator"), ("car bomb", "perpetrator"), ("drone", "target"),
                                ("Rapid Strike Force", "perpetrator"), ("US", "victim"), ("US", "victim")])
    warnings = fix_actors(extraction)
    assert [(a.name, a.role) for a in extraction.events[0].actors] == [
        ("US", "perpetrator"), ("Rapid Strike Force", "perpetrator"), ("US", "victim")]
    assert warnings == [
        "event e1: actor 'US drone strike' is 'US': the rest names the weapon",
        "event e1: actor 'car bomb' removed: a weapon or an attack, not who acted",
        "event e1: actor 'drone' removed: a weapon or an attack, not who acted",
        "event e1: actor 'US' (victim) given twice: kept once",
    ]


def test_an_occurrence_after_should_is_advice_and_goes():
    """Recorded: Qwen2.5-Coder-1.5B took a columnist's advice for events (syn-opinion-no-events,
    synthetic)."""
    doc = (Path(__file__).resolve().parents[1] / "evals/fixtures/syn-opinion-no-events/article.txt").read_text()
    advice = "charge for the spaces they already own at what those spaces are worth"
    fact = "Residents' groups, too, have begun to argue"
    extraction = Extraction.model_validate({
        "events": [{"id": f"e{n}", "type": "strategic.change_to_group_activity", "status": status,
                    "summary": "s", "trigger": trigger}
                   for n, (trigger, status) in enumerate([(advice, "occurred"), (fact, "occurred"),
                                                          (advice, "planned")], 1)],
        "claims": [{"id": "c1", "content": fact, "kind": "indirect", "speaker": {"name": "Residents' groups"},
                    "cue": "argue", "event_ids": ["e1", "e2"]}],
    })
    ground_spans(extraction, doc)
    warnings = drop_advice(extraction, doc)
    assert [e.id for e in extraction.events] == ["e2", "e3"] and extraction.claims[0].event_ids == ["e2"]
    assert warnings == [f"event e1 removed: its trigger is advice ({advice[:60]!r} after 'should'), not "
                        "something that occurred"]
