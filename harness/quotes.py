"""Quotations and reported speech the model left out, recovered from the article's own words.

A small model reading a chunk often stops early or loops on one claim and never reaches a
later quotation (on seed-000, Qwen2.5-Coder-1.5B skipped both Pat Ryder's and John Kirby's
words). A direct quotation with its attribution is the one kind of claim that the text itself
settles, so a quotation that no claim covers is added when an attribution sits next to it:

- after it: ``"...," said Amina Diallo, the town's mayor.`` / ``"...," the statement added.``
  / ``"...," according to the ministry.``
- before it, introduced by a comma or colon: ``Pentagon press secretary Maj Gen Pat Ryder
  responded during a briefing, saying, "..."``
- right after an attributed quotation in the same paragraph (``... said Diallo. "We have no
  shelters."``): the same speaker.

Anything else (a partial quotation inside reported speech, scare quotes, a headline) is left
alone. Pronouns and "the statement" take the speaker of the nearest claim before them.

``recover_according_to`` does the same for reported speech that the sentence itself attributes:
"According to officials, ..." and "..., according to the ministry." (an ``indirect`` claim, when
the source is at most ``MAX_SOURCE_WORDS`` words), and ``recover_reported`` for a sentence
"[On Monday, ]Iran's Foreign Ministry[ has] refuted[ that] ...": a reporting verb, or a verb of
stance ("The United States strongly condemns ..."), right after a short subject that opens the
sentence (not a relative clause, a passive or a negation); and for a claim of responsibility by
a named group anywhere in a sentence ("..., for which Da’esh has claimed responsibility").

``speaker_from_subject`` corrects rather than adds: a claim whose words open with their own
subject and a reporting, blaming or stance verb ("The United States holds Iran responsible ...") is
that subject's, whichever party the model named (seed-000: Kataib Hezbollah, the group the
sentence is about); after "X said (that)" its content is cut to what was said.

Each added claim carries the flag ``recovered`` and a warning names it, so a reader can tell the
model's claims from the harness's (``--model-quotes-only`` turns recovery off). English
reporting verbs only.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from schemas import Claim, Extraction, Grounding, Span, Speaker

from .refine import INDIRECT_END, TITLE_WORDS, quotations

RECOVERED = "recovered"
MIN_WORDS = 3
VERBS = (
    r"said|says|say|stated|states|added|adds|told|tells|declared|announced|warned|warns|denied|"
    r"insisted|responded|replied|wrote|writes|noted|explained|argued|claimed|continued|urged|"
    r"vowed|stressed|emphasi[sz]ed|acknowledged|confirmed|reported|asked|recalled|cautioned|remarked|"
    r"commented|observed|suggested|conceded|admitted|maintained|asserted|contended|concluded|"
    r"predicted|promised|pledged|threatened|boasted|complained|demanded|announces|declares"
)
PRONOUNS = {"he", "she", "they", "it", "we", "i"}
THIRD_PERSON = {"he", "she", "they", "it"}
STATEMENTS = {"statement", "report", "communique", "communiqué", "release", "letter"}
RANKS = {
    "maj", "gen", "col", "lt", "brig", "adm", "capt", "sgt", "cpl", "cmdr", "dr", "mr", "mrs",
    "ms", "sir", "prof", "rev", "sen", "rep", "gov",
}
_WHO = r"[^,.;:!?\"“”«»]{1,100}?"
# attribution after the closing mark: verb first ("said Amina Diallo, the mayor") or speaker first
AFTER = re.compile(
    rf"^[\s,.;:!?—–-]*(?:(?P<verb>{VERBS}|according to)\s+(?P<who>{_WHO})"
    rf"(?:,\s*(?P<role>[^.;\"“”]+?))?\s*(?:[.,;]|$)"
    rf"|(?P<who2>{_WHO})\s+(?P<verb2>{VERBS})\b)",
    re.I,
)
RELATIVE = re.compile(r"\s+(?:who|which|that|whose)\s+")
PLACE_OR_TIME = re.compile(r"\s+(?:in|at|on|during|from|after|before|when|while|as)\s+")
WHEN_OR_WHERE = re.compile(r"\s+(?:in|at|on|during)\s+")
#: a time phrase ending a sentence's subject: "Dovan's defence ministry on Sunday (denied ...)"
TIME_TAIL = re.compile(
    r"\s+(?:(?:late|early)\s+)?(?:(?:on|last|this)\s+)?(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|yesterday|today|"
    r"tonight|week|earlier)\b.*$", re.I)
MAX_SOURCE_WORDS = 6
#: where sentences start: the sentence patterns below are tried there only (scanning every
#: position with look-behinds cost 0.2-0.3 ms per 5,000 characters and pattern)
SENTENCE_BREAK = re.compile(r"[.!?][\"”]?\s+|\n\s*")
# a wire dateline opening a paragraph: "ARDEN, June 9 (Wire) - ", "Baghdad [Iraq], January 31 : ",
# "BAGHDAD (Reuters) — ": the sentence starts after it
DATELINE = re.compile(
    r"^(?:[A-Z][A-Z'’.-]{2,}(?:\s[A-Z][A-Z'’.-]+){0,2}(?:,\s*[^\n,:()\[\]]{1,30}?)?"
    r"|[A-Z][\w'’.-]+(?:\s[A-Z][\w'’.-]+){0,2}(?:\s*\[[^\]\n]{1,30}\])?,\s*[^\n,:()\[\]]*\d[^\n,:()\[\]]{0,20}?)"
    r"(?:\s*[(\[][^)\]\n]{1,30}[)\]])?\s*[-–—:]\s+",
    re.M,
)
ACCORDING_LEAD = re.compile(
    r"According to (?P<who>[^,.;\"“”]{2,100}),\s*"
    r"(?P<content>[^.!?\"“”]*[^.!?\s\"“”])[.!?]", re.M)
ACCORDING_TAIL = re.compile(
    r"(?P<content>[A-Z][^.!?\"“”]{10,}?),\s*"
    r"according to (?P<who>[^,.;!?\"“”]{2,100})[.!?]", re.M)
# reported speech: "[On Monday, ]Iran's Foreign Ministry[ has] said[ that] <clause>."
REPORTING = (
    r"said|says|stated|announced|acknowledged|confirmed|warned|added|denied|noted|"
    r"insisted|argued|claimed|explained|stressed|emphasi[sz]ed|maintained|asserted|conceded|"
    r"admitted|predicted|cautioned|indicated|declared|reported|refuted|rejected"
)
#: the verbs of a statement's stance ("The United States strongly condemns ...", "The U.S.
#: reaffirms its commitment ...", "We call on ..."): what follows is what was said, as after blame
STANCE = (r"condemn(?:s|ed)?|denounce[sd]?|deplore[sd]?|welcome[sd]?|reaffirm(?:s|ed)?|urge[sd]?|"
          r"demand(?:s|ed)?|call(?:s|ed)?\s+(?:on|for|upon)")
#: an adverb between a subject and its verb ("strongly condemns"): a list, as "[a-z]+ly" would
#: read "The ally said" as "The" + "ally said"
MANNER = (r"strongly|firmly|categorically|unequivocally|publicly|formally|officially|flatly|vehemently|"
          r"sharply|roundly|utterly|warmly|fully|deeply|wholeheartedly|very\s+much")
# not a clause ("officials who said", "attacks were reported") nor a negation ("No group claimed")
_SUBJECT_WORD = (
    r"(?!(?i:who|which|that|and|but|or|when|after|before|while|if|as|because|not|no|none|nobody|"
    r"is|are|was|were|be|been|being)\b)[\w'’.-]++"
)
# a name: capitalised words, with Arabic and European particles ("Abu Hussein al-Hamidawi",
# "Ursula von der Leyen")
_NAME_WORD = r"(?:[A-Z][\w'’.-]*|(?:al|el|ad|as|bin|ibn|de|da|del|van|von|der|den|le|la)(?:-[A-Z][\w'’-]*)?)"
#: a subject that is only a determiner is a participle's ("the reported attack"), not a speaker
_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "its", "their"}
#: a lead phrase before a sentence's subject: "On Saturday, [Dae’sh claimed ...]", "In a
#: previous statement, [it refuted ...]"
_LEAD = r"(?P<lead>[A-Z][^,.;:!?\"“”\n]{0,60}+),\s+"
LEAD = re.compile(_LEAD)
#: the longest reported clause looked for (the longest indirect claim in the fixtures' gold: 279)
MAX_REPORTED = 1500
#: a reporting or stance verb and the clause it reports, to the sentence's end: "[strongly]
#: condemned (that) ...", not "said to be"; at most MAX_REPORTED characters, so that trying every
#: clause of one endless sentence stays linear
_SAYS_CLAUSE = (
    rf"(?:(?:{MANNER})\s+)?(?P<verb>{REPORTING}|{STANCE})(?:\s+that)?\s+"
    rf"(?!to\s)(?P<content>[^\s\"“”«][^.!?\n]{{0,{MAX_REPORTED}}}?[^.!?\s,;:])[.!?](?=[\s\"”]|$)"
)
REPORTED = re.compile(
    rf"(?:{_LEAD})?"
    rf"(?P<who>(?:{_SUBJECT_WORD}\s+){{0,5}}?{_SUBJECT_WORD})"
    rf"(?:,\s+(?P<name>[A-Z][\w'’.-]*(?:\s+{_NAME_WORD}){{0,4}}),)?\s+"  # "An HLM spokesman, Dario Fenn,"
    r"(?:(?:has|have|had)\s+)?(?:(?:also|further|later|previously|again|earlier)\s+)?"
    rf"(?:continue[sd]?\s+to\s+)?{_SAYS_CLAUSE}",
    re.M,
)
#: a clause joined to its sentence, where reported speech may start: "..., and local officials
#: said ...", "..., but the officials said ..."
JOINED_CLAUSE = re.compile(r",\s+(?:and|but)\s+")
# what may follow the verb of an attribution that ends its sentence: a time or place, then the
# sentence's end ("said on Sunday.", "reported.")
_VERB_TO_END = r"(?:\s+(?:on|in|at|late|early|last|this)\s+[^.!?,\"“”\n]{1,40}?)?[.!?]"
# reported speech with its attribution after it: "<clause>, Kestria's health ministry said[ on
# Sunday]." / "..., CNN reported." / "..., they said."
TRAILING = re.compile(
    r"(?P<content>[A-Z\d][^.!?\"“”\n]{10,}?),\s*"
    rf"(?P<who>(?:{_SUBJECT_WORD}\s+){{0,5}}?{_SUBJECT_WORD})\s+"
    r"(?:(?:has|have|had)\s+)?"
    rf"(?P<verb>{REPORTING}){_VERB_TO_END}(?=\s|$)",
    re.M,
)
#: TRAILING can only match a sentence that ends in a reporting verb (and a time or place): tried
#: on those alone, it costs half as much (0.13 against 0.23 ms per 5,000-character article). The
#: two share ``_VERB_TO_END``, so the filter cannot drift from the pattern it stands for.
ENDS_REPORTED = re.compile(rf"\s(?:{REPORTING}){_VERB_TO_END}\s*$")
# a claim's own words open with its speaker: "The United States holds Iran responsible ...",
# "The US has suggested ..." (reporting verbs, and the verbs of blame)
BLAMING = (r"(?:holds|held)\s+[^.;!?]{1,60}?\s+(?:responsible|accountable)|blames|blamed|accuses|accused|"
           r"implicates|implicated|attributes|attributed|suggests|suggested")
OWN_SUBJECT = re.compile(
    rf"(?:{_LEAD})?"  # "In a previous statement, it refuted ..."
    rf"(?P<who>(?:{_SUBJECT_WORD}\s+){{0,5}}?{_SUBJECT_WORD})\s+"
    r"(?:(?:has|have|had)\s+)?(?:(?:also|further|later|previously|again|earlier|specifically)\s+)?"
    rf"(?:(?:{MANNER})\s+)?"
    rf"(?:(?P<verb>{REPORTING})\b(?:(?:\s+(?:on|in|at|during|late|early|last|this)\b[^.;:!?,\"“”]{{0,40}}?)?"
    rf",?\s+that\b)?\s*|(?P<blame>{BLAMING})\b|(?P<stance>{STANCE})\b)"  # "said[ on Monday] that"
)
# attribution before the opening mark, ending in a comma or colon: a verb, then at most 60
# characters to the comma or colon; the speaker is the run of words (<= 100 characters, no
# punctuation) right before the verb. Found verb first: one pattern "speaker, then verb" tried
# from every position cost 0.17 ms per 5,000-character article, this 0.01 ms (same answers).
BEFORE_VERB = re.compile(rf"\s+(?P<verb>{VERBS})\b[^\"“”«»]{{0,60}}?[,:]\s*$", re.I)
BEFORE_WHO = re.compile(r"[^,.;:!?\"“”«»]{1,100}$")
#: BEFORE_VERB can only match text ending in a comma or colon, within its last ~180 characters
#: (speaker <= 100, verb, <= 60 more); searching whole paragraphs cost 13% of a batch's CPU.
BEFORE_WINDOW = 200
# a name at the end of a phrase: the trailing run of name words ("... spokesperson John Kirby")
NAME_TAIL = re.compile(rf"^(?P<role>.*?)\s*(?P<name>(?:{_NAME_WORD}\s+)*(?:[A-Z][\w'’-]*|(?:al|el)-[A-Z][\w'’-]*))$")


@dataclass
class _Attribution:
    who: str
    verb: str
    role: str | None = None


def _words(text: str) -> int:
    return len(text.split())


@lru_cache(maxsize=1)  # three scans of one document share it
def sentence_starts(document: str) -> tuple[int, ...]:
    starts = {0, *(b.end() for b in SENTENCE_BREAK.finditer(document))}
    starts.update(d.end() for d in DATELINE.finditer(document))
    return tuple(sorted(starts))


def sentences_around(document: str, start: int, end: int) -> tuple[int, int]:
    """Where the sentence holding ``start`` begins and the one holding ``end`` ends."""
    starts = sentence_starts(document)
    stop = SENTENCE_END.search(document, max(end - 1, 0))
    return starts[bisect_right(starts, start) - 1], stop.end() if stop else len(document)


def _attribution(before: str, after: str) -> _Attribution | None:
    m = AFTER.match(after)
    if m:
        if m.group("verb"):  # "said Pat Ryder in a briefing": the name ends before "in"
            who = PLACE_OR_TIME.split(m.group("who"), maxsplit=1)[0]
            return _Attribution(who, m.group("verb"), m.group("role"))
        return _Attribution(m.group("who2"), m.group("verb2"))
    tail = before.rstrip()
    return _attribution_before(tail[-BEFORE_WINDOW:]) if tail.endswith((",", ":")) else None


def _attribution_before(window: str) -> _Attribution | None:
    """The first verb (from the left) with a speaker right before it: "Pentagon press secretary
    Maj Gen Pat Ryder responded during a briefing, saying,"."""
    at = 0
    while verb := BEFORE_VERB.search(window, at):
        who = BEFORE_WHO.search(window, 0, verb.start())
        if who:
            return _Attribution(who.group(0), verb.group("verb"))
        at = verb.start() + 1
    return None


#: what a "Secretary of ..." or "Minister for ..." is of: part of the title, not of the name
DEPARTMENTS = {
    "state", "defense", "defence", "foreign", "affairs", "home", "interior", "justice", "health",
    "homeland", "security", "energy", "education", "finance", "treasury", "commerce", "labor",
    "labour", "agriculture", "transportation", "transport", "veterans", "trade", "development",
    "international", "environment", "the", "war",
}


#: the last word of a body's name, which a title word inside it ("General") does not split
INSTITUTIONS = {
    "hospital", "ministry", "office", "council", "agency", "department", "assembly", "committee",
    "commission", "court", "army", "police", "government", "forces", "university", "institute",
    "center", "centre", "organisation", "organization", "group", "front", "brigade", "brigades",
    "party", "service", "services", "authority", "bank", "fund", "programme", "program", "news",
}


def _title_word(token: str) -> bool:
    return any(TITLE_WORDS.fullmatch(part) for part in token.split("-"))  # "Secretary-General"


def speaker_from(who: str, role: str | None = None) -> Speaker:
    """``Pentagon press secretary Maj Gen Pat Ryder`` -> name ``Pat Ryder``, role
    ``Pentagon press secretary``; ``Secretary of Defense Ash Carter`` -> name ``Ash Carter``;
    ``US officials`` -> role only."""
    who = " ".join(who.split())
    m = NAME_TAIL.match(who)
    name, lead = (m.group("name"), m.group("role")) if m else (None, who)
    connector = lead.split()[-1].lower() if name and lead.split() else ""
    if connector in ("in", "at", "from", "near") or (
            connector in ("of", "for") and not any(map(_title_word, lead.split()))):
        # "officials in Corvel", "Residents of Tarvos": a place, not a name. The description is the
        # role; an apposition after it names the place more often than a role ("officials in
        # Corvel, the capital"), so a ``role`` passed with it is not used.
        return Speaker(role=who)
    if connector in ("of", "for"):  # "Secretary of | Defense Ash Carter"
        tokens = name.split()
        if all(t.lower() in DEPARTMENTS or _title_word(t) for t in tokens):
            return Speaker(name=who, role=role)  # "Ministry of Defence": a body's whole name
        moved = 0
        while moved < len(tokens) - 1 and tokens[moved].lower() in DEPARTMENTS:
            moved += 1
        lead, name = " ".join([lead, *tokens[:moved]]), " ".join(tokens[moved:])
    if name:
        tokens = name.split()
        # "Foreign Minister Sergei Lavrov": the title words belong to the role
        cut = max((i + 1 for i, t in enumerate(tokens) if _title_word(t)), default=0)
        while cut < len(tokens) - 1 and tokens[cut].lower().rstrip(".") in RANKS:
            cut += 1
        if cut >= len(tokens) or tokens[-1].lower() in INSTITUTIONS:
            cut = 0  # "the Foreign Ministry", "Dervan General Hospital": a body's name
        titles = " ".join(t for t in tokens[:cut] if t.lower().rstrip(".") not in RANKS)
        lead = " ".join(filter(None, [lead, titles]))
        name = " ".join(tokens[cut:])
    role = (role or "").strip() or lead.strip() or None
    return Speaker(name=name or None, role=role if role != name else None)


def split_titled_names(extraction: Extraction) -> list[str]:
    """A model's speaker name that carries a title ("US President Joe Biden", "Kataib Hezbollah
    Secretary-General Abu Hussein al-Hamidawi", "Secretary of Defense Ash Carter") is split
    into name and role, as the article's own attributions are: a comparison can then tell the
    group from its officer, and the president from the country."""
    warnings = []
    for claim in extraction.claims:
        speaker = claim.speaker
        if not speaker.name or not any(map(_title_word, speaker.name.split())):
            continue
        split = speaker_from(speaker.name)
        if not (split.name and split.role) or split.name == speaker.name:
            continue
        was = speaker.name
        role_words = set(_speaker_words(speaker.role or ""))
        speaker.name = split.name
        if role_words <= set(_speaker_words(split.role)):  # "secretary-general" is in the title
            speaker.role = split.role
        warnings.append(f"claim {claim.id}: speaker {was!r} split into name {speaker.name!r} and "
                        f"role {speaker.role!r}")
    return warnings


class _Claims:
    """An extraction's claims as the recoveries see them, indexed by where their words start:
    overlap and nearest-before queries cost O(log n) instead of a scan (and a sort) of every
    claim per candidate, which made a document of 4,000 attributed sentences take 5 s and one of
    70,000 run past 3 minutes; a new claim's id costs O(1)."""

    def __init__(self, extraction: Extraction):
        self.extraction = extraction
        self.ids = {c.id for c in extraction.claims}
        self._next_r = 1
        self._keys: list[tuple[int, int]] = []  # (start, order in the extraction), sorted
        self._claims: list[Claim] = []  # in the order of _keys
        self._longest = 0
        for claim in extraction.claims:
            self._index(claim)

    def _index(self, claim: Claim) -> None:
        start, end = claim.content.start, claim.content.end
        if start is None:
            return
        key = (start, len(self._keys))
        at = bisect_right(self._keys, key)
        self._keys.insert(at, key)
        self._claims.insert(at, claim)
        self._longest = max(self._longest, (end or start) - start)

    def overlapping(self, start: int, end: int) -> list[Claim]:
        """The claims whose grounded words overlap ``start:end``, in the extraction's order."""
        found = []
        j = bisect_left(self._keys, (end, -1)) - 1  # the last claim starting before ``end``
        while j >= 0 and self._keys[j][0] + self._longest > start:  # earlier ones end before
            claim = self._claims[j]
            if claim.content.grounding != Grounding.none and start < (claim.content.end or 0):
                found.append((self._keys[j][1], claim))
            j -= 1
        return [claim for _, claim in sorted(found, key=lambda pair: pair[0])]

    def before(self, at: int) -> Iterator[Claim]:
        """The claims whose words start before ``at``, nearest first (ties in the extraction's
        order)."""
        j = bisect_left(self._keys, (at, -1)) - 1
        while j >= 0:
            first = j
            while first and self._keys[first - 1][0] == self._keys[j][0]:
                first -= 1
            yield from self._claims[first : j + 1]
            j = first - 1

    def add(self, speaker: Speaker, cue: str, kind: str, start: int, end: int, document: str) -> Claim:
        """A recovered claim, ``r1``, ``r2``...: never an id the model gave (a claim removed
        earlier keeps its id in the warnings)."""
        while f"r{self._next_r}" in self.ids:
            self._next_r += 1
        claim = Claim(
            id=f"r{self._next_r}", kind=kind, speaker=speaker, cue=cue.lower(),
            content=Span(text=document[start:end], start=start, end=end, grounding=Grounding.exact),
            flags=[RECOVERED],
        )
        self.ids.add(claim.id)
        self.extraction.claims.append(claim)
        self._index(claim)
        return claim


def _resolve(found: _Attribution, start: int, claims: _Claims) -> Speaker:
    """The speaker an attribution names; "he", "the statement" or "the spokesman" take the
    speaker of the nearest claim before (for "the spokesman", one whose role says so)."""
    words = found.who.lower().split()
    if (len(words) == 1 and words[0] in PRONOUNS) or (words[0] == "the" and words[-1] in STATEMENTS):
        nearest = next(claims.before(start), None)
        if nearest is not None:
            return nearest.speaker.model_copy()
    if words[0] == "the" and not any(w[:1].isupper() for w in found.who.split()[1:]):
        for claim in claims.before(start):
            if words[-1] in f"{claim.speaker.name} {claim.speaker.role}".lower():
                return claim.speaker.model_copy()
    return speaker_from(found.who, found.role)


def _statement_like(text: str, after: str) -> bool:
    """A quoted statement ends in punctuation, inside the marks or right after them."""
    return bool(re.search(r"[,.!?]\s*$", text) or re.match(r"\s*[,.!?]", after))


def _next_id(ids: set[str], stem: str) -> str:
    """The id of a statement split off claim ``stem``: ``c11b``, then ``c11c``... (recovered
    claims are ``r1``, ``r2``...: ``_Claims.add``)."""
    return next(f"{stem}{x}" for x in "bcdefghijklmnopqrstuvwxyz" if f"{stem}{x}" not in ids)


def _note(claim: Claim, what: str) -> str:
    who = claim.speaker.name or claim.speaker.role
    return (f"claim {claim.id} recovered from {what} (the model missed it): {who!r} {claim.cue} "
            f"{claim.content.text[:50]!r}")


def _excluded(start: int, end: int, exclude: list[tuple[int, int]]) -> bool:
    """The words overlap a region not shown to the model (page furniture)."""
    return any(s < end and start < e for s, e in exclude)


def _open(claims: _Claims, document: str, start: int, end: int, exclude: list[tuple[int, int]]) -> bool:
    """``document[start:end]`` may become a recovered statement: long enough, covered by no
    claim, and not page furniture."""
    return (_words(document[start:end]) >= MIN_WORDS and not claims.overlapping(start, end)
            and not _excluded(start, end, exclude))


def _add_reported(claims: _Claims, document: str, start: int, end: int, who: str, cue: str,
                  exclude: list[tuple[int, int]], what: str, role: str | None = None) -> list[str]:
    """Add ``document[start:end]`` as an ``indirect`` claim of ``who`` unless the source is too
    long to be a speaker, the statement too short, already covered, or page furniture; returns
    its warning (none if nothing was added)."""
    if len(who.split()) > MAX_SOURCE_WORDS or not _open(claims, document, start, end, exclude):
        return []
    if who.lower() in PRONOUNS and next(claims.before(start), None) is None:
        return []  # "We welcome ..." with no claim before to say who "we" are
    speaker = _resolve(_Attribution(who, cue, role), start, claims)
    return [_note(claims.add(speaker, cue, "indirect", start, end, document), what)]


def recover_according_to(extraction: Extraction, document: str,
                         exclude: list[tuple[int, int]] = ()) -> list[str]:
    """Add an ``indirect`` claim for each sentence "According to X, ..." or "..., according to X."
    whose statement no claim covers and whose source is short enough to be a speaker."""
    warnings = []
    if "ccording to" not in document:  # the patterns scan every sentence: skip the common case
        return warnings
    starts, claims = sentence_starts(document), _Claims(extraction)
    for pattern in (ACCORDING_LEAD, ACCORDING_TAIL):
        for m in filter(None, (pattern.match(document, at) for at in starts)):
            start, end = m.span("content")
            # "a military source who asked not to be named": the source, not its description
            who = RELATIVE.split(WHEN_OR_WHERE.split(m.group("who"), maxsplit=1)[0], maxsplit=1)[0].strip()
            warnings += _add_reported(claims, document, start, end, who, "according to", exclude,
                                      '"according to"')
    return warnings


#: a claim of responsibility anywhere in a sentence ("for which Da’esh has claimed responsibility
#: and ...", "Kataib Hezbollah, the Iran-aligned group that claimed responsibility for the attack
#: on Sunday, stated ..."): what was claimed, to the end of its clause ...
CLAIMED = re.compile(
    r"\bclaimed\s+(?P<content>responsibility(?:\s+for\s+[^,.;:!?\"“”\n]{1,300}?)?)(?=\s+and\s|[,.;:!?\n]|$)")
#: ... and who claimed it: the name right before ("No group claimed" names nobody), or the name
#: a relative clause describes ("Kataib Hezbollah, the ... group that")
CLAIMANT = re.compile(
    rf"(?<![\w'’-])(?P<who>{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,4}})"
    r"(?:,\s+(?:the|a|an)\s+[^,.;:!?\"“”\n]{1,60}?\s+(?:that|which|who))?"
    r"\s+(?:(?:has|have|had)\s+)?(?:also\s+)?$")


def _claims_of_responsibility(claims: _Claims, document: str, exclude: list[tuple[int, int]]) -> list[str]:
    """An ``indirect`` claim for each claim of responsibility by a named group that no claim
    states. It may sit inside a longer statement (the State Department's "The United States
    condemns the attacks ..., for which Da’esh has claimed responsibility", or the group's own
    "Kataib Hezbollah, the group that claimed responsibility ..., stated that ..."): only a claim
    within the group's name and the end of what it claimed is the same statement."""
    warnings = []
    for m in CLAIMED.finditer(document):
        named = CLAIMANT.search(document, max(0, m.start() - 160), m.start())
        if named is None or named.group("who").lower() in PRONOUNS:
            continue
        start, end = m.span("content")
        if _excluded(start, end, exclude) or any(
                c.content.start >= named.start() and c.content.end <= end + 1 for c in claims.overlapping(start, end)):
            continue
        who = named.group("who").split()
        speaker = speaker_from(" ".join(who[1:] if who[0].lower() in _DETERMINERS and len(who) > 1 else who))
        added = claims.add(speaker, "claimed", "indirect", start, end, document)
        warnings.append(_note(added, "a claim of responsibility"))
    return warnings


def recover_reported(extraction: Extraction, document: str,
                     exclude: list[tuple[int, int]] = ()) -> list[str]:
    """Add an ``indirect`` claim for each sentence "X said (that) ..." (a reporting or stance verb
    right after a short subject, at the start of the sentence, after a lead phrase and a comma, or
    at the start of a clause joined by ", and" / ", but"; "An HLM spokesman, Dario Fenn, denied
    ..." is Dario Fenn's) whose reported clause no claim covers, for each claim of responsibility
    by a named group, and for what a claim's speaker goes on to say in its sentence ('called the
    deal "..." and urged both sides to ...'). "He", "the ministry" take an earlier claim's speaker."""
    warnings, claims = [], _Claims(extraction)
    starts = [at for at in sentence_starts(document) if not DATELINE.match(document, at)]  # after it
    ends = (*starts[1:], len(document))
    ending_reported = [at for at, end in zip(starts, ends)
                       if ENDS_REPORTED.search(document, max(at, end - 70), end)]
    # "..., and local officials said they had asked ...", "..., but the officials said ..."
    clauses = [c.end() for c in JOINED_CLAUSE.finditer(document)]
    for pattern, tried in ((REPORTED, starts), (REPORTED, clauses), (TRAILING, ending_reported)):
        for m in filter(None, (pattern.match(document, at) for at in tried)):
            start, end = m.span("content")
            who = TIME_TAIL.sub("", m.group("who"))
            if who.split()[-1].lower() not in _DETERMINERS:
                name = m.groupdict().get("name")  # "An HLM spokesman, Dario Fenn, denied ..."
                warnings += _add_reported(claims, document, start, end, name or who, m.group("verb"), exclude,
                                          "a reporting verb", role=who if name else None)
    if "claimed responsibility" in document:
        warnings += _claims_of_responsibility(claims, document, exclude)
    warnings += _statements_joined_after(claims, document, exclude)
    return warnings


#: a second statement joined to a claim's sentence right after its words, with a verb of its own:
#: 'called the deal "a fragile but real opportunity" and urged both sides to ...'
AND_THEN = re.compile(rf"[\"”’']?,?\s+and\s+(?:(?:also|later|then)\s+)?{_SAYS_CLAUSE}")


def _statements_joined_after(claims: _Claims, document: str, exclude: list[tuple[int, int]]) -> list[str]:
    """An ``indirect`` claim of a claim's speaker for what follows its words as "... and urged
    (that) ..." in the same sentence, when no claim covers it."""
    warnings = []
    for claim in list(claims.extraction.claims):
        end = claim.content.end
        if end is None or claim.content.grounding == Grounding.none or not (m := AND_THEN.match(document, end)):
            continue
        start, stop = m.span("content")
        if not _open(claims, document, start, stop, exclude):
            continue
        added = claims.add(claim.speaker.model_copy(), m.group("verb"), "indirect", start, stop, document)
        warnings.append(_note(added, f"a statement joined after claim {claim.id}'s words"))
    return warnings


def _speaker_words(text: str) -> list[str]:
    return re.findall(r"[\w-]+", text.lower().replace("'s", " ").replace("’s", " "))


def _party_words(speaker: Speaker) -> set[str]:
    words = _speaker_words(f"{speaker.name or ''} {speaker.role or ''}")
    return {w for w in words if len(w) > 1 and w not in _DETERMINERS}


def _head_word(speaker: Speaker) -> str:
    """The word a speaker is known by: a name's last word, else a description's ("officials")."""
    words = _speaker_words(speaker.name or speaker.role or "")
    return words[-1] if words else ""


def _looks_back_to(before: Claim | None, claim: Claim, words: list[str], document: str) -> bool:
    """Whether the pronoun subject ``words`` of ``claim`` stands for ``before``'s speaker: a
    third-person pronoun alone, ``before`` at most one paragraph break back, and the model's own
    speaker for ``claim`` not yet named in the article (a pronoun looks back, not ahead)."""
    if (len(words) > 1 or words[0].lower() not in THIRD_PERSON or before is None
            or before.content.end is None or before.content.end > claim.content.start):
        return False
    if len(re.findall(r"\n\s*", document[before.content.end : claim.content.start])) > 1:
        return False
    head = _head_word(claim.speaker)
    return not (head and re.search(rf"\b{re.escape(head)}\b", document[: claim.content.start], re.I))


# a second statement by the same subject, with its own verb: "holds Iran responsible for ...
# and has specifically implicated Kataib Hezbollah in ..." ("said X and that Y" is one claim)
COORDINATED = re.compile(
    r",?\s+and\s+(?:(?:has|have|had)\s+)?(?:(?:also|further|specifically|later)\s+)?"
    rf"(?P<verb>blamed|accused|implicated|attributed|suggested|{REPORTING})\s+(?:that\s+)?"
)


def _split_coordinated(claim: Claim, extraction: Extraction, document: str) -> list[str]:
    """``claim``'s words hold a second statement of its speaker's, with its own verb: that
    statement becomes a claim of its own (the labelling guidelines' one claim per statement)."""
    content = claim.content
    text = document[content.start : content.end]
    m = COORDINATED.search(text)
    if not m or _words(text[: m.start()]) < MIN_WORDS or _words(text[m.end() :]) < MIN_WORDS:
        return []
    first_end, second_start = content.start + m.start(), content.start + m.end()
    stop = SENTENCE_END.search(text, m.end())  # the second statement ends with its sentence
    second_end = content.start + stop.start() if stop else content.end
    claim.content = Span(text=document[content.start : first_end], start=content.start, end=first_end,
                         grounding=Grounding.exact)
    second = claim.model_copy(deep=True, update={
        "id": _next_id({c.id for c in extraction.claims}, claim.id), "cue": m.group("verb").lower(),
        "content": Span(text=document[second_start:second_end], start=second_start, end=second_end,
                        grounding=Grounding.exact),
    })
    extraction.claims.append(second)
    return [f"claim {claim.id}: a second statement ({m.group('verb')!r} ...) is claim {second.id}"]


def _opens_sentence(document: str, at: int, starts: tuple[int, ...]) -> bool:
    """``at`` starts a sentence, or follows only a lead phrase of its sentence ("On Saturday, ")."""
    i = bisect_right(starts, at) - 1
    return starts[i] == at or LEAD.fullmatch(document, starts[i], at) is not None


def speaker_from_subject(extraction: Extraction, document: str) -> list[str]:
    """A claim whose words open a sentence (or follow only its lead phrase, "On Saturday, ") with
    their own subject and a reporting, blaming or stance verb ("The United States holds Iran
    responsible ...", "A police spokesman said ...", "The United States strongly condemns ...") is
    that subject's: a model that gave it another party (the group the sentence is about, "unknown") is
    corrected, with a warning. A third-person pronoun ("[In a previous statement, ]it refuted
    ...") stands for the speaker of the claim just before, within a paragraph break, but only
    when the model named someone the article has not introduced yet. Determiner-only subjects,
    "the statement said" and words inside quotation marks (a speaker quoting someone) are left
    alone, and so is a speaker the subject names by the word it is known by ("Okoro said" for
    "Daniel Okoro")."""
    if not extraction.claims:
        return []
    starts = sentence_starts(document)
    quotes = quotations(document)
    warnings = []
    previous: Claim | None = None
    for claim in sorted(extraction.claims, key=lambda c: c.content.start if c.content.start is not None else -1):
        content, before, previous = claim.content, previous, claim
        if (content.start is None or content.grounding != Grounding.exact
                or not _opens_sentence(document, content.start, starts)
                or any(qs <= content.start <= qe for qs, qe in quotes)):
            continue
        m = OWN_SUBJECT.match(document, content.start, content.end)
        if not m:
            continue
        who = TIME_TAIL.sub("", m.group("who")).split()
        words = who[1:] if who[0].lower() in _DETERMINERS else who
        if not words or words[-1].lower() in STATEMENTS:
            continue
        if words[0].lower() in PRONOUNS:
            if words[0].lower() not in THIRD_PERSON or len(words) > 1:
                continue
            # the claim before's speaker when the model's is not yet in the article; else the
            # model's own ("It warned that ..." after "The HLM said ...": what it warned)
            back = _looks_back_to(before, claim, words, document)
            subject = (before if back and before else claim).speaker.model_copy()
        else:
            # "Police said", "A police spokesman said": a description, not a name
            generic = not any(w[:1].isupper() for w in words) or (len(words) == 1 and TITLE_WORDS.fullmatch(words[0]))
            subject = Speaker(role=" ".join(who)) if generic else speaker_from(" ".join(words))
        blame = m.group("blame")
        cue = " ".join((m.group("verb") or m.group("stance") or blame.split()[0]).split())  # "holds", "call on"
        # what was said: after "said (that)" or a verb of stance ("condemns the attack"); after a
        # blaming verb, its object ("Iran responsible for ...", "Kataib Hezbollah in the recent
        # drone attack"), as the guidelines have it
        said_from = m.start("blame") + len(blame.split()[0]) if blame else m.end()
        while said_from < content.end and document[said_from].isspace():
            said_from += 1
        said = document[said_from : content.end]
        cut = _words(said) >= MIN_WORDS  # "Police said 23 people ...": what they said
        opening = document[m.start("who") : said_from].strip()
        if _head_word(claim.speaker) in _party_words(subject):  # "Okoro" / "Daniel Okoro": the same
            # ("The US" / "US President Joe Biden" is not: the country, not its president)
            if cut:
                claim.cue = cue
                claim.content = Span(text=said, start=said_from, end=content.end, grounding=Grounding.exact)
                warnings.append(f"claim {claim.id}: content starts after {opening!r}: what was said")
                warnings += _split_coordinated(claim, extraction, document)
            continue
        was = claim.speaker.name or claim.speaker.role
        claim.speaker, claim.cue = subject, cue
        said_by = repr(" ".join(who))
        if words[0].lower() in PRONOUNS:
            said_by = f"{subject.name or subject.role!r} (claim {before.id}'s speaker, {said_by} after it)"
        note = f"claim {claim.id}: speaker {was!r} replaced by {said_by}, the subject of its own words"
        if cut:
            claim.content = Span(text=said, start=said_from, end=content.end, grounding=Grounding.exact)
            note += f", and its content starts after {opening!r}"
        else:
            note += f" ({opening!r})"
        warnings.append(note)
        if cut:
            warnings += _split_coordinated(claim, extraction, document)
    return warnings


# inside an indirect claim's words, its own attribution: "..., Colonel Ivo Reznik, said (that) ",
# "... in New York. Iravani stated that ", "... He stated that "
OWN_ATTRIBUTION = re.compile(
    rf"(?:^|(?<=[.!?])\s+|,\s+)(?P<who>[^.!?;:\"“”\n]{{1,120}}?)\s+(?:(?:has|have|had)\s+)?"
    rf"(?:(?:also|further|later)\s+)?(?P<verb>{REPORTING})"
    # "announced today at the Manama Dialogue," (not "said at least 14 people were killed,")
    r"(?:\s+(?:today|yesterday|tonight|(?:on|during|late|early|last|this)\s+[^.;:!?,\"“”]{1,40}?"
    r"|(?:in|at)\s+(?:the\s+)?[A-Z][^.;:!?,\"“”]{0,40}?)(?:\s+(?:in|at)\s+(?:the\s+)?[A-Z][^.;:!?,\"“”]{0,40}?)?,)?"
    r"(?:\s+that)?\s+(?=\S)"
)
SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z\"“]|\s*$)")


def trim_attribution(extraction: Extraction, document: str) -> list[str]:
    """An indirect claim whose words hold their own attribution to its speaker ("the Dovanese
    army, Colonel Ivo Reznik, said the explosion ...", "... in New York. Iravani stated that
    Iran would ...") keeps only what was said, to the end of that sentence: the last such
    attribution whose words name the speaker (or are "he"/"she")."""
    warnings = []
    for claim in extraction.claims:
        content = claim.content
        if claim.kind != "indirect" or content.grounding != Grounding.exact or content.start is None:
            continue
        head = _head_word(claim.speaker)
        text = document[content.start : content.end]
        found = [m for m in OWN_ATTRIBUTION.finditer(text)
                 if m.group("who").lower() in ("he", "she") or (head and head in _speaker_words(m.group("who")))]
        if not found:
            continue
        m = found[-1]
        end = SENTENCE_END.search(text, m.end())
        said = INDIRECT_END.sub("", text[m.end() : end.start() if end else len(text)].rstrip())
        if _words(said) < MIN_WORDS:
            continue
        start = content.start + m.end()
        claim.content = Span(text=said, start=start, end=start + len(said), grounding=Grounding.exact)
        claim.cue = m.group("verb")
        warnings.append(f"claim {claim.id}: content cut to what was said after "
                        f"{text[m.start('who') : m.end()].strip()!r}")
    return warnings


#: What a model writes as the speaker it could not name.
UNKNOWN_SPEAKERS = {"unknown", "unnamed", "unspecified", "unidentified", "not specified"}
ACCORDING = re.compile(r"\baccording to (?P<who>[^,.;!?\"“”]{2,100})", re.I)
#: "Traders there say [the market is ...]": a speaker and a reporting verb right before the words
SAYS_BEFORE = re.compile(
    rf"(?P<who>(?:{_SUBJECT_WORD}\s+){{0,5}}?{_SUBJECT_WORD})\s+(?:(?:has|have|had)\s+)?"
    rf"(?P<verb>{REPORTING}|say|tell|tells|told)(?:\s+that)?\s*$"
)


def name_unknown_speakers(extraction: Extraction, document: str) -> list[str]:
    """A claim whose speaker the model called "unknown", or left empty ("null", removed by
    ``refine.fix_speakers``), takes the speaker its sentence names next to its words ("Traders
    there say ...", ""...," he told Wire", "..., according to estimates by Western diplomats";
    "he" is the speaker of the claim before); with none, it is not an attributed statement and
    goes. A claim with no speaker whose words are not in the
    article goes too: a Claim needs a speaker."""
    warnings, dropped, claims = [], [], _Claims(extraction)  # a claim is never "before" itself
    for claim in extraction.claims:
        content = claim.content
        said_by = (claim.speaker.name or claim.speaker.role or "").strip().lower()
        if said_by and said_by not in UNKNOWN_SPEAKERS:
            continue
        if content.start is None or content.grounding in (None, Grounding.none):
            if not said_by:  # no speaker and no words in the article: nothing says who said what
                dropped.append(claim)
            continue
        first, last = sentences_around(document, content.start, content.end)
        line_end = document.find("\n", content.end)
        before = document[first : content.start].rstrip("\"“«„ ")
        after = document[content.end : len(document) if line_end < 0 else line_end].lstrip("\"”»")
        found = _attribution(before, after)
        if found is None and (m := SAYS_BEFORE.search(before)):
            found = _Attribution(m.group("who"), m.group("verb"))
        if found is None and (m := ACCORDING.search(document, first, last)):
            found = _Attribution(m.group("who"), "according to")  # "..., according to X, ..."
        if found is None:
            dropped.append(claim)
            continue
        claim.speaker = _resolve(found, content.start, claims)
        claim.cue = found.verb.lower()
        named = claim.speaker.name or claim.speaker.role
        warnings.append(f"claim {claim.id}: speaker {said_by or 'missing'!r} is {named!r}, named next to its words "
                        f"({found.who} {found.verb})")
    if dropped:
        extraction.claims = [c for c in extraction.claims if c not in dropped]
        warnings += [f"claim {c.id} removed: its speaker is unknown and no attribution stands next to "
                     f"its words: {c.content.text[:60]!r}" for c in dropped]
    return warnings


#: Any word that attributes speech: the reporting and blaming verbs in every form ("reporting",
#: "argue"), "according to", a statement's own words.
ATTRIBUTING = re.compile(
    rf"\b(?:{VERBS}|{REPORTING}|{BLAMING}|"
    r"(?:say|state|add|tell|declare|announce|warn|den[yi]|insist|respond|repl[yi]|note|explain|argu|"
    r"claim|urg|vow|stress|emphasi[sz]|acknowledg|confirm|report|ask|caution|remark|comment|suggest|"
    r"admit|maintain|assert|conclud|predict|promis|pledg|threaten|complain|demand|accus|blam|"
    r"condemn|welcom|refut|reject|call)\w*|according\s+to|statement|quoted)\b",
    re.I,
)
#: Words that are only an attribution: at most 8 words, then a reporting verb, then at most
#: a colon or a comma ("The Foreign Secretary, Boris Johnson, said:").
ONLY_ATTRIBUTION = re.compile(
    rf"^(?P<who>(?:[^\s.!?\"“”]+\s+){{1,8}}?)(?:{VERBS}|{REPORTING})[\s:,.]*$", re.I)
FIRST_PERSON = re.compile(r"\b(?:I|we|We|our|Our|us|my|My)\b")
BLOCK_OPENER = re.compile(r":[ \t]*\n")
ENGLISH_WORDS = frozenset("the of and to in is was that for on with as by at from".split())
#: Share of a text's words that are ENGLISH_WORDS: about 0.25 in English news prose, under 0.05
#: in Spanish or French (the fixtures and the test articles).
MIN_ENGLISH_SHARE = 0.1


@lru_cache(maxsize=1)
def is_english(text: str) -> bool:
    words = re.findall(r"[a-z]+", text[:2000].lower())
    return bool(words) and sum(w in ENGLISH_WORDS for w in words) / len(words) >= MIN_ENGLISH_SHARE


def drop_unattributed(extraction: Extraction, document: str) -> list[str]:
    """An unquoted claim of the model's whose sentences hold no word of attribution (no
    reporting or blaming verb in any form, no "according to") is narration the model took for a
    statement ("Port Renn, a port city of about 400,000 people, is ...", given to Port Renn):
    it goes. Kept: words in the first person (a statement in its author's own voice, as press
    releases are written) and words after a line that ends in a colon ("X said:"), which opens
    a statement that may run for paragraphs. The words of attribution are English: an article
    in another language is left alone."""
    opened = BLOCK_OPENER.search(document)
    dropped, bare = [], []
    for claim in extraction.claims:
        content = claim.content
        who = ONLY_ATTRIBUTION.match(content.text.strip())
        if RECOVERED not in claim.flags and who and _head_word(claim.speaker) in _speaker_words(who["who"]):
            bare.append(claim)  # "Minister for the Middle East, Tobias Ellwood said": no said words
            continue
        if (claim.kind == "direct" or RECOVERED in claim.flags or content.start is None
                or content.grounding in (None, Grounding.none)
                or (opened is not None and content.start >= opened.end())):
            continue
        sentences = document[slice(*sentences_around(document, content.start, content.end))]
        if not ATTRIBUTING.search(sentences) and not FIRST_PERSON.search(sentences):
            dropped.append(claim)
    if dropped and not is_english(document):
        dropped = []
    extraction.claims = [c for c in extraction.claims if c not in dropped and c not in bare]
    return [f"claim {c.id} removed: its words are only its attribution ({c.content.text!r}), not "
            f"what was said" for c in bare] + [
        f"claim {c.id} removed: no word of its sentence attributes it to anyone (narration, not "
        f"a statement): {c.content.text[:60]!r}" for c in dropped]


def recover_quotes(extraction: Extraction, document: str,
                   exclude: list[tuple[int, int]] = ()) -> list[str]:
    """Add a ``direct`` claim for each attributed quotation no claim covers; return warnings."""
    quotes, claims = quotations(document), _Claims(extraction)
    warnings: list[str] = []
    last: tuple[int, Claim] | None = None  # (paragraph start, last attributed claim there)
    for i, (start, end) in enumerate(quotes):
        line_start = document.rfind("\n", 0, start) + 1
        line_end = document.find("\n", end)
        line_end = len(document) if line_end < 0 else line_end
        prev_close = quotes[i - 1][1] + 1 if i and quotes[i - 1][1] >= line_start else line_start
        has_next = i + 1 < len(quotes) and quotes[i + 1][0] <= line_end
        next_open = quotes[i + 1][0] - 1 if has_next else line_end
        before, after = document[prev_close : start - 1], document[end + 1 : next_open]
        text = document[start:end]
        if not _statement_like(text, after):
            continue
        covering = claims.overlapping(start, end)
        if covering:
            last = (line_start, covering[0])
            continue
        found = _attribution(before, after)
        follows = last[1] if last and last[0] == line_start else None
        new_sentence = text[:1].isupper() and re.search(r"(^|[.!?])\s*$", before)
        if found is None and follows is not None and new_sentence:
            found = _Attribution("", follows.cue)  # "... said Diallo. "We have no shelters."
        if found is None:
            continue
        if _words(text) < MIN_WORDS or _excluded(start, end, exclude):
            continue
        if found.who:
            speaker = _resolve(found, start, claims)
        else:
            speaker = follows.speaker.model_copy()
        claim = claims.add(speaker, found.verb, "direct", start, end, document)
        last = (line_start, claim)
        warnings.append(_note(claim, "quotation marks"))
    return warnings
