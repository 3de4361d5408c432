"""``harness batch export`` / ``ingest``: the OpenAI Batch JSONL round trip through a loopback server.

The provider is played by ``answer_batch``: it reads the exported request lines, POSTs each body
to the fault-injecting loopback server (``tests/openai_server.py``), and writes what the Batch
API writes back: an output file of ``{"id", "custom_id", "response": {"status_code",
"request_id", "body"}, "error": null}`` lines, in another order than asked, and an error file
for the requests told to fail. The Results of the round trip are compared with the live path's
(``harness extract``) on the same documents and server: equal field for field apart from
``provenance.latency_s`` (wall time; the batch path's is its own CPU time). Attempts and token
usage are equal: both count the same calls (re-asks included) and the usage the answers report.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from openai_server import FakeOpenAI, by_marker

from harness.batch import run_extract
from harness.batch_files import (
    MAX_BYTES,
    MAX_REQUESTS,
    URL,
    RequestKey,
    parse_answer,
    parse_size,
    read_answers,
    request_line,
)
from harness.batch_jobs import (
    DOCUMENTS,
    MANIFEST,
    export_batch,
    export_missing,
    ingest_batch,
    listing_path,
)
from harness.cli import main
from harness.documents import iter_documents
from harness.errors import ConfigError
from harness.pipeline import Options

SHORT = ("Officials said on Monday that the bridge over the river was closed after a flood damaged "
         "its eastern span.")


def documents(root: Path, seed: str) -> Path:
    """A chunked article, a short one, one re-asked once, one never valid, two unreadable inputs."""
    lines = [
        {"id": "seed/1", "text": seed, "title": "Tower 22", "published": "2024-01-28"},
        {"id": "short:2", "text": SHORT},
        {"id": "reasked", "text": SHORT + " FAULT:bad-schema@claims"},
        {"id": "never-valid", "text": SHORT + " FAULT:always-bad-schema@events"},
        {"id": "no-text"},
        {"id": "empty", "text": ""},
    ]
    path = root / "docs.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def request_lines(paths: Iterable[Path]) -> list[dict[str, Any]]:
    return [json.loads(line) for path in paths for line in path.read_text(encoding="utf-8").splitlines()]


def answer_batch(server: FakeOpenAI, requests: list[dict[str, Any]], out: Path, err: Path | None = None,
                 drop: set[str] = frozenset(), fail: set[str] = frozenset()) -> None:
    """What the Batch API writes for ``requests``: each body POSTed to ``server``; ``drop`` gets
    no line at all, ``fail`` a line in the error file. Lines in reverse order (the API keeps none)."""
    with httpx2.Client(timeout=10) as client, open(out, "w", encoding="utf-8") as output:
        errors = open(err, "w", encoding="utf-8") if err is not None else None  # noqa: SIM115
        for number, request in reversed(list(enumerate(requests))):
            custom_id = request["custom_id"]
            assert request["method"] == "POST" and request["url"] == URL
            if custom_id in drop:
                continue
            line: dict[str, Any] = {"id": f"batch_req_{number}", "custom_id": custom_id, "error": None}
            if custom_id in fail:
                assert errors is not None
                line["response"] = {"status_code": 500, "request_id": f"req_{number}",
                                    "body": {"error": {"message": "The server had an error", "type": "server_error"}}}
                errors.write(json.dumps(line) + "\n")
                continue
            response = client.post(server.base_url + "/chat/completions", json=request["body"])
            line["response"] = {"status_code": response.status_code, "request_id": f"req_{number}",
                                "body": response.json()}
            output.write(json.dumps(line) + "\n")
        if errors is not None:
            errors.close()


def records(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("provenance"):
            record["provenance"]["latency_s"] = 0.0  # wall time: differs by nature
        out.append(record)
    return out


@pytest.fixture
def live(tmp_path: Path, seed_article: str, fast_settings):
    """The live path's Results and request bodies, and what the batch path needs to match them."""
    docs = documents(tmp_path, seed_article)
    with FakeOpenAI(by_marker()) as server:
        settings = fast_settings(server.base_url, mode="auto", chunk_chars=1500, reasks=1)
        asyncio.run(run_extract([str(docs)], settings, Options(), out=tmp_path / "live.jsonl", quiet=True))
        bodies = [r.body for r in server.completions]
        server.policy = by_marker()  # the batch run meets the same faults from the start
        yield {"docs": docs, "settings": settings, "server": server, "bodies": bodies,
               "results": records(tmp_path / "live.jsonl"), "root": tmp_path}


def export(live: dict[str, Any], **limits: int) -> Path:
    job = live["root"] / "job"
    items = iter_documents([str(live["docs"])], live["settings"].max_doc_chars)
    asyncio.run(export_batch(items, live["settings"], Options(), job, "fake-model", **limits))
    return job


def canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True)


# --- the format ----------------------------------------------------------------------------------
def test_custom_id_encodes_document_sha_chunk_pass_and_attempt():
    key = RequestKey("a:b/c d", "0123456789abcdef" * 4, 2, "claims", 3)
    assert key.custom_id == "a%3Ab%2Fc%20d:0123456789ab:2:claims:3"
    assert RequestKey.parse(key.custom_id) == RequestKey("a:b/c d", "0123456789ab", 2, "claims", 3)
    assert key.slot == "a%3Ab%2Fc%20d:0123456789ab:2:claims"


def test_request_line_has_the_documented_fields_and_keeps_the_body_bytes():
    body = b'{"model":"m","messages":[{"role":"user","content":"caf\xc3\xa9 \\u2028"}]}'
    line = request_line("x:1", body)
    assert line.endswith(b"}\n") and line.count(b"\n") == 1
    parsed = json.loads(line)
    assert set(parsed) == {"custom_id", "method", "url", "body"}
    assert (parsed["custom_id"], parsed["method"], parsed["url"]) == ("x:1", "POST", "/v1/chat/completions")
    assert body in line


def test_output_and_error_lines_as_documented():
    ok = parse_answer(json.dumps({"id": "batch_req_1", "custom_id": "a", "error": None, "response": {
        "status_code": 200, "request_id": "r1", "body": {"choices": []}}}), "out line 1")
    assert ok.ok and ok.body == {"choices": []} and ok.request_id == "r1"
    http = parse_answer(json.dumps({"id": "batch_req_2", "custom_id": "b", "error": None, "response": {
        "status_code": 429, "request_id": "r2", "body": {"error": {"message": "slow down"}}}}), "err line 1")
    assert not http.ok and http.failure == "HTTP 429: slow down"
    expired = parse_answer(json.dumps({"id": "batch_req_3", "custom_id": "c", "response": None,
                                       "error": {"code": "batch_expired", "message": "not done in 24h"}}), "e")
    assert expired.failure == "error batch_expired: not done in 24h"


def test_a_success_wins_over_an_earlier_failure_of_the_same_request(tmp_path: Path):
    failed = {"id": "1", "custom_id": "a", "response": None, "error": {"code": "x", "message": "y"}}
    done = {"id": "2", "custom_id": "a", "error": None, "response": {"status_code": 200, "body": {}}}
    (tmp_path / "err.jsonl").write_text(json.dumps(failed) + "\n")
    (tmp_path / "out.jsonl").write_text(json.dumps(done) + "\n")
    answers = read_answers([tmp_path / "out.jsonl"], [tmp_path / "err.jsonl"])
    assert "a" in answers and len(answers) == 1 and answers.get("a").ok and answers.get("b") is None
    assert not read_answers([], [tmp_path / "err.jsonl"]).get("a").ok


def test_sizes():
    assert (parse_size("200MB"), parse_size("500kb"), parse_size("1000"), parse_size("1G")) == (
        200_000_000, 500_000, 1000, 10**9)
    assert (MAX_REQUESTS, MAX_BYTES) == (50_000, 200_000_000)
    with pytest.raises(ConfigError):
        parse_size("lots")


# --- the round trip ------------------------------------------------------------------------------
def test_round_trip_gives_the_live_results(live):
    job = export(live)
    manifest = json.loads((job / MANIFEST).read_text())
    requests = request_lines(sorted(job.glob("requests-*.jsonl")))
    # every first ask is byte for byte a body the live path POSTed; the live path also sent re-asks
    first_asks = sorted(canonical(r["body"]) for r in requests)
    live_bodies = [canonical(b) for b in live["bodies"]]
    assert all(body in live_bodies for body in first_asks)
    assert len(first_asks) == len(live_bodies) - 2  # 'reasked' once, 'never-valid' once
    assert requests[0]["body"]["response_format"]["type"] == "json_schema"  # what auto picks
    assert {RequestKey.parse(r["custom_id"]).doc_id for r in requests} == {
        "seed/1", "short:2", "reasked", "never-valid"}
    assert manifest["requests"] == len(requests) and manifest["documents"] == 6
    assert manifest["settings"]["mode"] == "json_schema" and manifest["passes"] == ["events", "claims"]
    seed = next(json.loads(line) for line in (job / DOCUMENTS).read_text().splitlines()
                if json.loads(line)["id"] == "seed/1")
    assert len(seed["chunks"]) > 1 and len(seed["requests"]) == 2 * len(seed["chunks"])

    server, root = live["server"], live["root"]
    answer_batch(server, requests, root / "out-1.jsonl")
    report = asyncio.run(ingest_batch(job, [root / "out-1.jsonl"], [], root / "round-1.jsonl"))
    assert report.documents == 6 and report.reasks == 2 and report.reask_files == ["reask-1.jsonl"]
    first = {r["doc_id"]: r for r in records(root / "round-1.jsonl")}
    assert first["reasked"]["error"]["type"] == first["never-valid"]["error"]["type"] == "BatchReaskPending"
    reasks = request_lines([job / "reask-1.jsonl"])
    # the re-ask is the live re-ask: the answer, then the validation error, appended
    assert all(canonical(r["body"]) in live_bodies for r in reasks)
    assert reasks[0]["body"]["messages"][-2]["role"] == "assistant"
    assert {RequestKey.parse(r["custom_id"]).attempt for r in reasks} == {2}

    answer_batch(server, reasks, root / "out-2.jsonl")
    report = asyncio.run(ingest_batch(job, [root / "out-1.jsonl", root / "out-2.jsonl"], [], root / "round-2.jsonl"))
    assert report.reasks == 0 and report.listed == 0
    assert records(root / "round-2.jsonl") == live["results"]
    never = next(r for r in live["results"] if r["doc_id"] == "never-valid")
    # HARNESS_REASKS=1 spent on the events pass: that pass failed, the claims pass stands, in both paths
    assert any(w.startswith("events pass failed: ExtractionError: output did not validate after 2 tries")
               for w in never["warnings"])
    assert sorted(p.name for p in job.iterdir()) == [DOCUMENTS, MANIFEST, "reask-1.jsonl", "requests-1.jsonl"]


def test_failed_and_missing_requests_are_error_records_and_re_exported(live):
    job = export(live, max_requests=3)
    requests = request_lines(sorted(job.glob("requests-*.jsonl")))
    seed_ids = [r["custom_id"] for r in requests if r["custom_id"].startswith("seed%2F1:")]
    failed, missing = seed_ids[1], next(r["custom_id"] for r in requests if r["custom_id"].startswith("short"))
    server, root = live["server"], live["root"]
    answer_batch(server, requests, root / "out-1.jsonl", root / "err-1.jsonl", drop={missing}, fail={failed})
    results = root / "round-1.jsonl"
    report = asyncio.run(ingest_batch(job, [root / "out-1.jsonl"], [root / "err-1.jsonl"], results))
    first = {r["doc_id"]: r for r in records(results)}
    assert first["seed/1"]["error"]["type"] == "BatchRequestFailed"
    assert "HTTP 500: The server had an error" in first["seed/1"]["error"]["message"]
    assert first["short:2"]["error"]["type"] == "BatchRequestMissing"
    assert report.listed == 2 and report.exit_code == 1
    listing = [json.loads(line) for line in listing_path(results).read_text().splitlines()]
    assert {(e["custom_id"], e["status"]) for e in listing} == {(failed, "failed"), (missing, "missing")}

    again = export_missing(job, [results])
    assert again.requests == 2 and [f["name"] for f in again.files] == ["missing-1.jsonl"]
    lines = (job / "missing-1.jsonl").read_bytes().splitlines()
    originals = b"".join(p.read_bytes() for p in sorted(job.glob("requests-*.jsonl"))).splitlines()
    assert all(line in originals for line in lines)  # the exported lines, byte for byte
    assert {json.loads(line)["custom_id"] for line in lines} == {failed, missing}

    answer_batch(server, request_lines([job / "missing-1.jsonl"]), root / "out-m.jsonl")
    reasks = request_lines([job / "reask-1.jsonl"])
    answer_batch(server, reasks, root / "out-2.jsonl")
    outputs = [root / "out-1.jsonl", root / "out-m.jsonl", root / "out-2.jsonl"]
    report = asyncio.run(ingest_batch(job, outputs, [root / "err-1.jsonl"], root / "round-2.jsonl"))
    assert report.exit_code == 1 and report.listed == 0  # only 'never-valid' and the inputs: as live
    assert records(root / "round-2.jsonl") == live["results"]


def test_files_are_split_under_the_limits(live):
    job = export(live, max_requests=3, max_bytes=40_000)
    manifest = json.loads((job / MANIFEST).read_text())
    assert len(manifest["files"]) > 2
    for entry in manifest["files"]:
        data = (job / entry["name"]).read_bytes()
        assert len(data) == entry["bytes"] and data.count(b"\n") == entry["requests"]
        assert entry["requests"] <= 3 and (entry["bytes"] <= 40_000 or entry["requests"] == 1)
    assert sum(f["requests"] for f in manifest["files"]) == manifest["requests"]


def test_cli_round_trip_exit_codes_and_no_overwrite(live, cli_env, monkeypatch, capsys):
    """``python -m harness batch ...`` (``cli.main`` in process: the same parser and exit codes)."""
    root, server = live["root"], live["server"]
    for name in [n for n in __import__("os").environ if n.startswith(("HARNESS_", "OPENAI_"))]:
        monkeypatch.delenv(name)
    for name, value in cli_env(server.base_url, HARNESS_MODE="auto", HARNESS_CHUNK_CHARS="1500").items():
        if name.startswith("HARNESS_"):
            monkeypatch.setenv(name, value)
    job = root / "job"
    assert main(["batch", "export", str(live["docs"]), "-o", str(job)]) == 0
    assert "requests-1.jsonl" in capsys.readouterr().err
    assert main(["batch", "export", str(live["docs"]), "-o", str(job)]) == 2  # never over an export
    assert main(["batch", "export", "-o", str(job), "--missing"]) == 2  # --missing needs --ingested
    answer_batch(server, request_lines(sorted(job.glob("requests-*.jsonl"))), root / "out.jsonl")
    capsys.readouterr()
    assert main(["batch", "ingest", str(job), "--output-file", str(root / "out.jsonl"),
                 "-o", str(root / "out.jsonl")]) == 2
    assert "overwrite" in capsys.readouterr().err
    assert main(["batch", "ingest", str(job), "--output-file", str(root / "out.jsonl"),
                 "-o", str(root / "results.jsonl")]) == 1
    assert "reask-1.jsonl" in capsys.readouterr().err  # re-asks to send
    assert len(records(root / "results.jsonl")) == 6
    answer_batch(server, request_lines([job / "reask-1.jsonl"]), root / "out-2.jsonl")
    assert main(["batch", "ingest", str(job), "--output-file", str(root / "out.jsonl"), "--output-file",
                 str(root / "out-2.jsonl"), "-o", str(root / "results-2.jsonl")]) == 1  # 2 input errors
    assert records(root / "results-2.jsonl") == live["results"]


def test_export_needs_no_endpoint_and_ingest_accounts_for_every_document(tmp_path: Path, fast_settings):
    """Nothing listens at the base URL: export only writes. With no answers, every document is an
    error record and every request is listed; a request body that no longer matches the export
    (the job edited, the prompt or harness changed) is said to be one, not answered wrongly."""
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": "a", "text": SHORT}) + "\n" + json.dumps({"id": "b", "text": SHORT + " Again."})
                    + "\n", encoding="utf-8")
    settings = fast_settings("http://127.0.0.1:9/v1", mode="json_object")
    job = tmp_path / "job"
    report = asyncio.run(export_batch(iter_documents([str(docs)], 10_000), settings, Options(), job, "m"))
    assert report.requests == 4
    first = request_lines([job / "requests-1.jsonl"])[0]["body"]
    assert first["response_format"]["type"] == "json_object" and first["model"] == "m"
    (tmp_path / "empty.jsonl").write_text("")
    result = asyncio.run(ingest_batch(job, [tmp_path / "empty.jsonl"], [], tmp_path / "r.jsonl"))
    assert (result.documents, result.errors, result.listed, result.unknown) == (2, 2, 4, 0)
    stray = {"id": "x", "custom_id": "other:0123:0:events:1", "error": None, "response": {"status_code": 200, "body": {}}}
    (tmp_path / "stray.jsonl").write_text(json.dumps(stray) + "\n")
    assert asyncio.run(ingest_batch(job, [tmp_path / "stray.jsonl"], [], tmp_path / "r0.jsonl")).unknown == 1
    assert {r["error"]["type"] for r in records(tmp_path / "r.jsonl")} == {"BatchRequestMissing"}
    lines = (job / DOCUMENTS).read_text().splitlines()
    edited = json.loads(lines[0])
    edited["requests"] = dict.fromkeys(edited["requests"], "0" * 16)
    (job / DOCUMENTS).write_text(json.dumps(edited) + "\n" + lines[1] + "\n")
    asyncio.run(ingest_batch(job, [tmp_path / "empty.jsonl"], [], tmp_path / "r2.jsonl"))
    assert [r["error"]["type"] for r in records(tmp_path / "r2.jsonl")] == ["BatchChanged", "BatchRequestMissing"]
