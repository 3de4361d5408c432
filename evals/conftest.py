"""The offline regression suite: replays cassettes through the real pipeline and gates on the
committed baseline. Recording (``--record-mode=rewrite``/``once``, pytest-recording's option)
calls the live endpoint instead: HARNESS_BASE_URL, or the embedded local model."""

from __future__ import annotations

import asyncio

import pytest
from pytest_recording.network import blocking_context

from harness.config import Settings
from harness.evaluation.cassettes import vcr_config as harness_vcr_config
from harness.evaluation.fixtures import iter_fixtures
from harness.evaluation.runner import run_fixtures


@pytest.fixture(scope="session")
def vcr_config():
    """pytest-recording's configuration, shared with ``harness eval``."""
    return harness_vcr_config()


@pytest.fixture(scope="session")
def fixtures():
    return list(iter_fixtures())


@pytest.fixture(scope="session")
def eval_run(request, fixtures):
    record_mode = request.config.getoption("--record-mode", default="none") or "none"
    live = record_mode not in ("none",)
    settings = Settings.from_env()
    if live:
        return asyncio.run(run_fixtures(fixtures, settings, live=True, record=True))
    # Replay with every socket blocked (pytest-recording's guard): a request that is not in its
    # cassette must fail, never reach a server.
    with blocking_context(allowed_hosts=[]):
        return asyncio.run(run_fixtures(fixtures, settings))
