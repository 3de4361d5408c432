"""The one place that talks to a model: messages and a schema in, a validated object out.

- The openai client is wrapped with instructor, which re-asks with the validation error when
  the output does not validate (``HARNESS_REASKS``). API errors are never fed back into a prompt.
- Transient failures (429, 5xx, timeouts, dropped connections) are retried with exponential
  backoff and jitter by tenacity, honouring ``Retry-After`` (capped by ``HARNESS_BACKOFF_MAX``).
- The structured-output mechanism is a strategy chosen by name (``MODES``). ``auto`` tries the
  strongest first and falls back when the endpoint refuses it (llama-cpp-python's server
  answers ``json_schema`` with a 500); the mechanism that worked is remembered per endpoint and
  reported with every call.
- Token usage and attempts are summed over every HTTP call, re-asks and retries included.
- An HTTP 200 whose body is no chat completion (an HTML page, JSON cut short, no ``choices``) is
  an endpoint fault, retried like a 5xx and reported with its content type; it is never re-asked
  as if the model had erred. Only a 400/422 naming the mechanism counts as a refusal.
- The parsed output is bounded (``harness.bounds``) and the configured secrets are masked in it
  (``harness.secrets``), as in every error message; the request body is never changed.
- A query in the base URL (``?api-version=``) is sent after the route, on every request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx2
import instructor
import openai
import pydantic_core
from instructor.v2.core.function_calls import response_schema
from instructor.v2.core.hooks import Hooks
from instructor.v2.validation import async_validators
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from .bounds import cap_strings
from .config import Settings, redact_url
from .decoding import decoding_model
from .errors import EndpointError, ExtractionError, ModeRefusedError
from .salvage import completion_text, salvage
from .secrets import Secrets

# Strongest first: what ``auto`` tries, in order.
MODES: dict[str, instructor.Mode] = {
    "json_schema": instructor.Mode.JSON_SCHEMA,  # response_format json_schema (OpenAI, vLLM, llama-server)
    "json_object": instructor.Mode.JSON,  # json_object + schema (llama-cpp-python constrains to it)
    "tools": instructor.Mode.TOOLS,  # function calling
    "json": instructor.Mode.JSON,  # json_object, schema only in the prompt
    "md_json": instructor.Mode.MD_JSON,  # JSON in a markdown block, schema in the prompt
}
#: ``create`` arguments that are request options, not body fields (``client.post``'s names).
_REQUEST_OPTIONS = {"extra_headers": "headers", "extra_query": "params", "timeout": "timeout"}
REFUSAL_WORDS = ("response_format", "json_schema", "schema", "tool", "grammar", "not supported",
                 "unsupported", "json_object", "format")
#: what a 400 or 422 must name to be the mechanism refused, not this document's own error (a
#: content filter, a bad parameter): otherwise one document's 400 during ``auto`` negotiation
#: would downgrade every later document
MECHANISM_WORDS = ("response_format", "response format", "json_schema", "json schema", "schema",
                   "json_object", "tool", "function", "grammar", "structured output")
NOT_A_REFUSAL = ("context length", "context_length", "maximum context", "too many tokens",
                 "exceeds the context", "context size")
TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


@dataclass
class CallStats:
    """What one extraction call cost."""

    mode: str | None = None
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    def add(self, other: CallStats) -> None:
        self.mode = other.mode or self.mode
        self.attempts += other.attempts
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.latency_s += other.latency_s
        self.notes.extend(other.notes)


def is_refusal(exc: BaseException) -> bool:
    """True when the endpoint rejected the request's shape (the mode), not a passing fault."""
    if not isinstance(exc, openai.APIStatusError):
        return False
    message = f"{exc.message} {getattr(exc, 'body', '')}".lower()
    if any(word in message for word in NOT_A_REFUSAL):
        return False  # the request is too long: another mode would fail the same way
    if exc.status_code in (415, 501):  # unsupported media type, not implemented: the shape
        return True
    if exc.status_code in (400, 422):
        return any(word in message for word in MECHANISM_WORDS)
    if exc.status_code == 500:
        return any(word in message for word in REFUSAL_WORDS)
    return False


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError | openai.APIResponseValidationError):
        return True  # a dropped connection, a timeout, a body that is not a completion (a proxy)
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in TRANSIENT_STATUS and not is_refusal(exc)
    return False


def retry_after_s(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _api_error(exc: BaseException) -> BaseException | None:
    """The openai error behind an instructor or tenacity wrapper, if there is one."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, openai.APIError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, openai.APIResponseValidationError):
        return exc.message[:500]
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {exc.message}"[:500]
    if isinstance(exc, openai.APITimeoutError):
        return "request timed out (HARNESS_TIMEOUT)"
    if isinstance(exc, openai.APIConnectionError):
        return f"connection failed: {exc.__cause__ or exc}"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


def _why_invalid(exc: BaseException) -> str:
    """The last failure inside instructor's retry exception, in one line a person can read."""
    completion = getattr(exc, "last_completion", None)
    choices = getattr(completion, "choices", None)
    if completion is not None and not choices:
        return "the endpoint answered with no choices (an empty completion)"
    message = getattr(choices[0], "message", None) if choices else None
    if getattr(message, "refusal", None):
        return f"the model refused: {message.refusal}"
    attempts = getattr(exc, "failed_attempts", None) or []
    last = attempts[-1].exception if attempts else exc.__cause__
    if isinstance(last, ValidationError):
        errors = last.errors(include_url=False)
        shown = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'output'}: {e['msg']}" for e in errors[:4])
        return f"{len(errors)} validation error(s): {shown}"
    if last is not None:
        return f"{type(last).__name__}: {last}".replace("\n", " ")
    return type(exc).__name__


def split_query(base_url: str) -> tuple[str, dict[str, str]]:
    """The base URL without its query, and the query's parameters: the SDK appends the route to
    the whole string, so ``/v1?api-version=x`` would become ``/v1?api-version=x/chat/completions``;
    given as the client's default query instead, it follows the route on every request."""
    parts = urlsplit(base_url)
    if not parts.query:
        return base_url, {}
    return urlunsplit(parts._replace(query="", fragment="")), dict(parse_qsl(parts.query, keep_blank_values=True))


NOT_THE_API = "; is HARNESS_BASE_URL the API (it usually ends in /v1), not a web page or a proxy?"


def not_a_completion(response: httpx2.Response, why: str, hint: str = "") -> openai.APIResponseValidationError:
    """An HTTP 200 whose body is no chat completion (a proxy's HTML page, a body cut short): an
    endpoint fault, retried like one, never re-asked of the model. Says what kind of body came
    (its content type and size), not its bytes."""
    kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    return openai.APIResponseValidationError(
        response, None, message=f"the endpoint answered HTTP {response.status_code} with {why} "
        f"({kind}, {len(response.content):,} bytes), not a chat completion{hint}",
    )


def parse_completion(response: httpx2.Response) -> ChatCompletion:
    """The chat completion in a response body, or ``APIResponseValidationError`` saying why not."""
    try:
        data = pydantic_core.from_json(response.content)
    except ValueError:
        if response.content.lstrip()[:1] in (b"{", b"["):
            raise not_a_completion(response, "a JSON body cut short") from None
        raise not_a_completion(response, "a body that is not JSON", NOT_THE_API) from None
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        error = data.get("error") if isinstance(data, dict) else None
        said = error.get("message") if isinstance(error, dict) else error
        if said:
            raise not_a_completion(response, f"an error: {str(said)[:200]!r}")
        raise not_a_completion(response, "JSON without a `choices` list", NOT_THE_API)
    if not all(isinstance(c, dict) and isinstance(c.get("message"), dict) for c in data["choices"]):
        raise not_a_completion(response, "a choice without a message")
    return ChatCompletion.construct(**data)


def _count(value: Any) -> int:
    """A token count as the endpoint reported it, or 0 when it is not a count (negative, text)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _quiet_library_logs() -> None:
    """instructor logs every failed call, error body included (a leaky server's body may hold
    the key), through logging's last-resort stderr handler; harness reports errors itself.
    A NullHandler stops that default only: handlers an application configures still get them."""
    logger = logging.getLogger("instructor")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


class DeadlineClient(httpx2.AsyncClient):
    """An httpx client whose every request ends within ``deadline_s`` seconds in total.

    httpx's own timeouts bound each read, so a server that dribbles its body a byte at a time
    could hold a request for ever; past the deadline this raises ``ReadTimeout`` (a timeout
    the SDK reports as ``APITimeoutError``, which is retried like any other).
    """

    def __init__(self, deadline_s: float, **kwargs: Any):
        super().__init__(**kwargs)
        self.deadline_s = deadline_s

    async def send(self, request: httpx2.Request, **kwargs: Any) -> httpx2.Response:
        try:
            async with asyncio.timeout(self.deadline_s):
                return await super().send(request, **kwargs)
        except TimeoutError:
            raise httpx2.ReadTimeout(
                f"no complete response within {self.deadline_s:g} s (HARNESS_TIMEOUT)", request=request
            ) from None
        except httpx2.ConnectTimeout as exc:
            if _refused(exc):
                raise httpx2.ConnectError(str(exc), request=request) from exc.__cause__
            raise


class AiohttpDeadlineClient(DeadlineClient, openai.DefaultAioHttpClient):
    """The same, on the aiohttp transport the openai SDK ships (``openai[aiohttp]``): 1 ms less
    client CPU per document than httpx's own transport (4.5 against 5.6-6.0 ms at 16 concurrent
    documents, ``bench/bench_throughput.py``), 20% more documents per second at 64."""


def _refused(exc: httpx2.ConnectTimeout) -> bool:
    """The aiohttp adapter the SDK vendors maps every ``ClientConnectorError`` (a refused
    connection, an unknown host) to ``ConnectTimeout``: its most-specific-match loop compares the
    target classes, so the broader ``ClientConnectionError`` wins (noted in the review of
    openai/openai-python#3594). A refusal is not a timeout: callers are told "cannot reach"."""
    import aiohttp

    cause = exc.__cause__
    return isinstance(cause, aiohttp.ClientConnectorError) and not isinstance(cause.os_error, TimeoutError)


def http_client(settings: Settings, base_url: str) -> DeadlineClient:
    """aiohttp's transport, unless the URL carries ``user:password``: aiohttp refuses those next
    to the SDK's ``Authorization`` header ("Cannot combine AUTHORIZATION header with AUTH
    argument or credentials encoded in URL"); httpx takes them."""
    parts = urlsplit(base_url)
    kind = DeadlineClient if parts.username or parts.password else AiohttpDeadlineClient
    return kind(
        settings.timeout_s,
        timeout=settings.timeout_s,
        limits=httpx2.Limits(max_connections=max(64, settings.concurrency * 2)),
    )


def _remember_async_validator_checks() -> None:
    """instructor walks the whole response model on every call (twice) to refuse async
    validators: 20% of the client's CPU, profiled. The answer for a class never changes, so
    remember the classes that passed. Skipped if instructor moves the function."""
    check = getattr(async_validators, "reject_async_validators", None)
    if check is None or getattr(check, "_harness_cached", False):
        return
    passed: set[type] = set()

    def reject_async_validators(response_model: Any) -> None:
        if isinstance(response_model, type) and response_model in passed:
            return
        check(response_model)
        if isinstance(response_model, type):
            passed.add(response_model)

    reject_async_validators._harness_cached = True  # type: ignore[attr-defined]
    async_validators.reject_async_validators = reject_async_validators


@cache
def _response_model(output_model: type[BaseModel]) -> type[BaseModel]:
    """The decoding model wrapped the way instructor wraps it, once: instructor otherwise builds
    a new pydantic class (and its schema) on every call (17% of the client's CPU, profiled)."""
    return response_schema(decoding_model(output_model))


def completion_body(params: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """The JSON body POSTed to /chat/completions for instructor's ``create`` parameters, and the
    request options (headers, query, timeout) that are not part of it. The one place a body is
    built: the live path sends it, ``harness batch export`` writes it into a batch file."""
    params = dict(params)
    options = {key: params.pop(name) for name, key in _REQUEST_OPTIONS.items() if name in params}
    extra = params.pop("extra_body", None) or {}
    # pydantic-core's serializer writes the bytes the SDK's json.dumps would (compact, UTF-8),
    # in a third of the time
    return pydantic_core.to_json({**params, **extra}), options


class Endpoint:
    """An OpenAI-compatible endpoint with a negotiated structured-output mechanism."""

    def __init__(self, settings: Settings, base_url: str, model: str, api_key: str | None = None):
        self.settings = settings
        self.base_url = base_url
        self.model = model
        self.display_url = redact_url(base_url)
        self.secrets = Secrets.of(api_key, base_url)
        _quiet_library_logs()
        route_base, query = split_query(base_url)
        self.client = openai.AsyncOpenAI(
            base_url=route_base,
            default_query=query or None,
            api_key=api_key or "none",  # local servers need no key; the SDK wants a string
            timeout=settings.timeout_s,
            max_retries=0,  # retries are ours (tenacity), so they are counted and bounded
            http_client=http_client(settings, base_url),
        )
        self._mode: str | None = None if settings.mode == "auto" else settings.mode
        self._lock = asyncio.Lock()
        self._patched: dict[str, Any] = {}  # one instructor client per mode, made once
        _remember_async_validator_checks()

    @property
    def mode(self) -> str | None:
        return self._mode

    async def aclose(self) -> None:
        await self.client.close()

    async def extract(
        self, messages: Sequence[dict[str, Any]], output_model: type[BaseModel],
        stats: CallStats | None = None,
    ) -> tuple[BaseModel, CallStats]:
        """Call the model until its output validates against ``output_model``.

        Counts go into ``stats`` (a new one by default), so a caller keeps them when this raises.
        """
        stats = CallStats() if stats is None else stats
        started = time.monotonic()
        try:
            if self._mode is None:
                async with self._lock:  # one document negotiates; the others wait for its answer
                    if self._mode is None:
                        result = await self._negotiate(messages, output_model, stats)
                        return self._bounded(result, stats), stats
            return self._bounded(await self._call(self._mode, messages, output_model, stats), stats), stats
        finally:
            stats.latency_s = round(time.monotonic() - started, 3)

    def _bounded(self, output: BaseModel, stats: CallStats) -> BaseModel:
        """The parsed output with over-long strings cut and any configured secret masked (a
        model or endpoint that echoes the request's headers); the request sent is unchanged."""
        stats.notes.extend(cap_strings(output, self.settings.chunk_chars + self.settings.chunk_overlap))
        masked = self.secrets.scrub_model(output)
        if masked:
            stats.notes.append(f"model output: a configured secret (API key or URL credential) masked "
                               f"in {masked} field(s)")
        return output

    async def _negotiate(self, messages, output_model, stats: CallStats) -> BaseModel:
        refused = []
        for name in MODES:
            try:
                result = await self._call(name, messages, output_model, stats)
            except ModeRefusedError as exc:
                refused.append(f"{name} ({exc.cause and self.scrub(_describe(exc.cause))})")
                stats.notes.append(f"endpoint refused mode {name}; trying the next one")
                continue
            except ExtractionError:
                self._mode = name  # the endpoint accepted the mode; the output was the problem
                raise
            self._mode = name
            return result
        raise ModeRefusedError(
            "the endpoint refused every structured-output mode: " + "; ".join(refused)
            + ". Set HARNESS_MODE to one it supports",
            self.display_url,
        )

    def _request_options(self, mode: str, output_model: type[BaseModel]) -> dict[str, Any]:
        options: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.settings.max_tokens,
            "temperature": self.settings.temperature,
        }
        if mode == "json_object":
            # llama-cpp-python's extension: json_object plus a schema constrains decoding to it.
            schema = decoding_model(output_model).model_json_schema()  # built once, then copied
            options["extra_body"] = {"response_format": {"type": "json_object", "schema": schema}}
        return options

    async def _call(self, mode: str, messages, output_model, stats: CallStats) -> BaseModel:
        stats.mode = mode
        hooks = Hooks()

        def on_response(response: Any) -> None:
            usage = getattr(response, "usage", None)
            stats.prompt_tokens += _count(getattr(usage, "prompt_tokens", 0))
            stats.completion_tokens += _count(getattr(usage, "completion_tokens", 0))

        hooks.on("completion:kwargs", lambda *a, **k: setattr(stats, "attempts", stats.attempts + 1))
        hooks.on("completion:response", on_response)
        client = self._patched.get(mode)
        if client is None:
            create = instructor.patch(create=self._post_completion, mode=MODES[mode])
            client = self._patched[mode] = instructor.AsyncInstructor(self.client, create, mode=MODES[mode])
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.retries + 1),
            retry=retry_if_exception(lambda e: (api := _api_error(e)) is not None and is_transient(api)),
            wait=self._wait,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await client.chat.completions.create(
                        response_model=_response_model(output_model),
                        messages=list(messages),
                        max_retries=self.settings.reasks,
                        strict=False,
                        hooks=hooks,
                        **self._request_options(mode, output_model),
                    )
        except Exception as exc:  # noqa: BLE001 - every failure becomes one of ours
            rescued = self._salvage(exc, output_model, stats)
            if rescued is not None:
                return rescued
            raise self._translate(exc, mode) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _post_completion(self, **params: Any) -> ChatCompletion:
        """POST /chat/completions through the SDK's documented ``client.post``, the parameters
        sent as they are. ``chat.completions.create`` first walks every parameter, the JSON
        schema in ``response_format`` included, to transform it: a no-op on plain dicts that cost
        15% of a batch's CPU (py-spy). The body is the same JSON, so recordings still match."""
        content, options = completion_body(params)
        response = await self.client.post("/chat/completions", cast_to=httpx2.Response, content=content,
                                          options=options)
        return parse_completion(response)

    def _salvage(self, exc: BaseException, output_model: type[BaseModel], stats: CallStats) -> BaseModel | None:
        """The complete items of an answer cut off at max_tokens, with a note saying so."""
        if type(exc).__name__ != "IncompleteOutputException":
            return None
        found = salvage(completion_text(getattr(exc, "last_completion", None)), output_model)
        if found is None:
            return None
        stats.notes.append(
            f"output cut off at max_tokens={self.settings.max_tokens} (finish_reason=length): kept "
            f"{found.kept} complete item(s), dropped {found.dropped} unfinished or invalid"
        )
        return found.output

    def _wait(self, retry_state: Any) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        hinted = retry_after_s(_api_error(exc) or exc) if exc else None
        if hinted is not None:
            return min(hinted, self.settings.backoff_max_s)
        backoff = wait_exponential_jitter(
            multiplier=self.settings.backoff_s, max=self.settings.backoff_max_s, jitter=self.settings.backoff_s
        )
        return backoff(retry_state)

    def _translate(self, exc: BaseException, mode: str) -> Exception:
        api = _api_error(exc)
        if api is not None:
            if is_refusal(api):
                return ModeRefusedError(
                    f"mode {mode} refused: {self.scrub(_describe(api))}", self.display_url, api
                )
            status = getattr(api, "status_code", None)
            hint = {401: " (check HARNESS_API_KEY)", 403: " (check HARNESS_API_KEY)",
                    404: " (check HARNESS_BASE_URL: it usually ends in /v1; and HARNESS_MODEL)"}.get(status, "")
            return EndpointError(
                f"{self.scrub(_describe(api))}{hint}; gave up after {self.settings.retries + 1} tries",
                self.display_url, api,
            )
        name = type(exc).__name__
        if name == "IncompleteOutputException":
            return ExtractionError(
                f"the model's output was cut off at max_tokens={self.settings.max_tokens} "
                "(finish_reason=length); raise HARNESS_MAX_TOKENS or lower HARNESS_CHUNK_CHARS"
            )
        if name == "InstructorRetryException":
            return ExtractionError(
                f"output did not validate after {getattr(exc, 'n_attempts', None) or self.settings.reasks + 1} "
                f"tries ({mode} mode): "
                f"{self.scrub(_why_invalid(exc))[:400]}"
            )
        return ExtractionError(self.scrub(f"{name}: {exc}")[:400])

    def scrub(self, text: str) -> str:
        """``text`` with the key (and any secret in the URL) masked: servers echo them in errors."""
        return self.secrets.scrub(text)
