"""``harness eval``: run every fixture through the real pipeline, replayed or live, and score it.

Replay (the default) needs no network and no key: each fixture's requests are answered from
its cassette, matched on the request body, so a changed prompt, schema or model is reported as
a stale cassette instead of silently replaying an old answer.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from schemas import Result

from ..config import Settings
from ..documents import Document
from ..endpoint import Endpoint
from ..errors import HarnessError
from ..output import dump_pretty
from ..pipeline import Extractor, Options
from ..prompting import PromptTemplate
from ..session import open_endpoint
from .cassettes import RECORD_HINT, STALE_MARKERS, cassette_path, use_cassette
from .compare_scoring import pair_table, score_all_pairs
from .fixtures import FIXTURES_DIR, SPLITS, Fixture, iter_fixtures
from .gate import (
    compare_to_baseline,
    fixtures_of,
    load_baseline,
    render_diff,
    save_baseline,
    update_baseline,
)
from .report import render_text, summary_to_dict, write_reports
from .scoring import DocScore, Summary, aggregate, score_document

REPLAY_URL = "http://127.0.0.1:8080/v1"  # never contacted: every request is answered by vcrpy
BASELINE = Path(__file__).resolve().parents[2] / "evals" / "baseline.json"


@dataclass
class EvalRun:
    model: str
    prompt: str
    prompt_sha256: str
    results: dict[str, Result] = field(default_factory=dict)
    stale: dict[str, str] = field(default_factory=dict)  # fixture id -> message
    missing: list[str] = field(default_factory=list)  # fixtures with no cassette


def document_for(fixture: Fixture) -> Document:
    meta = fixture.meta
    return Document(meta.id, fixture.text, meta.title, meta.published, meta.source)


async def _run_one(settings: Settings, base_url: str, model: str, template: PromptTemplate,
                   fixture: Fixture, cassette: Path | None, record_mode: str,
                   options: Options = Options(), reuse: Path | None = None) -> Result:
    # A fresh endpoint per fixture: each cassette holds its own mode negotiation.
    endpoint = Endpoint(settings, base_url, model, settings.api_key)
    extractor = Extractor(settings, endpoint, template, options)
    try:
        if cassette is None:
            return await extractor.run_one(document_for(fixture))
        cassette.parent.mkdir(parents=True, exist_ok=True)
        if reuse is not None and reuse.is_file() and reuse.resolve() != cassette.resolve():
            # Requests identical to an earlier recording's (a pass whose prompt did not change)
            # replay its real responses; only the others go to the endpoint.
            shutil.copyfile(reuse, cassette)
            record_mode = "new_episodes"
        with use_cassette(cassette, record_mode, endpoint.secrets, drop_unused=reuse is not None):
            return await extractor.run_one(document_for(fixture))
    finally:
        await endpoint.aclose()


async def run_fixtures(fixtures: list[Fixture], settings: Settings, *, live: bool = False,
                       record: bool = False, prompt: str = "news",
                       options: Options = Options(), template: PromptTemplate | None = None,
                       reuse: Path | None = None) -> EvalRun:
    """Every fixture through the pipeline; replayed from cassettes unless ``live``. ``template``
    (one already loaded, from any folder) replaces the ``prompt`` named. ``reuse`` (with
    ``record``): a folder of earlier cassettes whose interactions are replayed where the request
    is the same, so only the calls that changed are recorded anew."""
    template = template or PromptTemplate.load(prompt)
    if not live:
        model = settings.model or settings.local_model  # HARNESS_MODEL, or the embedded model's name
        run = EvalRun(model, template.name, template.sha256)
        replay = settings.with_(retries=0)  # a missing recording must fail at once
        for fixture in fixtures:
            path = cassette_path(model, template.name, template.sha256, fixture.id, settings.cassettes_dir)
            if not path.is_file():
                run.missing.append(fixture.id)  # not recorded for this model and prompt
                continue
            result = await _run_one(replay, REPLAY_URL, model, template, fixture, path, "none", options)
            _note_stale(run, fixture.id, path, result)
            run.results[fixture.id] = result
        return run
    async with open_endpoint(settings) as (endpoint, _health):
        run = EvalRun(endpoint.model, template.name, template.sha256)
        for fixture in fixtures:
            path = (cassette_path(endpoint.model, template.name, template.sha256, fixture.id, settings.cassettes_dir)
                    if record else None)
            print(f"harness eval: {fixture.id} ...", file=sys.stderr, flush=True)
            result = await _run_one(settings, endpoint.base_url, endpoint.model, template, fixture,
                                    path, "all", options, reuse / f"{fixture.id}.yaml" if reuse else None)
            run.results[fixture.id] = result
        return run


def _note_stale(run: EvalRun, fixture_id: str, path: Path, result: Result) -> None:
    if result.error and any(marker in result.error.message for marker in STALE_MARKERS):
        run.stale[fixture_id] = (
            f"stale cassette {path}: the request no longer matches the recording (the prompt, "
            f"schema, settings or model changed); {RECORD_HINT}"
        )


def scored(run: EvalRun, fixtures: list[Fixture]) -> list[Fixture]:
    """The fixtures a run speaks for: those it has a Result for, or a stale cassette."""
    return [f for f in fixtures if f.id in run.results or f.id in run.stale]


def check_coverage(run: EvalRun, baseline: dict) -> list[str]:
    """Problems: fixtures the baseline covers for this model that have no recording now."""
    covered = fixtures_of(baseline, run.model)
    missing = [f for f in run.missing if covered is None or f in covered]
    return [f"{f}: no cassette for {run.model} with prompt {run.prompt}-{run.prompt_sha256[:12]} "
            f"(the prompt or schema changed, or it was never recorded); {RECORD_HINT}" for f in missing]


def score_run(run: EvalRun, fixtures: list[Fixture]):
    docs = [score_document(run.results.get(f.id), f.gold, f.text) for f in scored(run, fixtures)]
    return aggregate(docs), docs


def split_summaries(docs: list[DocScore], fixtures: list[Fixture]) -> dict[str, Summary]:
    """The scores of each split on its own (``dev`` tuned on, ``test`` reported only), for the
    splits the scored documents cover."""
    split_of = {f.id: f.meta.split for f in fixtures}
    return {
        name: aggregate([d for d in docs if split_of.get(d.doc_id) == name])
        for name in SPLITS if any(split_of.get(d.doc_id) == name for d in docs)
    }


def scored_summary(run: EvalRun, fixtures: list[Fixture]) -> dict[str, object]:
    """``summary_to_dict`` of a run, with its splits: what the gate and the baseline read."""
    summary, docs = score_run(run, fixtures)
    return summary_to_dict(summary, docs, split_summaries(docs, fixtures))


def write_results(folder: Path, run: EvalRun, texts: dict[str, str]) -> None:
    """Each fixture's Result, article text included, as ``<fixture>.json``: the input of
    ``harness compare`` and ``harness view`` on recorded outputs."""
    folder.mkdir(parents=True, exist_ok=True)
    for fixture_id, result in run.results.items():
        with_text = result.model_copy(update={"text": texts[fixture_id]})
        (folder / f"{fixture_id}.json").write_text(dump_pretty(with_text) + "\n", encoding="utf-8")


def eval_main(args, settings: Settings) -> int:
    split = getattr(args, "split", None)
    fixtures = list(iter_fixtures(FIXTURES_DIR, args.fixtures, split))
    if not fixtures:
        raise HarnessError(f"no fixture matches {args.fixtures!r}{f' in split {split}' if split else ''} "
                           f"in {FIXTURES_DIR}")
    if args.record and not args.live:
        raise HarnessError("--record goes with --live: recording needs a real endpoint")
    options = Options(recover_quotes=not args.model_quotes_only)
    repeats = max(1, args.repeat if args.live else 1)
    prompt = getattr(args, "prompt", "news")
    if args.update_baseline and prompt != "news":
        raise HarnessError(f"--update-baseline keeps the shipped prompt's scores; {prompt!r} is compared "
                           "against them, not written over them")
    reuse = getattr(args, "reuse", None)
    if reuse is not None and not args.record:
        raise HarnessError("--reuse goes with --live --record: it seeds the new recordings")
    if reuse is not None and not reuse.is_dir():
        raise HarnessError(f"--reuse {reuse}: not a folder of cassettes")
    runs = [asyncio.run(run_fixtures(fixtures, settings, live=args.live, record=args.record, prompt=prompt,
                                     options=options, reuse=reuse))
            for _ in range(repeats)]
    run = runs[-1]
    baseline = load_baseline(BASELINE)
    problems = [f"{k}: {v}" for k, v in run.stale.items()]
    problems += [] if args.update_baseline else check_coverage(run, baseline)
    for problem in problems:
        print(f"harness eval: {problem}", file=sys.stderr)
    if not run.results:
        raise HarnessError(f"nothing to score: no fixture has a recording for {run.model}; {RECORD_HINT}")
    summary, docs = score_run(run, fixtures)
    splits = split_summaries(docs, fixtures)
    texts = {f.id: f.text for f in fixtures}
    preds = {k: v for k, v in run.results.items() if v.error is None}
    golds = {f.id: f.gold for f in fixtures}
    pairs = score_all_pairs()
    write_reports(args.out, summary, docs, texts, preds, golds, pairs, splits)
    write_results(args.out / "results", run, texts)
    print(render_text(summary, docs, splits=splits))
    Console(width=160).print(pair_table(pairs))
    report = summary_to_dict(summary, docs, splits)
    if args.update_baseline:
        recorded = [f for f in run.results if f not in run.stale]
        save_baseline(BASELINE, update_baseline(baseline, run.model, report, recorded))
        print(f"harness eval: baseline for {run.model} written to {BASELINE}")
        return 0
    gate = compare_to_baseline(report, baseline, run.model)
    print(render_diff(gate))
    if len(runs) > 1:
        passed = sum(compare_to_baseline(scored_summary(r, fixtures), baseline, r.model).passed for r in runs)
        print(f"harness eval: gate passed in {passed}/{len(runs)} live runs")
    print(f"harness eval: reports in {args.out}/ (report.txt, report.json, report.html, results/)")
    return 0 if gate.passed and not problems else 1
