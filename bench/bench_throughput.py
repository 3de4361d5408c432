"""Throughput and client-side CPU per document against a server with a fixed latency.

200 SYNTHETIC 5,000-character articles (sentences of ``evals/fixtures/*/article.txt`` shuffled
and repeated; ids ``synthetic-NNNN``) go through, at each concurrency:

- ``harness``: ``harness.batch.run_extract`` (the CLI's code path: JSONL in, two passes per
  chunk sent together, instructor validation, grounding, merge, policy, JSONL written),
  ``HARNESS_CHUNK_CHARS=6000`` so one document = one chunk = 2 requests;
- ``instructor``: a plain loop, ``instructor.from_openai(AsyncOpenAI)``, ``Mode.JSON_SCHEMA``,
  ``schemas.Extraction``, ``asyncio.gather`` under a semaphore: 1 request per document;
- ``instructor-2pass``: the same loop sending the harness's two requests (events pass and claims
  pass, gathered), so it makes exactly the harness's HTTP calls without its other work;
- ``httpx-2pass``, ``aiohttp-2pass``: the harness's two request bodies posted with bare httpx or
  bare aiohttp (the ceilings of the two HTTP stacks; the harness sends through the openai SDK
  on aiohttp's transport);
- ``langextract``: LangExtract 1.7.1 (its OpenAI provider, ``model_url`` = the server), run in
  its own virtualenv (``--langextract-python``; its google-genai needs tenacity<9.2.0, the
  harness pins 9.2.1), ``batch_length = max_workers = concurrency``, one chunk per document.

The server (``bench/delayed_server.py``) is a separate process and answers every request after
``--delay`` seconds, so the ideal is ``concurrency / delay`` documents per second for every
client (a document's requests go out together). Each row (client, concurrency) runs in a fresh
process, warmed up first on 8 documents at 4 (imports, schema building, connection pools: not
timed). CPU is that process's user+system time (``time.process_time``) over the timed run
divided by documents: everything the client does (HTTP client, JSON, validation, grounding,
writing), not the server. For the harness, ``StageClock`` also counts, in the same run, the CPU
of its own stages (reading, chunking and prompt, parsing and validation, grounding, checks and
recovery, writing): ``own_cpu_s`` and ``stage_cpu_s`` in the JSON, "own ms/doc" printed.

    python bench/bench_throughput.py [--docs 200] [--delay 0.2] [--concurrency 1 4 16 64]
        [--frameworks harness instructor instructor-2pass httpx-2pass aiohttp-2pass langextract] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
FIXTURES = ROOT / "evals" / "fixtures"
LANGEXTRACT_PYTHON = Path("/tmp/le-venv/bin/python")
FRAMEWORKS = ("harness", "instructor", "instructor-2pass", "httpx-2pass", "aiohttp-2pass", "langextract")


# --- corpus ------------------------------------------------------------------------------------
def fixture_sentences(root: Path = FIXTURES) -> list[str]:
    sentences = []
    for path in sorted(root.glob("*/article.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            sentences += [
                s.strip() for s in re.split(r"(?<=[.!?])\s+", line) if len(s.strip()) > 30
            ]
    return sentences


def build_corpus(count: int, chars: int, seed: int = 7) -> list[dict[str, str]]:
    """``count`` SYNTHETIC articles of about ``chars`` characters, paragraphs of fixture sentences."""
    rng = random.Random(seed)
    sentences = fixture_sentences()
    docs = []
    for i in range(count):
        paragraphs, size = [], 0
        while size < chars:
            paragraph = " ".join(rng.sample(sentences, k=min(4, len(sentences))))
            paragraphs.append(paragraph)
            size += len(paragraph) + 2
        text = "\n\n".join(paragraphs)
        cut = text.rfind(". ", 0, chars)
        docs.append(
            {
                "id": f"synthetic-{i:05d}",
                "title": f"SYNTHETIC benchmark article {i}",
                "source": "synthetic (bench: fixture sentences shuffled)",
                "text": text[: cut + 1] if cut > chars // 2 else text[:chars],
            }
        )
    return docs


def write_jsonl(docs: list[dict[str, str]], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for doc in docs:
            out.write(json.dumps(doc) + "\n")
    return path


# --- the server ------------------------------------------------------------------------------
def proc_cpu_s(pid: int) -> float:
    """User+system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def delayed_server(delay: float, impl: str = "aiohttp") -> Iterator[tuple[str, int]]:
    """(base_url, pid) of ``bench/delayed_server.py`` running in its own process."""
    proc = subprocess.Popen(
        [
            "nice",
            "-n",
            "19",
            sys.executable,
            str(ROOT / "bench" / "delayed_server.py"),
            "--delay",
            str(delay),
            "--impl",
            impl,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip() if proc.stdout else ""
        if not url.startswith("http"):
            raise RuntimeError(f"delayed_server did not start (exit {proc.poll()})")
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- clients -----------------------------------------------------------------------------------
def _measure(run: Any) -> tuple[Any, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    value = run()
    return value, time.perf_counter() - wall, time.process_time() - cpu


class StageClock:
    """CPU seconds (``time.process_time``) inside the harness's own synchronous stages, by stage,
    counted in the same run as the totals: the issue's "own CPU time per document (parsing,
    validation, grounding, writing)". The rest of the process's CPU is the HTTP client (openai
    SDK on aiohttp), the event loop and instructor's request handling. Each wrapped call costs
    two clock reads (0.2 us each); an outer stage's clock does not count again inside another."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._outer = False

    @contextlib.contextmanager
    def timing(self, stage: str) -> Iterator[None]:
        if self._outer:
            yield
            return
        self._outer, started = True, time.process_time()
        try:
            yield
        finally:
            self._outer = False
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.process_time() - started

    def wrap(self, owner: Any, name: str, stage: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.timing(stage):
                return original(*args, **kwargs)

        # bound methods of a class (pydantic's classmethods) stay bound; functions become methods
        setattr(owner, name, staticmethod(timed) if hasattr(original, "__self__") else timed)

    def install(self) -> None:
        import harness.batch
        from harness.endpoint import _response_model
        from harness.output import JsonlSink
        from harness.pipeline import Extractor
        from harness.prompting import Pass, PromptTemplate

        read = harness.batch.iter_documents

        def timed_read(*args: Any, **kwargs: Any) -> Iterator[Any]:
            items = read(*args, **kwargs)
            while True:
                with self.timing("read input"):
                    item = next(items, None)
                if item is None:
                    return
                yield item

        harness.batch.iter_documents = timed_read
        self.wrap(Extractor, "_plan", "chunk + prompt")
        self.wrap(Pass, "messages", "chunk + prompt")
        for pass_ in PromptTemplate.load("news").passes:  # what instructor validates the answer with
            self.wrap(_response_model(pass_.output_model), "model_validate_json", "parse + validate")
        self.wrap(Extractor, "_ground_chunk", "combine + ground")
        self.wrap(Extractor, "_finish", "checks, quotes, policy, Result")
        self.wrap(JsonlSink, "write", "write JSONL")


STAGE_CLOCK = StageClock()


def run_harness(jsonl: Path, url: str, concurrency: int, out: Path) -> dict[str, Any]:
    from harness.batch import run_extract
    from harness.config import Settings
    from harness.pipeline import Options

    settings = Settings(
        base_url=url,
        model="fake-model",
        mode="json_schema",
        concurrency=concurrency,
        chunk_chars=6000,
        timeout_s=60,
    )
    before = dict(STAGE_CLOCK.seconds)
    report, wall, cpu = _measure(
        lambda: asyncio.run(run_extract([str(jsonl)], settings, Options(), out=out, quiet=True))
    )
    stages = {k: v - before.get(k, 0.0) for k, v in STAGE_CLOCK.seconds.items()}
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    exact = sum(r["grounding"]["exact"] for r in results)
    spans = sum(sum(r["grounding"].values()) for r in results)
    return {
        "docs": report.documents,
        "errors": report.errors,
        "wall_s": wall,
        "cpu_s": cpu,
        "requests_per_doc": 2,
        "own_cpu_s": sum(stages.values()),
        "stage_cpu_s": stages,
        "exact_spans": exact,
        "spans": spans,
    }


def _messages(docs: list[dict[str, str]]) -> list[list[list[dict[str, Any]]]]:
    from harness.prompting import PromptTemplate

    template = PromptTemplate.load("news")
    return [[p.messages(d["text"], d.get("title")) for p in template.passes] for d in docs]


def run_instructor(
    docs: list[dict[str, str]], url: str, concurrency: int, two_pass: bool
) -> dict[str, Any]:
    import instructor
    from openai import AsyncOpenAI

    from schemas import ClaimsPass, EventsPass, Extraction

    per_doc = _messages(docs)  # built before the clock starts: the harness builds its own inside

    async def main() -> list[Any]:
        openai_client = AsyncOpenAI(base_url=url, api_key="none", max_retries=0)
        client = instructor.from_openai(openai_client, mode=instructor.Mode.JSON_SCHEMA)
        semaphore = asyncio.Semaphore(concurrency)

        async def call(messages: list[dict[str, Any]], model: Any) -> Any:
            return await client.chat.completions.create(
                model="fake-model", messages=messages, response_model=model, max_retries=2
            )

        async def one(passes: list[list[dict[str, Any]]]) -> Any:
            async with semaphore:
                if two_pass:
                    return await asyncio.gather(
                        call(passes[0], EventsPass), call(passes[1], ClaimsPass)
                    )
                return await call(passes[0], Extraction)

        try:
            return await asyncio.gather(*(one(p) for p in per_doc), return_exceptions=True)
        finally:
            await openai_client.close()

    outputs, wall, cpu = _measure(lambda: asyncio.run(main()))
    errors = sum(isinstance(o, BaseException) for o in outputs)
    return {
        "docs": len(outputs),
        "errors": errors,
        "wall_s": wall,
        "cpu_s": cpu,
        "requests_per_doc": 2 if two_pass else 1,
    }


def _bodies(docs: list[dict[str, str]]) -> list[list[dict[str, Any]]]:
    """The harness's two request bodies per document, as its endpoint sends them."""
    from harness.decoding import decoding_model
    from harness.prompting import PromptTemplate

    passes = PromptTemplate.load("news").passes
    schemas = [decoding_model(p.output_model).model_json_schema() for p in passes]
    return [
        [
            {"model": "fake-model", "messages": messages, "max_tokens": 1536, "temperature": 0.0,
             "response_format": {"type": "json_schema", "json_schema": {"name": p.output_model.__name__, "schema": schema}}}
            for p, messages, schema in zip(passes, per_pass, schemas)
        ]
        for per_pass in _messages(docs)
    ]  # fmt: skip


def run_bare(docs: list[dict[str, str]], url: str, concurrency: int, library: str) -> dict[str, Any]:
    """The ceiling of an HTTP stack: the harness's two request bodies per document (built before
    the clock starts), posted with ``httpx`` or ``aiohttp`` alone and the answers parsed as JSON;
    no SDK, no validation, nothing else."""
    bodies = _bodies(docs)
    connections = max(64, concurrency * 2)

    async def main() -> list[Any]:
        semaphore = asyncio.Semaphore(concurrency)
        if library == "httpx":
            import httpx2

            session: Any = httpx2.AsyncClient(
                base_url=url, limits=httpx2.Limits(max_connections=connections), timeout=60
            )

            async def post(body: dict[str, Any]) -> Any:
                return (await session.post("/chat/completions", json=body)).raise_for_status().json()

        else:
            import aiohttp

            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections))

            async def post(body: dict[str, Any]) -> Any:
                async with session.post(f"{url}/chat/completions", json=body) as answer:
                    answer.raise_for_status()
                    return await answer.json()

        async def one(requests: list[dict[str, Any]]) -> Any:
            async with semaphore:
                return await asyncio.gather(*(post(b) for b in requests))

        try:
            return await asyncio.gather(*(one(b) for b in bodies), return_exceptions=True)
        finally:
            await (session.aclose() if library == "httpx" else session.close())

    outputs, wall, cpu = _measure(lambda: asyncio.run(main()))
    return {
        "docs": len(outputs),
        "errors": sum(isinstance(o, BaseException) for o in outputs),
        "wall_s": wall,
        "cpu_s": cpu,
        "requests_per_doc": 2,
    }


def langextract_worker(jsonl: Path, url: str, concurrency: int) -> dict[str, Any]:
    """Runs inside LangExtract's own virtualenv (no harness imports here)."""
    import logging

    import langextract as lx

    logging.disable(logging.WARNING)
    docs = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    sentence = "The army said on Monday that the bridge had been destroyed by shelling overnight."
    examples = [
        lx.data.ExampleData(
            text=sentence,
            extractions=[
                lx.data.Extraction(
                    extraction_class="event",
                    extraction_text=sentence,
                    attributes={"type": "strategic.other", "status": "occurred"},
                ),
                lx.data.Extraction(
                    extraction_class="claim",
                    extraction_text=sentence,
                    attributes={"speaker": "The army", "cue": "said"},
                ),
            ],
        )
    ]

    def run() -> list[Any]:
        return list(
            lx.extract(
                text_or_documents=[
                    lx.data.Document(text=d["text"], document_id=d["id"]) for d in docs
                ],
                prompt_description="Extract the events the news article reports and the claims it attributes.",
                examples=examples,
                model_id="gpt-4o-mini",
                api_key="none",
                model_url=url,
                fence_output=False,
                use_schema_constraints=False,
                max_char_buffer=6000,
                batch_length=concurrency,
                max_workers=concurrency,
                show_progress=False,
            )
        )

    results, wall, cpu = _measure(run)
    aligned = sum(1 for r in results for e in (r.extractions or []) if e.char_interval is not None)
    total = sum(len(r.extractions or []) for r in results)
    return {
        "docs": len(results),
        "errors": sum(1 for r in results if not r.extractions),
        "wall_s": wall,
        "cpu_s": cpu,
        "requests_per_doc": 1,
        "aligned": aligned,
        "extractions": total,
    }


def run_langextract(jsonl: Path, url: str, concurrency: int, python: Path) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), __file__, "--langextract-worker", str(jsonl), url, str(concurrency)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the run -----------------------------------------------------------------------------------
def bench_one(
    framework: str,
    docs: list[dict[str, str]],
    jsonl: Path,
    url: str,
    concurrency: int,
    work: Path,
    langextract_python: Path,
) -> dict[str, Any]:
    if framework == "harness":
        return run_harness(jsonl, url, concurrency, work / f"harness-{concurrency}.jsonl")
    if framework in ("instructor", "instructor-2pass"):
        return run_instructor(docs, url, concurrency, two_pass=framework == "instructor-2pass")
    if framework in ("httpx-2pass", "aiohttp-2pass"):
        return run_bare(docs, url, concurrency, framework.split("-")[0])
    if framework == "langextract":
        return run_langextract(jsonl, url, concurrency, langextract_python)
    raise ValueError(framework)


def row_worker(framework: str, concurrency: int, jsonl: Path, url: str, server_pid: int, work: Path,
               langextract_python: Path) -> dict[str, Any]:
    """One row, in its own process: warm up on 8 documents at 4 (imports, schema building,
    connection pools: not timed), then the timed run, with the server's CPU over it."""
    docs = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    if framework == "harness":
        STAGE_CLOCK.install()
    warm = write_jsonl(docs[:8], work / f"warm-{framework}-{concurrency}.jsonl")
    bench_one(framework, docs[:8], warm, url, 4, work, langextract_python)
    server_cpu = proc_cpu_s(server_pid)
    row = bench_one(framework, docs, jsonl, url, concurrency, work, langextract_python)
    return row | {"server_cpu_s": proc_cpu_s(server_pid) - server_cpu}


def run_row(framework: str, concurrency: int, jsonl: Path, url: str, server_pid: int, work: Path,
            langextract_python: Path) -> dict[str, Any]:
    """A fresh process per row: a client measured after another in the same process paid for
    the other's leftovers (the harness at 16: 5.3 ms CPU per document first, 6.3 ms after the
    two instructor loops)."""
    done = subprocess.run(
        [sys.executable, __file__, "--row", framework, str(concurrency), str(jsonl), url, str(server_pid), str(work),
         "--langextract-python", str(langextract_python)],
        capture_output=True, text=True, check=True, timeout=900,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def profile_harness(jsonl: Path, url: str, concurrency: int, work: Path, top: int = 10) -> str:
    import cProfile
    import io
    import pstats

    docs = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    warm = write_jsonl(docs[:8], work / "warm-profile.jsonl")
    run_harness(warm, url, 4, work / "warm-profile-out.jsonl")  # imports and schemas, like a row
    profiler = cProfile.Profile()
    profiler.enable()
    run_harness(jsonl, url, concurrency, work / "profile.jsonl")
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    text.write(
        f"# harness, {concurrency} concurrent, cProfile: own time by package "
        f"(total {total:.2f} s for {len(jsonl.read_text().splitlines())} documents)\n"
    )
    for package, seconds in sorted(_by_package(stats).items(), key=lambda kv: -kv[1])[:12]:
        text.write(f"{package:<28} {seconds:7.3f} s  {100 * seconds / total:5.1f}%\n")
    text.write(
        "\n# stages (cumulative time, overlapping: the endpoint call holds the instructor and openai rows)\n"
    )
    for label, seconds in _stages(stats):
        text.write(f"{label:<60} {seconds:7.3f} s  {100 * seconds / total:5.1f}%\n")
    stats.strip_dirs()
    text.write(f"\n# top {top} functions by own time (tottime)\n")
    stats.sort_stats("tottime").print_stats(top)
    text.write(f"# top {top * 2} by cumulative time\n")
    stats.sort_stats("cumulative").print_stats(top * 2)
    return text.getvalue()


STAGES = (  # (label, file path ending, function name)
    ("harness endpoint call (pipeline._run_pass, all below)", "harness/pipeline.py", "_run_pass"),
    (
        "  instructor: prepare_response_model (schema per call)",
        "instructor/v2/core/response_model.py",
        "prepare_response_model",
    ),
    (
        "  instructor: reject_async_validators (walks the model)",
        "async_validators.py",
        "reject_async_validators",
    ),
    (
        "  openai: async_maybe_transform (request params walk)",
        "openai/_utils/_transform.py",
        "async_maybe_transform",
    ),
    (
        "  harness: decoding model_json_schema (a fresh copy per request)",
        "harness/decoding.py",
        "model_json_schema",
    ),
    ("  DeadlineClient.send (HTTP round trip: httpx2 API, aiohttp transport)", "harness/endpoint.py", "send"),
    ("harness grounding.ground_spans", "harness/grounding.py", "ground_spans"),
    ("harness refine.settle_quotes", "harness/refine.py", "settle_quotes"),
    ("harness quotes.recover_quotes (missed quotations)", "harness/quotes.py", "recover_quotes"),
    ("harness quotes.recover_according_to", "harness/quotes.py", "recover_according_to"),
    ("harness quotes.recover_reported (missed reported speech)", "harness/quotes.py", "recover_reported"),
    ("harness policy.apply_policy", "harness/policy.py", "apply_policy"),
    ("harness output JsonlSink.write (serialise + fsync)", "harness/output.py", "write"),
    ("  os.fsync", "~", "<built-in method posix.fsync>"),
    ("harness documents.iter_documents (read JSONL)", "harness/documents.py", "iter_jsonl"),
)


def _stages(stats: Any) -> list[tuple[str, float]]:
    rows = []
    for label, suffix, name in STAGES:
        seconds = sum(
            row[3]
            for (filename, _l, func), row in stats.stats.items()
            if func == name and filename.endswith(suffix)
        )
        rows.append((label, seconds))
    return rows


def _by_package(stats: Any) -> dict[str, float]:
    """Own time summed by where the code lives: a site-packages package, harness/, schemas/."""
    totals: dict[str, float] = {}
    for (filename, _line, _name), row in stats.stats.items():
        if "site-packages/" in filename:
            package = filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
        elif filename.startswith(str(ROOT)):
            package = filename[len(str(ROOT)) + 1 :].split("/", 1)[0] + "/ (this repo)"
        elif filename.startswith("~") or filename.startswith("<"):
            package = "builtins (C calls)"
        else:
            package = "stdlib: " + Path(filename).stem
        totals[package] = totals.get(package, 0.0) + row[2]
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--chars", type=int, default=5000)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--frameworks", nargs="+", default=list(FRAMEWORKS), choices=FRAMEWORKS)
    parser.add_argument("--impl", default="aiohttp", choices=("aiohttp", "threaded"))
    parser.add_argument("--langextract-python", type=Path, default=LANGEXTRACT_PYTHON)
    parser.add_argument("--profile", action="store_true", help="also cProfile the harness at 16")
    parser.add_argument("--json", type=Path, default=OUT / "throughput.json")
    parser.add_argument("--langextract-worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--row", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.langextract_worker:
        path, url, concurrency = args.langextract_worker
        print(json.dumps(langextract_worker(Path(path), url, int(concurrency))))
        return
    if args.row:
        framework, concurrency, path, url, server_pid, work = args.row
        print(json.dumps(row_worker(framework, int(concurrency), Path(path), url, int(server_pid),
                                    Path(work), args.langextract_python)))
        return
    frameworks = [
        f for f in args.frameworks if f != "langextract" or args.langextract_python.exists()
    ]
    docs = build_corpus(args.docs, args.chars)
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        delayed_server(args.delay, args.impl) as (url, server_pid),
    ):
        work = Path(tmp)
        jsonl = write_jsonl(docs, work / "docs.jsonl")
        print(
            f"{'framework':<17} {'conc':>4} {'docs':>5} {'err':>4} {'wall s':>7} {'docs/s':>7} "
            f"{'ideal':>6} {'% ideal':>7} {'CPU ms/doc':>10} {'own ms/doc':>10} {'server CPU ms/doc':>17}"
        )
        for concurrency in args.concurrency:
            for framework in frameworks:
                row = run_row(framework, concurrency, jsonl, url, server_pid, work, args.langextract_python)
                row |= {
                    "framework": framework,
                    "concurrency": concurrency,
                    "delay_s": args.delay,
                    "chars": args.chars,
                    "server": args.impl,
                    "loadavg": os.getloadavg()[0],
                }
                row["docs_per_s"] = row["docs"] / row["wall_s"]
                row["ideal_docs_per_s"] = concurrency / args.delay
                row["cpu_ms_per_doc"] = 1000 * row["cpu_s"] / row["docs"]
                own = f"{1000 * row['own_cpu_s'] / row['docs']:>10.2f}" if "own_cpu_s" in row else f"{'':>10}"
                rows.append(row)
                print(
                    f"{framework:<17} {concurrency:>4} {row['docs']:>5} {row['errors']:>4} "
                    f"{row['wall_s']:>7.2f} {row['docs_per_s']:>7.1f} {row['ideal_docs_per_s']:>6.0f} "
                    f"{100 * row['docs_per_s'] / row['ideal_docs_per_s']:>6.0f}% "
                    f"{row['cpu_ms_per_doc']:>10.2f} {own} {1000 * row['server_cpu_s'] / row['docs']:>17.2f}",
                    flush=True,
                )
        if args.profile:
            profile = profile_harness(jsonl, url, 16, work)
            (OUT / "profile_harness.txt").write_text(profile, encoding="utf-8")
            print(profile)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"rows": rows, "machine": machine()}, indent=2), encoding="utf-8"
    )


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    mem_kb = int(
        next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "python": sys.version.split()[0],
    }


if __name__ == "__main__":
    main()
