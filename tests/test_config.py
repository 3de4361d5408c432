"""Settings: environment, fallbacks, overrides, validation, redaction."""

from __future__ import annotations

import pytest

from harness.config import Settings, redact_url
from harness.errors import ConfigError


def test_harness_variables_win_over_openai_ones():
    env = {"OPENAI_BASE_URL": "http://a/v1", "HARNESS_BASE_URL": "http://b/v1", "OPENAI_API_KEY": "k1"}
    settings = Settings.from_env(env)
    assert settings.base_url == "http://b/v1" and settings.api_key == "k1" and not settings.embedded


def test_no_base_url_means_embedded():
    assert Settings.from_env({}).embedded


def test_flags_override_environment():
    settings = Settings.from_env({"HARNESS_MODE": "json", "HARNESS_RETRIES": "7"}, mode="tools")
    assert settings.mode == "tools" and settings.retries == 7


def test_without_an_endpoint_the_model_named_is_the_embedded_model_that_answers():
    # Before: HARNESS_MODEL=smollm2-135m started the embedded Qwen and labelled its answers
    # (provenance, cassette folder) "smollm2-135m".
    embedded = Settings.from_env({"HARNESS_MODEL": "smollm2-135m"})
    assert embedded.local_model == "smollm2-135m" and embedded.model is None
    assert Settings.from_env({}, model="smollm2-135m").local_model == "smollm2-135m"  # --model
    remote = Settings.from_env({"HARNESS_MODEL": "gpt-4o-mini", "HARNESS_BASE_URL": "http://a/v1"})
    assert remote.model == "gpt-4o-mini" and remote.local_model == "qwen2.5-coder-1.5b"
    with pytest.raises(ConfigError, match="HARNESS_LOCAL_MODEL"):
        Settings.from_env({"HARNESS_MODEL": "smollm2-135m", "HARNESS_LOCAL_MODEL": "qwen2.5-coder-1.5b"})
    flag = Settings.from_env({"HARNESS_LOCAL_MODEL": "qwen2.5-coder-1.5b"}, model="smollm2-135m")
    assert flag.local_model == "smollm2-135m"  # a flag beats the environment


@pytest.mark.parametrize("env, message", [
    ({"HARNESS_MODE": "xml"}, "HARNESS_MODE"),
    ({"HARNESS_RETRIES": "many"}, "HARNESS_RETRIES"),
    ({"HARNESS_CONCURRENCY": "0"}, "concurrency"),
    ({"HARNESS_BASE_URL": "localhost:8000"}, "http://"),
    ({"HARNESS_CHUNK_CHARS": "100", "HARNESS_CHUNK_OVERLAP": "100"}, "OVERLAP"),
])
def test_bad_settings_say_what_to_fix(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_key_not_in_repr():
    assert "s3cr3t" not in repr(Settings.from_env({"HARNESS_API_KEY": "s3cr3t"}))


def test_redact_url_drops_userinfo_and_query():
    assert redact_url("https://user:pw@api.example.com:8443/v1/?key=abc#x") == "https://api.example.com:8443/v1"
