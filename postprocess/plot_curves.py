#!/usr/bin/python3
"""plot_curves.py — loss, learning-rate and gradient-norm curves of one or
more ntron runs (metrics.jsonl), as a PNG, plus a Markdown/CSV summary
(first/final/min loss, final lr, steps, tokens) per run.

usage: plot_curves.py RUN [RUN ...] -o curves.png [--md FILE] [--csv FILE]
                      [--x step|tokens] [--label NAME ...]
RUN is a run directory (containing metrics.jsonl) or a metrics.jsonl file."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ntpost  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Writes the PNG and prints the summary table (Markdown).")
    ap.add_argument("runs", nargs="+", metavar="RUN")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    ap.add_argument("--md", help="also write the summary as Markdown")
    ap.add_argument("--csv", help="also write the summary as CSV")
    ap.add_argument("--x", choices=("step", "tokens"), default="step", help="x axis (default step)")
    ap.add_argument("--label", action="append", help="legend label per run (default: run directory name)")
    a = ap.parse_args()
    runs = [ntpost.read_metrics(r) for r in a.runs]
    labels = a.label or [os.path.basename(os.path.dirname(ntpost.metrics_path(r))) or r for r in a.runs]
    if len(labels) != len(runs):
        ntpost.die("give one --label per run")
    plt = ntpost.pyplot()
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
    key = "step" if a.x == "step" else "consumed_tokens"
    summary = []
    for rows, lab in zip(runs, labels):
        x = [r.get(key, 0) for r in rows]
        ax[0].plot(x, [r["loss"] for r in rows], label=lab)
        ax[1].plot(x, [r.get("lr", float("nan")) for r in rows], label=lab)
        ax[2].plot(x, [r.get("grad_norm", float("nan")) for r in rows], label=lab)
        losses = [r["loss"] for r in rows]
        summary.append([lab, rows[-1]["step"], "%.4g" % rows[-1].get("consumed_tokens", 0),
                        "%.4f" % losses[0], "%.4f" % losses[-1], "%.4f" % min(losses),
                        "%.3g" % rows[-1].get("lr", float("nan"))])
    for axi, t in zip(ax, ("loss", "learning rate", "gradient norm (before clipping)")):
        axi.set_title(t)
        axi.set_xlabel("step" if a.x == "step" else "consumed tokens")
        axi.grid(alpha=0.3)
    ax[0].legend()
    fig.tight_layout()
    fig.savefig(a.output, dpi=100)
    ntpost.write_table(summary, ["run", "steps", "tokens", "first loss", "final loss", "min loss", "final lr"],
                       a.md, a.csv)
    print("wrote %s" % a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
