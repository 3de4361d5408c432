"""The API key goes into the Authorization header and nowhere else: not into stdout, stderr,
Results, HTML pages or prompts, on the happy path and on every error path; keys hidden in the
endpoint URL (user info, ``?key=``) are redacted wherever the endpoint is named."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from test_cli_extract import write_jsonl

KEY = "sk-test-SECRET-0123456789abcdef"
FRAGMENTS = (KEY, "SECRET-0123456789", "0123456789abcdef")  # the key, or enough of it to matter


def leaks(text: str, secrets: tuple[str, ...] = FRAGMENTS) -> list[str]:
    return [s for s in secrets if s in text]


def scan_tree(root: Path, secrets: tuple[str, ...] = FRAGMENTS) -> dict[str, list[str]]:
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and (hit := leaks(path.read_bytes().decode("utf-8", "replace"), secrets)):
            found[str(path.relative_to(root))] = hit
    return found


def story(i: int, fault: str = "") -> dict:
    text = f"The council of district {i} met on Monday and approved the budget for the bridge. {fault}"
    return {"id": f"doc-{i}", "text": text.strip()}


def test_the_key_is_sent_only_in_the_authorization_header(fake_server, cli_env, run_cli, tmp_path):
    docs = [story(0), story(1, "FAULT:always-401"), story(2, "FAULT:always-500"),
            story(3, "FAULT:always-hang"), story(4, "FAULT:bad-schema"), story(5, "FAULT:429"),
            story(6, "FAULT:refusal"), story(7)]
    work = tmp_path / "work"
    work.mkdir()
    batch = write_jsonl(tmp_path / "batch.jsonl", docs)
    env = cli_env(fake_server.base_url, HARNESS_API_KEY=KEY, HARNESS_TIMEOUT="0.5", HARNESS_RETRIES="1")
    proc = run_cli(["extract", str(batch), "-o", str(work / "out.jsonl"), "--html", str(work / "html"),
                    "--include-text", "--concurrency", "4"], env)
    single = run_cli(["extract", "-"], env, stdin=docs[1]["text"])  # one document, JSON on stdout

    records = [json.loads(line) for line in (work / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    errors = {r["doc_id"]: r["error"] for r in records if r["error"]}
    assert proc.returncode == 1 and set(errors) == {"doc-1", "doc-2", "doc-3", "doc-6"}
    assert "HARNESS_API_KEY" in errors["doc-1"]["message"]  # the 401 is reported, without the key
    assert "timed out" in errors["doc-3"]["message"]
    assert any((work / "html").iterdir())

    calls = fake_server.completions
    assert calls and all(c.headers.get("authorization") == f"Bearer {KEY}" for c in calls)
    assert not any(leaks(json.dumps(c.body)) for c in calls)  # never in a prompt
    assert not any(leaks(f"{k}: {v}") for c in calls for k, v in c.headers.items() if k != "authorization")
    for name, text in [("stdout", proc.stdout), ("stderr", proc.stderr),
                       ("single stdout", single.stdout), ("single stderr", single.stderr)]:
        assert not leaks(text), f"key in {name}: {text[-1500:]}"
    assert scan_tree(work) == {}
    assert json.loads(single.stdout)["error"]["type"] == "EndpointError"


def url_with_secrets(port: int) -> str:
    return f"http://analyst:pw-SECRET-USERINFO@127.0.0.1:{port}/v1?key=SECRET-QUERY&x=1"


URL_SECRETS = ("SECRET-USERINFO", "SECRET-QUERY", "pw-")


def test_keys_in_the_endpoint_url_are_redacted_in_provenance(fake_server, cli_env, run_cli, tmp_path):
    port = int(fake_server.base_url.rsplit(":", 1)[1].split("/")[0])
    batch = write_jsonl(tmp_path / "batch.jsonl", [story(0), story(1, "FAULT:always-500")])
    out = tmp_path / "out.jsonl"
    proc = run_cli(["extract", str(batch), "-o", str(out)],
                   cli_env(url_with_secrets(port), HARNESS_RETRIES="1"))
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["error"] is None for r in records] == [True, False], proc.stderr
    for record in records:
        assert record["provenance"]["endpoint"] == f"http://127.0.0.1:{port}/v1"
    assert f"[http://127.0.0.1:{port}/v1]" in records[1]["error"]["message"]
    assert not leaks(proc.stdout + proc.stderr + out.read_text(encoding="utf-8"), URL_SECRETS)


def test_keys_in_the_endpoint_url_are_redacted_in_connection_errors(cli_env, run_cli, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "out.jsonl"
    batch = write_jsonl(tmp_path / "batch.jsonl", [story(0)])
    proc = run_cli(["extract", str(batch), "-o", str(out)],
                   cli_env(url_with_secrets(port), HARNESS_RETRIES="1", HARNESS_API_KEY=KEY))
    # the endpoint is asked once before any document: nobody there is a configuration error
    assert proc.returncode == 2 and "cannot reach the endpoint" in proc.stderr and not out.exists()
    assert not leaks(proc.stdout + proc.stderr, URL_SECRETS + FRAGMENTS)


def test_a_bad_url_is_a_usage_error_without_its_secrets(cli_env, run_cli, tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("The council met on Monday.", encoding="utf-8")
    proc = run_cli(["extract", str(article)],
                   cli_env("ftp://analyst:pw-SECRET-USERINFO@example.org/v1?key=SECRET-QUERY"))
    assert proc.returncode == 2 and "http://" in proc.stderr
    assert not leaks(proc.stdout + proc.stderr, URL_SECRETS)


# --- harness.secrets: what is secret, and masking -------------------------------------------
def test_secrets_of_a_url_cover_basic_auth_and_credential_query_values():
    import base64

    from harness.secrets import Secrets

    url = "https://analyst:p%40ss-word-1@api.example.org/v1?api-version=2024-06-01&key=abcd1234&x=1"
    secrets = Secrets.of("sk-fake-0000111122223333", url)
    basic = base64.b64encode(b"analyst:p@ss-word-1").decode()
    text = f"Basic {basic} key abcd1234 pw p@ss-word-1 p%40ss-word-1 sk-fake-0000111122223333"
    assert secrets.scrub(text) == "Basic *** key *** pw *** *** ***"
    kept = "analyst met on 2024-06-01 with x=1"  # a user name, a public version and short values stay
    assert secrets.scrub(kept) == kept


def test_redact_uri_drops_userinfo_and_credential_query_values():
    from harness.secrets import redact_uri

    uri = "http://analyst:pw-1@127.0.0.1:8080/v1/chat/completions?api-version=2024-06-01&token=t0k3n&sig=abc"
    assert redact_uri(uri) == "http://127.0.0.1:8080/v1/chat/completions?api-version=2024-06-01&token=***&sig=***"


def test_a_parsed_model_output_is_scrubbed_in_every_string():
    from harness.secrets import Secrets
    from schemas import Extraction

    key = "sk-fake-9999888877776666"
    output = Extraction.model_validate({"claims": [{
        "id": "c1", "content": f"the key is {key}", "kind": "direct", "cue": "said",
        "speaker": {"name": f"Bearer {key}"}}]})
    assert Secrets.of(key, None).scrub_model(output) == 2
    assert key not in output.model_dump_json() and output.claims[0].content.text == "the key is ***"


async def test_an_internal_error_holding_the_key_is_masked_in_its_error_record(monkeypatch):
    """A bug's message (a library's exception that quotes the request) never carries the key into
    the Result."""
    from harness.config import Settings
    from harness.documents import Document
    from harness.endpoint import Endpoint
    from harness.pipeline import Extractor
    from harness.prompting import PromptTemplate

    settings = Settings.from_env({})
    endpoint = Endpoint(settings, "http://127.0.0.1:9/v1", "m", KEY)
    extractor = Extractor(settings, endpoint, PromptTemplate.load())

    async def broken(*_args, **_kwargs):
        raise RuntimeError(f"request to http://127.0.0.1:9/v1 with Authorization: Bearer {KEY} failed")

    monkeypatch.setattr(extractor, "extract", broken)
    try:
        result = await extractor.run_one(Document("d", "Some text.", None, None, None))
    finally:
        await endpoint.aclose()
    assert result.error.type == "InternalError"
    assert not leaks(result.model_dump_json())


def test_a_run_that_fails_names_no_secret(cli_env, run_cli, tmp_path):
    """exit 3 on an output that cannot be written, with the key in the environment and the URL:
    the message is masked like every other."""
    article = tmp_path / "a.txt"
    article.write_text("The council met on Monday.", encoding="utf-8")
    env = cli_env(f"http://analyst:{KEY}@127.0.0.1:9/v1")
    proc = run_cli(["extract", str(article), "-o", "/dev/full"], env)
    assert proc.returncode in (2, 3)
    assert not leaks(proc.stdout + proc.stderr)
