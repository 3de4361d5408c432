"""Opening an endpoint for a run: the configured one, or the embedded local server."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import openai

from .config import Settings
from .endpoint import Endpoint
from .errors import ConfigError

DEFAULT_REMOTE_MODEL = "gpt-4o-mini"
#: seconds the first question to a configured endpoint may take before the run goes on anyway
PREFLIGHT_TIMEOUT_S = 10.0


async def check_reachable(endpoint: Endpoint) -> None:
    """Ask a configured endpoint for its models once, before any document: an address nothing
    answers at, or a refused key, is a configuration error (exit 2, nothing written) instead of
    one error record per document after every retry. A slow answer, or a server without
    ``/models``, lets the run go on: its requests will tell."""
    try:
        await endpoint.client.with_options(timeout=PREFLIGHT_TIMEOUT_S).models.list()
    except openai.APITimeoutError:
        return
    except openai.APIConnectionError as exc:
        cause = endpoint.scrub(str(exc.__cause__ or exc))  # the key never shows
        raise ConfigError(
            f"cannot reach the endpoint {endpoint.display_url}: {cause}. Check HARNESS_BASE_URL and "
            "that the server is running (unset HARNESS_BASE_URL to use the embedded local model)"
        ) from exc
    except openai.AuthenticationError as exc:
        raise ConfigError(f"the endpoint {endpoint.display_url} refused the API key (HTTP 401): "
                          "check HARNESS_API_KEY") from exc
    except openai.APIStatusError:
        return


@asynccontextmanager
async def open_endpoint(
    settings: Settings, log: Callable[[str], None] | None = None
) -> AsyncIterator[tuple[Endpoint, Callable[[], None] | None]]:
    """Yield ``(endpoint, health_check)``; the embedded server is started and always stopped."""
    say = log or (lambda message: print(message, file=sys.stderr))
    if not settings.embedded:
        endpoint = Endpoint(
            settings, settings.base_url or "", settings.model or DEFAULT_REMOTE_MODEL, settings.api_key
        )
        try:
            await check_reachable(endpoint)
            yield endpoint, None
        finally:
            await endpoint.aclose()
        return
    from .local.server import embedded_server  # only needed without an endpoint

    # Model assembly and loading are slow the first time: say so (live lines unless --quiet).
    server = embedded_server(settings, say=say, live=None if log is None else False)
    say(f"harness: no HARNESS_BASE_URL set: starting the embedded {server.kind} "
        f"with {server.model_name}")
    with server:  # the log file is named after the port, chosen at start
        say(f"harness: embedded server ready at {server.base_url} (logs: {server.log_path})")
        endpoint = Endpoint(settings, server.base_url, settings.model or server.model_name, None)
        try:
            yield endpoint, server.check_alive
        finally:
            await endpoint.aclose()
