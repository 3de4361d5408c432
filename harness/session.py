"""Opening an endpoint for a run: the configured one, or the embedded local server."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from .config import Settings
from .endpoint import Endpoint

DEFAULT_REMOTE_MODEL = "gpt-4o-mini"


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
            yield endpoint, None
        finally:
            await endpoint.aclose()
        return
    from .local.server import embedded_server  # only needed without an endpoint

    server = embedded_server(settings)
    say(f"harness: no HARNESS_BASE_URL set: starting the embedded {server.kind} "
        f"with {server.model_name}")
    with server:  # the log file is named after the port, chosen at start
        say(f"harness: embedded server ready at {server.base_url} (logs: {server.log_path})")
        endpoint = Endpoint(settings, server.base_url, settings.model or server.model_name, None)
        try:
            yield endpoint, server.check_alive
        finally:
            await endpoint.aclose()
