#!/usr/bin/python3
"""plot_throughput.py — throughput over time of one or more ntron runs
(metrics.jsonl): tokens/s, TFLOP/s per rank and ms/step against step, and the
time split (forward, backward, p2p wait, collectives, optimizer) of rank 0;
PNG plus a Markdown/CSV table (median, min, max tokens/s after the first
logged step, which includes start-up costs).

usage: plot_throughput.py RUN [RUN ...] -o throughput.png [--md FILE] [--csv FILE]
       [--peak TFLOPS]   (adds an MFU column)"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ntpost  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", metavar="RUN", help="run directory or metrics.jsonl")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    ap.add_argument("--md")
    ap.add_argument("--csv")
    ap.add_argument("--peak", type=float, help="peak TFLOP/s per rank for an MFU column")
    ap.add_argument("--label", action="append")
    a = ap.parse_args()
    runs = [ntpost.read_metrics(r) for r in a.runs]
    labels = a.label or [os.path.basename(os.path.dirname(ntpost.metrics_path(r))) or r for r in a.runs]
    plt = ntpost.pyplot()
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
    table = []
    for rows, lab in zip(runs, labels):
        st = [r["step"] for r in rows]
        ax[0].plot(st, [r.get("tokens_per_s", 0) for r in rows], label=lab)
        ax[1].plot(st, [r.get("ms", 0) for r in rows], label=lab)
        body = rows[1:] if len(rows) > 1 else rows
        tps = [r.get("tokens_per_s", 0) for r in body]
        tfl = [r.get("tflops_per_rank", 0) for r in body]
        row = [lab, len(rows), "%.1f" % statistics.median(tps), "%.1f" % min(tps), "%.1f" % max(tps),
               "%.4g" % statistics.median(tfl), "%.1f" % statistics.median([r.get("ms", 0) for r in body])]
        if a.peak:
            row.append("%.2f%%" % (100 * statistics.median(tfl) / a.peak))
        table.append(row)
    rows, lab = runs[0], labels[0]
    parts = [("ms_forward", "forward"), ("ms_backward", "backward"), ("ms_p2p_wait", "p2p wait"),
             ("ms_collectives", "collectives"), ("ms_optimizer", "optimizer")]
    bottom = [0.0] * len(rows)
    st = [r["step"] for r in rows]
    for k, name in parts:
        y = [r.get(k, 0.0) for r in rows]
        ax[2].bar(st, y, bottom=bottom, label=name, width=max(1, (st[-1] - st[0]) / max(1, len(st)) * 0.8))
        bottom = [b + v for b, v in zip(bottom, y)]
    ax[0].set_title("tokens/s"); ax[1].set_title("ms per step"); ax[2].set_title("rank-0 time split, ms (%s)" % lab)
    for axi in ax:
        axi.set_xlabel("step"); axi.grid(alpha=0.3)
    ax[0].legend(); ax[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(a.output, dpi=100)
    hdr = ["run", "logged steps", "median tokens/s", "min", "max", "median TFLOP/s/rank", "median ms/step"]
    if a.peak:
        hdr.append("MFU")
    ntpost.write_table(table, hdr, a.md, a.csv)
    print("wrote %s" % a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
