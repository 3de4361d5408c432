"""Events checked against the article.

``retype_events``: an event's type checked against the words of its trigger. A small model
under a grammar tends to pick the first sub-type of a family (``explosion.air_drone_strike`` for
a car bomb, ``strategic.agreement`` for sanctions). ACLED's codebook tells its explosion
sub-types apart by the weapon, and several news types are named by one unmistakable word; when
the trigger (the words naming the event) holds such a word and the model's type is not among the
types those words name, the type becomes the first of them, in the order of ``CUES`` (most
specific first: a suicide car bomb is a suicide bomb). A trigger without such a word, or one
whose words agree with the model, is left alone. A trigger that says ground changed hands
("liberated the town of Dabiq", "now claims full control of Aleppo", "overran army checkpoints")
names ACLED's two territory types, told apart by who took it: the side named first in the
trigger, a government's forces ("army", "troops", "regime") or not ("rebels", "opposition",
"ISIL"), leaving out the side it was taken from ("from ISIL control", "clearing Daesh"); with
neither named, the type stays. Two of the small model's fall-backs are
checked against the trigger and the evidence too: an election that neither names becomes ``other``,
and an explosion whose words name no explosive weapon, blast or strike from afar ("ISIL has
killed 70 members of the tribe", "the attack was a horrific act of terror") is not one: ACLED's
explosions are defined by the weapon. It becomes ``violence_against_civilians.attack`` when the
words say attack, killing or terror, else ``other``.

``fix_actors``: an actor is who acted or was acted on, never the weapon. A name that ends in a
weapon or the attack itself ("car bomb", "US drone strike", "drone") loses those words: what is
left that is a name ("US") stays, with its role; nothing or a plain word ("car") leaves nothing.
An actor given twice with one role is kept once.

``drop_advice``: an event the model says occurred whose trigger follows "should" or "ought to"
in its sentence ("Councils should stop requiring new buildings to come with parking, charge for
the spaces ...") is advice, not an occurrence: the labelling guidelines have no status for it,
and it goes.

``check_responsibility``: an event's ``responsibility`` says who is *said* to be responsible (a
claim, an accusation, a suspicion, a denial); the labelling guidelines leave it empty when the
article states the perpetrator as plain fact. A small model fills it with any actor: the
perpetrator, the victim, the minister who spoke. An entry is kept when a sentence of the article
names its actor (every content word of the name) in words of responsibility ("claimed
responsibility", "accused", "blamed", "implicated", "denied", "suspected", "believed", "behind");
that sentence becomes the entry's ``evidence``. The others are removed. An event of a kind that
has no perpetrator (an agreement, a group suspending its operations, arrests, an election, a
policy, a trial: ``NO_PERPETRATOR``) keeps no responsibility at all: who did it is an actor, and
who blames whom for it is a claim.

Each change is a warning.
"""

from __future__ import annotations

import re

from schemas import Extraction, Grounding, Span, Status
from schemas.taxonomy import EventType, family

from .quotes import sentence_starts, sentences_around

#: Words that name a type, most specific type first. Only words with one reading in news of
#: conflict and politics: "attack", "bombing", "killed" or "shot" name no sub-type on their own.
CUES: dict[EventType, str] = {
    EventType.explosion_suicide_bomb: (
        r"suicide[ -]?(?:(?:car|truck|vehicle) )?(?:bomb\w*|attack\w*|vest)|self-detonat\w*|"
        r"blew (?:him|her)self up"),
    EventType.explosion_chemical_weapon: (
        r"chemical (?:weapon|attack)s?|sarin|chlorine gas|mustard gas|nerve agent"),
    EventType.explosion_grenade: r"grenades?",
    EventType.explosion_remote_explosive: (
        r"(?:car|truck|roadside|sticky|parcel) bombs?|ieds?|improvised explosive|explosive device|"
        r"land ?mines?|booby[ -]trap\w*|vbieds?"),
    EventType.explosion_air_drone_strike: (
        r"air ?strikes?|air ?raids?|drone (?:strike|attack)s?|warplanes?|airstrikes?"),
    EventType.explosion_shelling_artillery_missile: (
        r"shell(?:ed|ing|s)|artillery|mortars?|rockets?|missiles?"),
    EventType.vac_abduction: r"abduct\w*|kidnap\w*",
    EventType.strategic_arrests: r"arrest(?:s|ed|ing)?|detain(?:s|ed|ing)?",
    EventType.politics_sanctions: r"sanctions|asset freezes?|embargo(?:es)?",
    # a group suspending or halting what it does (seed-000's "temporary suspension of its military
    # operations", which the model typed as an agreement)
    EventType.strategic_change_to_group_activity: r"suspen(?:d|ds|ded|sion)|halt(?:s|ed)?",
    EventType.strategic_agreement: r"agreements?|ceasefires?|truces?|peace deals?",
    # a visit, talks, a summit: diplomacy, not an election (the model's first politics type; an
    # agreement reached in talks stays an agreement)
    EventType.politics_diplomacy: r"visits?|visited|talks|summits?|ministerials?|negotiations?",
    EventType.politics_election: r"elections?|electoral|referendum|ballots?",
    EventType.disaster: (
        r"floods?|flooding|flooded|burst (?:its|their) banks|earthquakes?|landslides?|wildfires?|"
        r"hurricanes?|cyclones?"),
}

_CUES = [(kind, re.compile(rf"\b(?:{pattern})\b", re.I)) for kind, pattern in CUES.items()]
#: An election is named when it is one. ``politics.election`` is the first type of its family,
#: the one a small model under a grammar falls back on (a congratulation on a national day, "the
#: Syrian army now claims full control of Aleppo"): without such a word it becomes ``other``.
_ELECTION = re.compile(rf"\b(?:{CUES[EventType.politics_election]}|voters|polls?|polling|elected|"
                       r"campaign\w*|candidates?|re-?election)\b", re.I)

#: What an explosion or a strike from afar is named by: without one of these words in its trigger
#: or evidence, an event is not of the explosion family (every explosion type's cue counts too).
_EXPLOSIVE = re.compile(
    r"\b(?:bomb\w*|explo\w+|blasts?|detonat\w+|strikes?|struck|shell\w*|drones?|mines?|jets?|"
    r"fired|launch\w*|" + "|".join(p for t, p in CUES.items() if family(t) == "explosion") + r")\b", re.I)
_ATTACK = re.compile(r"\b(?:attack\w*|kill\w*|massacre\w*|execut\w+|terror\w*|murder\w*|shot|shoot\w*|"
                     r"gunm[ae]n|gunfire)\b", re.I)

#: Ground changing hands by force, and the two sides that can take it.
_TERRITORY = re.compile(
    r"\b(?:liberat\w+|recaptur\w+|retook|retak(?:e|es|en|ing)|overr[au]n|"
    r"(?:seiz\w+|took|taken|full|regain\w*) control)\b", re.I)  # not "will take control" under a deal
_GOVERNMENT_SIDE = re.compile(
    r"\b(?:army|armed forces|troops|soldiers|military|regime|government|security forces|police)\b", re.I)
_NON_STATE_SIDE = re.compile(
    r"\b(?:rebels?|opposition|militants?|insurgents?|militias?|jihadists?|fighters|guerrill\w+|"
    r"isil|isis|islamic state|da['’]?e?sh)\b", re.I)
#: Words before a side that make it the one losing the ground ("liberated Dabiq from ISIL control",
#: "clearing Daesh from Iraq", "pushed ISIL out").
_LOSER = re.compile(r"\b(?:from|against|clear\w*|push\w*|drove|driv\w+|expel\w*|defeat\w*|oust\w*)\s+(?:the\s+)?$", re.I)


def territory_type(words: str) -> EventType | None:
    """The territory type ``words`` name: ground taken, by the side named first that is not the
    one losing it; else ``None``."""
    if not _TERRITORY.search(words):
        return None
    sides = [(m.start(), kind) for pattern, kind in (
        (_GOVERNMENT_SIDE, EventType.battle_government_regains_territory),
        (_NON_STATE_SIDE, EventType.battle_non_state_actor_overtakes_territory),
    ) for m in pattern.finditer(words) if not _LOSER.search(words, max(0, m.start() - 20), m.start())]
    return min(sides)[1] if sides else None


def named_types(words: str) -> list[EventType]:
    """The types whose cue words ``words`` holds, in the order of ``CUES``."""
    return [kind for kind, pattern in _CUES if pattern.search(words)]


def retype_events(extraction: Extraction) -> list[str]:
    warnings = []
    for event in extraction.events:
        if event.trigger is None:
            continue
        words = event.trigger.matched or event.trigger.text
        taken = territory_type(words)
        named = [taken] if taken else named_types(words)
        said = "\n".join(span.text for span in (event.trigger, *event.evidence) if span and span.text)
        if named and event.type not in named:
            warnings.append(f"event {event.id}: type {event.type.value} changed to {named[0].value}: "
                            f"its trigger says {words!r}")
            event.type = named[0]
        elif event.type == EventType.politics_election and not _ELECTION.search(said):
            warnings.append(f"event {event.id}: type politics.election changed to other: no word of its "
                            f"trigger or evidence names an election")
            event.type = EventType.other
        elif family(event.type) == "explosion" and not _EXPLOSIVE.search(said):
            kind = EventType.vac_attack if _ATTACK.search(said) else EventType.other
            warnings.append(f"event {event.id}: type {event.type.value} changed to {kind.value}: no word of its "
                            f"trigger or evidence names an explosive weapon or a strike")
            event.type = kind
    return warnings


RESPONSIBILITY = re.compile(
    r"\b(?:claim(?:s|ed|ing)?\s+(?:[\w-]+\s+){0,2}?(?:responsibility|credit|attacks?|bombings?|strikes?|killings?)|"
    r"responsib\w+|accountable|accus\w+|blam\w+|implicat\w+|den(?:y|ies|ied|ying)|suspect\w*|believed|"
    r"attribut\w+|(?:is|are|was|were|be|been)\s+behind)\b", re.I)
_FOLD = str.maketrans("’‘`´", "''''")
_WORD = re.compile(r"[\w'-]+")
_FUNCTION_WORDS = {"the", "of", "in", "and", "its", "a", "an", "for", "on", "at", "to"}


def _words_of(text: str) -> set[str]:
    return set(_WORD.findall(text.translate(_FOLD).lower()))


#: The types whose events nobody is "responsible" for in the guidelines' sense (claimed, accused,
#: suspected, denied): the non-violent strategic developments (looting and disrupted weapons use
#: are acts one can be accused of), politics and legal proceedings.
NO_PERPETRATOR = frozenset(
    t for t in EventType
    if family(t) in ("politics", "legal")
    or (family(t) == "strategic" and t not in (EventType.strategic_looting, EventType.strategic_disrupted_weapons_use))
)


def check_responsibility(extraction: Extraction, document: str) -> list[str]:
    if not any(event.responsibility for event in extraction.events):
        return []
    warnings = []
    for event in extraction.events:
        if event.responsibility and event.type in NO_PERPETRATOR:
            warnings.append(f"event {event.id}: responsibility of "
                            f"{', '.join(repr(r.actor) for r in event.responsibility)} removed: "
                            f"a {event.type.value} event has no perpetrator")
            event.responsibility = []
    starts = sentence_starts(document)
    stating = [  # the sentences that speak of responsibility: (start, end, their words)
        (a, b, _words_of(document[a:b]))
        for a, b in zip(starts, (*starts[1:], len(document))) if RESPONSIBILITY.search(document, a, b)
    ]
    for event in extraction.events:
        kept = []
        harmed = [_words_of(a.name) for a in event.actors if a.role in ("target", "victim")]
        for entry in event.responsibility:
            name = _words_of(entry.actor) - _FUNCTION_WORDS
            if _words_of(entry.actor) in harmed:
                warnings.append(f"event {event.id}: responsibility of {entry.actor!r} removed: it is the "
                                "event's target or victim")
                continue
            found = next(((a, b) for a, b, words in stating if name and name <= words), None)
            if found is None:
                warnings.append(f"event {event.id}: responsibility of {entry.actor!r} removed: no sentence "
                                f"of the article names it with words of responsibility")
                continue
            text = document[found[0]:found[1]].rstrip()
            entry.evidence = Span(text=text, start=found[0], end=found[0] + len(text),
                                  grounding=Grounding.exact)
            kept.append(entry)
        event.responsibility = kept
    return warnings


#: Words that end a weapon's or an attack's name (lower case: "Strike Force" is a unit).
WEAPON_TAIL = re.compile(
    r"(?:^|\s+)(?:(?:car|truck|roadside|suicide|drone|air|missile|rocket|mortar)\s+)?"
    r"(?:bombs?|drones?|strikes?|airstrikes?|missiles?|rockets?|mortars?|shells?|explosions?|blasts?|"
    r"attacks?|IEDs?)$")


def fix_actors(extraction: Extraction) -> list[str]:
    warnings = []
    for event in extraction.events:
        actors, seen = [], set()
        for actor in event.actors:
            weapon = WEAPON_TAIL.search(actor.name)
            if weapon is not None:
                owner = actor.name[:weapon.start()].strip()
                if not owner[:1].isupper():
                    warnings.append(f"event {event.id}: actor {actor.name!r} removed: a weapon or an "
                                    "attack, not who acted")
                    continue
                warnings.append(f"event {event.id}: actor {actor.name!r} is {owner!r}: the rest names "
                                "the weapon")
                actor.name = owner
            key = (frozenset(_words_of(actor.name)), actor.role)
            if key in seen:
                warnings.append(f"event {event.id}: actor {actor.name!r} ({actor.role}) given twice: kept once")
                continue
            seen.add(key)
            actors.append(actor)
        event.actors = actors
    return warnings


ADVICE = re.compile(r"\b(?:should|ought\s+to)\b", re.I)


def drop_advice(extraction: Extraction, document: str) -> list[str]:
    advice = []
    for event in extraction.events:
        trigger = event.trigger
        if event.status != Status.occurred or trigger is None or trigger.start is None:
            continue
        first, _ = sentences_around(document, trigger.start, trigger.end)
        if ADVICE.search(document, first, trigger.end):
            advice.append(event)
    if not advice:
        return []
    gone = {e.id for e in advice}
    extraction.events = [e for e in extraction.events if e not in advice]
    for claim in extraction.claims:
        claim.event_ids = [i for i in claim.event_ids if i not in gone]
    return [f"event {e.id} removed: its trigger is advice ({e.trigger.text[:60]!r} after 'should'), "
            "not something that occurred" for e in advice]


def evidence_from_trigger(extraction: Extraction, document: str) -> list[str]:
    """An event given without evidence (the lean events pass does not ask for it: copying whole
    sentences was most of an event's tokens) gets the sentence that holds its trigger, as the
    article has it (exact offsets, a wire dateline left out). An event whose trigger is not in the
    article keeps none. Events that came with evidence are left as they are."""
    for event in extraction.events:
        trigger = event.trigger
        if event.evidence or trigger is None or trigger.start is None or trigger.end is None:
            continue
        first, last = sentences_around(document, trigger.start, trigger.end)
        words = document[first:last]
        first += len(words) - len(words.lstrip())
        last -= len(words) - len(words.rstrip())
        if last > first:
            event.evidence = [Span(text=document[first:last], start=first, end=last, grounding=Grounding.exact)]
    return []
