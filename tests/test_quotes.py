"""Recovery of attributed quotations, "according to" statements and reported speech ("X said
that ...") the model left out.

The sentences are synthetic (written for these tests), except where a fixture is named.
"""

from __future__ import annotations

import random

from harness.evaluation.fixtures import FIXTURES_DIR, load_fixture
from harness.quotes import (
    ATTRIBUTING, MAX_REPORTED, RECOVERED, _Claims, drop_unattributed, is_english, name_unknown_speakers, recover_according_to, recover_quotes, recover_reported, speaker_from, speaker_from_subject,
    split_titled_names, trim_attribution,
)
from harness.refine import cut_at_paragraph, fix_speakers
from schemas import Claim, Extraction, Grounding, Span, Speaker


def _claim(cid: str, text: str, doc: str, name: str | None = None, role: str | None = None,
           kind: str = "direct") -> Claim:
    start = doc.index(text)
    return Claim(id=cid, kind=kind, speaker=Speaker(name=name, role=role), cue="said",
                 content=Span(text=text, start=start, end=start + len(text), grounding=Grounding.exact))


def _recovered(extraction: Extraction) -> list[tuple[str | None, str | None, str, str]]:
    return [(c.speaker.name, c.speaker.role, c.cue, c.content.text)
            for c in extraction.claims if RECOVERED in c.flags]


def test_attribution_before_the_quotation_gives_name_and_role():
    doc = ('When asked, Pentagon press secretary Maj Gen Pat Ryder responded during a briefing, '
           'saying, "We have seen those reports and have nothing to add."')
    ex = Extraction()
    warnings = recover_quotes(ex, doc)
    assert _recovered(ex) == [("Pat Ryder", "Pentagon press secretary", "responded",
                               "We have seen those reports and have nothing to add.")]
    claim = ex.claims[0]
    assert doc[claim.content.start:claim.content.end] == claim.content.text
    assert claim.kind == "direct" and "recovered from quotation marks" in warnings[0]


def test_attribution_after_and_a_following_quotation_keep_the_speaker():
    doc = ('"The shells fell while people were buying bread," said Amina Diallo, the town\'s mayor. '
           '"We have no shelters left here."\nThe army said nothing.')
    ex = Extraction()
    recover_quotes(ex, doc)
    assert _recovered(ex) == [
        ("Amina Diallo", "the town's mayor", "said", "The shells fell while people were buying bread,"),
        ("Amina Diallo", "the town's mayor", "said", "We have no shelters left here."),
    ]


def test_the_statement_and_pronouns_take_the_speaker_named_before():
    doc = ('Kataib Hezbollah said, "We are suspending our operations against the occupation forces."\n'
           '"We will defend our people in other ways," the statement added.')
    ex = Extraction(claims=[_claim("c1", "We are suspending our operations against the occupation forces.",
                                   doc, name="Kataib Hezbollah")])
    recover_quotes(ex, doc)
    assert _recovered(ex) == [("Kataib Hezbollah", None, "added", "We will defend our people in other ways,")]
    assert [c.id for c in ex.claims] == ["c1", "r1"]  # a new id: never one the model gave


def test_covered_partial_and_scare_quotes_are_left_alone():
    doc = ('Army spokesman Idrissa Kone said the army would respond "at a time of our choosing".\n'
           'The so-called "peace plan" failed.\n'
           'He called the plan "a disaster for the whole region" and said it would fail.')
    ex = Extraction()
    assert recover_quotes(ex, doc) == [] and ex.claims == []
    covered = 'Rebels "will pay for this attack, and soon," the governor said.'
    ex = Extraction(claims=[_claim("c1", "will pay for this attack", covered, name="governor")])
    assert recover_quotes(ex, covered) == [] and len(ex.claims) == 1


def test_quotations_in_page_furniture_are_skipped():
    doc = '"Read our full coverage of the war here," said the editors.\nNothing else.'
    ex = Extraction()
    assert recover_quotes(ex, doc, exclude=[(0, doc.index("\n"))]) == []


def test_according_to_at_either_end_of_a_sentence():
    doc = ("According to officials, there have been a significant number of attacks since October.\n"
           "Two soldiers were wounded in the blast, according to the ministry.\n"
           "According to a statement from a US official to CBS News, defences are being deployed.")
    ex = Extraction()
    recover_according_to(ex, doc)
    assert _recovered(ex) == [
        (None, "officials", "according to", "there have been a significant number of attacks since October"),
        (None, "the ministry", "according to", "Two soldiers were wounded in the blast"),
    ]  # the third source is too long to be a speaker: left to the model
    assert all(c.kind == "indirect" for c in ex.claims)


def test_reported_speech_after_a_short_subject():
    doc = ("Nevertheless, a Pentagon spokeswoman acknowledged that it displayed similarities to the group.\n"
           "Rebel spokesman Daniel Okoro said the group would respect the truce. He later added that "
           "talks would resume on Monday.\n"
           "Iran's Foreign Ministry has refuted the claims of involvement in the attack.")
    ex = Extraction()
    warnings = recover_reported(ex, doc)
    assert _recovered(ex) == [
        (None, "a Pentagon spokeswoman", "acknowledged", "it displayed similarities to the group"),
        ("Daniel Okoro", "Rebel spokesman", "said", "the group would respect the truce"),
        ("Daniel Okoro", "Rebel spokesman", "added", "talks would resume on Monday"),  # "He": the speaker before
        ("Iran's Foreign Ministry", None, "refuted", "the claims of involvement in the attack"),
    ]
    assert all(c.kind == "indirect" for c in ex.claims) and len(warnings) == 4


def test_reported_speech_needs_a_speaker_and_an_uncovered_clause():
    doc = ("An estimated 300 people said to be missing were found.\n"  # no subject before the verb
           "Attacks were reported across the city on Monday night.\n"  # passive
           "No group claimed responsibility for the bombing on Monday.\n"  # nobody speaks
           "Officials who said nothing were later dismissed by the minister.\n"  # a relative clause
           "The ministry said the convoy had been attacked twice.")
    ex = Extraction(claims=[_claim("c1", "the convoy had been attacked twice", doc, name="ministry",
                                   kind="indirect")])
    assert recover_reported(ex, doc) == [] and _recovered(ex) == []


def test_a_claim_whose_words_open_with_their_own_subject_is_that_subject_s():
    # seed-000's sentence, which Qwen2.5-Coder-1.5B gave to Kataib Hezbollah (the group it names)
    blame = ("The United States holds Iran responsible for supporting and arming these groups and has "
             "specifically implicated Kataib Hezbollah in the recent drone attack that claimed American lives")
    doc = (f"Kataib Hezbollah is recognised as the most powerful faction. {blame}.\n"
           "A police spokesman said officers had acted to protect the palace.\n"
           # seed-002's sentence, which Qwen gave to the president (the gold: the United States)
           "The US has suggested a military response that could occur in stages.\n"
           "Okoro said the group would respect the truce.")
    said = "A police spokesman said officers had acted to protect the palace"
    ex = Extraction(claims=[_claim("c1", blame, doc, name="Kataib Hezbollah"),
                            _claim("c2", said, doc, name="unknown", kind="indirect"),
                            _claim("c3", "The US has suggested a military response that could occur in stages",
                                   doc, name="US President Joe Biden", kind="indirect"),
                            _claim("c4", "Okoro said the group would respect the truce", doc,
                                   name="Daniel Okoro", role="rebel spokesman", kind="indirect")])
    warnings = speaker_from_subject(ex, doc)
    c1, c2, c3, c4, c5 = ex.claims
    assert c1.speaker == Speaker(name="United States")
    # a blaming verb gives its object; "... and has specifically implicated ..." is a second statement
    assert (c1.cue, c1.content.text) == ("holds", "Iran responsible for supporting and arming these groups")
    assert (c5.id, c5.speaker, c5.cue, c5.content.text) == (
        "c1b", Speaker(name="United States"), "implicated",
        "Kataib Hezbollah in the recent drone attack that claimed American lives")
    assert (c2.cue, c3.cue) == ("said", "suggested")  # the subject's own verb
    assert c2.speaker == Speaker(role="A police spokesman")
    assert c2.content.text == "officers had acted to protect the palace"  # what was said
    assert c3.speaker == Speaker(name="US")  # the country, not its president: "US" is not his name
    assert c3.content.text == "a military response that could occur in stages"
    assert c4.speaker == Speaker(name="Daniel Okoro", role="rebel spokesman")  # the same man: kept
    assert (c4.cue, c4.content.text) == ("said", "the group would respect the truce")  # what he said
    assert all(doc[c.content.start : c.content.end] == c.content.text for c in ex.claims)
    assert len(warnings) == 5 and "'Kataib Hezbollah' replaced by 'The United States'" in warnings[0]
    assert warnings[1] == "claim c1: a second statement ('implicated' ...) is claim c1b"
    assert warnings[4] == "claim c4: content starts after 'Okoro said': what was said"


def test_subjects_that_are_not_the_speaker_are_left_alone():
    doc = ('Colonel Ames said: "The army blamed the rebels for everything, as usual."\n'  # a quotation
           "He said the talks had failed.\n"  # a pronoun: the model's speaker, named before
           "The statement said the convoy was attacked.\n"  # a statement speaks for its author
           "Dabiq held little military value, the ministry said.")  # "held", not "held ... responsible"
    texts = ["The army blamed the rebels for everything, as usual.", "He said the talks had failed",
             "The statement said the convoy was attacked", "Dabiq held little military value"]
    ex = Extraction(claims=[_claim(f"c{n}", t, doc, name="Colonel Ames") for n, t in enumerate(texts)])
    assert speaker_from_subject(ex, doc) == ["claim c1: content starts after 'He said': what was said"]
    assert all(c.speaker == Speaker(name="Colonel Ames") for c in ex.claims)
    assert [c.content.text for c in ex.claims] == [texts[0], "the talks had failed", *texts[2:]]


def test_a_pronoun_subject_looks_back_to_the_claim_before():
    # seed-002's sentences: Qwen gave the second to al-Hamidawi, whom the article names later
    doc = ("Iran has issued a warning, stating that it will respond to any aggression.\n\n"
           "In a previous statement, it refuted allegations made by the US regarding its involvement.\n\n"
           "Later, Kataib Hezbollah leader Abu Hussein al-Hamidawi said there would be no more attacks.\n\n"
           "On Friday, he denied that the group had been paid to stop them.")
    ex = Extraction(claims=[
        _claim("c1", "it will respond to any aggression", doc, name="Iran", kind="indirect"),
        _claim("c2", "In a previous statement, it refuted allegations made by the US regarding its involvement",
               doc, name="Abu Hussein al-Hamidawi", kind="indirect"),
        _claim("c3", "there would be no more attacks", doc, name="Abu Hussein al-Hamidawi", kind="indirect"),
        _claim("c4", "On Friday, he denied that the group had been paid to stop them", doc,
               name="Abu Hussein al-Hamidawi", kind="indirect")])
    warnings = speaker_from_subject(ex, doc)
    c1, c2, c3, c4 = ex.claims
    assert c2.speaker == Speaker(name="Iran")
    assert c2.content.text == "allegations made by the US regarding its involvement"  # after the verb
    assert c2.cue == "refuted"
    assert doc[c2.content.start : c2.content.end] == c2.content.text
    assert c4.speaker == Speaker(name="Abu Hussein al-Hamidawi")  # named before "he": kept
    assert (c4.cue, c4.content.text) == ("denied", "the group had been paid to stop them")  # what he denied
    assert len(warnings) == 2 and "'Iran' (claim c1's speaker, 'it' after it)" in warnings[0]


def test_a_pronoun_does_not_look_back_across_paragraphs_nor_stand_for_we():
    doc = ("Iran said it would respond to any aggression.\n\nTroops moved north.\n\n"
           "It denied any role in the attack on the base.\n\nWe said the talks had failed badly.")
    ex = Extraction(claims=[
        _claim("c1", "it would respond to any aggression", doc, name="Iran", kind="indirect"),
        _claim("c2", "It denied any role in the attack on the base", doc, name="Unnamed Minister", kind="indirect"),
        _claim("c3", "We said the talks had failed badly", doc, name="Unnamed Minister", kind="indirect")])
    assert speaker_from_subject(ex, doc) == ["claim c2: content starts after 'It denied': what was said"]
    assert [c.speaker.name for c in ex.claims] == ["Iran", "Unnamed Minister", "Unnamed Minister"]
    assert ex.claims[2].content.text == "We said the talks had failed badly"  # "we": not a third party


def test_a_sentence_starts_after_a_wire_dateline():
    # syn-denial's first sentence, which Qwen gave whole (speaker right, content from the subject)
    doc = ("Dovan denies drone strike\n\nARDEN, June 9 (Wire) - Dovan's defence ministry on Sunday "
           "denied that its forces carried out a drone strike on the market.")
    text = doc[doc.index("Dovan's defence"):-1]
    ex = Extraction(claims=[_claim("c1", text, doc, role="Dovan's defence ministry", kind="indirect")])
    assert speaker_from_subject(ex, doc)
    assert (ex.claims[0].cue, ex.claims[0].content.text) == ("denied", "its forces carried out a drone strike on the market")
    from harness.quotes import sentence_starts
    for line in ("Baghdad [Iraq], January 31 : The militia", "BAGHDAD (Reuters) — Iraqi forces"):
        assert len(sentence_starts(line)) == 2  # 0, and after the dateline
    assert sentence_starts("Note: this is not a dateline") == (0,)


def test_a_subject_after_a_lead_phrase_is_the_speaker():
    doc = "In her first statement as minister, Lasko said the army would reopen the roads into Tarvos."
    ex = Extraction(claims=[_claim("c1", doc[:-1], doc, name="unknown", kind="indirect")])
    assert speaker_from_subject(ex, doc)
    assert ex.claims[0].speaker == Speaker(name="Lasko")
    assert ex.claims[0].content.text == "the army would reopen the roads into Tarvos"


def test_a_verb_of_stance_gives_its_subject_and_its_object():
    # the shapes of usds-01/02/03 (Qwen gave the first to Kerry, named later, with the cue
    # "strongly"; the second to "the article"), on synthetic sentences
    condemn = "The Kestrian government strongly condemns the shelling of the Tesh market"
    claimed = "the Northern Front claimed the attack on the Tesh checkpoint"
    doc = (f"{condemn}. Minister Ana Vell raised these concerns in a call.\n"
           f"On Saturday, {claimed}.\n"
           "The ally said the talks would resume.")
    ex = Extraction(claims=[_claim("c1", condemn, doc, name="Ana Vell", kind="indirect"),
                            _claim("c2", claimed, doc, role="the article", kind="indirect"),
                            _claim("c3", "The ally said the talks would resume", doc, name="unknown",
                                   kind="indirect")])
    warnings = speaker_from_subject(ex, doc)
    c1, c2, c3 = ex.claims
    assert (c1.speaker, c1.cue, c1.content.text) == (
        Speaker(role="Kestrian government"), "condemns", "the shelling of the Tesh market")
    # the subject after a lead phrase ("On Saturday, "), which the content does not hold
    assert (c2.speaker, c2.cue, c2.content.text) == (
        Speaker(name="Northern Front"), "claimed", "the attack on the Tesh checkpoint")
    # "ally" is no adverb of "said": the subject is "The ally", a description
    assert (c3.speaker, c3.content.text) == (Speaker(role="The ally"), "the talks would resume")
    assert len(warnings) == 3 and all(doc[c.content.start : c.content.end] == c.content.text for c in ex.claims)


def test_a_statement_of_stance_the_model_left_out_is_recovered():
    # the shapes of ukgov-03, usds-02 and usds-03, on synthetic sentences
    doc = ("Foreign Minister Ana Vell welcomes the report of the inquiry into the convoy attack.\n"
           "The Kestrian government strongly condemns the shelling of the Tesh market.\n"
           "We also call on both sides to let the aid convoys through.\n"
           "The army reaffirmed its commitment to the truce.\n"
           "The convoy was welcomed by crowds in Tesh.")  # passive: nobody speaks
    ex = Extraction()
    warnings = recover_reported(ex, doc)
    assert _recovered(ex) == [
        ("Ana Vell", "Foreign Minister", "welcomes", "the report of the inquiry into the convoy attack"),
        (None, "The Kestrian government", "condemns", "the shelling of the Tesh market"),
        (None, "The Kestrian government", "call on", "both sides to let the aid convoys through"),  # "We"
        (None, "The army", "reaffirmed", "its commitment to the truce"),
    ]
    assert len(warnings) == 4


def test_a_claim_of_responsibility_is_recovered_inside_a_longer_statement():
    # the shapes of usds-01 and seed-002, on synthetic sentences
    condemn = ("Kestria strongly condemns the bombing of the Tesh market, for which the Northern Front "
               "has claimed responsibility and where 14 people were killed")
    doc = (f"{condemn}.\n"
           "On Monday the Harun Brigades, the Iran-aligned group that claimed responsibility for the attack on "
           "Sunday, stated that it was done to spare the government.\n"
           "No group claimed responsibility for the blast in Ilsk.\n"  # nobody claims
           "The Kaloma Front, a group that claimed responsibility for the shelling, denied it on Friday.\n"
           "The Dovan Legion claimed responsibility for the ambush, the army said.")
    legion = "The Dovan Legion claimed responsibility for the ambush"
    ex = Extraction(claims=[_claim("c1", condemn, doc, name="Kestria", kind="indirect"),
                            _claim("c2", legion, doc, role="the army", kind="indirect")])
    warnings = recover_reported(ex, doc)
    assert _recovered(ex) == [
        ("Northern Front", None, "claimed", "responsibility"),  # inside Kestria's words
        ("Harun Brigades", None, "claimed", "responsibility for the attack on Sunday"),
        ("Kaloma Front", None, "claimed", "responsibility for the shelling"),
    ]  # the Legion's claim is the model's c2 already
    assert len(warnings) == 3 and all(doc[c.content.start : c.content.end] == c.content.text for c in ex.claims)


def test_a_first_person_statement_takes_the_speaker_before_or_is_left():
    doc = ("I very much welcome the agreement between the two governments.\n"  # nobody before: left
           "Minister Ana Vell said the talks had gone well.\n"
           "I utterly condemn the attack on the Tesh market this morning.")
    ex = Extraction()
    recover_reported(ex, doc)
    assert _recovered(ex) == [
        ("Ana Vell", "Minister", "said", "the talks had gone well"),
        ("Ana Vell", "Minister", "condemn", "the attack on the Tesh market this morning"),
    ]


def test_reported_speech_in_a_joined_clause_or_after_an_apposition_is_recovered():
    # syn-long-chunking's shapes, which the model missed
    doc = ("The wells were failing before the crisis, and local officials said they had asked for water tankers.\n"
           "The presidency gave no reason, but two officials close to the president said she had lost confidence.\n"
           "An HLM spokesman, Dario Fenn, denied that the group had planted the bomb.\n"
           "At least four soldiers were killed, according to a military source who asked not to be named.\n"
           "We continue to urge our partners to fund the mission.\n"  # "We": the claim before's speaker
           "The army advanced, and the rebels said to be in the town fled.")  # "said to be": no speech
    ex = Extraction()
    warnings = recover_reported(ex, doc) + recover_according_to(ex, doc)
    assert _recovered(ex) == [
        ("Dario Fenn", "An HLM spokesman", "denied", "the group had planted the bomb"),
        ("Dario Fenn", "An HLM spokesman", "urge", "our partners to fund the mission"),
        (None, "local officials", "said", "they had asked for water tankers"),
        (None, "two officials close to the president", "said", "she had lost confidence"),
        (None, "a military source", "according to", "At least four soldiers were killed"),
    ]
    assert len(warnings) == 5


def test_a_statement_joined_after_a_claim_is_its_speaker_s():
    # syn-several-speakers' shape (the model kept the quotation and missed what followed it)
    doc = ('UN envoy Ingrid Halvorsen, who mediated the talks, called the deal "a fragile but real '
           'opportunity" and urged both sides to allow aid convoys into the east.\n'
           'Rebel spokesman Dario Fenn said the group would respect the truce and that talks would go on.')
    ex = Extraction(claims=[_claim("c1", "a fragile but real opportunity", doc, name="Ingrid Halvorsen"),
                            _claim("c2", "the group would respect the truce and that talks would go on", doc,
                                   name="Dario Fenn", kind="indirect")])
    warnings = recover_reported(ex, doc)
    assert _recovered(ex) == [("Ingrid Halvorsen", None, "urged", "both sides to allow aid convoys into the east")]
    assert warnings == ["claim r1 recovered from a statement joined after claim c1's words (the model missed it): "
                        "'Ingrid Halvorsen' urged 'both sides to allow aid convoys into the east'"]


def test_a_reported_clause_is_looked_for_up_to_its_bound():
    # one endless sentence of joined clauses: every ", and" is a place to try, so an unbounded
    # clause made the search quadratic (82,000 characters: 2 s; bounded: 0.07 s)
    said = "the talks had failed " + "and the army had withdrawn " * 40
    doc = f"The talks began, and officials said {said.strip()}. Officials said {'very ' * 400}little."
    ex = Extraction()
    recover_reported(ex, doc)
    assert [c.content.text for c in ex.claims] == [said.strip()]  # 1,100 characters: found
    assert len("very " * 400) > MAX_REPORTED  # the second clause is past the bound: left


def test_indirect_words_that_hold_their_own_attribution_keep_what_was_said():
    # the fixtures' shapes: Qwen's content started before the speaker's verb
    doc = ("A spokesman for the army, Colonel Ivo Reznik, said the explosion may have been caused by munitions.\n"
           "Iravani issued a warning in New York. Iravani stated that Iran would not hesitate to respond.\n"
           "Austin addressed the strikes on three facilities. He stated that these strikes were a direct response.\n"
           "As Antony Blinken announced today at the Manama Dialogue, the United States will provide $100 million.\n"
           "Kestrian officials said artillery shelled Tesh on Friday. Dovan's ministry denied it shelled the village.\n"
           "Doctors at the hospital said at least 14 people had been killed, six of them civilians.")
    texts = [("the army, Colonel Ivo Reznik, said the explosion may have been caused by munitions", "Ivo Reznik"),
             ("Iravani issued a warning in New York. Iravani stated that Iran would not hesitate to respond.", "Iravani"),
             ("Austin addressed the strikes on three facilities. He stated that these strikes were a direct response",
              "Lloyd Austin"),
             ("As Antony Blinken announced today at the Manama Dialogue, the United States will provide $100 million",
              "Antony Blinken"),
             ("artillery shelled Tesh on Friday. Dovan's ministry denied it shelled the village", "Kestrian officials"),
             ("Doctors at the hospital said at least 14 people had been killed, six of them civilians",
              "Doctors at the hospital")]
    ex = Extraction(claims=[_claim(f"c{n}", t, doc, name=who, kind="indirect") for n, (t, who) in enumerate(texts)])
    warnings = trim_attribution(ex, doc)
    assert [(c.cue, c.content.text) for c in ex.claims] == [
        ("said", "the explosion may have been caused by munitions"),
        ("stated", "Iran would not hesitate to respond"),
        ("stated", "these strikes were a direct response"),
        ("announced", "the United States will provide $100 million"),
        ("said", texts[4][0]),  # "Dovan's ministry denied": another party's verb, left alone
        ("said", "at least 14 people had been killed, six of them civilians"),  # "at least": not a place
    ]
    assert all(doc[c.content.start : c.content.end] == c.content.text for c in ex.claims)
    assert len(warnings) == 5 and "after 'the army, Colonel Ivo Reznik, said'" in warnings[0]


def test_speaker_from_splits_titles_ranks_and_descriptions():
    assert speaker_from("National Security Council spokesperson John Kirby") == Speaker(
        name="John Kirby", role="National Security Council spokesperson")
    assert speaker_from("Foreign Minister Sergei Lavrov") == Speaker(name="Sergei Lavrov", role="Foreign Minister")
    assert speaker_from("US officials") == Speaker(role="US officials")
    assert speaker_from("Kataib Hezbollah") == Speaker(name="Kataib Hezbollah")
    assert speaker_from("Secretary of Defense Ash Carter") == Speaker(name="Ash Carter", role="Secretary of Defense")
    assert speaker_from("Minister for Foreign Affairs Penny Wong") == Speaker(
        name="Penny Wong", role="Minister for Foreign Affairs")
    assert speaker_from("Kataib Hezbollah Secretary-General Abu Hussein al-Hamidawi") == Speaker(
        name="Abu Hussein al-Hamidawi", role="Kataib Hezbollah Secretary-General")
    assert speaker_from("European Commission President Ursula von der Leyen").name == "Ursula von der Leyen"
    # bodies and descriptions stay whole
    assert speaker_from("Ministry of Defence") == Speaker(name="Ministry of Defence")
    assert speaker_from("Dervan General Hospital") == Speaker(name="Dervan General Hospital")
    assert speaker_from("officials in Corvel") == Speaker(role="officials in Corvel")
    assert speaker_from("Residents of Tarvos") == Speaker(role="Residents of Tarvos")


def test_a_model_s_name_with_a_title_is_split_into_name_and_role():
    names = [("US President Joe Biden", "president"), ("Kataib Hezbollah Secretary-General Abu Hussein al-Hamidawi",
             "secretary-general"), ("Secretary of Defense Ash Carter", None), ("Dervan General Hospital", None),
             ("Pat Ryder", "Pentagon press secretary")]
    ex = Extraction(claims=[Claim(id=f"c{n}", kind="indirect", cue="said", content=Span(text="x"),
                                  speaker=Speaker(name=name, role=role)) for n, (name, role) in enumerate(names)])
    warnings = split_titled_names(ex)
    assert [c.speaker for c in ex.claims] == [
        Speaker(name="Joe Biden", role="US President"),  # the model's role is in the title: the title
        Speaker(name="Abu Hussein al-Hamidawi", role="Kataib Hezbollah Secretary-General"),
        Speaker(name="Ash Carter", role="Secretary of Defense"),
        Speaker(name="Dervan General Hospital"),  # a body's name: left whole
        Speaker(name="Pat Ryder", role="Pentagon press secretary"),
    ]
    assert len(warnings) == 3 and "'US President Joe Biden' split into name 'Joe Biden'" in warnings[0]


def test_seed_article_recovers_the_quotes_qwen_missed():
    """Real fixture: the seed article's Ryder and Kirby quotations, from an empty extraction."""
    fixture = load_fixture(FIXTURES_DIR / "seed-000-tower22")
    ex = Extraction()
    recover_quotes(ex, fixture.text)
    speakers = {(c.speaker.name, c.cue) for c in ex.claims}
    assert {("Pat Ryder", "responded"), ("John Kirby", "said")} <= speakers
    gold = {(c.content.start, c.content.end) for c in fixture.gold.claims if c.kind == "direct"}
    assert {(c.content.start, c.content.end) for c in ex.claims} <= gold  # the labeller's spans


def test_description_given_as_name_moves_to_role():
    ex = Extraction(claims=[Claim(id="c1", kind="indirect", speaker=Speaker(name="US officials"),
                                  cue="reported", content=Span(text="attacks continued"))])
    assert fix_speakers(ex) and ex.claims[0].speaker == Speaker(role="US officials")


def test_a_placeholder_name_or_role_is_removed_before_name_and_role_are_settled():
    # usds-04: Qwen wrote name "Secretary of Defense Ash Carter", role "null"; the swap of a
    # title-like name with the role then made "null" the speaker's name
    ex = Extraction(claims=[Claim(id="c1", kind="direct", cue="said", content=Span(text="We welcome it"),
                                  speaker=Speaker(name="Secretary of Defense Ash Carter", role="null")),
                            Claim(id="c2", kind="direct", cue="said", content=Span(text="We welcome it"),
                                  speaker=Speaker(name="None", role="a spokesman"))])
    warnings = fix_speakers(ex)
    assert ex.claims[0].speaker == Speaker(name="Secretary of Defense Ash Carter")
    assert ex.claims[1].speaker == Speaker(role="a spokesman")
    assert "speaker role 'null' is a placeholder: removed" in warnings[0]


def test_indirect_content_is_cut_at_a_paragraph_break():
    doc = "He refuted any contact with the US.\n\nAttacks on bases went on for months."
    ex = Extraction(claims=[_claim("c1", doc, doc, name="Iravani", kind="indirect")])
    assert cut_at_paragraph(ex, doc)
    assert ex.claims[0].content.text == "He refuted any contact with the US."
    direct = Extraction(claims=[_claim("c1", doc, doc, name="Iravani", kind="direct")])
    assert cut_at_paragraph(direct, doc) == []


def test_indirect_content_ends_without_the_sentence_s_period():
    """The labelling guideline: reported speech runs to the end of the sentence, without the
    final period (an abbreviation's keeps it)."""
    doc = "He refuted any contact with the US.\n\nShe said the talks had failed."
    ex = Extraction(claims=[_claim("c1", "any contact with the US.", doc, name="Iravani", kind="indirect"),
                            _claim("c2", "the talks had failed.", doc, name="Varga", kind="indirect")])
    cut_at_paragraph(ex, doc)
    assert [c.content.text for c in ex.claims] == ["any contact with the US.", "the talks had failed"]
    spaced = Extraction(claims=[_claim("c1", "any contact with the US.\n\nShe", doc, name="Iravani", kind="indirect"),
                                _claim("c2", "the talks had failed. ", doc + " ", name="Varga", kind="indirect")])
    cut_at_paragraph(spaced, doc + " ")
    assert [c.content.text for c in spaced.claims] == ["any contact with the US.", "the talks had failed"]
    stopped = Extraction(claims=[_claim("c1", "He refuted any contact,", "He refuted any contact, twice.",
                                        name="Iravani", kind="indirect")])
    cut_at_paragraph(stopped, "He refuted any contact, twice.")
    assert stopped.claims[0].content.text == "He refuted any contact"  # a clause the model stopped in
    assert ex.claims[1].content.end == doc.index("failed") + len("failed")


def test_attribution_before_finds_what_the_one_pattern_search_found():
    """The verb-first search gives the answers of the pattern it replaced (speaker, then verb,
    tried from every position), on every comma or colon of the fixture articles."""
    import re

    from harness.quotes import _WHO, VERBS, _attribution_before

    oracle = re.compile(rf"(?P<who>{_WHO})\s+(?P<verb>{VERBS})\b[^\"“”«»]{{0,60}}?[,:]\s*$", re.I)
    windows = [text[max(0, m.end() - 200) : m.end()]
               for text in (p.read_text(encoding="utf-8") for p in sorted(FIXTURES_DIR.glob("*/article.txt")))
               for m in re.finditer(r"[,:]", text)]
    windows += ["Foreign Office Minister, Tobias Ellwood, said: the ministry denied that any shelling took place,",
                "An HLM spokesman denied that the group had planted the bomb. Philip Hammond said:"]
    found = 0
    for window in windows:
        want, got = oracle.search(window), _attribution_before(window)
        assert (got and (got.who, got.verb)) == (want and (want.group("who"), want.group("verb"))), window
        found += got is not None
    assert len(windows) > 400 and found > 20


def test_narration_given_to_its_subject_is_no_claim_and_attributed_words_stay():
    """The first two claims are Qwen2.5-Coder-1.5B's (syn-long-chunking, synthetic): sentences of
    narration given to the place they describe."""
    doc = load_fixture(FIXTURES_DIR / "syn-long-chunking").text
    port = "Port Renn, a port city of about 400,000 people, is a three-hour drive from the Marenian border"
    talks = "the talks would be held at a government guest house outside the city"
    ex = Extraction(claims=[
        _claim("c1", port, doc, name="Port Renn", kind="indirect"),
        _claim("c2", "Halvar is the poorest of Marenia's nine provinces", doc, name="Halvar", kind="indirect"),
        _claim("c3", talks, doc, role="Astorian officials", kind="indirect"),  # "... officials said ..."
    ])
    warnings = drop_unattributed(ex, doc)
    assert [c.id for c in ex.claims] == ["c3"]
    assert warnings[0] == ("claim c1 removed: no word of its sentence attributes it to anyone (narration, not a "
                           "statement): 'Port Renn, a port city of about 400,000 people, is a three-h'")


def test_first_person_words_quotations_recoveries_and_statements_after_said_colon_stay():
    doc = ("Minister Ana Lind said:\n\nThe attack was a crime against people at prayer.\n\n"
           "Turkey is a key partner.")
    release = "We condemn in the strongest terms the attacks in Baghdad. The city mourns."
    quoted = 'The town was calm. "The town is calm," the mayor said.'
    statements = Extraction(claims=[_claim("c1", "The attack was a crime against people at prayer", doc,
                                           name="Ana Lind", kind="indirect"),
                                    _claim("c2", "Turkey is a key partner", doc, name="Ana Lind", kind="indirect")])
    press = Extraction(claims=[_claim("c1", "We condemn in the strongest terms the attacks in Baghdad", release,
                                      name="United States", kind="indirect")])
    recovered = _claim("c2", "The city mourns", release, name="United States", kind="indirect")
    recovered.flags.append(RECOVERED)
    press.claims.append(recovered)
    direct = Extraction(claims=[_claim("c1", "The town was calm.", quoted, role="mayor")])
    assert drop_unattributed(statements, doc) == [] and len(statements.claims) == 2
    assert drop_unattributed(press, release) == [] and len(press.claims) == 2
    assert drop_unattributed(direct, quoted) == [] and len(direct.claims) == 1


def test_any_form_of_a_reporting_verb_attributes():
    for sentence in ("With US officials reporting approximately 166 attacks.", "Residents have begun to argue that rules fail.",
                     "The ministry's statement put the toll at 12.", "It refuted the allegations.",
                     "According to the army, 12 died."):
        assert ATTRIBUTING.search(sentence), sentence
    for sentence in ("Port Renn is a three-hour drive from the border.", "Many carried white flags.",
                     "She made no mention of the air strikes."):
        assert not ATTRIBUTING.search(sentence), sentence


def test_an_article_in_another_language_keeps_its_claims():
    doc = load_fixture(FIXTURES_DIR / "syn-non-english").text  # synthetic, Spanish
    said = "Cinco agentes y tres manifestantes resultaron heridos leves"
    ex = Extraction(claims=[_claim("c1", said, doc, role="Jefatura Superior de Policía", kind="indirect")])
    assert not is_english(doc) and drop_unattributed(ex, doc) == [] and len(ex.claims) == 1
    assert is_english(load_fixture(FIXTURES_DIR / "syn-long-chunking").text)


def test_reported_speech_with_its_attribution_after_it_is_recovered():
    doc = ("LISMORE, Nov 22 (Wire) - The two sides signed a ceasefire on Friday, officials from both sides said.\n\n"
           "At least 14 people had been killed, doctors at the hospital said on Tuesday. "
           "Another 30 people were treated for wounds, they said. "
           "The strike was the first of its kind since the war began, CNN reported.\n\n"
           "Prices rose, and the ministry was closed. The council met on Monday, it was reported.")
    ex = Extraction()
    warnings = recover_reported(ex, doc)
    assert _recovered(ex) == [
        (None, "officials from both sides", "said", "The two sides signed a ceasefire on Friday"),
        (None, "doctors at the hospital", "said", "At least 14 people had been killed"),
        (None, "doctors at the hospital", "said", "Another 30 people were treated for wounds"),  # "they"
        ("CNN", None, "reported", "The strike was the first of its kind since the war began"),
    ]
    assert all(doc[c.content.start:c.content.end] == c.content.text for c in ex.claims) and len(warnings) == 4


def test_an_unknown_speaker_is_the_one_named_next_to_the_words_or_the_claim_goes():
    doc = ('Traders there say the market is the largest north of the capital. The town grew up as a '
           'caravan stop.\nAn HLM spokesman, Dario Fenn, said the group would attend the talks. '
           '"We fight the army face to face," he told Wire by telephone. The HLM has 2,000 fighters, '
           'according to Western diplomats.')
    ex = Extraction(claims=[
        _claim("c1", "the market is the largest north of the capital", doc, name="null", kind="indirect"),
        _claim("c2", "The town grew up as a caravan stop", doc, name="Unknown", kind="indirect"),
        _claim("c3", "the group would attend the talks", doc, name="Dario Fenn", role="An HLM spokesman",
               kind="indirect"),
        _claim("c4", "We fight the army face to face,", doc, role="unknown"),
        _claim("c5", "The HLM has 2,000 fighters", doc, name="unknown", kind="indirect"),
        _claim("c6", "The HLM has 2,000 fighters", doc, name="None", kind="indirect"),
    ])
    ex.claims[-1].content = Span(text="The HLM has 9,000 fighters", grounding=Grounding.none)
    fix_speakers(ex)  # "null" goes, and leaves c1 with no speaker at all: looked up like "unknown"
    warnings = name_unknown_speakers(ex, doc)
    assert [(c.id, c.speaker.name, c.speaker.role, c.cue) for c in ex.claims] == [
        ("c1", None, "Traders there", "say"),
        ("c3", "Dario Fenn", "An HLM spokesman", "said"),
        ("c4", "Dario Fenn", "An HLM spokesman", "told"),  # "he": the speaker of the claim before
        ("c5", None, "Western diplomats", "according to"),
    ]
    assert warnings[-2:] == [
        "claim c2 removed: its speaker is unknown and no attribution stands next to its words: "
        "'The town grew up as a caravan stop'",
        "claim c6 removed: its speaker is unknown and no attribution stands next to its words: "
        "'The HLM has 9,000 fighters'",
    ]
    assert warnings[0] == "claim c1: speaker 'missing' is 'Traders there', named next to its words (Traders there say)"


def test_a_claim_whose_words_are_only_its_attribution_goes():
    """Recorded: Qwen2.5-Coder-1.5B gave the line that introduces a statement as the statement
    (ukgov-05, ukgov-02)."""
    doc = "Minister for the Middle East, Tobias Ellwood said:\n\nThe attack was a crime. Ellwood said the talks would go on."
    ex = Extraction(claims=[
        _claim("c1", "Minister for the Middle East, Tobias Ellwood said", doc, name="Tobias Ellwood", kind="indirect"),
        _claim("c2", "The attack was a crime.", doc, name="Tobias Ellwood", kind="indirect"),
        _claim("c3", "the talks would go on", doc, name="Tobias Ellwood", kind="indirect"),
    ])
    warnings = drop_unattributed(ex, doc)
    assert [c.id for c in ex.claims] == ["c2", "c3"]
    assert warnings == ["claim c1 removed: its words are only its attribution ('Minister for the Middle East, "
                        "Tobias Ellwood said'), not what was said"]


def test_the_claims_index_answers_as_a_scan_of_every_claim_would():
    """``_Claims`` (recoveries' overlap and nearest-before queries in O(log n)) against the
    definitions it replaced: a scan of every claim, a sort of the earlier ones."""
    rng = random.Random(3)
    doc = "x" * 400
    for _ in range(200):
        claims = []
        for n in range(rng.randint(0, 12)):
            start = rng.randint(0, 380)
            end = start + rng.randint(1, rng.choice((5, 60)))
            grounding = rng.choice((Grounding.exact, Grounding.fuzzy, Grounding.none))
            content = (Span(text="x", grounding=Grounding.none) if rng.random() < 0.1 else
                       Span(text=doc[start:end], start=start, end=end, grounding=grounding))
            claims.append(Claim(id=f"c{n}", kind="direct", speaker=Speaker(name="A"), cue="said", content=content))
        index = _Claims(Extraction(claims=claims))
        for _ in range(20):
            start = rng.randint(0, 390)
            end = start + rng.randint(1, 40)
            assert index.overlapping(start, end) == [
                c for c in claims if c.content.start is not None and c.content.grounding != Grounding.none
                and c.content.start < end and start < c.content.end]
            assert list(index.before(start)) == sorted(
                (c for c in claims if c.content.start is not None and c.content.start < start),
                key=lambda c: c.content.start, reverse=True)
