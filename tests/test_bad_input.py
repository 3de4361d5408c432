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
    for doc_id, err in errors.items():
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
