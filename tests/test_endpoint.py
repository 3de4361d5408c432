"""The endpoint's pure parts (Retry-After, error classification) and its negotiation and
accounting against a real loopback server."""

from __future__ import annotations

import asyncio
import socket
import time
from email.utils import formatdate

import httpx2
import openai
import pytest

from harness.decoding import decoding_schema
from harness.endpoint import (
    AiohttpDeadlineClient, CallStats, DeadlineClient, Endpoint, is_refusal, is_transient, retry_after_s,
)
from harness.errors import ExtractionError, ModeRefusedError
from openai_server import (
    LLAMA_CPP_REFUSAL, USAGE, FakeOpenAI, bad_schema, error, ok, refusing_json_schema, script,
)
from schemas import Extraction

REQUEST = httpx2.Request("POST", "http://127.0.0.1:1/v1/chat/completions")


def status_error(status: int, message: str = "boom", headers: dict[str, str] | None = None):
    response = httpx2.Response(status, headers=headers or {}, request=REQUEST)
    return openai.APIStatusError(message, response=response, body={"error": {"message": message}})


def messages(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "Extract."},
            {"role": "user", "content": f"<article>\n{text}\n</article>"}]


ARTICLE = "The council met on Monday in the town hall. It said the budget was approved without debate."


# --- retry_after_s -----------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [("3", 3.0), ("0.5", 0.5), ("0", 0.0), ("-4", 0.0)])
def test_retry_after_seconds(value, expected):
    assert retry_after_s(status_error(429, headers={"Retry-After": value})) == expected


def test_retry_after_http_date():
    later = formatdate(time.time() + 20, usegmt=True)
    assert 15 <= retry_after_s(status_error(503, headers={"Retry-After": later})) <= 21


def test_retry_after_in_the_past_is_zero():
    assert retry_after_s(status_error(503, headers={"Retry-After": formatdate(time.time() - 60, usegmt=True)})) == 0


@pytest.mark.parametrize("headers", [{}, {"Retry-After": ""}, {"Retry-After": "soon"}])
def test_retry_after_absent_or_unreadable(headers):
    assert retry_after_s(status_error(429, headers=headers)) is None


def test_retry_after_of_an_error_without_response():
    assert retry_after_s(ValueError("no response")) is None
    assert retry_after_s(openai.APIConnectionError(request=REQUEST)) is None


# --- is_refusal / is_transient -----------------------------------------------------------------
@pytest.mark.parametrize("status", [415, 501])
def test_shape_rejections_are_refusals(status):
    assert is_refusal(status_error(status)) and not is_transient(status_error(status))


@pytest.mark.parametrize("message", [
    "response_format json_schema is not supported", "Invalid schema for response_format 'Extraction'",
    "'tools' is not supported with this model", "json_object requires the word json in messages",
])
@pytest.mark.parametrize("status", [400, 422])
def test_a_400_naming_the_mechanism_is_a_refusal(status, message):
    assert is_refusal(status_error(status, message)) and not is_transient(status_error(status, message))


@pytest.mark.parametrize("message", [
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
    "Invalid value for 'temperature': must be between 0 and 2", "boom",
])
@pytest.mark.parametrize("status", [400, 422])
def test_a_400_about_the_document_is_not_a_refusal(status, message):
    """A content filter or a bad parameter is this request's own error: it must not make
    ``auto`` negotiation drop the mode for every later document."""
    assert not is_refusal(status_error(status, message)) and not is_transient(status_error(status, message))


def test_llama_cpp_python_json_schema_500_is_a_refusal_not_transient():
    exc = status_error(500, LLAMA_CPP_REFUSAL)
    assert is_refusal(exc) and not is_transient(exc)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_passing_failures_are_transient(status):
    exc = status_error(status, "upstream failure, try again")
    assert is_transient(exc) and not is_refusal(exc)


@pytest.mark.parametrize("status", [401, 403, 404])
def test_client_errors_are_neither(status):
    assert not is_transient(status_error(status)) and not is_refusal(status_error(status))


def test_connection_failures_and_timeouts_are_transient():
    assert is_transient(openai.APIConnectionError(request=REQUEST))
    assert is_transient(openai.APITimeoutError(request=REQUEST))
    assert not is_transient(ValueError("x")) and not is_refusal(ValueError("x"))




# --- transport ---------------------------------------------------------------------------------
async def test_the_transport_is_aiohttp_unless_the_url_carries_credentials(fast_settings):
    with FakeOpenAI() as server:
        with_user = server.base_url.replace("http://", "http://analyst:pw@")
        for url, kind in [(server.base_url, AiohttpDeadlineClient), (with_user, DeadlineClient)]:
            endpoint = Endpoint(fast_settings(url), url, "fake-model")
            output, _ = await endpoint.extract(messages(ARTICLE), Extraction)
            await endpoint.aclose()
            assert type(endpoint.client._client) is kind and output.events  # noqa: SLF001
    assert len(server.completions) == 2
    assert server.completions[1].headers["authorization"].startswith("Basic ")


async def test_a_refused_connection_is_not_reported_as_a_timeout(fast_settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    endpoint = Endpoint(fast_settings(url), url, "fake-model")
    with pytest.raises(openai.APIConnectionError) as caught:
        await endpoint.client.models.list()
    await endpoint.aclose()
    assert not isinstance(caught.value, openai.APITimeoutError)
    assert isinstance(caught.value.__cause__, httpx2.ConnectError)


# --- negotiation and accounting against a real server ------------------------------------------
@pytest.fixture
def endpoint_for(fast_settings):
    def make(server: FakeOpenAI, **changes) -> Endpoint:
        return Endpoint(fast_settings(server.base_url, **changes), server.base_url, "fake-model")

    return make


async def test_negotiated_mode_is_remembered(endpoint_for):
    with FakeOpenAI(refusing_json_schema()) as server:
        endpoint = endpoint_for(server, mode="auto")
        assert endpoint.mode is None
        _, first = await endpoint.extract(messages(ARTICLE), Extraction)
        _, second = await endpoint.extract(messages(ARTICLE), Extraction)
        await endpoint.aclose()
    assert endpoint.mode == first.mode == second.mode == "json_object"
    assert [r.response_format for r in server.completions] == ["json_schema", "json_object", "json_object"]
    assert first.attempts == 2 and second.attempts == 1


async def test_concurrent_documents_negotiate_once(endpoint_for):
    with FakeOpenAI(refusing_json_schema()) as server:
        endpoint = endpoint_for(server, mode="auto")
        outcomes = await asyncio.gather(*(endpoint.extract(messages(ARTICLE), Extraction) for _ in range(6)))
        await endpoint.aclose()
    formats = [r.response_format for r in server.completions]
    assert formats.count("json_schema") == 1 and formats.count("json_object") == 6
    assert {stats.mode for _, stats in outcomes} == {"json_object"}


async def test_a_mode_that_works_first_time_is_kept(endpoint_for):
    with FakeOpenAI() as server:
        endpoint = endpoint_for(server, mode="auto")
        _, stats = await endpoint.extract(messages(ARTICLE), Extraction)
        await endpoint.aclose()
    assert stats.mode == endpoint.mode == "json_schema" and stats.attempts == 1


async def test_json_object_mode_sends_the_decoding_schema(endpoint_for):
    with FakeOpenAI() as server:
        endpoint = endpoint_for(server, mode="json_object")
        for _ in range(2):
            await endpoint.extract(messages(ARTICLE), Extraction)
        await endpoint.aclose()
    for call in server.completions:
        assert call.body["response_format"] == {"type": "json_object", "schema": decoding_schema(Extraction)}


@pytest.mark.parametrize("mode", ["json_schema", "json_object", "tools", "md_json"])
async def test_the_body_posted_is_the_body_the_sdk_would_send(endpoint_for, mode):
    """The harness posts instructor's request with ``client.post`` (skipping the SDK's parameter
    walk); the JSON body must be what ``chat.completions.create`` sends for the same arguments."""
    captured = {}

    async def keep(**params):
        captured.update(params)
        return await endpoint.client.chat.completions.create(**params)

    with FakeOpenAI() as server:
        endpoint = endpoint_for(server, mode=mode)
        await endpoint.extract(messages(ARTICLE), Extraction)
        endpoint._post_completion = keep  # the same arguments, sent through the SDK's own create
        endpoint._patched.clear()
        await endpoint.extract(messages(ARTICLE), Extraction)
        await endpoint.aclose()
    ours, sdk = server.completions
    assert captured and ours.body == sdk.body
    assert ours.headers["content-type"] == sdk.headers["content-type"] == "application/json"


async def test_every_mode_refused_says_to_set_harness_mode(endpoint_for):
    with FakeOpenAI(script(then=error(400, "response_format is not supported"))) as server:
        endpoint = endpoint_for(server, mode="auto")
        with pytest.raises(ModeRefusedError, match="HARNESS_MODE"):
            await endpoint.extract(messages(ARTICLE), Extraction)
        await endpoint.aclose()
    assert endpoint.mode is None  # nothing was accepted, so nothing is remembered


async def test_tools_mode_sends_a_function_schema(endpoint_for):
    with FakeOpenAI() as server:
        endpoint = endpoint_for(server, mode="tools")
        result, stats = await endpoint.extract(messages(ARTICLE), Extraction)
        await endpoint.aclose()
    assert server.completions[0].body["tools"][0]["function"]["name"]
    assert result.claims and stats.mode == "tools"


async def test_usage_is_summed_over_reasks(endpoint_for):
    with FakeOpenAI(script(bad_schema(), bad_schema(), ok())) as server:
        endpoint = endpoint_for(server, reasks=2)
        _, stats = await endpoint.extract(messages(ARTICLE), Extraction)
        await endpoint.aclose()
    assert stats.attempts == len(server.completions) == 3
    assert stats.prompt_tokens == 3 * USAGE["prompt_tokens"]
    assert stats.completion_tokens == 3 * USAGE["completion_tokens"]


async def test_counts_survive_a_failure_in_the_callers_stats(endpoint_for):
    """A failed call still reports what it cost (for the error record's provenance)."""
    stats = CallStats()
    with FakeOpenAI(script(then=bad_schema())) as server:
        endpoint = endpoint_for(server, reasks=1)
        with pytest.raises(ExtractionError, match="validation error"):
            await endpoint.extract(messages(ARTICLE), Extraction, stats)
        await endpoint.aclose()
    assert stats.attempts == 2 and stats.prompt_tokens == 2 * USAGE["prompt_tokens"]
    assert stats.mode == "json_object"


def test_callstats_add_sums_counts():
    a = CallStats(mode="json_object", attempts=2, prompt_tokens=10, completion_tokens=1, notes=["x"])
    a.add(CallStats(mode=None, attempts=3, prompt_tokens=5, completion_tokens=2, notes=["y"]))
    assert (a.mode, a.attempts, a.prompt_tokens, a.completion_tokens, a.notes) == ("json_object", 5, 15, 3, ["x", "y"])


def test_context_too_long_is_not_a_mode_refusal():
    import httpx2
    import openai

    request = httpx2.Request("POST", "http://x/v1/chat/completions")
    response = httpx2.Response(400, request=request)
    exc = openai.BadRequestError("This model's maximum context length is 8192 tokens", response=response, body=None)
    assert not is_refusal(exc)
    exc = openai.BadRequestError("response_format json_schema is not supported", response=response, body=None)
    assert is_refusal(exc)


def test_instructor_model_walk_is_remembered_but_still_refuses_async_validators():
    """The per-class memo of instructor's async-validator check (a CPU saving) keeps its
    answer: a model that passed is not walked again; one that fails still fails, every time."""
    from instructor.v2.validation import async_validators

    from harness.endpoint import _remember_async_validator_checks, _response_model

    _remember_async_validator_checks()
    check = async_validators.reject_async_validators
    assert getattr(check, "_harness_cached", False)
    model = _response_model(Extraction)
    assert _response_model(Extraction) is model  # wrapped once
    check(model)
    check(model)  # remembered: no exception, no walk

    if not hasattr(async_validators, "async_field_validator"):
        pytest.skip("this instructor version has no async validators to refuse")
    from pydantic import BaseModel

    class Slow(BaseModel):
        text: str

        @async_validators.async_field_validator("text")
        async def _check(self, value: str) -> str:  # pragma: no cover - never run
            return value

    for _ in range(2):
        with pytest.raises(ValueError, match="async validators are not supported"):
            check(Slow)
