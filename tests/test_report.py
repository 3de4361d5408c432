"""Report rendering: text tables, JSON dict, self-contained HTML with marked spans."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.evaluation.report import (
    Mark,
    fmt,
    render_html,
    render_text,
    segments,
    summary_to_dict,
    write_reports,
)
from harness.evaluation.scoring import METRICS, aggregate, score_document
from schemas import Claim, Extraction, GoldResult, Span

TEXT = (Path(__file__).resolve().parents[1] / "evals" / "pairs" / "seed-tower22" / "000_b1a854914bfb7f38.txt").read_text(encoding="utf-8")
RYDER = "actions speak louder than words"
KIRBY = "We are not looking for war with Iran"
STATEMENT = "We will continue to defend our people in Gaza in other ways"


def span(words: str) -> Span:
    start = TEXT.index(words)
    return Span(text=words, start=start, end=start + len(words), grounding="exact")


def claim(cid: str, name: str, content: Span) -> Claim:
    return Claim(id=cid, speaker={"name": name}, cue="said", kind="direct", content=content)


@pytest.fixture()
def run():
    gold = GoldResult(doc_id="000", claims=[claim("c1", "Pat Ryder", span(RYDER)),
                                           claim("c2", "John Kirby", span(KIRBY))])
    pred = Extraction(claims=[claim("c1", "Pat Ryder", span(RYDER)),
                              claim("c7", "Kataib Hezbollah", span(STATEMENT)),
                              claim("c8", "Nobody", Span(text="Words nobody wrote."))])
    failed_gold = GoldResult(doc_id="001", claims=[claim("c1", "Pat Ryder", span(RYDER))])
    docs = [score_document(pred, gold, TEXT), score_document(None, failed_gold, TEXT)]
    return {"docs": docs, "summary": aggregate(docs), "texts": {"000": TEXT, "001": TEXT},
            "preds": {"000": pred}, "golds": {"000": gold, "001": failed_gold}}


def test_text_report_lists_every_metric_and_fixture(run):
    text = render_text(run["summary"], run["docs"])
    for name in METRICS:
        assert re.search(rf"\b{name}\b", text), name
    assert "000" in text and "001 (error)" in text
    f1 = fmt("claim_f1", run["summary"].micro["claim_f1"])
    assert re.search(rf"claim_f1\s*\|\s*{re.escape(f1)}", text)


def test_summary_dict_is_json_and_carries_micro_metrics(run):
    data = json.loads(json.dumps(summary_to_dict(run["summary"], run["docs"])))
    assert data["metrics"] == run["summary"].micro
    assert data["docs"]["001"]["schema_valid_rate"] == 0.0
    assert data["docs"]["001"]["error"]


def test_html_marks_hits_misses_and_inventions_without_external_resources(run):
    html = render_html(run["summary"], run["docs"], run["texts"], run["preds"], run["golds"])
    assert not re.search(r"<script|https?://|<link", html)
    assert html.count("<details>") == 2
    assert re.search(rf'<mark class="hit"[^>]*>{re.escape(RYDER)}</mark>', html)
    assert re.search(rf'<mark class="miss"[^>]*>{re.escape(KIRBY)}</mark>', html)
    assert re.search(rf'<mark class="invented"[^>]*>{re.escape(STATEMENT)}</mark>', html)
    assert "c8: Nobody said" in html  # invented and not in the text: listed apart


def test_html_escapes_article_text():
    gold = GoldResult(doc_id="x")
    doc = score_document(Extraction(), gold, "a <b> & c")
    html = render_html(aggregate([doc]), [doc], {"x": "a <b> & c"}, {"x": Extraction()}, {"x": gold})
    assert "a &lt;b&gt; &amp; c" in html


def test_segments_cover_text_and_worst_kind_wins_on_overlap():
    marks = [Mark(0, 6, "hit", "g1"), Mark(4, 9, "invented", "p1")]
    pieces = segments("abcdefghijk", marks)
    assert "".join(t for t, _, _ in pieces) == "abcdefghijk"
    assert [(t, k) for t, k, _ in pieces] == [("abcd", "hit"), ("ef", "invented"),
                                              ("ghi", "invented"), ("jk", None)]


def test_write_reports_writes_three_files(run, tmp_path):
    paths = write_reports(tmp_path / "out", run["summary"], run["docs"], run["texts"],
                          run["preds"], run["golds"])
    assert sorted(p.name for p in paths.values()) == ["report.html", "report.json", "report.txt"]
    assert json.loads(paths["json"].read_text())["n_docs"] == 2


def test_each_split_is_reported_beside_the_whole_in_text_json_and_html(run, tmp_path):
    splits = {"dev": aggregate(run["docs"][:1]), "test": aggregate(run["docs"][1:])}
    text = render_text(run["summary"], run["docs"], splits=splits)
    assert "Scores by split" in text and "dev (1)" in text and "test (1)" in text
    data = json.loads(json.dumps(summary_to_dict(run["summary"], run["docs"], splits)))
    assert data["splits"]["dev"]["metrics"]["claim_f1"] == splits["dev"].micro["claim_f1"]
    assert data["splits"]["test"]["metrics"]["schema_valid_rate"] == 0.0
    paths = write_reports(tmp_path, run["summary"], run["docs"], run["texts"], run["preds"], run["golds"],
                          splits=splits)
    assert "By split" in paths["html"].read_text(encoding="utf-8")
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["splits"].keys() == {"dev", "test"}
