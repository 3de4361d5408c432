"""Quality side by side, live: the harness vs a plain instructor call vs LangExtract, same model.

Each system reads the same eval fixtures through the same OpenAI-compatible server (the
embedded llama-server with Qwen2.5-Coder-1.5B unless ``HARNESS_BASE_URL`` names another), one
system after the other, 4 documents in flight each, and every output is scored by the harness's
own scorer (``harness.evaluation.scoring``) against the hand-labelled gold:

- ``harness``: ``Extractor.run_one``: the shipped prompt (two passes per chunk, few-shot),
  chunking, grounding, refinement, policy: everything ``harness extract`` does;
- ``instructor``: one ``client.chat.completions.create(response_model=schemas.Extraction)``
  per article (``Mode.JSON_SCHEMA``, ``max_retries=2``, a one-line system prompt, the whole
  article, ``max_tokens`` twice the harness's per-call cap since it does both passes' work);
  no chunking, grounding or refinement;
- ``langextract``: ``lx.extract`` (LangExtract 1.7.1, in its own virtualenv) with its own prompt
  format: a task description and one ``ExampleData`` built from the same synthetic example
  article the harness's prompt shows (its events and claims as ``event`` / ``claim`` extractions
  with attributes), its own chunking (``max_char_buffer=1000``) and its own alignment.

For scoring, spans without offsets (instructor's; LangExtract's unaligned ones) are located by
the harness's grounder, so "invented" means the same for all three: an item whose words are
not in the article. Tokens come from the server's ``/metrics`` counters (llama-server
``--metrics``) read before and after each system, so LangExtract, which reports no usage, is
counted the same way; time per article is each system's wall time over the fixtures / count.

    python bench/bench_quality.py [--fixtures GLOB ...] [--systems harness instructor langextract]
        [--langextract-python /tmp/le-venv/bin/python] [--json bench/out/quality.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fnmatch
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
LANGEXTRACT_PYTHON = Path("/tmp/le-venv/bin/python")
SYSTEMS = ("harness", "instructor", "langextract")
IN_FLIGHT = 4
#: the subset RESULTS.md reports (the whole suite takes about 3 hours on 2 cores)
DEFAULT_FIXTURES = (
    "seed-000-tower22", "seed-002-tower22-rewrite", "syn-denial", "syn-several-speakers",
    "syn-conflicting-figures", "ukgov-01-karrada-attack", "usds-02-baghdad-najaf-attacks",
    "usds-04-dabiq-liberation",
)  # fmt: skip
PLAIN_SYSTEM = "Extract the events reported and the claims attributed in this news article."


# --- the server ---------------------------------------------------------------------------------


@contextlib.contextmanager
def model_server(settings: Any) -> Iterator[tuple[str, str]]:
    """(base_url, model): the configured endpoint, or the embedded server started for the run."""
    if not settings.embedded:
        yield settings.base_url, settings.model or "gpt-4o-mini"
        return
    from harness.local.server import embedded_server

    server = embedded_server(settings.with_(local_parallel=IN_FLIGHT))
    with server:
        yield server.base_url, server.model_name


def server_tokens(base_url: str) -> tuple[int, ...] | None:
    """(prompt tokens evaluated, tokens generated, prompt tokens reused from the cache) so far,
    from llama-server's /metrics."""
    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        with urllib.request.urlopen(f"{root}/metrics", timeout=10) as response:
            text = response.read().decode()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name.strip()] = float(value)
    names = ("llamacpp:prompt_tokens_total", "llamacpp:tokens_predicted_total", "llamacpp:prompt_tokens_cached_total")
    if any(name not in values for name in names[:2]):
        return None
    return tuple(int(values.get(name, 0)) for name in names)


# --- the three systems --------------------------------------------------------------------------


async def in_flight(fixtures: list[Any], run: Any) -> dict[str, Any]:
    """``await run(fixture)`` for every fixture, ``IN_FLIGHT`` at a time, keyed by fixture id."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(fixture: Any) -> Any:
        async with gate:
            return await run(fixture)

    results = await asyncio.gather(*(one(f) for f in fixtures))
    return {f.id: r for f, r in zip(fixtures, results)}


def run_harness(fixtures: list[Any], settings: Any, url: str, model: str) -> dict[str, Any]:
    from harness.endpoint import Endpoint
    from harness.evaluation.runner import document_for
    from harness.pipeline import Extractor, Options
    from harness.prompting import PromptTemplate

    async def main() -> dict[str, Any]:
        endpoint = Endpoint(settings, url, model, settings.api_key)
        extractor = Extractor(settings, endpoint, PromptTemplate.load("news"), Options())
        try:
            return await in_flight(fixtures, lambda f: extractor.run_one(document_for(f)))
        finally:
            await endpoint.aclose()

    return asyncio.run(main())


def run_instructor(fixtures: list[Any], settings: Any, url: str, model: str) -> dict[str, Any]:
    import instructor
    from openai import AsyncOpenAI

    from schemas import Extraction, Result

    async def main() -> dict[str, Any]:
        client = AsyncOpenAI(base_url=url, api_key=settings.api_key or "none", max_retries=2,
                             timeout=settings.timeout_s)
        patched = instructor.from_openai(client, mode=instructor.Mode.JSON_SCHEMA)

        async def one(fixture: Any) -> Any:
            try:
                extraction = await patched.chat.completions.create(
                    model=model, response_model=Extraction, max_retries=2,
                    max_tokens=2 * settings.max_tokens, temperature=settings.temperature,
                    messages=[{"role": "system", "content": PLAIN_SYSTEM},
                              {"role": "user", "content": fixture.text}],
                )
            except Exception as exc:  # noqa: BLE001 - a failed article scores as empty
                error = {"type": type(exc).__name__, "message": str(exc)[:300]}
                return Result(doc_id=fixture.id, error=error)
            return Result(doc_id=fixture.id, events=extraction.events, claims=extraction.claims)

        try:
            return await in_flight(fixtures, one)
        finally:
            await client.close()

    return asyncio.run(main())


def langextract_examples() -> list[dict[str, Any]]:
    """The harness prompt's own example article, as LangExtract extractions (JSON-able)."""
    root = ROOT / "prompts" / "news"
    events = json.loads((root / "events" / "examples.json").read_text(encoding="utf-8"))
    claims = json.loads((root / "claims" / "examples.json").read_text(encoding="utf-8"))
    examples = []
    for ev, cl in zip(events, claims):
        items = []
        for e in ev["output"]["events"]:
            items.append({"class": "event", "text": e["trigger"], "attributes": {
                "type": e["type"], "status": e.get("status", "occurred"),
                "date": (e.get("date") or {}).get("text") or "",
                "location": (e.get("location") or {}).get("name") or "",
                "killed": str((e.get("fatalities") or {}).get("killed") or ""),
                "injured": str((e.get("fatalities") or {}).get("injured") or ""),
                "actors": "; ".join(a["name"] for a in e.get("actors", [])),
            }})
        for c in cl["output"]["claims"]:
            items.append({"class": "claim", "text": c["content"], "attributes": {
                "speaker": c["speaker"].get("name") or "", "role": c["speaker"].get("role") or "",
                "kind": c["kind"], "cue": c["cue"],
            }})
        examples.append({"text": ev["text"], "extractions": items})
    return examples


LANGEXTRACT_PROMPT = (
    "Extract, in order of appearance, every EVENT the news article reports (attributes: type from "
    "the taxonomy of the example, status, date, location, killed, injured, actors) and every "
    "CLAIM it attributes to a person or body (attributes: speaker, role, kind direct/indirect, "
    "cue). Use exact text from the article for each extraction; do not paraphrase."
)


def langextract_worker(job: Path) -> None:
    """Inside LangExtract's virtualenv: no harness imports. Prints one JSON line."""
    import logging

    import langextract as lx

    logging.disable(logging.WARNING)
    spec = json.loads(job.read_text(encoding="utf-8"))
    examples = [
        lx.data.ExampleData(text=ex["text"], extractions=[
            lx.data.Extraction(extraction_class=i["class"], extraction_text=i["text"], attributes=i["attributes"])
            for i in ex["extractions"]])
        for ex in spec["examples"]
    ]  # fmt: skip
    docs = [lx.data.Document(text=d["text"], document_id=d["id"]) for d in spec["docs"]]
    out = {}
    # The provider is named: from a local model's id LangExtract would pick its Ollama provider.
    config = lx.factory.ModelConfig(model_id=spec["model"], provider="OpenAILanguageModel", provider_kwargs={
        "api_key": "none", "base_url": spec["url"], "temperature": 0.0, "max_workers": IN_FLIGHT,
        "max_tokens": spec["max_tokens"],
    })  # fmt: skip
    for doc in lx.extract(
        text_or_documents=docs, prompt_description=spec["prompt"], examples=examples,
        config=config, fence_output=False, use_schema_constraints=False, max_char_buffer=1000,
        batch_length=IN_FLIGHT, max_workers=IN_FLIGHT, show_progress=False,
    ):  # fmt: skip
        out[doc.document_id] = [
            {"class": e.extraction_class, "text": e.extraction_text, "attributes": e.attributes or {},
             "start": e.char_interval.start_pos if e.char_interval else None,
             "end": e.char_interval.end_pos if e.char_interval else None}
            for e in doc.extractions or []
        ]  # fmt: skip
    print(json.dumps(out))


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _span(item: dict[str, Any], text: str) -> Any:
    from schemas import Grounding, Span

    start, end = item.get("start"), item.get("end")
    if start is None or end is None:
        return Span(text=item["text"])  # located by the harness's grounder before scoring
    level = Grounding.exact if text[start:end] == item["text"] else Grounding.fuzzy
    return Span(text=item["text"], start=start, end=end, grounding=level,
                matched=None if level == Grounding.exact else text[start:end])


def langextract_result(doc_id: str, items: list[dict[str, Any]], text: str) -> Any:
    """LangExtract's extractions as a Result, so the same scorer reads them."""
    from schemas import Actor, Claim, Event, EventDate, Fatalities, Location, Result, Speaker
    from schemas.taxonomy import EventType

    events, claims = [], []
    for item in items:
        attrs = {k: (", ".join(v) if isinstance(v, list) else str(v)) for k, v in item["attributes"].items()}
        if item["class"] == "event":
            kind = attrs.get("type", "")
            status = attrs.get("status", "occurred")
            events.append(Event(
                id=f"e{len(events) + 1}",
                type=kind if kind in EventType._value2member_map_ else "strategic.other",
                status=status if status in ("occurred", "announced", "planned", "threatened", "denied", "hypothetical") else "occurred",
                summary=item["text"], trigger=_span(item, text),
                date=EventDate(text=attrs.get("date") or None),
                location=Location(text=attrs.get("location") or None, name=attrs.get("location") or None),
                actors=[Actor(name=n.strip()) for n in attrs.get("actors", "").split(";") if n.strip()],
                fatalities=Fatalities(killed=_int(attrs.get("killed")), injured=_int(attrs.get("injured"))),
            ))  # fmt: skip
        elif item["class"] == "claim":
            name, role = attrs.get("speaker") or None, attrs.get("role") or None
            claims.append(Claim(
                id=f"c{len(claims) + 1}", content=_span(item, text),
                kind="direct" if attrs.get("kind") == "direct" else "indirect",
                speaker=Speaker(name=name, role=role if (name or role) else "unknown"),
                cue=attrs.get("cue") or "said",
            ))  # fmt: skip
    return Result(doc_id=doc_id, events=events, claims=claims)


def run_langextract(fixtures: list[Any], settings: Any, url: str, model: str, python: Path) -> dict[str, Any]:
    from schemas import Result

    job = OUT / "langextract_job.json"
    job.write_text(json.dumps({
        "docs": [{"id": f.id, "text": f.text} for f in fixtures], "examples": langextract_examples(),
        "prompt": LANGEXTRACT_PROMPT, "url": url, "model": model, "max_tokens": settings.max_tokens,
    }), encoding="utf-8")  # fmt: skip
    done = subprocess.run([str(python), __file__, "--langextract-worker", str(job)],
                          capture_output=True, text=True, timeout=7200)
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["failed"])[-1][:300]
        return {f.id: Result(doc_id=f.id, error={"type": "LangExtractError", "message": message}) for f in fixtures}
    items = json.loads(done.stdout.strip().splitlines()[-1])
    return {f.id: langextract_result(f.id, items.get(f.id, []), f.text) for f in fixtures}


# --- scoring ------------------------------------------------------------------------------------


def score(system: str, results: dict[str, Any], fixtures: list[Any], wall: float,
          tokens: tuple[int, ...] | None) -> dict[str, Any]:
    from harness.evaluation.scoring import aggregate, score_document
    from harness.grounding import ground_spans

    docs = []
    for fixture in fixtures:
        result = results[fixture.id]
        if result.error is None and system != "harness":
            ground_spans(result, fixture.text)  # offsets for the scorer; nothing is dropped
        docs.append(score_document(None if result.error else result, fixture.gold, fixture.text))
    micro = aggregate(docs).micro
    items = sum(len(r.events) + len(r.claims) for r in results.values())
    n = len(fixtures)
    row = {
        "system": system, "articles": n,
        "failed": sum(r.error is not None for r in results.values()),
        "event_f1": micro["event_f1"], "claim_f1": micro["claim_f1"],
        "event_precision": micro["event_precision"], "event_recall": micro["event_recall"],
        "claim_precision": micro["claim_precision"], "claim_recall": micro["claim_recall"],
        "claim_speaker": micro["claim_speaker"], "claim_content_exact": micro["claim_content_exact"],
        "items": items, "invented": int(micro["invented_items"]),
        "invented_rate": micro["invented_items"] / items if items else 0.0,
        "seconds_per_article": wall / n,
    }  # fmt: skip
    if tokens is not None:
        row |= {"prompt_tokens_per_article": tokens[0] / n, "completion_tokens_per_article": tokens[1] / n,
                "cached_prompt_tokens_per_article": tokens[2] / n}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", nargs="+", default=list(DEFAULT_FIXTURES), metavar="GLOB")
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--langextract-python", type=Path, default=LANGEXTRACT_PYTHON)
    parser.add_argument("--json", type=Path, default=OUT / "quality.json")
    parser.add_argument("--langextract-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.langextract_worker:
        langextract_worker(args.langextract_worker)
        return

    from harness.config import Settings
    from harness.evaluation.fixtures import FIXTURES_DIR, iter_fixtures

    settings = Settings.from_env()
    fixtures = [f for f in iter_fixtures(FIXTURES_DIR) if any(fnmatch.fnmatch(f.id, g) for g in args.fixtures)]
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with model_server(settings) as (url, model):
        for system in args.systems:
            if system == "langextract" and not args.langextract_python.exists():
                print(f"skip langextract: {args.langextract_python} not found (see bench/README.md)", file=sys.stderr)
                continue
            before = server_tokens(url)
            started = time.monotonic()
            if system == "harness":
                results = run_harness(fixtures, settings, url, model)
            elif system == "instructor":
                results = run_instructor(fixtures, settings, url, model)
            else:
                results = run_langextract(fixtures, settings, url, model, args.langextract_python)
            wall = time.monotonic() - started
            after = server_tokens(url)
            tokens = None if before is None or after is None else tuple(a - b for a, b in zip(after, before))
            rows.append(score(system, results, fixtures, wall, tokens))
            print(json.dumps(rows[-1]), file=sys.stderr)
    report = {"model": model, "fixtures": [f.id for f in fixtures], "in_flight": IN_FLIGHT, "rows": rows}
    args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
