"""``FakeOpenAI`` that can also answer byte for byte: any status, content type and body, a body
cut short on the wire, a delay. For tests of what the harness does with a broken transport.

A policy may return a ``Wire`` instead of an ``Action``; everything else is ``FakeOpenAI``'s.
``completion_bytes(request, content)`` is a valid chat completion around ``content``.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

from openai_server import FakeOpenAI, Request, _body, ok


@dataclass(frozen=True)
class Wire:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    declared: int | None = None  # Content-Length sent (None: the true length)
    delay: float = 0.0  # seconds before the status line
    echo_auth: bool = False  # append the request's Authorization header and path to the body
    headers: tuple[tuple[str, str], ...] = ()


def completion_bytes(request: Request, content: Any = None) -> bytes:
    """A whole chat completion; ``content`` as the message (None: a valid extraction)."""
    return json.dumps(_body(request, ok(content))).encode()


class WireServer(FakeOpenAI):
    def _handler_class(self):
        base = super()._handler_class()
        server = self

        class Handler(base):
            def _act(self, request: Request, action: Any) -> None:
                if not isinstance(action, Wire):
                    super()._act(request, action)
                    return
                if action.delay and server.stopping.wait(action.delay):
                    return
                body = action.body
                if action.echo_auth:
                    body += f" {self.headers.get('Authorization', '')} {self.path}".encode()
                self.send_response(action.status)
                self.send_header("Content-Type", action.content_type)
                self.send_header("Content-Length", str(len(body) if action.declared is None else action.declared))
                for name, value in action.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                if action.declared is not None and action.declared != len(body):
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        return Handler
