"""Interrupted batches: a real ``harness extract`` killed mid-run (SIGINT, SIGKILL) leaves only
complete, valid Result lines, and ``--resume`` finishes the rest with every id exactly once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from harness.output import prepare_resume
from openai_server import ok
from schemas import Result
from test_cli_extract import batch_documents, read_jsonl, write_jsonl

REPO = Path(__file__).resolve().parents[1]


def complete_lines(path: Path) -> list[str]:
    data = path.read_text(encoding="utf-8") if path.exists() else ""
    return data.splitlines(keepends=True)[: data.count("\n")]


def start_then_kill(args: list[str], env: dict[str, str], out: Path, after_lines: int, sig: int):
    proc = subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(complete_lines(out)) < after_lines and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, f"the batch ended before it could be interrupted: {proc.stderr.read()}"
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    return proc.returncode, stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_a_killed_batch_resumes_to_every_id_exactly_once(fake_server, cli_env, run_cli, tmp_path, sig):
    fake_server.policy = lambda _request: ok(delay=0.05)
    docs = batch_documents(200, fault_every=())
    batch = write_jsonl(tmp_path / "big.jsonl", docs)
    out = tmp_path / "out.jsonl"
    args = ["extract", str(batch), "-o", str(out), "--concurrency", "4"]
    env = cli_env(fake_server.base_url, HARNESS_TIMEOUT="10")  # no timeout faults here: a loaded machine must not fail it

    code, stderr = start_then_kill(args, env, out, after_lines=30, sig=sig)
    if sig == signal.SIGINT:
        assert code == 130 and "--resume" in stderr, stderr
    else:
        assert code == -signal.SIGKILL
    lines = complete_lines(out)
    before = [Result.model_validate_json(line) for line in lines]  # every complete line is a Result
    assert 30 <= len(before) < 200
    assert [r.doc_id for r in before] == [d["id"] for d in docs[: len(before)]]

    resumed = run_cli([*args, "--resume", "--concurrency", "16"], env)  # the last flag wins
    assert resumed.returncode == 0, resumed.stderr
    skipped = int(resumed.stderr.split("--resume skipped ")[1].split()[0])
    final = read_jsonl(out)
    ids = [r["doc_id"] for r in final]
    print(f"\n{signal.Signals(sig).name}: lines before kill {len(before)}, skipped on resume {skipped}, "
          f"final {len(final)}, duplicates {sum(n - 1 for n in Counter(ids).values())}")
    assert skipped == len(before)
    assert ids == [d["id"] for d in docs]  # each id once, in input order
    assert all(r["error"] is None for r in final)


def test_resume_cuts_a_torn_last_line(fake_server, cli_env, run_cli, tmp_path):
    docs = batch_documents(6, fault_every=())
    batch = write_jsonl(tmp_path / "batch.jsonl", docs)
    out = tmp_path / "out.jsonl"
    env = cli_env(fake_server.base_url, HARNESS_TIMEOUT="10")  # no timeout faults here: a loaded machine must not fail it
    assert run_cli(["extract", str(batch), "-o", str(out)], env).returncode == 0
    lines = complete_lines(out)
    out.write_text("".join(lines[:3]) + lines[3][: len(lines[3]) // 2], encoding="utf-8")  # killed mid-write

    resumed = run_cli(["extract", str(batch), "-o", str(out), "--resume"], env)
    assert resumed.returncode == 0, resumed.stderr
    assert "skipped 3 document(s)" in resumed.stderr
    assert [r["doc_id"] for r in read_jsonl(out)] == [d["id"] for d in docs]


def test_retry_errors_reruns_only_the_error_records(fake_server, cli_env, run_cli, tmp_path, passes):
    docs = batch_documents(10, fault_every=(2, 5))  # doc-002 (429), doc-005 (429-no-header)...
    for doc in docs[::4]:
        doc["text"] += " FAULT:always-503"  # ...and these never get an answer on the first run
    batch = write_jsonl(tmp_path / "batch.jsonl", docs)
    out = tmp_path / "out.jsonl"
    env = cli_env(fake_server.base_url, HARNESS_RETRIES="1", HARNESS_TIMEOUT="10")
    first = run_cli(["extract", str(batch), "-o", str(out)], env)
    failed = {r["doc_id"] for r in read_jsonl(out) if r["error"]}
    assert first.returncode == 1 and failed == {d["id"] for d in docs[::4]}

    plain = run_cli(["extract", str(batch), "-o", str(out), "--resume"], env)
    assert plain.returncode == 0 and "skipped 10" in plain.stderr  # error records count as done

    fake_server.policy = lambda _request: ok()  # the endpoint has recovered
    before = len(fake_server.completions)
    again = run_cli(["extract", str(batch), "-o", str(out), "--resume", "--retry-errors"], env)
    assert again.returncode == 0, again.stderr
    assert len(fake_server.completions) - before == passes * len(failed)
    final = read_jsonl(out)
    assert sorted(r["doc_id"] for r in final) == sorted(d["id"] for d in docs)
    assert all(r["error"] is None for r in final)


def test_prepare_resume_reads_ids_and_hashes(tmp_path):
    out = tmp_path / "out.jsonl"
    good = Result(doc_id="a", text_sha256="h1").model_dump_json()
    bad = Result(doc_id="b", error={"type": "EndpointError", "message": "x"}).model_dump_json()
    out.write_text(f"{good}\nnot json\n{bad}\n{{\"doc_id\": \"c\", \"tor", encoding="utf-8")
    assert prepare_resume(out) == {"a": "h1", "b": None}
    assert out.read_text(encoding="utf-8").endswith(f"{bad}\n")  # torn tail cut
    assert prepare_resume(out, retry_errors=True) == {"a": "h1"}
    assert [json.loads(line)["doc_id"] for line in out.read_text(encoding="utf-8").splitlines()] == ["a"]


def test_resume_needs_an_output_file(cli_env, run_cli, tmp_path):
    proc = run_cli(["extract", str(tmp_path), "--resume"], cli_env("http://127.0.0.1:9/v1"))
    assert proc.returncode == 2 and "--resume needs -o FILE" in proc.stderr


def test_a_document_whose_text_changed_is_run_again_and_replaces_its_record(fake_server, cli_env,
                                                                             run_cli, tmp_path):
    docs = batch_documents(5, fault_every=())
    batch = write_jsonl(tmp_path / "batch.jsonl", docs)
    out = tmp_path / "out.jsonl"
    env = cli_env(fake_server.base_url, HARNESS_TIMEOUT="10")  # no timeout faults here: a loaded machine must not fail it
    assert run_cli(["extract", str(batch), "-o", str(out)], env).returncode == 0
    docs[1]["text"] = "A corrected story: the bridge in district 1 stays closed until June, officials said."
    write_jsonl(batch, docs)

    resumed = run_cli(["extract", str(batch), "-o", str(out), "--resume"], env)
    assert resumed.returncode == 0 and "skipped 4 document(s)" in resumed.stderr
    final = read_jsonl(out)
    assert sorted(r["doc_id"] for r in final) == [d["id"] for d in docs]  # still one record each
    [changed] = [r for r in final if r["doc_id"] == "doc-001"]
    assert "stays closed" in changed["claims"][0]["content"]["text"]


def test_prepare_resume_keeps_the_last_record_of_a_repeated_id(tmp_path):
    out = tmp_path / "out.jsonl"
    old, other, new = (Result(doc_id=i, text_sha256=h).model_dump_json()
                       for i, h in (("a", "old"), ("b", "hb"), ("a", "new")))
    out.write_text(f"{old}\n{other}\n{new}\n", encoding="utf-8")  # killed before it was tidied
    assert prepare_resume(out) == {"a": "new", "b": "hb"}
    assert out.read_text(encoding="utf-8") == f"{other}\n{new}\n"
