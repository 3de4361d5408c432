"""Bad input through the real CLI: every input ends as a Result or an error record with a clear
message, the batch goes on, and the exit code says what happened (0 fine, 1 some error
records, 2 bad usage or configuration)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_cli_extract import read_jsonl


def by_id(path: Path) -> dict[str, dict]:
    records = read_jsonl(path)
    assert len({r["doc_id"] for r in records}) == len(records), "duplicate doc_id in the output"
    return {r["doc_id"]: r for r in records}


GOOD = "The council of Brenna met on Monday and approved the budget for the new bridge, the mayor said.\n"


def test_a_folder_of_bad_files_gives_one_record_each(fake_server, cli_env, run_cli, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_text("  \n\t\n  ", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (folder / "latin1.txt").write_bytes(
        "Le conseil de Brenna s'est réuni lundi et a approuvé le budget du pont.\n".encode("latin-1"))
    (folder / "gone.txt").symlink_to(tmp_path / "does-not-exist.txt")  # a dangling link
    out = tmp_path / "out.jsonl"

    proc = run_cli(["extract", str(folder), "-o", str(out)], cli_env(fake_server.base_url))
    assert proc.returncode == 1, proc.stderr
    records = by_id(out)
    assert set(records) == {"good", "empty", "blank", "binary", "latin1", "gone"}
    assert records["good"]["error"] is None and records["good"]["claims"]
    errors = {k: r["error"] for k, r in records.items() if r["error"]}
    assert set(errors) == {"empty", "blank", "binary", "gone"}
    assert all(e["type"] == "InputError" for e in errors.values())
    assert "is empty" in errors["empty"]["message"]
    assert "only whitespace" in errors["blank"]["message"]
    assert "binary" in errors["binary"]["message"] and "UTF-8" in errors["binary"]["message"]
    assert "gone.txt" in errors["gone"]["message"]
    latin = records["latin1"]
    assert latin["error"] is None and latin["claims"]  # decoded with replacement, still extracted
    assert any("invalid UTF-8" in w and "U+FFFD" in w for w in latin["warnings"])
    for doc_id in errors:
        assert f"harness: {doc_id}: InputError" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway")
def test_an_unreadable_file_is_an_error_record(fake_server, cli_env, run_cli, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    locked = folder / "locked.txt"
    locked.write_text(GOOD, encoding="utf-8")
    locked.chmod(0)
    out = tmp_path / "out.jsonl"
    proc = run_cli(["extract", str(folder), "-o", str(out)], cli_env(fake_server.base_url))
    assert proc.returncode == 1
    assert "cannot read" in by_id(out)["locked"]["error"]["message"]


def test_bad_jsonl_lines_are_error_records_and_the_rest_runs(fake_server, cli_env, run_cli, tmp_path):
    batch = tmp_path / "batch.jsonl"
    lines = [
        json.dumps({"id": "a", "text": GOOD}),
        "{this is not json",
        json.dumps({"id": "no-text", "title": "a headline only"}),
        json.dumps(["a", "list"]),
        "",
        json.dumps({"id": "a", "text": GOOD + "A second story with the same id.\n"}),
        json.dumps({"text": GOOD}),
        '{"id": "nul", "text": "bad\x00byte"}',
    ]
    batch.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    out = tmp_path / "out.jsonl"
    proc = run_cli(["extract", str(batch), "-o", str(out)], cli_env(fake_server.base_url))
    assert proc.returncode == 1, proc.stderr
    records = by_id(out)
    assert list(records) == ["a", "batch.jsonl:2", "no-text", "batch.jsonl:4", "a~2", "batch.jsonl:7", "batch.jsonl:8"]
    assert "line 2 is not JSON" in records["batch.jsonl:2"]["error"]["message"]
    assert 'string "text" field' in records["no-text"]["error"]["message"]
    assert 'string "text" field' in records["batch.jsonl:4"]["error"]["message"]
    assert records["a"]["error"] is None and records["a~2"]["error"] is None
    assert any("duplicate id 'a'" in w for w in records["a~2"]["warnings"])
    assert records["batch.jsonl:7"]["error"] is None
    assert "line 8" in records["batch.jsonl:8"]["error"]["message"]
    assert "binary" in records["batch.jsonl:8"]["error"]["message"]


def test_a_5mb_article_is_refused_naming_the_limit_then_chunked_when_raised(fake_server, cli_env, run_cli,
                                                                          tmp_path, passes):
    # each line attributed ("according to" mid-sentence: no recovery makes a claim of every line)
    paragraphs = [f"Paragraph {i}: according to the minutes, district {i} approved budget line {i * 3}."
                  for i in range(62_000)]
    article = tmp_path / "huge.txt"
    article.write_text("\n".join(paragraphs) + "\n", encoding="utf-8")
    size = article.stat().st_size
    assert size > 5_000_000

    refused = run_cli(["extract", str(article)], cli_env(fake_server.base_url))
    assert refused.returncode == 1
    error = json.loads(refused.stdout)["error"]
    assert error["type"] == "InputError" and "HARNESS_MAX_DOC_CHARS" in error["message"]
    assert f"{size:,}" in error["message"] and not fake_server.completions

    env = cli_env(fake_server.base_url, HARNESS_MAX_DOC_CHARS="6000000", HARNESS_CHUNK_CHARS="400000",
                  HARNESS_CHUNK_OVERLAP="1000", HARNESS_TIMEOUT="20")
    chunked = run_cli(["extract", str(article)], env, timeout=180)
    assert chunked.returncode == 0, chunked.stderr[-2000:]
    result = json.loads(chunked.stdout)
    assert result["error"] is None
    chunks = result["provenance"]["chunks"]
    assert chunks >= 13 and chunks * passes == len(fake_server.completions) == result["provenance"]["attempts"]
    text = article.read_text(encoding="utf-8")
    starts = {c["content"]["start"] for c in result["claims"]}
    assert len(starts) > 1  # claims from several chunks, placed at their global offsets
    assert all(text[c["content"]["start"]:c["content"]["end"]] == c["content"]["text"] for c in result["claims"])


def test_a_missing_path_and_empty_stdin_are_error_records(fake_server, cli_env, run_cli, tmp_path):
    out = tmp_path / "out.jsonl"
    proc = run_cli(["extract", str(tmp_path / "nope.txt"), "-", "-o", str(out)],
                   cli_env(fake_server.base_url), stdin="")
    assert proc.returncode == 1
    records = by_id(out)
    assert "no such file or folder" in records["nope"]["error"]["message"]
    assert "empty" in records["stdin"]["error"]["message"]


@pytest.mark.parametrize("args, env, message", [
    (["--resume"], {}, "--resume needs -o FILE"),
    (["-o", "x.jsonl", "--retry-errors"], {}, "--retry-errors goes with --resume"),
    ([], {"HARNESS_MODE": "telepathy"}, "HARNESS_MODE='telepathy'"),
    ([], {"HARNESS_TIMEOUT": "soon"}, "HARNESS_TIMEOUT='soon'"),
    ([], {"HARNESS_BASE_URL": "ftp://example.org/v1"}, "must start with http"),
    (["--concurrency", "0"], {}, "concurrency must be at least 1"),
    (["--no-such-flag"], {}, "unrecognized arguments"),
], ids=["resume-without-output", "retry-errors-alone", "bad-mode", "bad-timeout", "bad-url",
        "zero-concurrency", "unknown-flag"])
def test_usage_errors_exit_2_with_a_message(fake_server, cli_env, run_cli, tmp_path, args, env, message):
    article = tmp_path / "a.txt"
    article.write_text(GOOD, encoding="utf-8")
    proc = run_cli(["extract", str(article), *args], cli_env(fake_server.base_url, **env), timeout=60)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not fake_server.completions


def test_a_batch_of_every_kind_of_bad_line_accounts_for_every_id(fake_server, cli_env, run_cli, tmp_path):
    """One batch, each line a different kind of bad input, mixed with good documents: every
    id ends exactly once as a Result or an error record, the good ones succeed, exit 1."""
    deep = "[" * 5000 + "]" * 5000
    earlier = {"doc_id": "old-1", "events": [], "claims": [], "grounding": {"exact": 0, "fuzzy": 0, "none": 0},
               "warnings": [], "error": None, "text_sha256": "0" * 64}
    good = lambda i: {"id": f"good-{i}", "text": f"{GOOD.strip()} Item {i}.\n"}
    # (line as bytes, the id its record has, "ok" | "error" | None when no record is due)
    cases: list[tuple[bytes, str | None, str | None]] = []

    def add(line: str | bytes, doc_id: str | None, outcome: str | None) -> None:
        cases.append((line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line, doc_id, outcome))

    def obj(value: dict, doc_id: str, outcome: str, **dumps) -> None:
        add(json.dumps(value, **dumps), doc_id, outcome)

    obj(good(0), "good-0", "ok")
    obj({"id": "title-number", "text": GOOD, "title": 3.25}, "title-number", "ok")
    obj({"id": "title-object", "text": GOOD, "title": {"en": "Bridge", "fr": "Pont"}}, "title-object", "ok")
    obj({"id": "published-mongo", "text": GOOD, "published": {"$date": "2024-01-30T00:00:00Z"}}, "published-mongo", "ok")
    obj({"id": "published-list", "text": GOOD, "published": ["2024", "01"]}, "published-list", "ok")
    obj({"id": "published-bool", "text": GOOD, "published": True, "source": 12}, "published-bool", "ok")
    add('{"id": "deep", "text": "%s", "x": %s}' % (GOOD.strip(), deep), None, "error")  # noqa: UP031
    obj({"id": "oversize", "text": GOOD * 80}, "oversize", "error")  # over HARNESS_MAX_DOC_CHARS below
    add(b"\xef\xbb\xbf" + json.dumps({"id": "bom", "text": GOOD}).encode(), "bom", "ok")
    obj({"id": "separators", "title": "a\u2028b\u2029c\x85d", "text": "Line one\u2028" + GOOD}, "separators", "ok",
        ensure_ascii=False)
    add(json.dumps(earlier), None, None)  # a Result: skipped with a warning
    obj({"id": "empty", "text": ""}, "empty", "error")
    obj({"id": "blank", "text": " \n\t "}, "blank", "error")
    obj({"id": ["a", "list"], "text": GOOD}, None, "ok")
    obj({"id": {"a": 1, "b": 2}, "text": GOOD}, None, "ok")
    obj({"id": True, "text": GOOD}, None, "ok")
    obj({"id": None, "text": GOOD}, None, "ok")
    obj({"id": 4.5, "text": GOOD}, "4.5", "ok")
    add(b"\x00\xff\xfe garbage \x89PNG\r\x1a", None, "error")
    obj({"id": "text-number", "text": 42}, "text-number", "error")
    obj({"id": "text-list", "text": ["a"]}, "text-list", "error")
    add("[1, 2, 3]", None, "error")
    add('"just a string"', None, "error")
    add("null", None, "error")
    add('{"id": "surrogate", "text": "%s \\ud800 alone"}' % GOOD.strip(), "surrogate", "ok")  # noqa: UP031
    add('{"id": "huge-int", "text": "x", "n": %s}' % ("9" * 5000), None, "error")
    add('{"id": "nan", "text": NaN}', "nan", "error")
    add(json.dumps({"id": "latin1"})[:-1].encode() + b', "text": "Caf\xe9 owners in Brenna said on Monday that '
        b'the bridge had reopened."}', "latin1", "ok")
    obj(good(0), "good-0~2", "ok")  # a repeated id
    obj({"id": "good-0~2", "text": GOOD}, "good-0~2~2", "ok")  # an id that a suffix already took
    obj({"id": "\x1b[31mred\x1b[0m", "text": ""}, "\x1b[31mred\x1b[0m", "error")
    add("{", None, "error")
    add(b'{"id": "crlf", "text": "' + GOOD.strip().encode() + b'"}\r', "crlf", "ok")
    obj({"id": "nul", "text": GOOD + "\u0000 after a NUL"}, "nul", "ok")
    obj({"_id": {"$oid": "65b8"}, "url": "https://example.org/a", "text": GOOD}, "65b8", "ok")
    obj(good(1), "good-1", "ok")

    batch = tmp_path / "batch.jsonl"
    batch.write_bytes(b"\n".join(line for line, _, _ in cases) + b"\n")
    expected: dict[str, str] = {}
    for number, (_line, doc_id, outcome) in enumerate(cases, 1):
        if outcome is not None:
            expected[doc_id or f"batch.jsonl:{number}"] = outcome
    out = tmp_path / "out.jsonl"
    proc = run_cli(["extract", str(batch), "-o", str(out), "--concurrency", "8"],
                   cli_env(fake_server.base_url, HARNESS_MAX_DOC_CHARS="4000", HARNESS_TIMEOUT="10"), timeout=120)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "\x1b" not in proc.stderr
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").split("\n") if line.strip()]
    ids = [r["doc_id"] for r in got]
    assert ids == list(expected), "every id exactly once, in input order"
    outcome = {r["doc_id"]: "error" if r["error"] else "ok" for r in got}
    assert outcome == expected
    assert all(r["claims"] for r in got if not r["error"]), "good documents are extracted"
    assert "a harness Result, not a document: skipped" in proc.stderr
