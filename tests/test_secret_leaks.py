"""One API key, one URL password and one query secret through every command and error path:
``extract`` (batch, --html, --include-text, stdin), ``view``, ``compare`` of articles,
``eval --live --record`` into a temporary cassette folder, a refused setting. The endpoint leaks
on purpose: it echoes the request's Authorization header (Bearer, or Basic base64(user:password))
and its URL (query included) in 4xx/5xx bodies, in a 200 HTML page and inside the model's own
answer. A scan of every file written and of all stdout and stderr finds none of the secrets.
"""

from __future__ import annotations

import base64
import json
import re
import secrets as random_secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from openai_server import Request, error, first_sentence, hang, ok
from test_cli_extract import write_jsonl
from wire_server import Wire, WireServer, completion_bytes

MARK = re.compile(r"LEAK:([a-z0-9-]+)")


def make_secrets() -> dict[str, str]:
    token = random_secrets.token_hex(8)
    return {"key": f"sk-fake-{token}KEY", "password": f"pw{token}PASS", "query": f"q{token}QUERY"}


def forbidden(s: dict[str, str]) -> list[str]:
    pair = f"analyst:{s['password']}"
    return [s["key"], s["key"][8:], s["password"], s["query"], pair, base64.b64encode(pair.encode()).decode()]


def leaky_policy(request: Request):
    """Per document, by ``LEAK:<name>`` in its text: what a careless endpoint or proxy echoes."""
    found = MARK.search(request.article)
    name = found.group(1) if found else ""
    auth = request.headers.get("authorization", "")
    if name == "echo-output":  # the model repeats the request's headers and address (item 9)
        sentence = first_sentence(request.article)
        return ok({
            "events": [{"id": "e1", "type": "strategic.other", "status": "occurred",
                        "summary": f"Sent with {auth} to {request.path}", "evidence": [sentence]}],
            "claims": [{"id": "c1", "content": f"Authorization: {auth} {request.path}", "kind": "direct",
                        "cue": "said", "speaker": {"name": auth, "role": request.path}}],
        })
    if name in ("echo-500", "echo-400", "echo-401"):
        return Wire(status=int(name[-3:]), body=b'{"error": {"message": "rejected:"}}', echo_auth=True)
    if name == "echo-html":
        return Wire(body=b"<html><body>Proxy login for", content_type="text/html", echo_auth=True)
    if name == "echo-200-error":
        return Wire(body=json.dumps({"error": {"message": f"quota for {auth} {request.path}"}}).encode())
    if name == "truncated":
        return Wire(body=completion_bytes(request)[:90], declared=400)
    if name == "hang":
        return hang()
    if name == "echo-429":
        return error(429, "slow down {key}", retry_after="0")
    return ok()


def story(i: int, leak: str = "") -> dict:
    text = (f"The council of district {i} met on Monday and approved the budget for the new bridge, "
            f"the mayor said. {('LEAK:' + leak) if leak else ''}")
    return {"id": f"doc-{i}", "text": text.strip()}


LEAKS = ["echo-output", "echo-500", "echo-400", "echo-401", "echo-html", "echo-200-error", "truncated",
         "hang", "echo-429"]


def scan(root: Path, secrets: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in root.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            if hits := [s for s in secrets if s in text]:
                found[str(path.relative_to(root))] = hits
    return found


@pytest.fixture
def leaky_server():
    with WireServer(leaky_policy) as server:
        yield server


def test_no_secret_reaches_any_file_or_stream(leaky_server, cli_env, run_cli, tmp_path):
    s = make_secrets()
    port = urlsplit(leaky_server.base_url).port
    url = f"http://analyst:{s['password']}@127.0.0.1:{port}/v1?api-version=2024-06-01&key={s['query']}"
    work = tmp_path / "work"
    (work / "tmp").mkdir(parents=True)
    env = cli_env(url, HARNESS_API_KEY=s["key"], HARNESS_TIMEOUT="1", HARNESS_RETRIES="1",
                  HARNESS_CASSETTES_DIR=str(work / "cassettes"), TMPDIR=str(work / "tmp"))
    # without user:password in the URL the key goes out as a Bearer token, and is echoed as such
    bearer = {**env, "HARNESS_BASE_URL": url.replace(f"analyst:{s['password']}@", "")}
    docs = [story(0), *(story(i + 1, leak) for i, leak in enumerate(LEAKS))]
    batch = write_jsonl(work / "batch.jsonl", docs)
    article = work / "article.txt"
    article.write_text(story(50, "echo-output")["text"], encoding="utf-8")  # compared, so extracted
    other = work / "other.txt"
    other.write_text(story(51)["text"], encoding="utf-8")
    jobs = {  # run side by side: each is a whole CLI process (most of its time is start-up)
        "extract": (["extract", str(batch), "-o", str(work / "out.jsonl"), "--html", str(work / "html"),
                     "--include-text", "--concurrency", "4"], None, env),
        "stdin": (["extract", "-"], story(60, "echo-output")["text"], bearer),
        "compare": (["compare", str(article), str(other), "--html", str(work / "compare.html"),
                     "--json", str(work / "compare.json")], None, bearer),
        "eval": (["eval", "--live", "--record", "--fixtures", "syn-denial", "--out", str(work / "eval")], None,
                 env),
    }
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = {name: pool.submit(run_cli, args, job_env, stdin=stdin)
                   for name, (args, stdin, job_env) in jobs.items()}
        runs = {name: future.result() for name, future in futures.items()}
    runs["bad port"] = run_cli(["extract", str(article)],
                               {**env, "HARNESS_BASE_URL": url.replace(f":{port}/", ":99999/")})
    (work / "one.json").write_text(runs["stdin"].stdout, encoding="utf-8")
    (work / "one.txt").write_text(story(60, "echo-output")["text"], encoding="utf-8")
    runs["view"] = run_cli(["view", str(work / "out.jsonl"), "-o", str(work / "view")], env)
    runs["view one"] = run_cli(["view", str(work / "one.json"), "--article", str(work / "one.txt"), "-o",
                                str(work / "one.html")], env)

    records = {r["doc_id"]: r for r in map(json.loads, (work / "out.jsonl").read_text(encoding="utf-8").splitlines())}
    assert len(records) == len(docs), runs["extract"].stderr
    assert records["doc-0"]["error"] is None
    single = json.loads(runs["stdin"].stdout)  # the model echoed "Bearer <key>": masked
    assert single["error"] is None and "Bearer ***" in single["claims"][0]["content"]["text"]
    echoed = records["doc-1"]  # the model echoed the headers and URL: masked, the Result kept
    assert echoed["error"] is None and "***" in echoed["claims"][0]["content"]["text"]
    assert any("secret" in w for w in echoed["warnings"])
    assert {records[f"doc-{i}"]["error"]["type"] for i in (2, 3, 4, 5, 6)} == {"EndpointError"}
    assert "text/html" in records["doc-5"]["error"]["message"]  # says what came back (item 17)
    assert list((work / "cassettes").rglob("*.yaml")), runs["eval"].stderr  # it did record
    assert runs["bad port"].returncode == 2 and "65535" in runs["bad port"].stderr

    leaks = {name: [x for x in forbidden(s) if x in proc.stdout + proc.stderr] for name, proc in runs.items()}
    assert not any(leaks.values()), leaks
    assert scan(work, forbidden(s)) == {}
    calls = leaky_server.completions
    assert calls and not any(x in json.dumps(c.body) for c in calls for x in forbidden(s))  # never in a prompt
