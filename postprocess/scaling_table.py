#!/usr/bin/python3
"""scaling_table.py — a scaling table from several `ntron bench --json`
files: layout, ranks, global batch, ms/iter (median), tokens/s, tokens/s per
rank, TFLOP/s per rank, MFU (when the bench had a peak), speed-up and
parallel efficiency against the run with the fewest ranks (efficiency =
(tokens/s per rank) / (tokens/s per rank of that run)), verdict.  Markdown
to stdout, optional CSV and PNG (tokens/s and efficiency against ranks).
Exit 1 if any bench row FAILED its correctness check.

usage: scaling_table.py BENCH.json [BENCH.json ...] [-o scaling.png] [--md FILE] [--csv FILE]"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ntpost  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="exit 1 if any row FAILED, 2 on bad input")
    ap.add_argument("files", nargs="+", metavar="BENCH.json")
    ap.add_argument("-o", "--output", help="PNG to write")
    ap.add_argument("--md")
    ap.add_argument("--csv")
    a = ap.parse_args()
    runs = []
    for p in a.files:
        try:
            with open(p) as f:
                d = json.load(f)
        except (OSError, ValueError) as e:
            ntpost.die("%s: %s" % (p, e))
        if d.get("mode") != "train" or "tokens_per_s" not in d:
            ntpost.die("%s: not an `ntron bench` training JSON" % p)
        runs.append(d)
    runs.sort(key=lambda d: (d["world"], d["layout"]))
    base = runs[0]
    base_pr = base["tokens_per_s"] / base["world"]
    rows, failed = [], False
    for d in runs:
        pr = d["tokens_per_s"] / d["world"]
        mfu = d.get("mfu")
        rows.append([d["layout"], d["world"], d["global_batch"], "%.2f" % d["ms_median"], "%.1f" % d["tokens_per_s"],
                     "%.1f" % pr, "%.4g" % d["tflops_per_rank"], "n/a" if mfu is None else "%.2f%%" % (100 * mfu),
                     "%.2f" % (d["tokens_per_s"] / base["tokens_per_s"]), "%.2f" % (pr / base_pr), d["verdict"]])
        failed |= d["verdict"] != "PASSED"
    ntpost.write_table(rows, ["layout", "ranks", "global batch", "ms/iter (median)", "tokens/s", "tokens/s/rank",
                              "TFLOP/s/rank", "MFU", "speed-up", "efficiency", "verdict"], a.md, a.csv)
    if a.output:
        plt = ntpost.pyplot()
        fig, ax = plt.subplots(1, 2, figsize=(11, 4))
        w = [d["world"] for d in runs]
        ax[0].plot(w, [d["tokens_per_s"] for d in runs], "o")
        for d in runs:
            ax[0].annotate(d["layout"], (d["world"], d["tokens_per_s"]), fontsize=6)
        ax[0].set_title("tokens/s"); ax[0].set_xlabel("ranks")
        ax[1].plot(w, [(d["tokens_per_s"] / d["world"]) / base_pr for d in runs], "o")
        ax[1].axhline(1.0, color="k", ls=":")
        ax[1].set_title("parallel efficiency (tokens/s per rank, relative)"); ax[1].set_xlabel("ranks")
        for axi in ax:
            axi.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(a.output, dpi=100)
        print("wrote %s" % a.output)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
