"""``harness eval --live --record --reuse DIR``: a prompt changed in one pass is re-recorded by
calling only for that pass; the other pass's requests, byte-identical to the earlier
recording's, replay its real responses. Through a real loopback server."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import yaml

from harness.evaluation.fixtures import FIXTURES_DIR, iter_fixtures
from harness.evaluation.runner import run_fixtures
from harness.prompting import PROMPTS_DIR, PromptTemplate
from openai_server import FakeOpenAI

FIXTURE = next(iter_fixtures(FIXTURES_DIR, "ukgov-01-karrada-attack"))


def _interactions(path: Path) -> int:
    return len(yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"])


def test_reuse_records_only_the_pass_that_changed(tmp_path, fast_settings):
    changed = tmp_path / "prompts" / "news"
    shutil.copytree(PROMPTS_DIR / "news", changed)
    system = changed / "events" / "system.j2"
    system.write_text(system.read_text(encoding="utf-8") + "\nList every event.\n", encoding="utf-8")
    before = PromptTemplate.load("news")
    after = PromptTemplate.load("news", changed.parent)
    assert after.sha256 != before.sha256

    with FakeOpenAI() as server:
        settings = fast_settings(server.base_url, timeout_s=20).with_(cassettes_dir=tmp_path / "cassettes")
        first = asyncio.run(run_fixtures([FIXTURE], settings, live=True, record=True, template=before))
        calls = len(server.completions)
        old = tmp_path / "cassettes" / "fake-model" / f"news-{before.sha256[:12]}"
        second = asyncio.run(run_fixtures([FIXTURE], settings, live=True, record=True, template=after,
                                          reuse=old))
        new_calls = server.completions[calls:]

    assert {r.pass_name for r in server.completions[:calls]} == {"events", "claims"}
    assert [r.pass_name for r in new_calls] == ["events"]  # claims replayed from the old recording
    new = tmp_path / "cassettes" / "fake-model" / f"news-{after.sha256[:12]}" / f"{FIXTURE.id}.yaml"
    assert _interactions(new) == _interactions(old / f"{FIXTURE.id}.yaml")  # nothing unused kept
    assert first.results[FIXTURE.id].claims == second.results[FIXTURE.id].claims

    replayed = asyncio.run(run_fixtures([FIXTURE], settings, template=after))
    assert replayed.results[FIXTURE.id].error is None
    assert replayed.results[FIXTURE.id].events == second.results[FIXTURE.id].events
