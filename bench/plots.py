"""PNG charts from the benchmarks' JSON: throughput vs concurrency, and RSS vs documents done.

    python bench/plots.py [--throughput bench/out/throughput.json] [--memory bench/out/memory.json]

Writes ``bench/out/throughput.png`` (documents per second against concurrency, log-log, one line
per client and the ideal ``concurrency / delay``) and, when its JSON exists,
``bench/out/memory.png`` (resident memory of ``harness extract`` against Results written).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
STYLE = {
    "harness": ("C0", "o"),
    "instructor": ("C1", "s"),
    "instructor-2pass": ("C2", "^"),
    "langextract": ("C3", "D"),
}


def plot_throughput(data: dict, path: Path) -> Path:
    rows = data["rows"]
    delay = rows[0]["delay_s"]
    fig, (ax, ax_cpu) = plt.subplots(1, 2, figsize=(11, 4.5))
    levels = sorted({r["concurrency"] for r in rows})
    ax.plot(levels, [c / delay for c in levels], "k--", label=f"ideal (concurrency / {delay:g} s)")
    for framework in dict.fromkeys(r["framework"] for r in rows):
        mine = sorted(
            (r for r in rows if r["framework"] == framework), key=lambda r: r["concurrency"]
        )
        color, marker = STYLE.get(framework, (None, "x"))
        for axis, metric in ((ax, "docs_per_s"), (ax_cpu, "cpu_ms_per_doc")):
            axis.plot(
                [r["concurrency"] for r in mine],
                [r[metric] for r in mine],
                marker=marker,
                color=color,
                label=framework,
            )
    for axis in (ax, ax_cpu):
        axis.set_xscale("log", base=2)
        axis.set_xticks(levels, [str(c) for c in levels])
        axis.set_xlabel("concurrency (documents in flight)")
        axis.grid(True, alpha=0.3)
    ax.set_yscale("log")
    ax.set_ylabel("documents per second")
    ax.set_title(
        f"Throughput, {rows[0]['docs']} x {rows[0]['chars']}-char docs, server delay {delay:g} s"
    )
    ax.legend(fontsize=8)
    ax_cpu.set_yscale("log")
    ax_cpu.set_ylabel("client CPU ms per document")
    ax_cpu.set_title("Client CPU per document")
    machine = data.get("machine", {})
    fig.text(
        0.01,
        0.01,
        f"{machine.get('cpu', '')}, {machine.get('cores', '?')} cores, shared with a "
        "running llama-server; SYNTHETIC documents",
        fontsize=7,
        color="gray",
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_memory(data: dict, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for row in data["rows"]:
        samples = row["samples"]
        ax.plot(
            [s["docs_done"] for s in samples],
            [s["rss_mib"] for s in samples],
            marker=".",
            label=f"{row['docs']:,} documents (peak {row['peak_rss_mib']:.0f} MiB)",
        )
    ax.set_xlabel("Results written")
    ax.set_ylabel("RSS of harness extract (MiB)")
    ax.set_ylim(bottom=0)
    ax.set_title("harness extract on a JSONL input: memory while streaming")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--throughput", type=Path, default=OUT / "throughput.json")
    parser.add_argument("--memory", type=Path, default=OUT / "memory.json")
    args = parser.parse_args()
    if args.throughput.exists():
        print(plot_throughput(json.loads(args.throughput.read_text()), OUT / "throughput.png"))
    if args.memory.exists():
        print(plot_memory(json.loads(args.memory.read_text()), OUT / "memory.png"))


if __name__ == "__main__":
    main()
