"""Opening a configured endpoint: one that cannot be used stops the run before any document."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:  # bound then closed: nothing listens there afterwards
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def key_refusing_server():
    """A real HTTP server on loopback that answers every request 401, as OpenAI does to a bad key."""

    class Refuse(BaseHTTPRequestHandler):
        def _refuse(self) -> None:
            body = json.dumps({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                         "code": "invalid_api_key"}}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _refuse

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_an_endpoint_nobody_answers_at_is_exit_2_and_the_output_is_untouched(run_cli, cli_env, tmp_path: Path):
    article = tmp_path / "a.txt"
    article.write_text("The council reopened the bridge on Monday, officials said.", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text('{"doc_id": "earlier"}\n', encoding="utf-8")  # a previous run's output
    proc = run_cli(["extract", str(article), str(article), "-o", str(out)],
                   cli_env(f"http://127.0.0.1:{_free_port()}/v1"), timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "cannot reach the endpoint http://127.0.0.1:" in proc.stderr and "HARNESS_BASE_URL" in proc.stderr
    assert out.read_text(encoding="utf-8") == '{"doc_id": "earlier"}\n'


def test_a_refused_api_key_is_exit_2_naming_the_variable_not_the_key(run_cli, cli_env, tmp_path: Path,
                                                                     key_refusing_server):
    article = tmp_path / "a.txt"
    article.write_text("The council reopened the bridge on Monday, officials said.", encoding="utf-8")
    secret = "sk-test-not-a-real-key-0123456789"
    proc = run_cli(["extract", str(article)], cli_env(key_refusing_server, HARNESS_API_KEY=secret), timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "refused the API key (HTTP 401): check HARNESS_API_KEY" in proc.stderr
    assert secret not in proc.stderr + proc.stdout
