"""llama.cpp's server from the prebuilt ``xllamacpp`` wheel, as a child process of its own.

``xllamacpp.Server`` runs llama.cpp's C++ server (the same HTTP routes as ``llama-server``:
``/health``, ``/v1/chat/completions``, ``/metrics``...) on threads inside the calling process.
Running it in-process would let a native crash (SIGILL, SIGSEGV) take the harness down with it and
leave threads behind on a hang; so ``LocalServer`` starts this module instead::

    python -m harness.local.xserver --model FILE.gguf --alias NAME --port N \
        --ctx TOTAL --parallel P --threads T [--no-repack]

and treats it exactly as it treats ``llama-server``: readiness on ``/health``, its log in a file,
SIGTERM to stop, SIGKILL after a grace period. Here SIGTERM/SIGINT end the process at once
(``os._exit``): the server's threads go with it. Deleting the ``Server`` instead joins them first,
holding the GIL: with a request in flight that did not return within 15 s (a watchdog thread
could not run either), so a child whose parent had died lived on.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys
from pathlib import Path

from ..errors import LocalServerError
from .models import LocalModel

HOST = "127.0.0.1"
INSTALL_HINT = '`pip install -e ".[local]"` (a prebuilt wheel, no compiler needed)'


def xllamacpp_command(
    model: LocalModel,
    port: int,
    ctx: int,
    threads: int,
    parallel: int,
    no_repack: bool = False,
) -> list[str]:
    """Arguments starting this module; LocalServerError saying how to install xllamacpp.
    ``ctx`` is per slot: the server's context is ``ctx * parallel``, as for ``llama-server -c``."""
    if importlib.util.find_spec("xllamacpp") is None:
        raise LocalServerError(
            f"xllamacpp is not installed: run {INSTALL_HINT}, "
            "or set HARNESS_BASE_URL to an endpoint"
        )
    return [
        sys.executable, "-m", "harness.local.xserver", "--model", str(model.path),
        "--alias", model.name, "--port", str(port), "--ctx", str(ctx * parallel),
        "--threads", str(threads), "--parallel", str(parallel),
    ] + (["--no-repack"] if no_repack else [])  # fmt: skip


def engine_signature() -> str:
    """Which xllamacpp build runs here (for the per-machine ``--no-repack`` finding)."""
    spec = importlib.util.find_spec("xllamacpp")
    origin = spec.origin if spec is not None and spec.origin else "xllamacpp"
    return str(Path(origin).parent)


def build_params(args: argparse.Namespace):  # -> xllamacpp.CommonParams
    """``CommonParams`` matching ``llama-server -m ... -c ... -t ... --parallel ... --metrics``."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.hostnames = [HOST]
    params.port = args.port
    params.n_ctx = args.ctx
    params.n_parallel = args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.endpoint_metrics = True
    params.no_extra_bufts = args.no_repack  # llama-server's --no-repack
    return params


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m harness.local.xserver")
    parser.add_argument("--model", required=True, help="GGUF file")
    parser.add_argument("--alias", required=True, help="model name the server answers to")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ctx", type=int, default=8192, help="total context, shared by the slots")
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-repack", action="store_true")
    return parser.parse_args(argv)


def _exit_now(signum: int, _frame: object) -> None:
    print(f"xserver: {signal.Signals(signum).name}: exiting", file=sys.stderr, flush=True)
    os._exit(0)


def serve(args: argparse.Namespace) -> int:
    """Start the server and serve until SIGTERM/SIGINT (exit 0); 1 when it cannot start."""
    import xllamacpp

    try:
        server = xllamacpp.Server(build_params(args))  # returns once the model is loaded
    except RuntimeError as exc:
        print(f"xserver: {exc} (model {args.model})", file=sys.stderr, flush=True)
        return 1
    # The C++ server installed SIGINT/SIGTERM handlers that end its loop but not this process:
    # take them back so that a signal ends the process.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_now)
    print(f"xserver: {args.alias} listening on http://{HOST}:{args.port}", file=sys.stderr,
          flush=True)  # fmt: skip
    while server is not None:  # it answers on its own threads; a signal ends the process
        signal.pause()
    return 0


def main(argv: list[str] | None = None) -> int:
    return serve(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
