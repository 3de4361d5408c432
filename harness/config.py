"""One settings object, read once from the environment (and overridden by CLI flags).

| variable | default | meaning |
| --- | --- | --- |
| HARNESS_BASE_URL (or OPENAI_BASE_URL) | unset: embedded local model | OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 |
| HARNESS_MODEL | gpt-4o-mini for a remote endpoint; the local model's name otherwise | model name sent to the endpoint; with no endpoint, the embedded model to run (as HARNESS_LOCAL_MODEL) |
| HARNESS_API_KEY (or OPENAI_API_KEY) | unset | API key; never written anywhere |
| HARNESS_MODE | auto | auto, json_schema, json_object, tools, json, md_json |
| HARNESS_TIMEOUT | 600 | seconds one HTTP request may take |
| HARNESS_RETRIES | 4 | retries of one request on 429/5xx/timeouts/dropped connections |
| HARNESS_BACKOFF | 1.0 | first backoff in seconds (doubles, with jitter) |
| HARNESS_BACKOFF_MAX | 60 | longest wait between retries, Retry-After included |
| HARNESS_REASKS | 2 | re-asks with the validation error when output does not validate |
| HARNESS_CONCURRENCY | 4 | documents in flight at once |
| HARNESS_MAX_TOKENS | 1536 | completion cap per call (a runaway model is cut off here) |
| HARNESS_CHUNK_CHARS | 2000 | documents longer than this are cut at sentence boundaries |
| HARNESS_CHUNK_OVERLAP | 200 | characters shared by neighbouring chunks |
| HARNESS_MAX_DOC_CHARS | 5000000 | longer documents are refused with an error record |
| HARNESS_TEMPERATURE | 0 | sampling temperature |
| HARNESS_LOCAL_MODEL | qwen2.5-coder-1.5b | embedded model: a name (see `harness.local.models`) or a GGUF path |
| HARNESS_LOCAL_SERVER | auto | embedded server: auto (llama-server when `.[local-compiled]` is installed, else xllamacpp), xllamacpp (prebuilt), llama-server (compiled) or llama-cpp-python |
| HARNESS_LOCAL_THREADS | number of cores | threads of the embedded server |
| HARNESS_LOCAL_CTX | 8192 | context size of the embedded server (per slot) |
| HARNESS_LOCAL_PARALLEL | 2 | parallel slots of the embedded server (xllamacpp, llama-server) |
| HARNESS_CACHE_DIR | ~/.cache/harness | where assembled model files are kept |
| HARNESS_CASSETTES_DIR | cassettes/ of the repository | where `eval` replays and `eval --live --record` writes recordings |
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .secrets import host_port

MODES = ("auto", "json_schema", "json_object", "tools", "json", "md_json")
LOCAL_SERVERS = ("auto", "xllamacpp", "llama-server", "llama-cpp-python")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Settings:
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    mode: str = "auto"
    timeout_s: float = 600.0
    retries: int = 4
    backoff_s: float = 1.0
    backoff_max_s: float = 60.0
    reasks: int = 2
    concurrency: int = 4
    max_tokens: int = 1536
    chunk_chars: int = 2000
    chunk_overlap: int = 200
    max_doc_chars: int = 5_000_000
    temperature: float = 0.0
    local_model: str = "qwen2.5-coder-1.5b"
    local_server: str = "auto"
    local_threads: int = field(default_factory=_cores)
    local_ctx: int = 8192
    local_parallel: int = 2
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "harness")
    cassettes_dir: Path = field(default_factory=lambda: Path(__file__).resolve().parents[1] / "cassettes")

    _ENV = {
        "base_url": ("HARNESS_BASE_URL", "OPENAI_BASE_URL"),
        "model": ("HARNESS_MODEL",),
        "api_key": ("HARNESS_API_KEY", "OPENAI_API_KEY"),
        "mode": ("HARNESS_MODE",),
        "timeout_s": ("HARNESS_TIMEOUT",),
        "retries": ("HARNESS_RETRIES",),
        "backoff_s": ("HARNESS_BACKOFF",),
        "backoff_max_s": ("HARNESS_BACKOFF_MAX",),
        "reasks": ("HARNESS_REASKS",),
        "concurrency": ("HARNESS_CONCURRENCY",),
        "max_tokens": ("HARNESS_MAX_TOKENS",),
        "chunk_chars": ("HARNESS_CHUNK_CHARS",),
        "chunk_overlap": ("HARNESS_CHUNK_OVERLAP",),
        "max_doc_chars": ("HARNESS_MAX_DOC_CHARS",),
        "temperature": ("HARNESS_TEMPERATURE",),
        "local_model": ("HARNESS_LOCAL_MODEL",),
        "local_server": ("HARNESS_LOCAL_SERVER",),
        "local_threads": ("HARNESS_LOCAL_THREADS",),
        "local_ctx": ("HARNESS_LOCAL_CTX",),
        "local_parallel": ("HARNESS_LOCAL_PARALLEL",),
        "cache_dir": ("HARNESS_CACHE_DIR",),
        "cassettes_dir": ("HARNESS_CASSETTES_DIR",),
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``env`` (default: ``os.environ``), then non-None ``overrides``."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, keys in cls._ENV.items():
            raw = next((env[k] for k in keys if env.get(k, "").strip()), None)
            if raw is not None:
                values[name] = _convert(name, types[name], raw.strip(), keys[0])
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values.get("model") and not values.get("base_url"):
            # No endpoint: the embedded server runs the model named, so the name sent and
            # recorded is the model that answers (not Qwen labelled "smollm2-135m").
            named, other = values.pop("model"), values.get("local_model")
            if other and other != named and overrides.get("model") is None:
                raise ConfigError(
                    f"HARNESS_MODEL={named!r} and HARNESS_LOCAL_MODEL={other!r} name different models and no "
                    "HARNESS_BASE_URL is set, so one embedded model would answer for both: unset one"
                )
            values["local_model"] = named
        return cls(**values).validated()

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None}).validated()

    def validated(self) -> Settings:
        if self.mode not in MODES:
            raise ConfigError(f"HARNESS_MODE={self.mode!r} is not one of {', '.join(MODES)}")
        if self.local_server not in LOCAL_SERVERS:
            raise ConfigError(
                f"HARNESS_LOCAL_SERVER={self.local_server!r} is not one of {', '.join(LOCAL_SERVERS)}"
            )
        for name in ("concurrency", "max_tokens", "chunk_chars", "max_doc_chars", "local_ctx",
                     "local_threads", "local_parallel"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)} ({_env_name(name)})")
        for name in ("retries", "reasks", "chunk_overlap"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative, got {getattr(self, name)} ({_env_name(name)})")
        for name, low, high in (("timeout_s", 0.0, None), ("backoff_s", None, None),
                                ("backoff_max_s", None, None), ("temperature", None, None)):
            _check_number(name, getattr(self, name), above=low, at_most=high)
        if self.chunk_overlap >= self.chunk_chars:
            raise ConfigError("HARNESS_CHUNK_OVERLAP must be smaller than HARNESS_CHUNK_CHARS")
        if self.base_url:
            _check_url(self.base_url)
        return self

    @property
    def embedded(self) -> bool:
        """True when no endpoint is configured: the embedded local server is used."""
        return not self.base_url


def _env_name(name: str) -> str:
    return Settings._ENV.get(name, (name,))[0]


def _check_number(name: str, value: float, *, above: float | None = None, at_most: float | None = None) -> None:
    """A finite number, > ``above`` (or >= 0 when None), <= ``at_most`` when given."""
    shown, key = name.removesuffix("_s").replace("_", " "), _env_name(name)
    if not math.isfinite(value):
        raise ConfigError(f"{shown} must be a finite number, got {value} ({key})")
    if above is not None and value <= above:
        raise ConfigError(f"{shown} must be more than {above:g}, got {value:g} ({key})")
    if above is None and value < 0:
        raise ConfigError(f"{shown} must not be negative, got {value:g} ({key})")
    if at_most is not None and value > at_most:
        raise ConfigError(f"{shown} must be at most {at_most:g}, got {value:g} ({key})")


def _check_url(url: str) -> None:
    """An http(s) URL with a host and a valid port; the message never repeats its secrets."""
    parts = urlsplit(url)
    shown = redact_url(url)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"base URL {shown!r} must start with http:// or https://")
    if not parts.hostname:
        raise ConfigError(f"base URL {shown!r} names no host: e.g. http://localhost:8000/v1")
    try:
        parts.port  # noqa: B018 - raises on a port out of range or not a number
    except ValueError:
        raise ConfigError(f"base URL {shown!r} has a port that is not a number from 1 to 65535") from None
    if parts.port == 0:
        raise ConfigError(f"base URL {shown!r} has port 0: give the port the server listens on")


def redact_url(url: str | None) -> str:
    """scheme://host[:port]/path: user info, query and fragment (where keys hide) removed.
    A port that is not a number is shown as ``:?`` (the URL is refused by ``Settings``)."""
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{host_port(parts, ':?')}{parts.path}".rstrip("/")


def _convert(name: str, kind: Any, raw: str, key: str) -> Any:
    kind = str(kind)
    try:
        if "int" in kind and "None" not in kind:
            return int(raw)
        if "float" in kind:
            return float(raw)
        if "Path" in kind:
            return Path(raw).expanduser()
    except ValueError:
        raise ConfigError(f"{key}={raw!r} is not a valid {kind.split()[0]} for {name}") from None
    return raw
