"""``python -m harness extract`` as a real subprocess against the fault-injecting server.

The headline test runs 200 documents with 30% faults at concurrency 16 and accounts for every
one of them exactly once (``pytest -s`` prints the figures).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from openai_server import FAULTS, first_sentence

# Fault kinds cycled over the faulted documents; the "always"/refusal/empty ones never recover.
RECOVERABLE = ["429", "429-no-header", "500", "502", "503", "hang", "drop", "not-json", "bad-schema", "slow"]
PERMANENT = {"always-503": "EndpointError", "always-bad-schema": "ExtractionError",
             "always-truncated": "ExtractionError", "refusal": "ExtractionError",
             "empty-choices": "ExtractionError"}
KINDS = RECOVERABLE + list(PERMANENT)


def batch_documents(count: int, fault_every: tuple[int, ...] = (0, 3, 7)) -> list[dict]:
    """``count`` documents; those whose index mod 10 is in ``fault_every`` carry a fault marker."""
    docs, faulted = [], 0
    for i in range(count):
        marker = ""
        if i % 10 in fault_every:
            marker = f" FAULT:{KINDS[faulted % len(KINDS)]}"
            faulted += 1
        text = (f"Officials in district {i} said on Monday that a bridge number {i * 7} had reopened. "
                f"The repairs took {i % 12 + 2} weeks and cost less than planned.{marker}\n"
                f"Residents of district {i} welcomed the news.")
        docs.append({"id": f"doc-{i:03d}", "text": text, "title": f"Bridge {i}"})
    return docs


def fault_of(doc: dict) -> str | None:
    return doc["text"].split("FAULT:")[1].split()[0] if "FAULT:" in doc["text"] else None


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    """The records of a JSONL file, split at '\\n' only (a string may hold U+2028 raw)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def test_200_documents_with_30_percent_faults_are_all_accounted_for(fake_server, cli_env, run_cli, tmp_path,
                                                                     passes):
    docs = batch_documents(200)
    batch = write_jsonl(tmp_path / "batch.jsonl", docs)
    out = tmp_path / "out.jsonl"
    proc = run_cli(["extract", str(batch), "-o", str(out), "--concurrency", "16"],
                   cli_env(fake_server.base_url, HARNESS_TIMEOUT="2.5"), timeout=240)
    records = read_jsonl(out)
    ids = [r["doc_id"] for r in records]
    counts = Counter(ids)
    expected = [d["id"] for d in docs]
    faults = {d["id"]: fault_of(d) for d in docs if fault_of(d)}
    errors = {r["doc_id"]: r["error"] for r in records if r["error"]}
    results = [r for r in records if not r["error"]]
    attempts = sum(r["provenance"]["attempts"] for r in records)
    figures = {
        "documents": len(docs), "faults injected": len(faults), "results": len(results),
        "error records": len(errors), "retries and re-asks": attempts - passes * len(records),
        "duplicates": sum(n - 1 for n in counts.values()), "lost": len(set(expected) - set(ids)),
        "server requests": len(fake_server.completions),
    }
    print("\nbatch figures:", json.dumps(figures))
    print("error types:", dict(Counter(e["type"] for e in errors.values())))

    assert proc.returncode == 1, proc.stderr[-2000:]  # some documents ended in error records
    assert len(faults) == 60
    assert ids == expected  # every id once, in input order
    assert figures["duplicates"] == 0 and figures["lost"] == 0
    assert len(results) + len(errors) == 200
    assert set(errors) == {i for i, kind in faults.items() if kind in PERMANENT}
    for doc_id, err in errors.items():
        assert err["type"] == PERMANENT[faults[doc_id]], (doc_id, err)
        assert err["message"].strip()
        assert f"harness: {doc_id}: {err['type']}" in proc.stderr
    text = {d["id"]: d["text"] for d in docs}
    for r in results:
        content = r["claims"][0]["content"]
        assert content["grounding"] == "exact"
        words = text[r["doc_id"]][content["start"]:content["end"]]
        # the server's sentence; "Officials in ... said on Monday that" opening it becomes the
        # speaker, and reported speech ends without the sentence's period
        assert len(words) > 20 and first_sentence(text[r["doc_id"]]).removesuffix(".").endswith(words), words
    recovered = [r for r in results if r["doc_id"] in faults]
    assert len(recovered) == 40
    for r in recovered:  # in each pass: one call per scripted fault, then the good one
        assert r["provenance"]["attempts"] == passes * (len(FAULTS[faults[r["doc_id"]]]) + 1), r["doc_id"]
    assert attempts == figures["server requests"]  # every HTTP call is counted somewhere


def test_all_fine_exits_0_and_one_file_gives_one_json_result(fake_server, cli_env, run_cli, seed_article, tmp_path):
    article = tmp_path / "story.txt"
    article.write_text(seed_article, encoding="utf-8")
    proc = run_cli(["extract", str(article)], cli_env(fake_server.base_url))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["doc_id"] == "story" and result["error"] is None
    assert result["provenance"]["endpoint"] == fake_server.base_url
    assert result["provenance"]["mode"] == "json_object"


def test_stdin_jsonl_keeps_input_order(fake_server, cli_env, run_cli):
    docs = batch_documents(12, fault_every=())
    stdin = "".join(json.dumps(d) + "\n" for d in reversed(docs))
    proc = run_cli(["extract", "-", "--concurrency", "5"], cli_env(fake_server.base_url), stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    ids = [json.loads(line)["doc_id"] for line in proc.stdout.splitlines()]
    assert ids == [d["id"] for d in reversed(docs)]


def test_prompt_injection_is_kept_in_shape_and_flagged_or_dropped(fake_server, cli_env, run_cli, tmp_path,
                                                                  injection_article):
    """The server 'obeys' an injected instruction and returns items that are not in the article:
    the output still validates, the grounding check flags them, --drop-ungrounded removes them."""
    text = injection_article + "\nFAULT:inject\n"
    article = tmp_path / "injected.txt"
    article.write_text(text, encoding="utf-8")

    kept = run_cli(["extract", str(article)], cli_env(fake_server.base_url))
    assert kept.returncode == 0, kept.stderr
    result = json.loads(kept.stdout)
    by_id = {c["id"]: c for c in result["claims"]}
    assert by_id["c1"]["content"]["grounding"] == "exact"
    assert by_id["c2"]["content"]["grounding"] == "none" and "ungrounded" in by_id["c2"]["flags"]
    injected_event = next(e for e in result["events"] if e["id"] == "e2")
    assert all(span["grounding"] == "none" for span in injected_event["evidence"])
    assert result["grounding"]["none"] >= 2
    assert any(w.startswith("claim c2: content not found in the article") for w in result["warnings"])
    assert any(w.startswith("event e2: none of its spans was found") for w in result["warnings"])

    dropped = run_cli(["extract", str(article), "--drop-ungrounded"], cli_env(fake_server.base_url))
    assert dropped.returncode == 0, dropped.stderr
    result = json.loads(dropped.stdout)
    # the model's grounded claim stays; quotations it missed are added from the article itself
    assert [c["id"] for c in result["claims"] if "recovered" not in c["flags"]] == ["c1"]
    assert all(c["content"]["grounding"] == "exact" for c in result["claims"])
    assert [e["id"] for e in result["events"]] == ["e1"]
    assert result["grounding"]["none"] == 0
