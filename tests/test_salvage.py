"""Salvaging an answer cut off at max_tokens: complete items kept, the unfinished one dropped."""

from __future__ import annotations

import json

from harness.salvage import salvage
from schemas import ClaimsPass

CLAIM = {"id": "c1", "content": "We are not looking for war with Iran", "kind": "direct",
         "speaker": {"name": "John Kirby"}, "cue": "said"}


def claims(n: int) -> list[dict]:
    return [{**CLAIM, "id": f"c{i}", "content": f"{CLAIM['content']} ({i})"} for i in range(1, n + 1)]


def test_cut_inside_the_last_item_keeps_the_others():
    text = json.dumps({"claims": claims(3)})
    cut = text[: text.rindex('"kind"')]  # the third claim is unfinished
    found = salvage(cut, ClaimsPass)
    assert found is not None and [c.id for c in found.output.claims] == ["c1", "c2"]
    assert (found.kept, found.dropped) == (2, 1)


def test_the_last_item_is_dropped_even_when_it_looks_complete():
    text = json.dumps({"claims": claims(2)})[:-2]  # only "]}" missing
    found = salvage(text, ClaimsPass)
    assert [c.id for c in found.output.claims] == ["c1"] and found.dropped == 1


def test_invalid_items_are_dropped_and_counted():
    items = claims(3)
    items[0]["speaker"] = {"name": None, "role": None}  # no speaker: invalid
    text = json.dumps({"claims": items})[:-10]
    found = salvage(text, ClaimsPass)
    assert [c.id for c in found.output.claims] == ["c2"] and found.dropped == 2


def test_nothing_usable_gives_none():
    assert salvage('{"claims": [{"id": "c1", "cont', ClaimsPass) is None
    assert salvage("not json at all", ClaimsPass) is None
    assert salvage("```json\n" + json.dumps({"claims": claims(2)})[:-3], ClaimsPass).kept == 1
