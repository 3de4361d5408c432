"""`harness extract` as a subprocess against a real loopback server that refuses json_schema
(as llama-cpp-python's server does): auto mode falls back, and every Result written validates
against the committed JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from openai_server import FakeOpenAI, by_marker, refusing_json_schema

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "result.schema.json").read_text())


def test_results_validate_and_record_the_fallback_mode(cli_env, run_cli, seed_article, tmp_path):
    batch = tmp_path / "batch.jsonl"
    lines = [{"id": "a", "text": seed_article, "title": "Seed"},
             {"id": "b", "text": "Officials said the bridge reopened on Monday.", "published": "2024-02-01"},
             {"id": "c", "text": "   "}]
    batch.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out.jsonl"
    with FakeOpenAI(refusing_json_schema(by_marker())) as server:
        proc = run_cli(["extract", str(batch), "-o", str(out)], cli_env(server.base_url, HARNESS_MODE="auto"))
        formats = [r.response_format for r in server.completions]
    assert proc.returncode == 1, proc.stderr  # "c" is only whitespace: an error record
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["doc_id"] for r in records] == ["a", "b", "c"]
    for record in records:
        jsonschema.validate(record, SCHEMA)
    assert records[0]["provenance"]["mode"] == "json_object" and records[1]["provenance"]["mode"] == "json_object"
    assert records[2]["error"]["type"] == "InputError" and "whitespace" in records[2]["error"]["message"]
    assert formats.count("json_schema") == 1 and "json_object" in formats  # negotiated once, remembered
    assert records[0]["grounding"]["exact"] > 0


def test_schema_command_prints_the_committed_result_schema(run_cli, cli_env):
    proc = run_cli(["schema"], cli_env("http://127.0.0.1:9/v1"))
    assert proc.returncode == 0 and json.loads(proc.stdout) == SCHEMA


def test_usage_errors_exit_2(run_cli, cli_env):
    proc = run_cli(["extract", "x.txt", "--resume"], cli_env("http://127.0.0.1:9/v1"))
    assert proc.returncode == 2 and "--resume needs -o" in proc.stderr
