"""The HTML view: one self-contained page per Result with every span highlighted."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.view import Mark, render_result, safe_name, segment_text, view_main, write_views
from schemas import Result

try:
    from browser import browser_test, external_requests, screenshot
except ImportError:  # tests/ imported as a package
    from tests.browser import browser_test, external_requests, screenshot

ARTICLE = Path(__file__).resolve().parents[1] / "evals" / "pairs" / "seed-tower22" / "000_b1a854914bfb7f38.txt"
if not ARTICLE.exists():
    pytest.skip(f"seed article {ARTICLE} not found", allow_module_level=True)
TEXT = ARTICLE.read_text(encoding="utf-8")
BENCH_OUT = Path(__file__).resolve().parents[1] / "bench" / "out"

KH_QUOTE = (
    "We are announcing the suspension of military and security operations against the occupation "
    "forces (US troops) in order to prevent embarrassment to the Iraqi government."
)
RYDER = (
    "We've seen those reports. I don't have a specific comment to provide other than that "
    "actions speak louder than words."
)
UNGROUNDED = "Actions have a greater impact than mere words"
FUZZY_MODEL = "the US has launched airstrikes in Iraq and Syria targeting Kataib Hezbollah"
FUZZY_ARTICLE = (
    "the US has previously launched airstrikes in Iraq and Syria, targeting Kataib Hezbollah"
)
EVIL = "<script>alert('x')</script>"


def exact(words: str, after: str = "") -> dict:
    start = TEXT.index(words, TEXT.index(after) if after else 0)
    return {"text": words, "start": start, "end": start + len(words), "grounding": "exact"}


def seed_result(**changes) -> dict:
    """A realistic Result over the seed article, offsets computed from the real text."""
    fuzzy_start = TEXT.index(FUZZY_ARTICLE)
    kh_sentence = exact('In an official statement, Kataib Hezbollah stated, "' + KH_QUOTE + '"')
    data = {
        "doc_id": "000_b1a854914bfb7f38",
        "title": TEXT.splitlines()[0],
        "published": "2024-01-30",
        "source": "ANI",
        "events": [
            {
                "id": "e1",
                "type": "explosion.air_drone_strike",
                "status": "occurred",
                "summary": "A drone attack in Jordan killed three US service members.",
                "trigger": exact("drone attack"),
                "date": {
                    "text": "two days after",
                    "value": "2024-01-28",
                    "precision": "day",
                    "resolved": True,
                },
                "location": {
                    "text": "Jordan",
                    "name": "Jordan",
                    "country": "Jordan",
                    "precision": "country",
                },
                "actors": [
                    {"name": "US service members", "role": "victim", "kind": "external_forces"},
                    {
                        "name": "Kataib Hezbollah",
                        "role": "perpetrator",
                        "kind": "political_militia",
                    },
                ],
                "fatalities": {
                    "killed": 3,
                    "injured": 40,
                    "text": "the deaths of three US service members and left 40 wounded",
                },
                "responsibility": [
                    {
                        "actor": "Kataib Hezbollah",
                        "attributed_by": "The United States",
                        "certainty": "accused",
                    }
                ],
                "evidence": [
                    exact(
                        "This announcement comes just two days after a drone attack resulted in "
                        "the deaths of three US service members and left 40 wounded in Jordan."
                    ),
                    exact(
                        "has specifically implicated Kataib Hezbollah in the recent drone attack "
                        "that claimed American lives."
                    ),
                ],
            },
            {
                "id": "e2",
                "type": "strategic.change_to_group_activity",
                "status": "announced",
                "summary": "Kataib Hezbollah said it was suspending operations against US forces.",
                "trigger": exact("suspension"),
                "date": {"text": "on Tuesday", "value": "2024-01-30", "precision": "day"},
                "actors": [
                    {"name": "Kataib Hezbollah", "role": "announcer", "kind": "political_militia"}
                ],
                "evidence": [
                    exact(
                        "Kataib Hezbollah, declared on Tuesday the temporary suspension of its "
                        "military operations against US forces"
                    ),
                    # crosses into the claim's quoted words: a partial overlap
                    exact(
                        'Kataib Hezbollah stated, "We are announcing the suspension of military '
                        "and security operations"
                    ),
                ],
            },
            {
                "id": "e3",
                "type": "explosion.air_drone_strike",
                "status": "occurred",
                "summary": "US airstrikes in Iraq and Syria targeted Kataib Hezbollah.",
                "location": {"text": "Iraq and Syria", "precision": "region"},
                "evidence": [
                    {
                        "text": FUZZY_MODEL,
                        "start": fuzzy_start,
                        "end": fuzzy_start + len(FUZZY_ARTICLE),
                        "grounding": "fuzzy",
                        "matched": FUZZY_ARTICLE,
                        "similarity": 92.4,
                    }
                ],
            },
        ],
        "claims": [
            {
                "id": "c1",
                "speaker": {"name": "Kataib Hezbollah", "role": "militia"},
                "cue": "stated",
                "kind": "direct",
                "content": exact(KH_QUOTE),
                "event_ids": ["e2"],
                "evidence": [kh_sentence],
            },
            {
                "id": "c2",
                "speaker": {
                    "name": "Pat Ryder",
                    "role": "Pentagon press secretary",
                    "affiliation": "US Department of Defense",
                },
                "cue": "responded",
                "kind": "direct",
                "content": exact(RYDER),
                "event_ids": ["e2"],
            },
            {
                "id": "c3",
                "speaker": {"name": "Pat Ryder", "role": "Pentagon press secretary"},
                "cue": "said",
                "kind": "direct",
                "content": {"text": UNGROUNDED, "grounding": "none"},
                "flags": ["ungrounded"],
            },
        ],
        "grounding": {"exact": 10, "fuzzy": 1, "none": 1},
        "provenance": {
            "model": "qwen2.5-7b-instruct",
            "endpoint": "http://127.0.0.1:8080/v1",
            "mode": "json_schema",
            "prompt": "news_events_claims",
            "prompt_sha256": "3f9a1c0b7e2d4a5f" + "0" * 48,
            "harness_version": "0.1.0",
            "usage": {"prompt_tokens": 2412, "completion_tokens": 861},
            "attempts": 2,
            "latency_s": 7.31,
        },
        "warnings": ["claims[2]: quote not found in the article (ungrounded)"],
    }
    data.update(changes)
    return Result.model_validate(data).model_dump(mode="json")


class Highlights(HTMLParser):
    """Collects the text of the article block and of each highlight element in it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[dict[str, str | None]] = []
        self.article = ""
        self.by_mark: dict[str, str] = {}
        self.sections: dict[str, str] = {}
        self.classes_by_mark: dict[str, set[str]] = {}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("meta", "br", "input", "link", "img"):
            return
        self.stack.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("meta", "br", "input", "link", "img") and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        for attrs in self.stack:
            if attrs.get("id"):
                self.sections[attrs["id"]] = self.sections.get(attrs["id"], "") + data
        if any("text" == a.get("class") for a in self.stack):
            self.article += data
            marks = (self.stack[-1].get("data-m") or "").split()
            for key in marks:
                self.by_mark[key] = self.by_mark.get(key, "") + data
                self.classes_by_mark.setdefault(key, set()).update(self.stack[-1]["class"].split())


def parse(html: str) -> Highlights:
    parser = Highlights()
    parser.feed(html)
    parser.close()
    assert not parser.stack, "unbalanced tags"
    return parser


def marks_of(result: dict) -> dict[str, dict]:
    """Mark keys in the order view.collect_items numbers them, with their spans."""
    spans = []
    for e in result["events"]:
        spans += ([e["trigger"]] if e.get("trigger") else []) + e["evidence"]
    for c in result["claims"]:
        spans += [c["content"], *c["evidence"]]
    return {f"m{i}": s for i, s in enumerate(spans)}


def test_segments_split_overlapping_spans_at_every_boundary():
    def mark(key, start, end):
        return Mark(
            key, key, "event", "evidence", key, {"text": "x", "start": start, "end": end}, "exact"
        )

    a, b, c = mark("a", 0, 5), mark("b", 3, 8), mark("c", 4, 5)
    segments = segment_text("abcdefghij", [a, b, c])
    assert [(s.text, [m.key for m in s.marks]) for s in segments] == [
        ("abc", ["a"]),
        ("d", ["a", "b"]),
        ("e", ["a", "b", "c"]),
        ("fgh", ["b"]),
        ("ij", []),
    ]
    assert "d3" in segments[2].classes


def test_every_grounded_span_is_highlighted_with_its_exact_text():
    result = seed_result()
    page = parse(render_result(result, TEXT))
    assert page.article == TEXT  # the whole article, unescaped back to the same characters
    placed = 0
    for key, span in marks_of(result).items():
        if span.get("grounding") == "none":
            assert key not in page.by_mark
            continue
        assert page.by_mark[key] == TEXT[span["start"] : span["end"]], key
        placed += 1
    assert placed == 10


def test_overlapping_event_and_claim_spans_carry_both_families():
    result = seed_result()
    page = parse(render_result(result, TEXT))
    keys = marks_of(result)
    content = next(k for k, s in keys.items() if s["text"] == KH_QUOTE)
    assert {"ev", "cl", "cl-content", "ev-evidence"} <= page.classes_by_mark[content]


def test_ungrounded_claim_is_listed_in_the_warning_section_only():
    html = render_result(seed_result(), TEXT)
    page = parse(html)
    assert UNGROUNDED in page.sections["ungrounded"]
    assert "flagged ungrounded" in page.sections["ungrounded"]
    assert UNGROUNDED not in page.article
    assert re.search(r'<section class="banner ungrounded" id="ungrounded">', html)


def test_possible_misquote_flag_counts_as_ungrounded():
    result = seed_result()
    result["claims"][1]["flags"] = ["possible_misquote"]
    page = parse(render_result(result, TEXT))
    assert "flagged possible_misquote" in page.sections["ungrounded"]
    assert "Pat Ryder" in page.sections["ungrounded"]


def test_fuzzy_span_shows_model_and_article_words_with_dashed_style():
    result = seed_result()
    html = render_result(result, TEXT)
    page = parse(html)
    assert FUZZY_MODEL in page.sections["fuzzy"] and FUZZY_ARTICLE in page.sections["fuzzy"]
    key = next(k for k, s in marks_of(result).items() if s.get("grounding") == "fuzzy")
    assert page.by_mark[key] == FUZZY_ARTICLE
    assert "fuzzy" in page.classes_by_mark[key]
    assert "92% similar" in page.sections["fuzzy"]


def test_text_and_fields_are_escaped():
    evil_text = TEXT + "\n" + EVIL + " and " + EVIL
    result = seed_result()
    start = evil_text.rindex(EVIL)  # a highlighted copy and a plain copy in the text
    span = {"text": EVIL, "start": start, "end": start + len(EVIL), "grounding": "exact"}
    result["claims"][0]["content"] = span
    result["events"][1]["summary"] += " " + EVIL
    result["claims"][1]["speaker"]["name"] = EVIL
    html = render_result(result, evil_text)
    assert parse(html).article == evil_text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(" in html
    assert html.count("<script") == 1  # the page's own script only


def test_page_references_no_external_resources():
    html = render_result(seed_result(), TEXT)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert not re.search(r"""url\(\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert not re.search(r"@import|<link\b", html, re.IGNORECASE)
    assert "http://127.0.0.1:8080/v1" in html  # the endpoint is shown as text, not loaded


def test_header_shows_provenance_warnings_and_error():
    result = seed_result(
        error={"type": "ExtractionError", "message": "output never validated after 3 re-asks"}
    )
    page = parse(render_result(result, TEXT))
    header = " ".join(page.sections["error"].split())
    assert "ExtractionError" in header and "never validated" in header
    assert "quote not found" in page.sections["warnings"]
    html = render_result(result, TEXT)
    for shown in (
        "qwen2.5-7b-instruct",
        "json_schema",
        "news_events_claims@3f9a1c0b7e2d",
        "2412 in / 861 out",
        "attempts <b>2</b>",
        "7.31 s",
        "exact 10",
        "fuzzy 1",
        "none 1",
        "ANI",
        "2024-01-30",
    ):
        assert shown in html, shown


def test_mismatched_article_text_is_warned_about():
    import hashlib

    result = seed_result(text_sha256=hashlib.sha256(b"another text").hexdigest())
    page = parse(render_result(result, TEXT))
    assert "does not match the Result's text_sha256" in page.sections["warnings"]
    ok = seed_result(text_sha256=hashlib.sha256(TEXT.encode()).hexdigest())
    assert "warnings" not in parse(render_result({**ok, "warnings": []}, TEXT)).sections


def test_claim_links_to_its_events_and_cards_exist_for_every_item():
    html = render_result(seed_result(), TEXT)
    assert 'data-goto="ev1"' in html  # c1 -> e2
    for key in ("ev0", "ev1", "ev2", "cl0", "cl1", "cl2"):
        assert re.search(rf'<div class="card [^"]*" data-goto="{key}"', html), key
        assert f'id="detail-{key}"' in html


def test_write_views_uses_safe_unique_names(tmp_path):
    result = seed_result(doc_id="wire/2024:01?x")
    paths = write_views([(result, TEXT), (result, TEXT)], tmp_path / "views")
    stem = safe_name("wire/2024:01?x")
    assert stem.startswith("wire_2024_01_x-") and len(stem) == len("wire_2024_01_x-") + 10
    assert [p.name for p in paths] == [f"{stem}.html", f"{stem}-2.html"]
    assert all(p.read_text(encoding="utf-8").startswith("<!DOCTYPE html>") for p in paths)
    assert safe_name("../..").startswith("document-")
    assert safe_name("doc-0") == "doc-0" and safe_name("خبر-1") == "خبر-1"  # safe ids stay as they are
    lossy = ["a/b", "a b", "a_b", ".", "..", "", "a" * 300]
    assert len({safe_name(i) for i in lossy}) == len(lossy)
    assert all(len(safe_name(i).encode()) < 200 for i in lossy)


def test_view_main_reads_text_from_the_result_or_article(tmp_path):
    with_text = tmp_path / "r.json"
    with_text.write_text(json.dumps({**seed_result(), "text": TEXT}), encoding="utf-8")
    assert view_main(with_text, None, None) == 0
    assert parse((tmp_path / "r.html").read_text(encoding="utf-8")).article == TEXT

    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(seed_result()), encoding="utf-8")
    with pytest.raises(InputError, match="--article"):
        view_main(bare, None, None)
    assert view_main(bare, tmp_path / "out" / "page.html", ARTICLE) == 0
    assert (tmp_path / "out" / "page.html").exists()


def test_view_main_writes_one_page_per_jsonl_record(tmp_path):
    lines = [json.dumps(seed_result(doc_id=f"doc-{i}")) for i in range(2)]
    source = tmp_path / "results.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert view_main(source, None, ARTICLE) == 0
    assert sorted(p.name for p in (tmp_path / "results_views").iterdir()) == [
        "doc-0.html",
        "doc-1.html",
    ]


def test_view_main_rejects_a_file_that_is_not_a_result(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"events": []}), encoding="utf-8")
    with pytest.raises(InputError, match="not a valid Result"):
        view_main(bad, None, ARTICLE)


@browser_test
@pytest.mark.browser
def test_browser_renders_the_seed_page_without_network(tmp_path):
    page = tmp_path / "view_seed.html"
    page.write_text(render_result(seed_result(), TEXT), encoding="utf-8")
    png = screenshot(page, BENCH_OUT / "view_seed.png")
    assert png.stat().st_size > 10_000
    selected = screenshot(page, BENCH_OUT / "view_seed_selected.png", fragment="cl0")
    assert selected.stat().st_size > 10_000 and selected.read_bytes() != png.read_bytes()
    assert external_requests(page) == []


@browser_test
@pytest.mark.browser
def test_network_check_catches_an_external_resource(tmp_path):
    page = tmp_path / "leak.html"
    page.write_text(
        '<html><body><img src="http://127.0.0.1:9/pixel.png">x</body></html>', encoding="utf-8"
    )
    assert external_requests(page) == ["http://127.0.0.1:9/pixel.png"]


def test_error_record_with_no_items_still_renders():
    result = {"doc_id": "broken", "error": {"type": "EndpointError", "message": "timed out"}}
    html = render_result(result, "Short text.")
    page = parse(html)
    assert "EndpointError" in page.sections["error"]
    assert "No events extracted." in html and "No claims extracted." in html
    assert page.article == "Short text."


def test_offsets_past_the_end_of_the_text_are_listed_as_not_grounded():
    result = seed_result()
    short = TEXT[:400]  # the wrong (truncated) article: later offsets point nowhere
    page = parse(render_result(result, short))
    assert "e1" in page.sections["ungrounded"]
    assert "run past the end" in page.sections["detail-ev0"]
    assert page.article == short
