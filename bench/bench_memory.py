"""Peak memory of ``harness extract`` on a large JSONL input: it streams, so RSS stays flat.

The same command runs on the first 1,000 and on all 10,000 lines of one SYNTHETIC JSONL file
(short articles, ~1,500 characters, fixture sentences shuffled; see ``bench_throughput.py``)
against ``bench/delayed_server.py`` (``--delay`` 20 ms), as a subprocess:

    python -m harness extract BIG.jsonl -o out.jsonl --concurrency 16

Peak RSS is the child's own ``ru_maxrss`` (``os.wait4``: that process only, not the server);
RSS is also sampled from ``/proc`` with the number of Results written so far, to show the curve.

    python bench/bench_memory.py [--docs 1000 10000] [--chars 1500] [--delay 0.02] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_throughput import build_corpus, delayed_server, write_jsonl

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def count_lines(path: Path) -> int:
    try:
        with path.open("rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


def extract_command(
    jsonl: Path, out: Path, url: str, concurrency: int
) -> tuple[list[str], dict[str, str]]:
    env = os.environ | {
        "HARNESS_BASE_URL": url,
        "HARNESS_MODEL": "fake-model",
        "HARNESS_MODE": "json_schema",
        "HARNESS_CHUNK_CHARS": "6000",
        "HARNESS_TIMEOUT": "60",
    }
    return [
        sys.executable,
        "-m",
        "harness",
        "extract",
        str(jsonl),
        "-o",
        str(out),
        "--concurrency",
        str(concurrency),
    ], env


def peak_rss(jsonl: Path, out: Path, url: str, concurrency: int) -> dict[str, Any]:
    """Run once, reaped with ``os.wait4``: the peak RSS of that child process alone."""
    command, env = extract_command(jsonl, out, url, concurrency)
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    samples = []
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        rss = rss_kib(proc.pid)
        if rss is not None:
            samples.append(
                {
                    "t_s": round(time.perf_counter() - started, 2),
                    "docs_done": count_lines(out),
                    "rss_mib": round(rss / 1024, 1),
                }
            )
        time.sleep(2.0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": time.perf_counter() - started,
        "exit": proc.returncode,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "results": count_lines(out),
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--chars", type=int, default=1_500)
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", type=Path, default=OUT / "memory.json")
    args = parser.parse_args()
    docs = build_corpus(max(args.docs), args.chars)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, delayed_server(args.delay) as (url, _pid):
        work = Path(tmp)
        big = write_jsonl(docs, work / "big.jsonl")
        print(
            f"{'docs':>6} {'input MiB':>9} {'exit':>4} {'results':>7} {'wall s':>7} {'docs/s':>6} "
            f"{'CPU ms/doc':>10} {'peak RSS MiB':>12}"
        )
        for count in sorted(args.docs):
            jsonl = (
                big
                if count == len(docs)
                else write_jsonl(docs[:count], work / f"docs-{count}.jsonl")
            )
            row = peak_rss(jsonl, work / f"out-{count}.jsonl", url, args.concurrency)
            row |= {
                "docs": count,
                "input_mib": jsonl.stat().st_size / 2**20,
                "chars": args.chars,
                "delay_s": args.delay,
                "concurrency": args.concurrency,
            }
            rows.append(row)
            print(
                f"{count:>6} {row['input_mib']:>9.1f} {row['exit']:>4} {row['results']:>7} {row['wall_s']:>7.1f} "
                f"{count / row['wall_s']:>6.1f} {1000 * row['cpu_s'] / count:>10.2f} {row['peak_rss_mib']:>12.1f}",
                flush=True,
            )
    if len(rows) > 1:
        print(
            f"peak RSS ratio {rows[-1]['docs']} / {rows[0]['docs']} documents: "
            f"{rows[-1]['peak_rss_mib'] / rows[0]['peak_rss_mib']:.2f}"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rows": rows}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
