"""Documents per second through ``harness extract --engine ray`` against the delayed loopback
server, next to ``harness extract --concurrency N`` on the same inputs; what a Ray worker costs
in memory; and the tokens per article of the recorded model runs (for the 10-million plan).

The corpus is ``bench_throughput.py``'s: ``--docs`` SYNTHETIC 5,000-character articles, one
chunk each (``HARNESS_CHUNK_CHARS=6000``), so 2 requests per document; the server
(``bench/delayed_server.py``, its own process) answers every request after ``--delay`` seconds.

Every row is the CLI as a user runs it, a fresh ``python -m harness extract`` process, timed from
its start to its exit (imports, reading, writing included):

- ``process``: ``--concurrency`` 4, 8, 16 (one process, one event loop);
- ``ray``: ``--engine ray --workers W`` for W in 1, 2, 4, each worker with ``--concurrency 4``
  in flight (so W x 4 in flight, the same as the process row beside it), ``--batch-size 8``,
  ``--worker-cpus 0.5``, on a Ray instance this script starts once (``ray.init(num_cpus=4)``)
  and hands to each run by ``RAY_ADDRESS``, as a cluster would be; then the same command once
  more, with everything done (what a rerun that skips everything costs).

Measured: wall seconds and documents/s; the steady rate of the Ray rows (documents written
between the first and the last Result file, from their modification times: the rate once the
actors run, without start-up); client CPU per document (the CLI process's user+system time,
plus, for Ray, that of the extractor actors, read from /proc); peak RSS of the CLI process and
of each extractor actor (``ray::MapWorker(MapBatches(ExtractWorker))``, sampled every 0.2 s).

Tokens per article: the usage recorded in ``cassettes/<model>/<prompt>/*.yaml`` (the embedded
Qwen2.5-Coder-1.5B, every call of each fixture, re-asks included), against the article's length.

    python bench/bench_ray.py [--docs 200] [--delay 0.2] [--workers 1 2 4] [--json bench/out/ray.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_throughput import build_corpus, delayed_server, write_jsonl  # noqa: E402

WORKER_TITLE = "ExtractWorker"
PER_WORKER = 4  # documents in flight per Ray worker (--concurrency)


def proc_stat(pid: int) -> tuple[float, int] | None:
    """(CPU seconds, RSS bytes) of a process, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    tick, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    return (int(fields[11]) + int(fields[12])) / tick, int(fields[21]) * page


def worker_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if WORKER_TITLE in (entry / "cmdline").read_text(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class WorkerSampler:
    """Peak RSS and last CPU time of every extractor actor, every ``every`` seconds."""

    def __init__(self, every: float = 0.2):
        self.every, self.peak, self.cpu = every, {}, {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            for pid in worker_pids():
                stat = proc_stat(pid)
                if stat is not None:
                    self.cpu[pid] = stat[0]
                    self.peak[pid] = max(self.peak.get(pid, 0), stat[1])

    def __enter__(self) -> WorkerSampler:
        self.before = {pid: (proc_stat(pid) or (0.0, 0))[0] for pid in worker_pids()}
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def cpu_s(self) -> float:
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.cpu.items())


def run_cli(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"harness {' '.join(args)} exited {code}: {stderr[-2000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_mb": usage.ru_maxrss / 1024}


def steady_rate(folder: Path) -> float | None:
    """Documents/s between the first and the last Result file written (the first file's own
    documents not counted: its time is when it ended)."""
    files = sorted((p.stat().st_mtime, p.read_bytes().count(b"\n")) for p in folder.glob("*.jsonl"))
    if len(files) < 2 or files[-1][0] <= files[0][0]:
        return None
    return sum(n for _, n in files[1:]) / (files[-1][0] - files[0][0])


def tokens_per_article() -> dict[str, Any]:
    """Usage recorded in the cassettes of the embedded model, per fixture."""
    from vcr.persisters.filesystem import FilesystemPersister
    from vcr.serializers import yamlserializer

    rows = []
    for path in sorted(ROOT.glob("cassettes/qwen2.5-coder-1.5b/news-*/*.yaml")):
        article = ROOT / "evals" / "fixtures" / path.stem / "article.txt"
        if not article.is_file():
            continue
        _, responses = FilesystemPersister.load_cassette(str(path), yamlserializer)
        prompt = completion = calls = 0
        for response in responses:
            usage = json.loads(response["body"]["string"]).get("usage") or {}
            prompt += usage.get("prompt_tokens") or 0
            completion += usage.get("completion_tokens") or 0
            calls += 1
        rows.append({"fixture": path.stem, "chars": len(article.read_text(encoding="utf-8")),
                     "calls": calls, "prompt": prompt, "completion": completion})
    if not rows:
        return {}
    mean = lambda key: statistics.fmean(r[key] for r in rows)  # noqa: E731
    return {"fixtures": len(rows), "cassettes": str(path.parent.relative_to(ROOT)),
            "mean_chars": mean("chars"), "mean_calls": mean("calls"),
            "mean_prompt_tokens": mean("prompt"), "mean_completion_tokens": mean("completion"),
            "median_prompt_tokens": statistics.median(r["prompt"] for r in rows),
            "median_completion_tokens": statistics.median(r["completion"] for r in rows),
            "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "ray.json")
    args = parser.parse_args()

    import ray

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as folder, delayed_server(args.delay) as (url, _pid):
        root = Path(folder)
        corpus = write_jsonl(build_corpus(args.docs, 5000), root / "corpus.jsonl")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "OPENAI_", "RAY_"))}
        env.update(HARNESS_BASE_URL=url, HARNESS_MODEL="fake-model", HARNESS_CHUNK_CHARS="6000",
                   HARNESS_MODE="json_schema", HARNESS_TIMEOUT="60")
        for workers in args.workers:
            concurrency = workers * PER_WORKER
            out = root / f"process-{concurrency}.jsonl"
            result = run_cli(["extract", str(corpus), "-o", str(out), "--concurrency", str(concurrency), "-q"], env)
            rows.append({"engine": "process", "in_flight": concurrency, "docs": args.docs, **result})
            print(_line(rows[-1], args.delay), flush=True)

        ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
        try:
            env["RAY_ADDRESS"] = ray.get_runtime_context().gcs_address
            for workers in args.workers:
                out = root / f"ray-{workers}"
                command = ["extract", str(corpus), "-o", str(out), "--engine", "ray", "--workers", str(workers),
                           "--concurrency", str(PER_WORKER), "--batch-size", "8", "--worker-cpus", "0.5", "-q"]
                with WorkerSampler() as sampler:
                    result = run_cli(command, env)
                written = sum(p.read_bytes().count(b"\n") for p in out.glob("*.jsonl"))
                assert written == args.docs, (written, args.docs)
                peaks = sorted(sampler.peak.values())
                rows.append({"engine": "ray", "workers": workers, "in_flight": workers * PER_WORKER,
                             "docs": args.docs, **result, "worker_cpu_s": sampler.cpu_s,
                             "steady_docs_per_s": steady_rate(out),
                             "worker_rss_mb": [round(p / 2**20, 1) for p in peaks]})
                print(_line(rows[-1], args.delay), flush=True)
                if workers == args.workers[-1]:  # the same command again: everything is done
                    again = run_cli(command, env)
                    rows.append({"engine": "ray (rerun, all done)", "workers": workers, "docs": 0, **again})
                    print(f"ray rerun, all {args.docs} done: {again['wall_s']:.1f} s", flush=True)
        finally:
            ray.shutdown()
    tokens = tokens_per_article()
    if tokens:
        print(f"tokens per article ({tokens['fixtures']} recorded fixtures, {tokens['mean_chars']:.0f} chars): "
              f"prompt {tokens['mean_prompt_tokens']:.0f} (median {tokens['median_prompt_tokens']:.0f}), "
              f"completion {tokens['mean_completion_tokens']:.0f} (median {tokens['median_completion_tokens']:.0f}), "
              f"{tokens['mean_calls']:.1f} calls")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"delay_s": args.delay, "per_worker": PER_WORKER, "rows": rows,
                                     "tokens": tokens}, indent=2) + "\n")
    print(f"wrote {args.json}")


def _line(row: dict[str, Any], delay: float) -> str:
    rate = row["docs"] / row["wall_s"]
    cpu = (row["cpu_s"] + row.get("worker_cpu_s", 0.0)) / row["docs"] * 1000
    text = (f"{row['engine']:8} in flight {row['in_flight']:2}: {row['wall_s']:6.1f} s, {rate:5.1f} docs/s "
            f"(ideal {row['in_flight'] / delay:5.1f}), CPU {cpu:4.0f} ms/doc, CLI RSS {row['maxrss_mb']:.0f} MB")
    if row["engine"] == "ray":
        steady = row["steady_docs_per_s"]
        text += (f", steady {steady:5.1f} docs/s" if steady else "") + f", worker RSS MB {row['worker_rss_mb']}"
    return text


if __name__ == "__main__":
    main()
