"""``harness extract --engine ray``: the real Ray runtime in local mode (``ray.init(num_cpus=2)``),
no mock of Ray, against the loopback OpenAI-compatible server (``tests/openai_server.py``) and
against the recorded cassettes (answered over HTTP by that server, from the cassette files).

What is held: the Ray engine's Result lines are the single-process path's byte for byte apart
from ``provenance.latency_s`` (wall time) on the same inputs and answers (JSONL, folders of
text files, Parquet); a failing document is an error record, never a failed job; rerunning
the same command skips what is done (id and text sha256), runs a changed text again and keeps
one record of it; a run killed with SIGKILL midway and rerun gives every id exactly once.

The tests that need Ray are marked ``ray`` and skipped with the reason when it is not installed
(``pip install -e ".[ray]"``); ``.ci/run`` installs it and runs them as a step of their own.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from openai_server import Action, FakeOpenAI, Request, by_marker, error, ok

from harness.batch import run_extract
from harness.config import Settings
from harness.evaluation.cassettes import cassette_path
from harness.evaluation.fixtures import iter_fixtures
from harness.output import prepare_folder_resume
from harness.pipeline import Options
from harness.prompting import PromptTemplate

REPO = Path(__file__).resolve().parents[1]
SHORT = ("Officials said on Monday that the bridge over the river was closed after a flood damaged "
         "its eastern span.")
LATENCY = re.compile(rb'"latency_s":[0-9.eE+-]+')

try:
    import ray
    import ray.data  # noqa: F401
except ImportError:  # the tests marked ray skip; the others run
    ray = None

requires_ray = pytest.mark.skipif(ray is None, reason='Ray is not installed: pip install -e ".[ray]"')


@pytest.fixture(scope="module")
def ray_local():
    """One local Ray instance for the module (2 CPUs), shut down after it."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def lines_of(*paths: Path) -> list[bytes]:
    """Result lines with the wall time blanked, the only field that may differ."""
    out = []
    for path in paths:
        files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
        for file in files:
            out += [LATENCY.sub(b'"latency_s":0', line) for line in file.read_bytes().splitlines(keepends=True)]
    return out


def by_id(lines: list[bytes]) -> dict[str, bytes]:
    ids = [json.loads(line)["doc_id"] for line in lines]
    assert len(ids) == len(set(ids)), Counter(ids).most_common(3)
    return dict(zip(ids, lines))


def run_ray(paths: list[Path], settings: Settings, out: Path, **kwargs: Any):
    from harness.ray_engine import RayOptions
    from harness.ray_engine import run_ray as run

    options = RayOptions(workers=2, batch_size=2, worker_cpus=0.5)  # room for the read tasks on 2 CPUs
    return run([str(p) for p in paths], settings, Options(), out, ray_options=options, quiet=True, **kwargs)


def single(paths: list[Path], settings: Settings, out: Path) -> None:
    asyncio.run(run_extract([str(p) for p in paths], settings, Options(), out=out, quiet=True))


def inputs(root: Path, seed: str) -> list[Path]:
    """A JSONL file (a chunked article, a re-asked one, one never valid, two unreadable lines, a
    repeated id) and a folder of text files (one empty, one hidden, one not an article)."""
    lines = [
        {"id": "seed/1", "text": seed, "title": "Tower 22", "published": "2024-01-28"},
        {"id": "short:2", "text": SHORT},
        {"id": "reasked", "text": SHORT + " FAULT:bad-schema@claims"},
        {"id": "never-valid", "text": SHORT + " FAULT:always-bad-schema@events"},
        {"id": "no-text"},
        {"text": SHORT + " Without an id."},
        {"id": "short:2", "text": SHORT + " Again."},
    ]
    jsonl = root / "docs.jsonl"
    jsonl.write_text("".join(json.dumps(line) + "\n" for line in lines) + "not json\n", encoding="utf-8")
    folder = root / "articles"
    folder.mkdir()
    (folder / "bridge.txt").write_text("Bridge closed\n\n" + SHORT + "\n", encoding="utf-8")
    (folder / "flood.md").write_text(SHORT.replace("bridge", "road") + "\n", encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / ".hidden.txt").write_text(SHORT, encoding="utf-8")
    (folder / "meta.json").write_text("{}", encoding="utf-8")
    return [jsonl, folder]


# --- without Ray ---------------------------------------------------------------------------------
def test_folder_resume_keeps_the_later_run_and_cuts_a_torn_line(tmp_path: Path):
    folder = tmp_path / "out"
    folder.mkdir()
    old = {"doc_id": "a", "text_sha256": "old", "error": None}
    (folder / "results-1.jsonl").write_text(json.dumps(old) + "\n" + json.dumps({"doc_id": "b"}) + "\n")
    new = {"doc_id": "a", "text_sha256": "new", "error": None}
    (folder / "results-2.jsonl").write_text(json.dumps(new) + "\n" + '{"doc_id": "c", "te')  # killed mid-line
    failed = {"doc_id": "d", "text_sha256": "x", "error": {"type": "EndpointError", "message": "down"}}
    (folder / "results-3.jsonl").write_text(json.dumps(failed) + "\n")

    assert prepare_folder_resume(folder) == {"b": None, "a": "new", "d": "x"}
    assert (folder / "results-1.jsonl").read_text() == json.dumps({"doc_id": "b"}) + "\n"  # a: replaced
    assert (folder / "results-2.jsonl").read_text() == json.dumps(new) + "\n"  # the torn line cut
    assert prepare_folder_resume(folder, retry_errors=True) == {"b": None, "a": "new"}
    assert (folder / "results-3.jsonl").read_text() == ""
    assert prepare_folder_resume(tmp_path / "none") == {}


def test_the_process_engine_never_imports_ray_and_the_ray_engine_names_the_extra(tmp_path: Path):
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": "a", "text": SHORT}) + "\n", encoding="utf-8")
    code = ("import sys; import harness.cli, harness.batch, harness.pipeline; assert 'ray' not in sys.modules; "
            "sys.modules['ray'] = None; "  # as if not installed
            f"sys.exit(harness.cli.main(['extract', {str(docs)!r}, '-o', {str(tmp_path / 'out')!r}, '--engine', 'ray']))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "OPENAI_"))}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert 'pip install -e ".[ray]"' in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


# --- Ray in local mode ---------------------------------------------------------------------------
@pytest.mark.usefixtures("ray_local")
@pytest.mark.ray
@requires_ray
def test_ray_results_are_the_single_process_results_byte_for_byte(tmp_path: Path, seed_article: str, fast_settings):
    paths = inputs(tmp_path, seed_article)
    with FakeOpenAI(by_marker()) as server:
        settings = fast_settings(server.base_url, mode="auto", chunk_chars=1500, reasks=1)
        single(paths, settings, tmp_path / "single.jsonl")
        server.policy = by_marker()  # the same faults from the start
        report = run_ray(paths, settings, tmp_path / "ray")
    expected, got = by_id(lines_of(tmp_path / "single.jsonl")), by_id(lines_of(tmp_path / "ray"))
    assert len(expected) == 11 and set(got) == set(expected)
    for doc_id in expected:
        assert got[doc_id] == expected[doc_id], doc_id
    errors = {i for i, line in got.items() if json.loads(line)["error"]}
    assert errors == {"no-text", "docs.jsonl:8", "empty"}  # input errors are records; nothing stopped
    assert report.documents == 11 and report.errors == 3 and report.exit_code == 1
    assert len(list((tmp_path / "ray").glob("results-*.jsonl"))) > 1  # blocks written by several tasks


@pytest.mark.usefixtures("ray_local")
@pytest.mark.ray
@requires_ray
def test_rerun_skips_what_is_done_and_runs_a_changed_text_again(tmp_path: Path, fast_settings):
    docs = [{"id": f"d{i}", "text": f"{SHORT} Item {i}."} for i in range(6)]
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    out = tmp_path / "ray"
    with FakeOpenAI(lambda request: error(500) if "Item 5." in request.article else ok()) as server:
        settings = fast_settings(server.base_url, retries=0)
        first = run_ray([path], settings, out)
        assert (first.documents, first.errors) == (6, 1)
        asked = len(server.completions)

        again = run_ray([path], settings, out)  # the same command: nothing to do
        assert again.documents == 0 and len(server.completions) == asked

        docs[2]["text"] += " Updated."  # a changed text runs again, its old record goes
        path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
        server.policy = lambda _request: ok()
        changed = run_ray([path], settings, out)
        assert changed.documents == 1 and changed.changed == {"d2"}
        retried = run_ray([path], settings, out, retry_errors=True)  # error records run again
        assert (retried.documents, retried.errors) == (1, 0)
    records = by_id(lines_of(out))
    assert sorted(records) == [f"d{i}" for i in range(6)]
    assert all(json.loads(line)["error"] is None for line in records.values())
    assert json.loads(records["d2"])["text_sha256"] == hashlib.sha256(docs[2]["text"].encode()).hexdigest()


@pytest.mark.usefixtures("ray_local")
@pytest.mark.ray
@requires_ray
def test_parquet_input_gives_the_jsonl_results(tmp_path: Path, fast_settings):
    import pyarrow as pa
    import pyarrow.parquet as pq

    docs = [{"id": f"p{i}", "text": f"{SHORT} Number {i}.", "title": f"T{i}", "published": "2024-05-0" + str(i + 1),
             "source": "wire"} for i in range(5)]
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(docs), tmp_path / "docs.parquet")
    with FakeOpenAI(by_marker()) as server:
        settings = fast_settings(server.base_url)
        single([jsonl], settings, tmp_path / "single.jsonl")
        run_ray([tmp_path / "docs.parquet"], settings, tmp_path / "ray")
    assert by_id(lines_of(tmp_path / "ray")) == by_id(lines_of(tmp_path / "single.jsonl"))


def replaying(cassettes: list[Path]):
    """A policy answering each request with the recorded response whose request body is the
    same JSON (the cassettes' own match: method, path, body); anything else is a 400."""
    from vcr.persisters.filesystem import FilesystemPersister
    from vcr.serializers import yamlserializer

    answers: dict[str, bytes] = {}
    for path in cassettes:
        requests, responses = FilesystemPersister.load_cassette(str(path), yamlserializer)
        for request, response in zip(requests, responses):
            assert response["status"]["code"] == 200
            answers[json.dumps(json.loads(request.body), sort_keys=True)] = response["body"]["string"]

    def policy(request: Request) -> Action:
        answer = answers.get(json.dumps(request.body, sort_keys=True))
        return Action("raw", content=answer) if answer is not None else error(400, "no recording of this request")

    return policy


@pytest.mark.usefixtures("ray_local")
@pytest.mark.ray
@requires_ray
def test_recorded_cassettes_give_the_same_results_through_ray(tmp_path: Path):
    settings = Settings(retries=0)  # eval's replay settings, not the environment's
    template = PromptTemplate.load("news")
    fixtures = []
    for fixture in iter_fixtures():
        path = cassette_path(settings.local_model, template.name, template.sha256, fixture.id)
        if path.is_file():
            fixtures.append((fixture, path))
    if len(fixtures) < 8:
        pytest.skip(f"no cassettes for prompt news-{template.sha256[:12]} (the prompt changed since recording)")
    fixtures = fixtures[:8]
    docs = tmp_path / "fixtures.jsonl"
    docs.write_text("".join(json.dumps({"id": f.meta.id, "text": f.text, "title": f.meta.title,
                                        "published": f.meta.published, "source": f.meta.source}) + "\n"
                            for f, _ in fixtures), encoding="utf-8")
    with FakeOpenAI(replaying([p for _, p in fixtures]), models=(settings.local_model,)) as server:
        settings = settings.with_(base_url=server.base_url, model=settings.local_model)
        single([docs], settings, tmp_path / "single.jsonl")
        run_ray([docs], settings, tmp_path / "ray")
    expected = by_id(lines_of(tmp_path / "single.jsonl"))
    assert by_id(lines_of(tmp_path / "ray")) == expected
    answered = [line for line in expected.values() if json.loads(line)["error"] is None]
    assert len(answered) >= 6, [json.loads(line)["error"] for line in expected.values()]
    assert sum(len(json.loads(line)["events"]) for line in answered) > 0


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), to end exactly what the test started."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@pytest.mark.ray
@requires_ray
def test_a_ray_run_killed_midway_reruns_to_every_id_exactly_once(tmp_path: Path, cli_env, passes: int):
    docs = [{"id": f"k{i:03}", "text": f"{SHORT} Case {i}."} for i in range(40)]
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    out = tmp_path / "ray"
    args = [sys.executable, "-m", "harness", "extract", str(path), "-o", str(out), "--engine", "ray",
            "--workers", "2", "--batch-size", "2", "--worker-cpus", "0.5", "--concurrency", "1", "-q"]
    with FakeOpenAI(lambda _request: ok(delay=0.25)) as server:
        env = cli_env(server.base_url, HARNESS_TIMEOUT="30")
        env.pop("RAY_ADDRESS", None)  # its own local Ray instance
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        written = lambda: sum(p.read_bytes().count(b"\n") for p in out.glob("*.jsonl")) if out.is_dir() else 0  # noqa: E731
        deadline = time.monotonic() + 240
        while written() < 4 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.communicate()[1][-2000:]}"
        below = descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        for pid in below:  # Ray's own processes of that run, if any outlived it
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        before = by_id([line for line in lines_of(out) if line.endswith(b"\n")])  # a torn line is not done
        assert 4 <= len(before) < 40
        asked = len(server.completions)

        rerun = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
    after = by_id(lines_of(out))  # by_id: every id once
    assert sorted(after) == [d["id"] for d in docs]
    assert all(after[i] == line for i, line in before.items())  # what was done stayed, unchanged
    assert len(server.completions) - asked == passes * (40 - len(before))  # only what was not written
