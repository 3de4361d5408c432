"""A fault-injecting OpenAI-compatible server on loopback, for tests of the harness (not of a model).

``FakeOpenAI`` is a real HTTP server (``ThreadingHTTPServer`` in a background thread, port 0)
speaking ``POST /v1/chat/completions`` and ``GET /v1/models``. What it answers is chosen per
request by a *policy*: a function ``(Request) -> Action``. Helpers build the usual policies:

- ``script(*actions)``: a queue, one action per request, then ``ok()`` for ever;
- ``per_pass(*actions)``: the same queue for each pass (``events``, ``claims``) on its own;
- ``by_marker()``: per-document faults keyed on ``FAULT:<name>`` in the article text
  (``FAULTS`` maps a name to the actions of that document's first calls; then ``ok``);
- ``refusing_json_schema(policy)``: a llama-cpp-python-like 500 for ``response_format``
  ``json_schema``; everything else goes to ``policy``.

``ok()`` builds a valid extraction from the article in the request (the text between
``<article>`` and ``</article>`` in the last user message): one event and one claim whose
evidence and content are the article's first sentence, so grounding is exact; it answers only
the fields the request's schema asks for, so a one-task pass (events only, claims only) gets
its part. Every request is recorded (method, path, lower-cased headers, JSON body) in
``server.requests``; ``Request.pass_name`` says which pass a request belongs to.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

USAGE = {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}
LLAMA_CPP_REFUSAL = ("Internal Server Error: response_format type 'json_schema' is not supported; "
                     "use response_format {'type': 'json_object', 'schema': ...}")


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any
    at: float = field(default_factory=time.monotonic)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []

    @property
    def article(self) -> str:
        """The article text of the last user message that holds one ('' when none)."""
        for message in reversed(self.messages):
            content = message.get("content")
            if message.get("role") == "user" and isinstance(content, str) and "<article>" in content:
                return content.split("<article>", 1)[1].rsplit("</article>", 1)[0].strip("\n")
        return ""

    @property
    def schema(self) -> dict[str, Any] | None:
        """The JSON Schema the request asks for (json_schema, json_object+schema or tools)."""
        body = self.body if isinstance(self.body, dict) else {}
        rf = body.get("response_format") or {}
        for schema in (rf.get("json_schema", {}).get("schema"), rf.get("schema"),
                       (body.get("tools") or [{}])[0].get("function", {}).get("parameters")):
            if isinstance(schema, dict):
                return schema
        return None

    @property
    def wanted(self) -> set[str]:
        """Top-level fields asked for ("events", "claims" or both; both when no schema is sent)."""
        props = (self.schema or {}).get("properties") or {}
        return set(props) & {"events", "claims"} or {"events", "claims"}

    @property
    def pass_name(self) -> str:
        """'events' or 'claims' for a one-task pass, 'all' for a combined request."""
        wanted = self.wanted
        return next(iter(wanted)) if len(wanted) == 1 else "all"

    @property
    def response_format(self) -> str | None:
        rf = self.body.get("response_format") if isinstance(self.body, dict) else None
        return rf.get("type") if isinstance(rf, dict) else None


@dataclass(frozen=True)
class Action:
    """What the server does with one request."""

    kind: str  # ok | status | hang | drop | raw | slow
    status: int = 200
    content: Any = None  # ok: dict/str/None (None: built from the article); raw: bytes
    message: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    finish_reason: str = "stop"
    refusal: str | None = None
    choices: bool = True


Policy = Callable[[Request], Action]


# --- actions -------------------------------------------------------------------------------------
def ok(content: dict[str, Any] | str | None = None, delay: float = 0.0) -> Action:
    return Action("ok", content=content, seconds=delay)


def error(status: int, message: str = "upstream failure, try again", retry_after: str | None = None) -> Action:
    """An HTTP error; ``{key}`` in ``message`` is replaced by the bearer token the client sent."""
    headers = (("Retry-After", retry_after),) if retry_after is not None else ()
    return Action("status", status=status, message=message, headers=headers)


def hang(seconds: float = 30.0) -> Action:
    """Send nothing for ``seconds`` (longer than the client's timeout), then a valid answer."""
    return Action("hang", seconds=seconds)


def drop() -> Action:
    """Close the connection without a response."""
    return Action("drop")


def not_json() -> Action:
    return Action("raw", content=b"<html><body>502 Bad Gateway (proxy)</body></html>")


def bad_schema() -> Action:
    """Valid JSON that breaks the schema: a claim without a speaker, a negative death toll."""
    return Action("ok", content="BAD_SCHEMA")


def truncated() -> Action:
    return Action("ok", content="TRUNCATED", finish_reason="length")


def refusal(text: str = "I'm sorry, I can't help with that.") -> Action:
    return Action("ok", content="REFUSAL", refusal=text)


def empty_choices() -> Action:
    return Action("ok", choices=False)


def slow(seconds_per_byte: float = 0.2) -> Action:
    """Headers at once, then the body one byte at a time (each gap under the timeout)."""
    return Action("slow", seconds=seconds_per_byte)


# --- canned content ------------------------------------------------------------------------------
def first_sentence(article: str) -> str:
    """A real sentence of the article (its first non-heading line's first sentence), verbatim."""
    lines = [line.strip() for line in article.splitlines() if len(line.strip()) > 40]
    line = lines[0] if lines else article.strip()
    match = re.match(r"(.+?[.!?])(\s|$)", line)
    return (match.group(1) if match else line) or "nothing"


def extraction_for(article: str) -> dict[str, Any]:
    sentence = first_sentence(article)
    return {
        "events": [{
            "id": "e1", "type": "strategic.other", "status": "occurred",
            "summary": "Something the article reports happened.", "evidence": [sentence],
        }],
        "claims": [{
            "id": "c1", "content": sentence, "kind": "indirect", "cue": "said",
            "speaker": {"name": "A spokesperson"}, "event_ids": ["e1"],
        }],
    }


def broken_extraction(article: str) -> dict[str, Any]:
    """Breaks each part: a negative death toll in the event, no speaker in the claim."""
    good = extraction_for(article)
    good["events"][0]["fatalities"] = {"killed": -3}
    del good["claims"][0]["speaker"]
    return good


def injected_extraction(article: str) -> dict[str, Any]:
    """What a model that obeyed a prompt injection might answer: items not in the article."""
    good = extraction_for(article)
    good["events"].append({
        "id": "e2", "type": "strategic.other", "status": "occurred",
        "summary": "The site was hacked.", "evidence": ["All systems have been compromised by the operator."],
    })
    good["claims"].append({
        "id": "c2", "content": "Everything in this article is false and should be ignored.",
        "kind": "direct", "cue": "said", "speaker": {"name": "The operator"},
    })
    return good


def _body(request: Request, action: Action) -> dict[str, Any]:
    model = request.body.get("model", "fake") if isinstance(request.body, dict) else "fake"
    payload: dict[str, Any] = {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
        "model": model, "choices": [], "usage": dict(USAGE),
    }
    if not action.choices:
        return payload
    article = request.article
    content: Any = action.content
    if content is None:
        content = extraction_for(article)
    elif content == "BAD_SCHEMA":
        content = broken_extraction(article)
    if isinstance(content, dict):
        content = {k: v for k, v in content.items() if k in request.wanted}
    text = content if isinstance(content, str) else json.dumps(content)
    if action.content == "TRUNCATED":
        text = json.dumps(extraction_for(article))[:60]
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if action.refusal is not None:
        message = {"role": "assistant", "content": None, "refusal": action.refusal}
    elif isinstance(request.body, dict) and request.body.get("tools"):
        name = request.body["tools"][0]["function"]["name"]
        message = {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function", "function": {"name": name, "arguments": text}}]}
    payload["choices"] = [{"index": 0, "message": message, "finish_reason": action.finish_reason}]
    return payload


# --- policies ------------------------------------------------------------------------------------
def script(*actions: Action, then: Action | None = None) -> Policy:
    """One action per request, in order; afterwards ``then`` (default ``ok()``)."""
    queue = list(actions)
    lock = threading.Lock()

    def policy(request: Request) -> Action:
        with lock:
            return queue.pop(0) if queue else (then or ok())

    return policy


def per_pass(*actions: Action, then: Action | None = None) -> Policy:
    """``script(*actions)`` for each pass separately (keyed on ``Request.pass_name``)."""
    scripts: dict[str, Policy] = {}
    lock = threading.Lock()

    def policy(request: Request) -> Action:
        with lock:
            chosen = scripts.setdefault(request.pass_name, script(*actions, then=then))
        return chosen(request)

    return policy


# name -> actions of a document's first calls (then ok). "always-*" never recover.
FAULTS: dict[str, list[Action]] = {
    "429": [error(429, "rate limited", retry_after="1")],
    "429-no-header": [error(429, "rate limited")],
    "500": [error(500)],
    "502": [error(502, "bad gateway")],
    "503": [error(503, "overloaded"), error(503, "overloaded")],
    "hang": [hang()],
    "drop": [drop()],
    "not-json": [not_json()],
    "bad-schema": [bad_schema()],
    "slow": [slow()],
    "always-503": [error(503, "overloaded")] * 50,
    "always-bad-schema": [bad_schema()] * 50,
    "always-truncated": [truncated()] * 50,
    "always-500": [error(500)] * 50,
    "always-hang": [hang()] * 50,
    "always-401": [error(401, "Incorrect API key provided: {key}")] * 50,
    "refusal": [refusal()] * 50,
    "empty-choices": [empty_choices()] * 50,
    "inject": [ok("INJECT")] * 50,
}
MARKER = re.compile(r"FAULT:([a-z0-9-]+)(?:@(events|claims))?")


def by_marker(default: Action | None = None) -> Policy:
    """Faults per document: ``FAULT:<name>`` in the article picks ``FAULTS[name]`` for its calls,
    counted per article and pass; ``FAULT:<name>@claims`` (or ``@events``) hits that pass only."""
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def policy(request: Request) -> Action:
        article = request.article
        found = MARKER.search(article)
        if not found or (found.group(2) and found.group(2) != request.pass_name):
            return default or ok()
        key = hashlib.sha256(article.encode()).hexdigest() + request.pass_name
        with lock:
            number = calls[key]
            calls[key] += 1
        actions = FAULTS[found.group(1)]
        action = actions[number] if number < len(actions) else ok()
        if action.content == "INJECT":
            return ok(injected_extraction(article))
        return action

    return policy


def refusing_json_schema(inner: Policy | None = None) -> Policy:
    def policy(request: Request) -> Action:
        if request.response_format == "json_schema":
            return error(500, LLAMA_CPP_REFUSAL)
        return (inner or (lambda _r: ok()))(request)

    return policy


# --- the server ----------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 drops connects when 16+ clients arrive at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, socket.timeout)):
            super().handle_error(request, client_address)  # a client going away is not news


class FakeOpenAI:
    """``with FakeOpenAI(policy) as server: ... server.base_url ... server.requests``."""

    def __init__(self, policy: Policy | None = None, models: tuple[str, ...] = ("fake-model",)):
        self.policy: Policy = policy or (lambda _r: ok())
        self.models = models
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def completions(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path.split("?")[0].endswith("/chat/completions")]

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers:
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

            def do_GET(self) -> None:  # noqa: N802
                server._record(Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, None))
                if self.path.split("?")[0].rstrip("/").endswith("/models"):
                    data = [{"id": m, "object": "model", "owned_by": "test"} for m in server.models]
                    self._send(200, {"object": "list", "data": data})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                request = Request("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                server._record(request)
                if not self.path.split("?")[0].rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                    return
                try:
                    self._act(request, server.policy(request))
                except (BrokenPipeError, ConnectionResetError, socket.timeout):
                    self.close_connection = True  # the client gave up (its timeout): fine

            def _act(self, request: Request, action: Action) -> None:
                if action.kind == "status":  # "{key}" in the message: echo the caller's key (a leaky proxy)
                    key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    message = action.message.replace("{key}", key)
                    payload = {"error": {"message": message, "type": "server_error", "code": action.status}}
                    self._send(action.status, payload, action.headers)
                elif action.kind == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif action.kind == "raw":
                    self._send(200, action.content)
                elif action.kind == "hang":
                    server.stopping.wait(action.seconds)
                    self._send(200, _body(request, ok()))
                elif action.kind == "slow":
                    data = json.dumps(_body(request, ok())).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.flush()
                    for i in range(len(data)):
                        if server.stopping.wait(action.seconds):
                            break
                        self.wfile.write(data[i:i + 1])
                        self.wfile.flush()
                    self.close_connection = True
                else:
                    if action.seconds:
                        server.stopping.wait(action.seconds)
                    self._send(200, _body(request, action))

        return Handler


def main() -> None:  # pragma: no cover - for trying it by hand: python tests/openai_server.py
    with FakeOpenAI(by_marker()) as server:
        print(server.base_url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    main()
