"""Recorded responses: one cassette per fixture, model and prompt, matched on the request body.

vcrpy's default matching ignores the body, so a changed prompt would replay an old answer;
here the body is part of the match (and host/port are not: a recording made against one
local port replays against any). Keys and auth headers are filtered out before writing; the
recorded ``uri`` loses the URL's ``user:password`` and credential-like query values; and the
configured secrets (``harness.secrets``) are masked in every recorded body, so an endpoint that
echoes the key in an error still leaves none in the cassette.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

from ..secrets import Secrets, redact_uri

CASSETTES_DIR = Path(__file__).resolve().parents[2] / "cassettes"
FILTER_HEADERS = [
    "authorization", "api-key", "x-api-key", "openai-organization", "openai-project",
    "cookie", "set-cookie", "proxy-authorization",
]  # fmt: skip
MATCH_ON = ("method", "path", "body")
STALE_MARKERS = (  # what vcrpy says when a request has no recording
    "Can't play back this request", "Can't overwrite existing cassette",
)
RECORD_HINT = (
    "re-record against a live endpoint: python -m harness eval --live --record "
    "(embedded model, or set HARNESS_BASE_URL/HARNESS_MODEL), or "
    "pytest evals --record-mode=rewrite with the same settings"
)


def slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", Path(value).name if value.endswith(".gguf") else value).strip("_")


def cassette_path(model: str, prompt: str, prompt_sha256: str, fixture_id: str,
                  root: Path = CASSETTES_DIR) -> Path:
    """``cassettes/<model>/<prompt>-<sha12>/<fixture>.yaml``: the path names all three."""
    return root / slug(model) / f"{prompt}-{prompt_sha256[:12]}" / f"{fixture_id}.yaml"


def _scrub_body(body: Any, secrets: Secrets | None) -> Any:
    if not secrets or body is None:
        return body
    if isinstance(body, bytes):
        text = body.decode("utf-8", "surrogateescape")
        clean = secrets.scrub(text)
        return body if clean == text else clean.encode("utf-8", "surrogateescape")
    return secrets.scrub(body) if isinstance(body, str) else body


def _clean_response(response: dict[str, Any], secrets: Secrets | None = None) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in FILTER_HEADERS:
            del headers[name]
        elif secrets:
            headers[name] = [secrets.scrub(v) if isinstance(v, str) else v for v in headers[name]]
    body = response.get("body")
    if isinstance(body, dict) and "string" in body:
        body["string"] = _scrub_body(body["string"], secrets)
    return response


def _clean_request(request: Any, secrets: Secrets | None = None) -> Any:
    request.uri = redact_uri(request.uri)
    request.uri = secrets.scrub(request.uri) if secrets else request.uri
    request.body = _scrub_body(request.body, secrets)
    return request


def vcr_config(record_mode: str = "none", secrets: Secrets | None = None) -> dict[str, Any]:
    """Settings shared by ``harness eval`` and the pytest suite (pytest-recording's vcr_config).
    ``secrets``: the run's configured key and URL credentials, masked wherever they are written."""
    return {
        "record_mode": record_mode,
        "match_on": MATCH_ON,
        "filter_headers": FILTER_HEADERS,
        "filter_query_parameters": ["key", "api_key", "api-key"],
        "decode_compressed_response": True,
        "before_record_request": partial(_clean_request, secrets=secrets),
        "before_record_response": partial(_clean_response, secrets=secrets),
    }


def use_cassette(path: Path, record_mode: str = "none", secrets: Secrets | None = None,
                 drop_unused: bool = False):
    """A vcrpy context manager for one fixture's cassette. ``drop_unused``: interactions the run
    did not play are left out when the cassette is saved (a re-recording that reuses some)."""
    import vcr

    config = vcr_config(record_mode, secrets)
    return vcr.VCR(**{k: v for k, v in config.items() if k != "record_mode"}).use_cassette(
        str(path), record_mode=config["record_mode"], drop_unused_requests=drop_unused
    )
