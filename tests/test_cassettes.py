"""Cassettes: no key or auth header is ever written; matching includes the body."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.evaluation.cassettes import CASSETTES_DIR, FILTER_HEADERS, MATCH_ON, cassette_path, vcr_config

KEY_PATTERNS = [
    re.compile(r"sk-[A-Za-z0-9_-]{16,}"),
    re.compile(r"^\s*-?\s*['\"]?(%s)['\"]?\s*:" % "|".join(map(re.escape, FILTER_HEADERS)), re.I | re.M),
    re.compile(r"Bearer\s+[A-Za-z0-9._-]{8,}"),
]
CASSETTES = sorted(CASSETTES_DIR.rglob("*.yaml"))


def test_matching_includes_the_body_and_filters_auth():
    config = vcr_config()
    assert "body" in config["match_on"] and "authorization" in config["filter_headers"]
    assert MATCH_ON == ("method", "path", "body")


def test_cassette_path_names_fixture_model_and_prompt(tmp_path):
    path = cassette_path("qwen2.5-coder-1.5b", "news", "ab" * 32, "seed-000", root=tmp_path)
    assert path == tmp_path / "qwen2.5-coder-1.5b" / "news-abababababab" / "seed-000.yaml"


@pytest.mark.parametrize("path", CASSETTES, ids=[str(p.relative_to(CASSETTES_DIR)) for p in CASSETTES])
def test_no_key_or_auth_header_in_cassettes(path: Path):
    text = path.read_text(encoding="utf-8")
    for pattern in KEY_PATTERNS:
        found = pattern.search(text)
        assert found is None, f"{path}: {found.group(0)!r} looks like a key or an auth header"


def test_the_scan_would_catch_a_leak(tmp_path):
    leaked = "interactions:\n- request:\n    headers:\n      authorization:\n      - Bearer sk-abcdefghijklmnopqrstu\n"
    assert any(p.search(leaked) for p in KEY_PATTERNS)
