"""Issue #22, part A, through the real CLI: nothing a user types or feeds in destroys data,
takes the batch down or leaves a traceback, and the exit code says what happened
(0 all done, 1 some error records, 2 bad usage or configuration, 3 the run itself failed).

Each test names the issue item it holds.
"""

from __future__ import annotations

import html
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from test_view import parse

REPO = Path(__file__).resolve().parents[1]
GOOD = "The council of Brenna met on Monday and approved the budget for the new bridge, the mayor said.\n"
OTHER = "Officials in Kestria said on Tuesday that the northern road had reopened after the floods.\n"


def records(path: Path) -> list[dict]:
    """The records of a JSONL file, split at '\\n' only (as harness's own reader does)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def clean_stderr(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "\x1b" not in proc.stderr


# --- item 1: the output is never the input -------------------------------------------------------

@pytest.mark.parametrize("how", ["same path", "symlink", "hard link"])
def test_output_that_is_the_input_is_refused_before_anything_is_written(fake_server, cli_env, run_cli,
                                                                        tmp_path, how):
    batch = jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": GOOD}, {"id": "b", "text": OTHER}])
    before = batch.read_bytes()
    out = {"same path": tmp_path / "sub" / ".." / "docs.jsonl", "symlink": tmp_path / "link.jsonl",
           "hard link": tmp_path / "hard.jsonl"}[how]
    if how == "symlink":
        out.symlink_to(batch)
    elif how == "hard link":
        os.link(batch, out)
    (tmp_path / "sub").mkdir()
    proc = run_cli(["extract", str(batch), "-o", str(out)], cli_env(fake_server.base_url))
    assert proc.returncode == 2, proc.stderr
    assert "is the input" in proc.stderr
    clean_stderr(proc)
    assert batch.read_bytes() == before
    assert not fake_server.requests  # refused before the endpoint was asked anything


def test_output_that_is_a_folder_is_refused(fake_server, cli_env, run_cli, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text(GOOD, encoding="utf-8")
    proc = run_cli(["extract", str(folder), "-o", str(folder)], cli_env(fake_server.base_url))
    assert proc.returncode == 2 and "is a folder" in proc.stderr
    clean_stderr(proc)
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt"]


# --- item 2: Results are never read back as documents --------------------------------------------

def test_output_inside_the_input_folder_is_not_read_back(fake_server, cli_env, run_cli, tmp_path, passes):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text(GOOD, encoding="utf-8")
    (folder / "b.txt").write_text(OTHER, encoding="utf-8")
    out = folder / "results.jsonl"
    args = ["extract", str(folder), "-o", str(out), "--include-text"]
    env = cli_env(fake_server.base_url, HARNESS_TIMEOUT="10")
    first = run_cli(args, env, timeout=60)
    assert first.returncode == 0, first.stderr
    assert [r["doc_id"] for r in records(out)] == ["a", "b"]
    calls = len(fake_server.completions)
    assert calls == 2 * passes

    again = run_cli([*args, "--resume"], env, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "skipped 2 document(s)" in again.stderr
    assert [r["doc_id"] for r in records(out)] == ["a", "b"]  # no bogus record for an earlier Result
    assert len(fake_server.completions) == calls
    clean_stderr(again)


def test_a_results_file_given_as_input_is_skipped_with_a_warning(fake_server, cli_env, run_cli, tmp_path):
    batch = jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": GOOD}, {"id": "b", "text": OTHER}])
    earlier = tmp_path / "earlier.jsonl"
    env = cli_env(fake_server.base_url, HARNESS_TIMEOUT="10")
    assert run_cli(["extract", str(batch), "-o", str(earlier), "--include-text"], env).returncode == 0
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "c.txt").write_text(GOOD, encoding="utf-8")
    (folder / "old-results.jsonl").write_bytes(earlier.read_bytes())
    out = tmp_path / "out.jsonl"
    proc = run_cli(["extract", str(folder), "-o", str(out)], env)
    assert proc.returncode == 0, proc.stderr
    assert [r["doc_id"] for r in records(out)] == ["c"]
    assert "old-results.jsonl: line 1, 2: a harness Result, not a document: skipped" in proc.stderr
    clean_stderr(proc)


# --- items 3 and 4: one document's metadata or nesting never takes the batch down ----------------

def test_non_string_metadata_is_read_or_left_out_with_a_warning(fake_server, cli_env, run_cli, tmp_path):
    rows = [
        {"id": "title-number", "text": GOOD, "title": 42},
        {"id": "title-list", "text": GOOD, "title": ["Bridge", "budget"]},
        {"id": "mongo-date", "text": GOOD, "published": {"$date": "2024-01-30T08:00:00Z"}},
        {"id": "mongo-long", "text": GOOD, "published": {"$date": {"$numberLong": "1706572800000"}}},
        {"id": "mongo-ms", "text": GOOD, "published": {"$date": 1706572800000}},
        {"id": "year", "text": GOOD, "published": 2024},
        {"id": "float", "text": GOOD, "published": 3.5},
        {"id": "object", "text": GOOD, "published": {"day": 1}, "url": ["x"]},
        {"_id": {"$oid": "65b8"}, "text": GOOD},
        {"id": 17, "text": GOOD},
        {"id": ["not", "an", "id"], "text": GOOD},
    ]
    out = tmp_path / "out.jsonl"
    proc = run_cli(["extract", str(jsonl(tmp_path / "batch.jsonl", rows)), "-o", str(out)],
                   cli_env(fake_server.base_url, HARNESS_TIMEOUT="10"))
    assert proc.returncode == 0, proc.stderr
    clean_stderr(proc)
    got = {r["doc_id"]: r for r in records(out)}
    assert list(got) == ["title-number", "title-list", "mongo-date", "mongo-long", "mongo-ms", "year",
                         "float", "object", "65b8", "17", "batch.jsonl:11"]
    assert all(r["error"] is None and r["claims"] for r in got.values())
    assert got["title-number"]["title"] == "42"
    assert got["title-list"]["title"] is None
    assert any('"title" is a list' in w for w in got["title-list"]["warnings"])
    assert got["mongo-date"]["published"] == "2024-01-30T08:00:00Z"
    assert got["mongo-long"]["published"].startswith("2024-01-30")
    assert got["mongo-ms"]["published"].startswith("2024-01-30")
    assert got["year"]["published"] == "2024"
    assert any('"published" is a number' in w for w in got["float"]["warnings"])
    assert any('"published" is an object' in w for w in got["object"]["warnings"])
    assert any('"url" is a list' in w for w in got["object"]["warnings"])
    assert any('"id" is a list' in w for w in got["batch.jsonl:11"]["warnings"])


def test_deeply_nested_json_is_an_error_record_and_the_batch_goes_on(fake_server, cli_env, run_cli, tmp_path):
    shallow, deep = ("[" * n + "]" * n for n in (1_200, 100_000))
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join([
        json.dumps({"id": "before", "text": GOOD}),
        f'{{"id": "deep", "text": "{GOOD.strip()}", "meta": {shallow}}}',
        deep,
        json.dumps({"id": "after", "text": OTHER}),
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = run_cli(["extract", str(batch), "-o", str(out)], cli_env(fake_server.base_url))
    assert proc.returncode == 1, proc.stderr
    clean_stderr(proc)
    got = {r["doc_id"]: r for r in records(out)}
    assert list(got) == ["before", "batch.jsonl:2", "batch.jsonl:3", "after"]
    assert got["before"]["error"] is None and got["after"]["error"] is None
    for key in ("batch.jsonl:2", "batch.jsonl:3"):
        assert "nested too deeply" in got[key]["error"]["message"]

    single = tmp_path / "deep.json"
    single.write_text(deep, encoding="utf-8")
    alone = run_cli(["extract", str(single)], cli_env(fake_server.base_url))
    assert alone.returncode == 1, alone.stderr
    clean_stderr(alone)
    assert "nested too deeply" in json.loads(alone.stdout)["error"]["message"]


# --- item 5: sizes are checked before anything is read -------------------------------------------

def _capped(memory: int):
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    return limit


def test_a_huge_file_is_refused_by_its_size_unread(fake_server, cli_env, tmp_path):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(1 << 40)  # 1 TiB, sparse: reading it whole cannot succeed
    small = tmp_path / "small.txt"
    small.write_text(GOOD, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    env = cli_env(fake_server.base_url, HARNESS_TIMEOUT="10")
    proc = subprocess.run([sys.executable, "-m", "harness", "extract", str(huge), str(small), "-o", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
                          preexec_fn=_capped(4 << 30))  # a bound, so a regression fails, not the machine
    assert proc.returncode == 1, proc.stderr[-2000:]
    clean_stderr(proc)
    got = {r["doc_id"]: r for r in records(out)}
    assert got["small"]["error"] is None
    message = got["huge"]["error"]["message"]
    assert f"{1 << 40:,} bytes" in message and "HARNESS_MAX_DOC_CHARS" in message and "not read" in message


def test_a_huge_stdin_and_a_huge_jsonl_line_are_refused_unread(fake_server, cli_env, tmp_path):
    huge = tmp_path / "zeros"
    with huge.open("wb") as handle:
        handle.truncate(1 << 40)
    env = cli_env(fake_server.base_url, HARNESS_MAX_DOC_CHARS="1000")
    with huge.open("rb") as stdin:
        proc = subprocess.run([sys.executable, "-m", "harness", "extract", "-"], cwd=REPO, env=env,
                              stdin=stdin, capture_output=True, text=True, timeout=60, check=False,
                              preexec_fn=_capped(4 << 30))
    assert proc.returncode == 1, proc.stderr[-2000:]
    clean_stderr(proc)
    [record] = [json.loads(line) for line in proc.stdout.split("\n") if line.strip()]
    assert "HARNESS_MAX_DOC_CHARS" in record["error"]["message"] and "not read" in record["error"]["message"]

    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps({"id": "big", "text": "x" * 3_000_000}) + "\n"
                     + json.dumps({"id": "ok", "text": GOOD}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    lines = subprocess.run([sys.executable, "-m", "harness", "extract", str(batch), "-o", str(out)],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert lines.returncode == 1, lines.stderr[-2000:]
    got = {r["doc_id"]: r for r in records(out)}
    assert got["ok"]["error"] is None
    assert "not read" in got["batch.jsonl:1"]["error"]["message"]  # its id was never parsed


# --- item 6: closed stdin, FIFOs, unwritable outputs; exit 3 when the run itself fails -----------

def test_closed_stdin_is_a_usage_error(fake_server, cli_env):
    proc = subprocess.run([sys.executable, "-m", "harness", "extract", "-"], cwd=REPO,
                          env=cli_env(fake_server.base_url), capture_output=True, text=True, timeout=60, check=False,
                          preexec_fn=lambda: os.close(0))
    assert proc.returncode == 2, proc.stderr
    assert "stdin is closed" in proc.stderr
    clean_stderr(proc)


def test_a_fifo_in_a_folder_is_skipped_with_a_warning(fake_server, cli_env, run_cli, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text(GOOD, encoding="utf-8")
    os.mkfifo(folder / "feed.txt")
    out = tmp_path / "out.jsonl"
    proc = run_cli(["extract", str(folder), "-o", str(out)], cli_env(fake_server.base_url), timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert [r["doc_id"] for r in records(out)] == ["a"]
    assert "feed.txt is not a regular file" in proc.stderr
    clean_stderr(proc)


def test_an_output_under_a_file_is_exit_2_before_any_call(fake_server, cli_env, run_cli, tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(GOOD, encoding="utf-8")
    proc = run_cli(["extract", str(article), "-o", str(article / "out.jsonl")], cli_env(fake_server.base_url))
    assert proc.returncode == 2, proc.stderr
    assert "is a file, not a folder" in proc.stderr
    clean_stderr(proc)
    assert not fake_server.requests
    pages = run_cli(["extract", str(article), "--html", str(article)], cli_env(fake_server.base_url))
    assert pages.returncode == 2 and "--html" in pages.stderr and "is a file" in pages.stderr
    assert article.read_text(encoding="utf-8") == GOOD


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_mid_run_is_exit_3_with_a_message(fake_server, cli_env, run_cli, tmp_path):
    batch = jsonl(tmp_path / "batch.jsonl", [{"id": "a", "text": GOOD}, {"id": "b", "text": OTHER}])
    proc = run_cli(["extract", str(batch), "-o", "/dev/full"], cli_env(fake_server.base_url))
    assert proc.returncode == 3, proc.stderr
    assert "cannot write /dev/full: No space left on device" in proc.stderr
    assert "--resume" in proc.stderr
    clean_stderr(proc)

    article = tmp_path / "a.txt"
    article.write_text(GOOD, encoding="utf-8")
    with open("/dev/full", "w") as full:
        stdout = subprocess.run([sys.executable, "-m", "harness", "extract", str(article)], cwd=REPO,
                                env=cli_env(fake_server.base_url), stdout=full, stderr=subprocess.PIPE,
                                text=True, timeout=60, check=False)
    assert stdout.returncode == 3, stdout.stderr
    assert "cannot write stdout: No space left on device" in stdout.stderr
    assert "Traceback" not in stdout.stderr and "Exception ignored" not in stdout.stderr


def test_help_states_the_exit_codes(run_cli, cli_env):
    proc = run_cli(["extract", "--help"], cli_env("http://127.0.0.1:9/v1"))
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    assert "0 all documents done" in text and "1 some ended as error records" in text
    assert "2 bad usage or configuration" in text and "3 the run itself failed" in text


# --- item 10: U+2028, U+2029 and U+0085 do not split a Result ------------------------------------

SEPARATORS = "one\u2028two\u2029three\x85four"


def two_results_files(tmp_path: Path, env: dict, run_cli) -> tuple[Path, Path, Path]:
    """(batch, out1, out2): two JSONL Results files of two documents each, titles holding
    U+2028, U+2029 and U+0085, extracted with their text."""
    outs = []
    for prefix, texts in (("d", [GOOD, OTHER]), ("e", [OTHER, GOOD])):
        docs = [{"id": f"{prefix}{i}", "title": f"{SEPARATORS} {i}", "text": t} for i, t in enumerate(texts)]
        batch = jsonl(tmp_path / f"batch-{prefix}.jsonl", docs)
        out = tmp_path / f"out-{prefix}.jsonl"
        proc = run_cli(["extract", str(batch), "-o", str(out), "--include-text"], env)
        assert proc.returncode == 0, proc.stderr
        outs.append(out)
    return tmp_path / "batch-d.jsonl", outs[0], outs[1]


def test_line_separators_in_results_survive_view_compare_and_resume(fake_server, cli_env, run_cli, tmp_path):
    env = cli_env(fake_server.base_url, HARNESS_TIMEOUT="10")
    batch, out, other = two_results_files(tmp_path, env, run_cli)
    assert [r["title"] for r in records(out)] == [f"{SEPARATORS} 0", f"{SEPARATORS} 1"]
    assert "\u2028" in out.read_text(encoding="utf-8")  # raw in the JSON: splitlines would cut it

    docs = records(batch)
    docs[1]["text"] = OTHER.replace("Tuesday", "Wednesday")
    jsonl(batch, docs)
    resumed = run_cli(["extract", str(batch), "-o", str(out), "--resume", "--include-text"], env)
    assert resumed.returncode == 0, resumed.stderr
    final = records(out)
    assert [r["doc_id"] for r in final] == ["d0", "d1"]  # the changed document once, not twice
    assert "Wednesday" in final[1]["text"]

    view = run_cli(["view", str(out), "-o", str(tmp_path / "pages")], env)
    assert view.returncode == 0, view.stderr
    assert len(list((tmp_path / "pages").glob("*.html"))) == 2
    compare = run_cli(["compare", str(out), str(other), "--json", str(tmp_path / "c.json")], env)
    assert compare.returncode == 0, compare.stderr
    assert len(json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))["docs"]) == 4
    again = run_cli(["extract", str(batch), "-o", str(out), "--resume"], env)
    assert again.returncode == 0 and "skipped 2 document(s)" in again.stderr
    assert [r["doc_id"] for r in records(out)] == ["d0", "d1"]


# --- item 11: one page per document ---------------------------------------------------------------

def test_html_pages_never_overwrite_each_other(fake_server, cli_env, run_cli, tmp_path):
    ids = ["a/b", "a_b", "a b", ".", "..", "خبر-1", "新闻-1", "A", "a"]
    batch = jsonl(tmp_path / "batch.jsonl", [{"id": i, "text": GOOD} for i in ids])
    pages = tmp_path / "pages"
    proc = run_cli(["extract", str(batch), "-o", str(tmp_path / "out.jsonl"), "--html", str(pages)],
                   cli_env(fake_server.base_url, HARNESS_TIMEOUT="10"))
    assert proc.returncode == 0, proc.stderr
    written = sorted(pages.iterdir())
    assert len(written) == len(ids)
    titles = {page.read_text(encoding="utf-8").split("<title>")[1].split(" · harness view")[0] for page in written}
    assert titles == {html.escape(i) for i in ids}  # every document has its own page
    # safe ids keep their names; "a" meets "A" on a case-insensitive file system, so it is "a-2"
    assert {p.name for p in written} >= {"خبر-1.html", "新闻-1.html", "a_b.html", "A.html", "a-2.html"}


# --- item 12: view --article decodes as extract does ---------------------------------------------

def test_view_article_with_bom_and_crlf_highlights_the_right_words(fake_server, cli_env, run_cli, tmp_path):
    article = tmp_path / "story.txt"
    article.write_bytes(b"\xef\xbb\xbf" + (GOOD + "\n" + OTHER).replace("\n", "\r\n").encode("utf-8"))
    result = tmp_path / "story.json"
    env = cli_env(fake_server.base_url, HARNESS_TIMEOUT="10")
    proc = run_cli(["extract", str(article), "-o", str(result)], env)
    assert proc.returncode == 0, proc.stderr
    page = tmp_path / "story.html"
    view = run_cli(["view", str(result), "--article", str(article), "-o", str(page)], env)
    assert view.returncode == 0, view.stderr
    page_html = page.read_bytes().decode("utf-8")  # read_text would turn its CRLF into LF
    assert "does not match" not in page_html
    parsed = parse(page_html)
    text = article.read_bytes().decode("utf-8-sig")
    assert parsed.article == text
    claim = json.loads(result.read_text(encoding="utf-8"))["claims"][0]["content"]
    assert claim["grounding"] == "exact" and text[claim["start"]:claim["end"]] == claim["text"]
    assert claim["text"] in parsed.by_mark.values()


# --- item 13: view renders a batch that holds error records ---------------------------------------

def test_view_renders_a_batch_with_error_records(fake_server, cli_env, run_cli, tmp_path):
    batch = jsonl(tmp_path / "batch.jsonl", [{"id": "good", "text": GOOD}, {"id": "empty", "text": ""}])
    out = tmp_path / "out.jsonl"
    env = cli_env(fake_server.base_url, HARNESS_TIMEOUT="10")
    assert run_cli(["extract", str(batch), "-o", str(out), "--include-text"], env).returncode == 1
    view = run_cli(["view", str(out)], env)
    assert view.returncode == 0, view.stderr
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (tmp_path / "out_views").iterdir()}
    assert set(pages) == {"good", "empty"}
    assert "is empty: nothing to extract" in pages["empty"]


# --- item 14: JSONL on stdin after a BOM ------------------------------------------------------------

def test_stdin_jsonl_with_a_bom_is_read_as_jsonl(fake_server, cli_env, run_cli):
    stdin = "\ufeff" + json.dumps({"id": "s1", "text": GOOD}) + "\n" + json.dumps({"id": "s2", "text": OTHER}) + "\n"
    proc = run_cli(["extract", "-"], cli_env(fake_server.base_url, HARNESS_TIMEOUT="10"), stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["doc_id"] for line in proc.stdout.split("\n") if line.strip()] == ["s1", "s2"]


# --- item 17 (part A): escapes on stderr, compare's temp files and CSP, a corrupt middle line ----

def test_ids_with_terminal_escapes_are_printed_escaped(fake_server, cli_env, run_cli, tmp_path):
    evil = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\u202e"
    batch = jsonl(tmp_path / "batch.jsonl", [{"id": evil, "text": ""}, {"id": "ok", "text": GOOD}])
    proc = run_cli(["extract", str(batch), "-o", str(tmp_path / "out.jsonl")], cli_env(fake_server.base_url))
    assert proc.returncode == 1
    assert "\x1b" not in proc.stderr and "\u202e" not in proc.stderr and "\x07" not in proc.stderr
    assert "\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mred\\u202e" in proc.stderr
    assert records(tmp_path / "out.jsonl")[0]["doc_id"] == evil  # the data itself is kept as it was


def test_compare_of_articles_leaves_no_temporary_files_and_its_page_has_a_csp(fake_server, cli_env, run_cli,
                                                                               tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(GOOD, encoding="utf-8")
    b.write_text(GOOD.replace("Monday", "Tuesday"), encoding="utf-8")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    page = tmp_path / "compare.html"
    proc = run_cli(["compare", str(a), str(b), "--html", str(page)],
                   cli_env(fake_server.base_url, HARNESS_TIMEOUT="10", TMPDIR=str(temporary)))
    assert proc.returncode == 0, proc.stderr
    assert list(temporary.iterdir()) == []
    page_text = page.read_text(encoding="utf-8")
    assert "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';" in page_text


def test_resume_removes_a_corrupt_line_in_the_middle(fake_server, cli_env, run_cli, tmp_path):
    docs = [{"id": f"doc-{i}", "text": f"{GOOD.strip()} Item {i}.\n"} for i in range(5)]
    batch = jsonl(tmp_path / "batch.jsonl", docs)
    out = tmp_path / "out.jsonl"
    env = cli_env(fake_server.base_url, HARNESS_TIMEOUT="10")
    assert run_cli(["extract", str(batch), "-o", str(out)], env).returncode == 0
    lines = out.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2][: len(lines[2]) // 2]  # doc-2's line garbled (a torn write, then more lines)
    out.write_text("\n".join(lines), encoding="utf-8")

    resumed = run_cli(["extract", str(batch), "-o", str(out), "--resume"], env)
    assert resumed.returncode == 0, resumed.stderr
    assert "line 3 (not JSON" in resumed.stderr and "removed" in resumed.stderr
    final = records(out)  # every line parses
    assert sorted(r["doc_id"] for r in final) == [d["id"] for d in docs]


def test_resume_refuses_a_file_that_holds_no_results(fake_server, cli_env, run_cli, tmp_path):
    notes = tmp_path / "notes.jsonl"
    notes.write_text("my own notes\nnot a Result at all\n", encoding="utf-8")
    article = tmp_path / "a.txt"
    article.write_text(GOOD, encoding="utf-8")
    proc = run_cli(["extract", str(article), "-o", str(notes), "--resume"], cli_env(fake_server.base_url))
    assert proc.returncode == 2 and "holds no harness Result" in proc.stderr
    assert notes.read_text(encoding="utf-8") == "my own notes\nnot a Result at all\n"
