"""How items of two reports are matched for ``harness.compare``: names and roles (titles and
aliases folded), figures and dates in text, and the weighted similarities of events and claims.
Pure functions; thresholds and word lists are the documented constants below."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from datetime import date
from typing import Literal

from rapidfuzz import fuzz, utils

from schemas import Claim, Event, Location, Result, Speaker
from schemas.taxonomy import family

#: Items whose similarity (0-1) to a group is below these stay in separate groups.
EVENT_THRESHOLD = 0.55
CLAIM_THRESHOLD = 0.5
#: A claim pair also needs this much text similarity (content or summary, 0-100): a shared
#: speaker alone does not make two different statements the same claim.
CLAIM_MIN_TEXT = 55.0
#: ... or this much when both give the same speaker (full name, or the same unnamed source): an
#: outlet that rewords a quotation keeps little of its wording ("actions speak louder than words" -> "Actions have a greater impact
#: than mere words" scores 51), and the named speaker is then the stronger evidence; two
#: unrelated statements by one speaker score about 20-42.
CLAIM_MIN_TEXT_SAME_SPEAKER = 47.0
#: content words a claim needs before "its words are inside the other's" counts as similarity
MIN_PART_WORDS = 3

DiscrepancyKind = Literal[
    "quote_wording", "speaker_vaguer", "speaker_differs", "figure_differs", "missing",
    "responsibility_differs",
]  # fmt: skip
ItemKind = Literal["event", "claim"]

_TITLES = {
    "mr", "mrs", "ms", "miss", "dr", "prof", "sir", "dame", "lord", "gen", "general", "maj",
    "major", "lt", "col", "colonel", "capt", "captain", "adm", "admiral", "brig", "sgt", "cpt",
    "president", "secretary", "minister", "prime", "senator", "sen", "rep", "gov", "governor",
    "ambassador", "chairman", "the", "a", "an", "ayatollah", "sheikh", "king", "prince",
}  # fmt: skip
NAME_ALIASES = {
    "us": "united states", "u s": "united states", "usa": "united states", "america": "united states",
    "uk": "united kingdom", "u k": "united kingdom", "britain": "united kingdom",
    "isis": "isil", "is": "isil", "daesh": "isil", "da esh": "isil", "dae sh": "isil",
    "islamic state": "isil", "un": "united nations", "u n": "united nations",
}  # fmt: skip
_ROLE_SYNONYMS = {
    "spokeswoman": "spokesperson", "spokesman": "spokesperson", "press secretary": "spokesperson",
    "pentagon": "defence", "defense": "defence", "department of defense": "defence",
    "officials": "official", "foreign office": "foreign", "fco": "foreign",
}  # fmt: skip
_STOP = {"a", "an", "the", "of", "for", "and", "to", "in", "on", "s", "its", "his", "her"}  # "us" is the US
_FUNCTION_WORDS = set(
    "a an the of for and or but to in on at by with from as that this these those it its is are was "
    "were be been being has have had will would can could may might must should do does did not no "
    "he she they them their his her we our you your i me my there here which who whom what when "
    "than then so if about into over after before also any all some such said says say".split()
)
_VAGUE = re.compile(
    r"\b(a (?:significant|large|small|growing|number|handful|series)(?: number)?(?: of)?|"
    r"several|many|numerous|multiple|scores|dozens|hundreds|thousands|countless|some|a few|"
    r"a number of|various)\b",
    re.I,
)
_NUMBER_WORDS = {
    w: i for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_FIGURE = re.compile(
    r"(?:(?:approximately|about|around|nearly|almost|some|over|more than|at least|fewer than|"
    r"less than|up to)\s+)?(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|"
    + "|".join(_NUMBER_WORDS) + r")(?![\w.]\w)(?:\s+(?:per ?cent|%))?",
    re.I,
)  # fmt: skip
_BLAME = r"responsib|claimed|blame|implicat|accus|involv|perpetrat|carried out by"
_DATE_NUMBER = re.compile(rf"^\s*(?:st|nd|rd|th)?\s*{_MONTHS}\b|^\s*(?:st|nd|rd|th)\b", re.I)


def _norm(text: str | None) -> str:
    return utils.default_process(text or "")


def _words(text: str | None) -> str:
    """Normalised text without function words (they make unrelated sentences look alike)."""
    return " ".join(w for w in _norm(text).split() if w not in _FUNCTION_WORDS)


def _sim(a: str | None, b: str | None) -> float:
    """0-100: mean of token_set and token_sort ratios over content words (token_set alone
    forgives any subset)."""
    a, b = _words(a), _words(b)
    if not a or not b:
        return 0.0
    return (fuzz.token_set_ratio(a, b) + fuzz.token_sort_ratio(a, b)) / 2


def norm_name(name: str | None) -> str:
    """``Maj Gen Pat Ryder`` -> ``pat ryder``; ``the U.S.`` -> ``united states``."""
    words = [w for w in _norm(name).split() if w not in _TITLES]
    joined = " ".join(words)
    return NAME_ALIASES.get(joined, joined)


def role_tokens(*texts: str | None) -> set[str]:
    text = " " + _norm(" ".join(t for t in texts if t)) + " "
    for phrase, canon in sorted(_ROLE_SYNONYMS.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(f" {phrase} ", f" {canon} ")
    return {w for w in text.split() if w not in _STOP and w not in _TITLES}


def names_same(a: str | None, b: str | None) -> bool:
    """Same person or body: same surname, one name inside the other, or near-identical."""
    na, nb = norm_name(a), norm_name(b)
    if not na or not nb:
        return False
    ta, tb = na.split(), nb.split()
    if ta[-1] == tb[-1] or set(ta) <= set(tb) or set(tb) <= set(ta):
        return True
    return fuzz.ratio(na, nb) >= 90


def _belongs(body: str, person: Speaker) -> bool:
    """Whether ``person`` speaks for ``body``: it is their affiliation, or their role names it
    ("Kataib Hezbollah" and its "Kataib Hezbollah Secretary-General")."""
    if names_same(body, person.affiliation):
        return True
    name = norm_name(body)
    return bool(name) and f" {name} " in f" {_norm(person.role)} "


def speaker_relation(a: Speaker, b: Speaker) -> tuple[float, str]:
    """(similarity 0-1, relation): ``same``, ``vaguer`` (one has no name, or neither has and
    one description is the other's minus a qualifier: "US officials" / "officials"), ``differs``
    (two different names) or ``unknown``."""
    if a.name and b.name:
        if names_same(a.name, b.name):
            return 1.0, "same"
        linked = _belongs(a.name, b) or _belongs(b.name, a)
        return (0.6 if linked else 0.0), "differs"
    ra, rb = role_tokens(a.role, a.affiliation), role_tokens(b.role, b.affiliation)
    relation = "vaguer" if (a.name or b.name) else "unknown"
    if not ra or not rb:
        return 0.5, relation
    if relation == "unknown" and (ra < rb or rb < ra):
        relation = "vaguer"
    overlap = len(ra & rb) / min(len(ra), len(rb))
    return 0.3 + 0.7 * overlap, relation


def figures(text: str) -> list[tuple[str, float, int, int]]:
    """Numbers in ``text`` that are not dates or years: (words, value, start, end)."""
    out = []
    for m in _FIGURE.finditer(text):
        raw = m.group(1).lower().replace(",", "")
        value = float(_NUMBER_WORDS[raw]) if raw in _NUMBER_WORDS else float(raw)
        before, after = text[max(0, m.start() - 12) : m.start()], text[m.end() : m.end() + 12]
        is_year = raw.isdigit() and len(raw) == 4 and 1900 <= value <= 2100
        is_date = raw.isdigit() and (_DATE_NUMBER.match(after) or re.search(rf"{_MONTHS}\s*$", before, re.I))
        if not (is_year or is_date):
            out.append((m.group(0), value, m.start(), m.end()))
    return out


def word_diff(a: str, b: str) -> list[dict[str, str]]:
    """difflib word-level opcodes between two texts, without the equal runs."""
    wa, wb = a.split(), b.split()
    ops = difflib.SequenceMatcher(a=[_norm(w) for w in wa], b=[_norm(w) for w in wb], autojunk=False)
    return [
        {"op": tag, "a": " ".join(wa[i1:i2]), "b": " ".join(wb[j1:j2])}
        for tag, i1, i2, j1, j2 in ops.get_opcodes()
        if tag != "equal"
    ]


# --- similarities -------------------------------------------------------------------------------


def _weighted(terms: Sequence[tuple[float | None, float]]) -> float:
    used = [(s, w) for s, w in terms if s is not None]
    total = sum(w for _, w in used)
    return sum(s * w for s, w in used) / total if total else 0.0


def _iso(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def date_relation(a: Event, b: Event) -> float | None:
    """1 when the dates agree at their shared precision, less the further apart; None if either
    has no date value."""
    va, vb = (a.date.value if a.date else None), (b.date.value if b.date else None)
    if not va or not vb:
        return None
    width = min(len(va), len(vb))
    if va[:width] == vb[:width]:
        return 1.0
    da, db = _iso(va), _iso(vb)
    if da and db:
        days = abs((da - db).days)
        week = any(x.date and x.date.precision.value == "week" for x in (a, b))
        return 1.0 if week and days <= 7 else 0.6 if days <= 3 else 0.3 if va[:7] == vb[:7] else 0.0
    return 0.3 if va[:4] == vb[:4] else 0.0


def _country(location: Location, other: str | None) -> str | None:
    """The location's country, or the other side's country when this side's words name it
    ("US outpost in Jordan" against country Jordan)."""
    if location.country:
        return norm_name(location.country)
    words = f" {_norm(location.name)} {_norm(location.text)} "
    return norm_name(other) if other and f" {norm_name(other)} " in words else None


def _location_term(a: Event, b: Event) -> float | None:
    """Country (given, or named in the other's words) and place words. Words, not substrings:
    a substring score put "Iraq" halfway to "US outpost in Jordan"."""
    la, lb = a.location, b.location
    if not la or not lb:
        return None
    score: list[tuple[float | None, float]] = []
    ca, cb = _country(la, lb.country), _country(lb, la.country)
    if ca and cb:
        score.append((1.0 if ca == cb else 0.0, 1))
    na, nb = la.name or la.text, lb.name or lb.text
    if na and nb:
        score.append((fuzz.token_set_ratio(_norm(na), _norm(nb)) / 100, 1))
    return _weighted(score) if score else None


def _actors_term(a: Event, b: Event) -> float | None:
    if not a.actors or not b.actors:
        return None
    small, large = sorted(([x.name for x in a.actors], [x.name for x in b.actors]), key=len)
    hits = sum(any(names_same(s, t) or _sim(s, t) >= 80 for t in large) for s in small)
    return hits / len(small)


def event_similarity(a: Event, b: Event) -> float:
    """Type family, text (summary and evidence), date, location, actors, casualties."""
    type_term = 1.0 if a.type == b.type else 0.6 if family(a.type) == family(b.type) else 0.0
    ev_a, ev_b = " ".join(s.text for s in a.evidence), " ".join(s.text for s in b.evidence)
    text = max(_sim(a.summary, b.summary), _sim(ev_a, ev_b) if ev_a and ev_b else 0.0) / 100
    killed = None
    if a.fatalities and b.fatalities and a.fatalities.killed is not None and b.fatalities.killed is not None:
        killed = 1.0 if a.fatalities.killed == b.fatalities.killed else 0.5
    return _weighted(
        [(type_term, 1.0), (text, 2.0), (date_relation(a, b), 1.0), (_location_term(a, b), 1.0),
         (_actors_term(a, b), 1.0), (killed, 0.5)]
    )  # fmt: skip


def _same_speaker(a: Speaker, b: Speaker) -> bool:
    """The same person in full ("Maj Gen Pat Ryder", "Pat Ryder"), or the same unnamed source
    ("US officials", "officials"); not a body and its part ("Iran", "Iran's Foreign Ministry")."""
    if a.name or b.name:
        na, nb = norm_name(a.name), norm_name(b.name)
        return na == nb and len(na.split()) >= 2
    ra, rb = role_tokens(a.role), role_tokens(b.role)
    return bool(ra and rb) and (ra <= rb or rb <= ra)


#: a definite description of a group ("the militant group", "the militia"), which a rewording
#: uses for a name the other report gives
GROUP_REF = re.compile(r"\bthe\s+(?:[a-z][\w-]*\s+){0,2}?(?:group|militia|faction|movement|organi[sz]ation)\b", re.I)
GROUP_KINDS = {"rebel_group", "political_militia", "identity_militia", "organisation"}


def resolve_group_reference(claim: Claim, result: Result, text: str | None) -> str:
    """``claim``'s words with "the militant group" followed by the group it stands for: of the
    armed groups and organisations among ``result``'s event actors, the one last named in
    ``text`` before the claim ("... whether Kataib Hezbollah was involved. ... it displayed
    similarities to the activities of the militant group (Kataib Hezbollah)"). The words alone
    when there is no such description, no text, or no group named before."""
    words, start = claim.content.text, claim.content.start
    m = GROUP_REF.search(words)
    if not m or not text or start is None:
        return words
    names = {a.name for e in result.events for a in e.actors if a.kind in GROUP_KINDS}
    placed = [(text.rfind(name, 0, start), name) for name in names]
    at, name = max(placed, default=(-1, ""))
    return words if at < 0 else f"{words[: m.end()]} ({name}){words[m.end() :]}"


def claim_text_similarity(a: Claim, b: Claim) -> float:
    """0-100: the content words, or the summaries' gist when that is closer. One content inside
    the other (a quotation cut short) counts when the shorter has ``MIN_PART_WORDS`` content
    words: a single word ("interests") is inside many statements, so it must match as a whole."""
    wa, wb = _words(a.content.text), _words(b.content.text)
    if min(len(wa.split()), len(wb.split())) < MIN_PART_WORDS:
        content = fuzz.token_sort_ratio(wa, wb)
    else:
        content = max(_sim(a.content.text, b.content.text),
                      fuzz.partial_ratio(_norm(a.content.text), _norm(b.content.text)) * 0.8)
    summary = _sim(a.summary, b.summary) if a.summary and b.summary else 0.0
    return max(content, summary)


def _share_a_word(a: str | None, b: str | None) -> bool:
    """Whether two texts have a content word in common, by its first eight letters
    ("responsible" / "responsibility", not "response"): below ``CLAIM_MIN_TEXT`` a
    character-level score is noise (two unrelated statements of one speaker reach 50 on shared
    letters alone)."""
    stems = lambda text: {w[:8] for w in _words(text).split() if len(w) > 2}  # noqa: E731
    return bool(stems(a) & stems(b))


def claim_similarity(a: Claim, b: Claim, same_event: bool | None = None) -> float:
    """Content/summary text, speaker, and whether the claims point at the same event group."""
    text = claim_text_similarity(a, b)
    if text < (CLAIM_MIN_TEXT_SAME_SPEAKER if _same_speaker(a.speaker, b.speaker) else CLAIM_MIN_TEXT):
        return 0.0
    if text < CLAIM_MIN_TEXT and not (_share_a_word(a.content.text, b.content.text)
                                      or _share_a_word(a.summary, b.summary)):
        return 0.0
    speaker, _ = speaker_relation(a.speaker, b.speaker)
    link = None if same_event is None else float(same_event)
    return _weighted([(text / 100, 2.0), (speaker, 1.5), (link, 0.5)])


# --- alignment ----------------------------------------------------------------------------------
