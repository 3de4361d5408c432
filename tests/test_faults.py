"""Each fault of a real (fake) OpenAI-compatible server, through the real Extractor.

A document ends as a Result or as an error record with a clear type and message; retries and
re-asks stay within their bounds and are counted in provenance; Retry-After is honoured and
capped; API errors are never fed back to the model.
"""

from __future__ import annotations

import json
import time

import pytest
from openai_server import (
    USAGE,
    Action,
    bad_schema,
    drop,
    empty_choices,
    error,
    hang,
    not_json,
    ok,
    per_pass,
    refusal,
    refusing_json_schema,
    slow,
    truncated,
)

from harness.documents import Document
from harness.endpoint import Endpoint
from harness.pipeline import Extractor
from harness.prompting import PromptTemplate
from harness.quotes import RECOVERED


def model_claims(result):
    """The claims the (fake) model wrote, without those ``harness.quotes`` recovered."""
    return [c for c in result.claims if RECOVERED not in c.flags]


@pytest.fixture
def extract(fake_server, fast_settings):
    """``await extract(text, **settings)`` -> (Result, server requests for it)."""
    endpoints = []

    async def run(text: str, doc_id: str = "d1", **changes):
        settings = fast_settings(fake_server.base_url, **changes)
        endpoint = Endpoint(settings, fake_server.base_url, "fake-model")
        endpoints.append(endpoint)
        extractor = Extractor(settings, endpoint, PromptTemplate.load("news"))
        before = len(fake_server.completions)
        result = await extractor.run_one(Document(doc_id, text))
        await endpoint.aclose()
        return result, fake_server.completions[before:]

    return run


def of_pass(calls, name: str | None = None):
    """The calls of one pass (the first pass seen when ``name`` is None)."""
    name = name or calls[0].pass_name
    return [c for c in calls if c.pass_name == name]


def assert_exact(result, article: str) -> None:
    assert result.error is None, result.error
    assert result.events and result.claims
    span = result.claims[0].content
    assert span.grounding.value == "exact" and article[span.start:span.end] == span.text


@pytest.mark.parametrize("fault", [
    error(500), error(502, "bad gateway"), error(503), error(429, "rate limited"),
    hang(), drop(), not_json(), slow(0.1),
], ids=["500", "502", "503", "429", "hang", "drop", "not-json", "slow-body"])
async def test_a_passing_fault_is_retried_and_the_document_succeeds(fake_server, extract, seed_article,
                                                                      passes, fault):
    fake_server.policy = per_pass(fault)
    result, calls = await extract(seed_article)
    assert_exact(result, seed_article)
    assert result.provenance.attempts == len(calls) == 2 * passes
    assert result.provenance.usage.prompt_tokens == passes * USAGE["prompt_tokens"]  # answers had usage


async def test_retries_stop_at_the_limit_with_an_endpoint_error(fake_server, extract, seed_article, passes):
    fake_server.policy = per_pass(then=error(503, "overloaded"))
    result, calls = await extract(seed_article, retries=2)
    assert result.error.type == "EndpointError"
    assert "HTTP 503" in result.error.message and "gave up after 3 tries" in result.error.message
    assert result.provenance.attempts == len(calls) == 3 * passes
    assert result.events == [] and result.claims == []


async def test_unauthorised_is_not_retried_and_names_the_key_variable(fake_server, extract, seed_article,
                                                                       passes):
    fake_server.policy = per_pass(then=error(401, "invalid api key"))
    result, calls = await extract(seed_article)
    assert result.error.type == "EndpointError"
    assert "HARNESS_API_KEY" in result.error.message
    assert len(calls) == passes


async def test_retry_after_is_honoured(fake_server, extract, seed_article):
    fake_server.policy = per_pass(error(429, "rate limited", retry_after="1"))
    result, calls = await extract(seed_article, backoff_s=0.01, backoff_max_s=5)
    assert result.error is None
    calls = of_pass(calls)
    gap = calls[1].at - calls[0].at
    assert 0.9 <= gap < 3.0, gap


async def test_retry_after_is_capped_by_backoff_max(fake_server, extract, seed_article):
    fake_server.policy = per_pass(error(429, "rate limited", retry_after="30"))
    started = time.monotonic()
    result, calls = await extract(seed_article, backoff_s=0.01, backoff_max_s=0.3)
    assert result.error is None
    calls = of_pass(calls)
    assert 0.25 <= calls[1].at - calls[0].at < 1.5
    assert time.monotonic() - started < 3


async def test_a_hanging_server_times_out_and_the_error_says_so(fake_server, extract, seed_article, passes):
    fake_server.policy = per_pass(then=hang())
    started = time.monotonic()
    result, calls = await extract(seed_article, timeout_s=0.4, retries=1)
    elapsed = time.monotonic() - started
    assert result.error.type == "EndpointError"
    assert "timed out" in result.error.message and "HARNESS_TIMEOUT" in result.error.message
    assert len(calls) == result.provenance.attempts == 2 * passes
    assert 0.8 <= elapsed < 3  # passes run side by side: two timeouts, not four


async def test_a_body_dribbled_slowly_is_cut_at_the_timeout(fake_server, extract, seed_article, passes):
    """Each byte comes before the read timeout, the whole body never does: HARNESS_TIMEOUT
    bounds the request, not each read."""
    fake_server.policy = per_pass(then=slow(0.1))
    started = time.monotonic()
    result, calls = await extract(seed_article, timeout_s=0.5, retries=1)
    assert result.error.type == "EndpointError" and "HARNESS_TIMEOUT" in result.error.message
    assert len(calls) == 2 * passes
    assert time.monotonic() - started < 3


async def test_invalid_output_is_reasked_with_the_validation_error(fake_server, extract, seed_article, passes):
    fake_server.policy = per_pass(bad_schema())
    result, calls = await extract(seed_article, reasks=1)
    assert_exact(result, seed_article)
    assert result.provenance.attempts == len(calls) == 2 * passes
    assert result.provenance.usage.prompt_tokens == 2 * passes * USAGE["prompt_tokens"]
    assert result.provenance.usage.completion_tokens == 2 * passes * USAGE["completion_tokens"]
    told = ""
    for name in {c.pass_name for c in calls}:
        first, second = of_pass(calls, name)
        told += json.dumps(second.messages[len(first.messages):])
    assert "speaker" in told and "killed" in told  # the model is told what was wrong


async def test_output_that_never_validates_is_an_extraction_error(fake_server, extract, seed_article, passes):
    fake_server.policy = per_pass(then=bad_schema())
    result, calls = await extract(seed_article, reasks=2)
    assert result.error.type == "ExtractionError"
    assert "did not validate after 3 tries" in result.error.message
    assert "speaker" in result.error.message or "killed" in result.error.message
    assert result.provenance.attempts == len(calls) == 3 * passes
    assert result.provenance.usage.prompt_tokens == 3 * passes * USAGE["prompt_tokens"]


async def test_cut_off_output_says_to_raise_max_tokens(fake_server, extract, seed_article):
    fake_server.policy = per_pass(then=truncated())
    result, calls = await extract(seed_article)
    assert result.error.type == "ExtractionError"
    assert "finish_reason=length" in result.error.message and "HARNESS_MAX_TOKENS" in result.error.message
    assert result.provenance.attempts == len(calls) >= 1


async def test_a_refusal_is_reported_as_such(fake_server, extract, seed_article, passes):
    fake_server.policy = per_pass(then=refusal("I can't help with that."))
    result, calls = await extract(seed_article, reasks=1)
    assert result.error.type == "ExtractionError"
    assert "refused: I can't help with that." in result.error.message
    assert result.provenance.attempts == len(calls) == 2 * passes


async def test_empty_choices_are_reported_as_such(fake_server, extract, seed_article):
    fake_server.policy = per_pass(then=empty_choices())
    result, calls = await extract(seed_article)
    assert result.error.type == "ExtractionError"
    assert "no choices" in result.error.message
    assert result.provenance.attempts == len(calls) >= 1


async def test_auto_mode_falls_back_from_json_schema_to_json_object(fake_server, extract, seed_article,
                                                                     passes):
    fake_server.policy = refusing_json_schema()
    first, calls = await extract(seed_article, mode="auto")
    assert_exact(first, seed_article)
    assert [c.response_format for c in calls] == ["json_schema"] + ["json_object"] * passes  # asked once
    assert first.provenance.mode == "json_object"
    assert any("refused mode json_schema" in w for w in first.warnings)
    assert calls[1].body["response_format"].get("schema")  # llama-cpp-python's constrained form


async def test_an_explicit_mode_that_is_refused_is_not_retried(fake_server, extract, seed_article, passes):
    fake_server.policy = refusing_json_schema()
    result, calls = await extract(seed_article, mode="json_schema")
    assert result.error.type == "ModeRefusedError"
    assert "json_schema" in result.error.message
    assert len(calls) == passes


async def test_api_errors_never_reach_the_model(fake_server, extract, seed_article, passes):
    fake_server.policy = per_pass(
        error(500, "SECRET-500-TEXT"), error(429, "SECRET-429-TEXT"), not_json(), drop(),
        bad_schema(), ok(),
    )
    result, calls = await extract(seed_article, retries=5, reasks=2)
    assert result.error is None
    assert len(calls) == 6 * passes
    for call in calls:
        sent = json.dumps(call.messages)
        for leaked in ("SECRET-500-TEXT", "SECRET-429-TEXT", "Bad Gateway", "Error code", "Connection"):
            assert leaked not in sent
    for name in {c.pass_name for c in calls}:
        mine = of_pass(calls, name)
        assert all(c.messages == mine[0].messages for c in mine[:5])  # retries resend the same
        assert len(mine[5].messages) > len(mine[0].messages)  # only a validation error is re-asked


async def test_a_failing_chunk_is_a_warning_not_a_lost_document(fake_server, extract):
    sentences = [f"Sentence number {i} reports that the council met again in the town hall." for i in range(30)]
    sentences[25] = "FAULT:always-503 appears here so that this chunk keeps failing for ever."
    text = " ".join(sentences)
    result, _ = await extract(text, chunk_chars=700, chunk_overlap=100, retries=1)
    assert result.error is None
    assert result.provenance.chunks >= 3
    failed = [w for w in result.warnings if "failed: EndpointError" in w]
    assert 1 <= len(failed) < result.provenance.chunks  # the marker may sit in an overlap
    assert all(w.startswith("chunk ") and "characters" in w for w in failed)
    assert result.provenance.attempts > result.provenance.chunks  # the failing one was retried


async def test_one_failing_pass_keeps_the_other_with_a_warning(fake_server, extract, seed_article, passes):
    if passes < 2:
        pytest.skip("the task has one pass")
    result, calls = await extract(seed_article + "\nFAULT:always-503@claims\n", retries=1)
    assert result.error is None
    assert result.events and not model_claims(result)  # only quotations recovered from the article
    assert any(w.startswith("claims pass failed") and "EndpointError" in w for w in result.warnings)
    assert len(of_pass(calls, "claims")) == 2 and len(of_pass(calls, "events")) == 1


async def test_a_runaway_answer_keeps_its_complete_items(fake_server, extract, seed_article):
    """A loop cut off at max_tokens: the claims written before the cut are kept, with a warning."""
    sentences = ["We've seen those reports.", "We're not looking to escalate here."]
    claims = [{"id": f"c{i}", "content": s, "kind": "direct", "speaker": {"name": "Pat Ryder"}, "cue": "said"}
              for i, s in enumerate(sentences, 1)]
    looping = json.dumps({"claims": claims + [claims[1]] * 5})[:-40]  # repeats, then cut mid-item
    fake_server.policy = lambda request: (
        Action("ok", content=looping, finish_reason="length") if request.pass_name == "claims" else ok()
    )
    result, calls = await extract(seed_article)
    assert result.error is None and len(calls) == 2  # no re-ask: the cut is not a validation error
    # repeats removed, the cut item dropped; each quote widened to its whole quotation
    kept = model_claims(result)
    assert len(kept) == 2
    assert kept[0].content.text.startswith(sentences[0])
    assert sentences[1] in kept[1].content.text
    assert any("cut off at max_tokens" in w and "kept 6 complete item(s)" in w for w in result.warnings)
    assert any("repeated claim(s) removed" in w for w in result.warnings)
