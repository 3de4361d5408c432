"""PNG charts from the benchmarks' JSON: throughput vs concurrency, and RSS vs documents done.

    python bench/plots.py [--throughput bench/out/throughput.json] [--memory bench/out/memory.json]
        [--quality bench/out/quality.json]

Writes ``bench/out/throughput.png`` (documents per second against concurrency, log-log, one line
per client and the ideal ``concurrency / delay``) and, when their JSON exists,
``bench/out/memory.png`` (resident memory of ``harness extract`` against Results written) and
``bench/out/quality.png`` (event and claim F1, invented-item rate and time per article of each
system in the live quality comparison).
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
    "httpx-2pass": ("C7", "v"),
    "aiohttp-2pass": ("C8", "P"),
    "langextract": ("C3", "D"),
}


def plot_throughput(data: dict, path: Path) -> Path:
    rows = data["rows"]
    delay = rows[0]["delay_s"]
    fig, (ax, ax_cpu) = plt.subplots(1, 2, figsize=(14, 4.5))
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
        if any("own_cpu_s" in r for r in mine):
            ax_cpu.plot(
                [r["concurrency"] for r in mine if "own_cpu_s" in r],
                [1000 * r["own_cpu_s"] / r["docs"] for r in mine if "own_cpu_s" in r],
                marker=marker, color=color, linestyle=":",
                label=f"{framework}: own stages (parse, validate, ground, write)",
            )
    ax_cpu.axhline(5, color="gray", linewidth=0.8, linestyle="--", label="target: 5 ms")
    ax_cpu.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
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
        f"{machine.get('cpu', '')}, {machine.get('cores', '?')} cores, load average before the rows "
        f"{min(r['loadavg'] for r in rows):.1f}-{max(r['loadavg'] for r in rows):.1f}; SYNTHETIC documents",
        fontsize=7,
        color="gray",
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110, bbox_inches="tight")  # the legend beside the axes
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


def plot_quality(data: dict, path: Path) -> Path:
    rows = data["rows"]
    names = [r["system"] for r in rows]
    fig, (ax, ax_bad, ax_time) = plt.subplots(1, 3, figsize=(12, 4))
    width = 0.38
    for offset, metric, label in ((-width / 2, "event_f1", "event F1"), (width / 2, "claim_f1", "claim F1")):
        ax.bar([i + offset for i in range(len(rows))], [r[metric] or 0 for r in rows], width, label=label)
    ax.set_ylim(0, 1)
    ax.set_title("F1 against the gold labels (higher is better)")
    ax.legend(fontsize=8)
    ax_bad.bar(names, [r["invented_rate"] for r in rows], color=[STYLE.get(n, ("C7",))[0] for n in names])
    ax_bad.set_title("invented items / items output (lower is better)")
    ax_time.bar(names, [r["seconds_per_article"] for r in rows], color=[STYLE.get(n, ("C7",))[0] for n in names])
    ax_time.set_title("seconds per article (4 in flight)")
    for axis in (ax, ax_bad, ax_time):
        axis.set_xticks(range(len(rows)), names)
        axis.grid(True, axis="y", alpha=0.3)
    fig.text(0.01, 0.01, f"{data['model']} on {len(data['fixtures'])} eval fixtures, live, same server",
             fontsize=7, color="gray")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--throughput", type=Path, default=OUT / "throughput.json")
    parser.add_argument("--memory", type=Path, default=OUT / "memory.json")
    parser.add_argument("--quality", type=Path, default=OUT / "quality.json")
    args = parser.parse_args()
    if args.throughput.exists():
        print(plot_throughput(json.loads(args.throughput.read_text()), OUT / "throughput.png"))
    if args.memory.exists():
        print(plot_memory(json.loads(args.memory.read_text()), OUT / "memory.png"))
    if args.quality.exists():
        print(plot_quality(json.loads(args.quality.read_text()), OUT / "quality.png"))


if __name__ == "__main__":
    main()
