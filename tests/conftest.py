"""Shared fixtures: a running fault-injecting OpenAI-compatible server, fast settings, the CLI.

- ``fake_server``: a ``FakeOpenAI`` on loopback with the per-document ``by_marker()`` policy
  (set ``fake_server.policy`` in a test to script it differently);
- ``fast_settings(base_url, **changes)``: Settings with short timeouts and backoffs;
- ``cli_env(base_url, **vars)``: an environment for ``python -m harness`` against that server;
- ``run_cli(args, env)``: runs ``python -m harness ARGS`` as a real subprocess;
- ``passes``: model calls per chunk of the shipped task (events pass, claims pass);
- ``seed_article`` / ``canned_extraction``: the seed fixture's text and a valid extraction of it;
- ``injection_article``: the prompt-injection fixture's text.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.config import Settings
from harness.prompting import PromptTemplate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from openai_server import FakeOpenAI, by_marker, extraction_for  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SEED_ARTICLE = REPO / "evals" / "fixtures" / "seed-000-tower22" / "article.txt"
INJECTION_ARTICLE = REPO / "evals" / "fixtures" / "syn-prompt-injection" / "article.txt"

FAST = {
    "mode": "json_object", "timeout_s": 0.6, "retries": 2, "backoff_s": 0.02, "backoff_max_s": 0.2,
    "reasks": 1, "chunk_chars": 100_000, "chunk_overlap": 200, "concurrency": 4,
}
FAST_ENV = {
    "HARNESS_MODE": "json_object", "HARNESS_TIMEOUT": "0.6", "HARNESS_RETRIES": "2",
    "HARNESS_BACKOFF": "0.02", "HARNESS_BACKOFF_MAX": "0.2", "HARNESS_REASKS": "1",
    "HARNESS_CHUNK_CHARS": "100000", "HARNESS_CHUNK_OVERLAP": "200", "HARNESS_MODEL": "fake-model",
}


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(by_marker()) as server:
        yield server


@pytest.fixture(scope="session")
def passes() -> int:
    """Model calls per chunk when nothing fails (the shipped task's passes)."""
    return len(PromptTemplate.load("news").passes)


@pytest.fixture(scope="session")
def seed_article() -> str:
    return SEED_ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def injection_article() -> str:
    """An article whose last line tells the model to ignore its instructions."""
    return INJECTION_ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def canned_extraction(seed_article: str) -> dict[str, Any]:
    return extraction_for(seed_article)


@pytest.fixture
def fast_settings() -> Callable[..., Settings]:
    def make(base_url: str, **changes: Any) -> Settings:
        return Settings(base_url=base_url, model="fake-model", **{**FAST, **changes}).validated()

    return make


@pytest.fixture
def cli_env() -> Callable[..., dict[str, str]]:
    def make(base_url: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "OPENAI_"))}
        env.update(FAST_ENV, HARNESS_BASE_URL=base_url, PYTHONUNBUFFERED="1")
        env.update(extra)
        return env

    return make


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(args: list[str], env: dict[str, str], timeout: float = 120,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "harness", *args], cwd=REPO, env=env, input=stdin,
            capture_output=True, text=True, timeout=timeout,
        )

    return run
