"""What a user meets through ``python -m harness`` when the endpoint or its settings are odd:
a base URL with a query (Azure's ``?api-version=``), one document's 400 during ``auto``
negotiation, a 200 that is an HTML page or a JSON body cut short, a model answering a 2 MB
summary, and settings that cannot work (exit 2, a message naming the variable, no traceback)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from openai_server import Request, error, first_sentence, ok
from test_cli_extract import read_jsonl, write_jsonl
from wire_server import Wire, WireServer, completion_bytes

TEXT = "The council of {0} met on Monday and approved the budget for the new bridge, the mayor said."


def docs(*names: str) -> list[dict]:
    return [{"id": name, "text": TEXT.format(name)} for name in names]


def test_a_query_in_the_base_url_follows_the_route(cli_env, run_cli, tmp_path):
    with WireServer() as server:
        url = server.base_url + "?api-version=2024-06-01"
        out = tmp_path / "out.jsonl"
        proc = run_cli(["extract", str(write_jsonl(tmp_path / "in.jsonl", docs("a"))), "-o", str(out)], cli_env(url))
        paths = [urlsplit(r.path) for r in server.completions]
    assert proc.returncode == 0, proc.stderr
    assert paths and {p.path for p in paths} == {"/v1/chat/completions"}
    assert all(parse_qs(p.query) == {"api-version": ["2024-06-01"]} for p in paths)
    assert read_jsonl(out)[0]["provenance"]["endpoint"] == server.base_url


FILTERED = ("The response was filtered due to the prompt triggering Azure OpenAI's content management "
            "policy. Please modify your prompt and retry.")


def test_one_documents_400_does_not_downgrade_the_mode_of_the_others(cli_env, run_cli, tmp_path):
    """A content filter's 400 on the first document is that document's error: the others still
    get the strongest mode (json_schema), whatever the input order."""
    def policy(request: Request):
        if "filtered" in request.article:
            return error(400, FILTERED)
        return ok()

    with WireServer(policy) as server:
        out = tmp_path / "out.jsonl"
        batch = write_jsonl(tmp_path / "in.jsonl", docs("filtered", "b", "c"))
        proc = run_cli(["extract", str(batch), "-o", str(out), "--concurrency", "1"],
                       cli_env(server.base_url, HARNESS_MODE="auto"))
    records = {r["doc_id"]: r for r in read_jsonl(out)}
    assert proc.returncode == 1, proc.stderr
    assert records["filtered"]["error"]["type"] == "EndpointError"
    assert "filtered" in records["filtered"]["error"]["message"]
    assert [records[i]["provenance"]["mode"] for i in ("b", "c")] == ["json_schema", "json_schema"]


def test_a_body_that_is_no_completion_is_an_endpoint_fault_and_strings_are_bounded(cli_env, run_cli, tmp_path):
    """A 200 HTML page is reported as what it is (not "no choices"); a JSON body cut short is
    retried as it was sent, never re-asked as if the model had erred; a 2 MB summary is cut."""
    seen: dict[str, int] = {}

    def policy(request: Request):
        name = request.article.split()[3]
        seen[name + request.pass_name] = seen.get(name + request.pass_name, 0) + 1
        if name == "html":
            return Wire(body=b"<html><body>Sign in to continue</body></html>", content_type="text/html")
        if name == "cut" and seen[name + request.pass_name] == 1:
            return Wire(body=completion_bytes(request)[:70])
        if name == "long" and request.pass_name == "events":
            return ok({"events": [{"id": "e1", "type": "strategic.other", "status": "occurred",
                                   "summary": "x" * 2_000_000, "evidence": [first_sentence(request.article)]}]})
        return ok()

    with WireServer(policy) as server:
        out = tmp_path / "out.jsonl"
        batch = write_jsonl(tmp_path / "in.jsonl", docs("html", "cut", "long"))
        proc = run_cli(["extract", str(batch), "-o", str(out)],
                       cli_env(server.base_url, HARNESS_RETRIES="1", HARNESS_REASKS="2"))
        calls = server.completions
    records = {r["doc_id"]: r for r in read_jsonl(out)}
    assert proc.returncode == 1, proc.stderr
    html = records["html"]["error"]
    assert html["type"] == "EndpointError" and "not JSON" in html["message"] and "text/html" in html["message"]
    assert "choices" not in html["message"]
    assert records["html"]["provenance"]["attempts"] == 4  # 2 passes x (1 try + 1 retry), no re-asks

    assert records["cut"]["error"] is None
    cut = [c for c in calls if c.article.split()[3] == "cut"]
    for pass_name in ("events", "claims"):
        bodies = [c.body for c in cut if c.pass_name == pass_name]
        assert len(bodies) == 2 and bodies[0] == bodies[1]  # the same request again: no re-ask

    long = records["long"]
    assert long["error"] is None and len(long["events"][0]["summary"]) <= 1_000
    assert any("2,000,000 characters cut" in w for w in long["warnings"])


SECRET = "pwSECRET4242"


@pytest.mark.parametrize("env, words", [
    ({"HARNESS_TIMEOUT": "0"}, "HARNESS_TIMEOUT"),
    ({"HARNESS_TIMEOUT": "-5"}, "HARNESS_TIMEOUT"),
    ({"HARNESS_TIMEOUT": "nan"}, "HARNESS_TIMEOUT"),
    ({"HARNESS_BACKOFF": "-1"}, "HARNESS_BACKOFF"),
    ({"HARNESS_BACKOFF_MAX": "-0.5"}, "HARNESS_BACKOFF_MAX"),
    ({"HARNESS_TEMPERATURE": "nan"}, "HARNESS_TEMPERATURE"),
    ({"HARNESS_BASE_URL": f"http://user:{SECRET}@127.0.0.1:99999/v1"}, "65535"),
    ({"HARNESS_BASE_URL": "http://127.0.0.1:eighty/v1"}, "port"),
    ({"HARNESS_BASE_URL": "http:///v1"}, "host"),
], ids=["timeout-0", "timeout-negative", "timeout-nan", "backoff-negative", "backoff-max-negative",
        "temperature-nan", "port-99999", "port-word", "no-host"])
def test_a_setting_that_cannot_work_is_exit_2_with_a_message(cli_env, run_cli, tmp_path, env, words):
    article = tmp_path / "a.txt"
    article.write_text(TEXT.format("a"), encoding="utf-8")
    proc = run_cli(["extract", str(article)], {**cli_env("http://127.0.0.1:9/v1"), **env})
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr and "Traceback" not in proc.stderr and SECRET not in proc.stderr
