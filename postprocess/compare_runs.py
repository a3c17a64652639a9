#!/usr/bin/python3
"""compare_runs.py — "did I reproduce this run?": compares two ntron runs'
metrics.jsonl step by step (the steps both logged) with a tolerance per
field, and optionally the root attributes of their checkpoints; prints a
Markdown table (field, steps compared, worst relative difference, at step,
tolerance, verdict), optionally CSV and a PNG of both loss curves and their
relative difference.  Exit status 0 when every field is within tolerance
(REPRODUCED), 1 otherwise (DIFFERENT), 2 on bad input.

Relative difference = |a - b| / max(|a|, |b|, 1e-30).  Default tolerances:
loss 1e-5 and grad_norm 1e-4 (fp32 reductions in a different order, as in
tests/test_layouts.sh), lr 1e-9, global_batch and consumed_tokens exact.

usage: compare_runs.py RUN_A RUN_B [--tol field=value ...] [-o diff.png]
       [--md FILE] [--csv FILE] [--ckpt CKPT_A CKPT_B]"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ntpost  # noqa: E402

DEFAULT_TOL = {"loss": 1e-5, "grad_norm": 1e-4, "lr": 1e-9, "global_batch": 0.0, "consumed_tokens": 0.0}


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-30)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="exit 0 REPRODUCED, 1 DIFFERENT, 2 bad input")
    ap.add_argument("run_a")
    ap.add_argument("run_b")
    ap.add_argument("--tol", action="append", default=[], metavar="FIELD=VALUE",
                    help="relative tolerance for a metrics field (default loss=1e-5 grad_norm=1e-4 lr=1e-9, "
                         "global_batch=0 consumed_tokens=0); may be repeated")
    ap.add_argument("-o", "--output", help="PNG of the loss curves and their relative difference")
    ap.add_argument("--md")
    ap.add_argument("--csv")
    ap.add_argument("--ckpt", nargs=2, metavar=("CKPT_A", "CKPT_B"),
                    help="also compare the checkpoints' root attributes (iteration, consumed samples/tokens)")
    a = ap.parse_args()
    tol = dict(DEFAULT_TOL)
    for t in a.tol:
        k, _, v = t.partition("=")
        try:
            tol[k] = float(v)
        except ValueError:
            ntpost.die("--tol %s: want FIELD=NUMBER" % t)
    A = {r["step"]: r for r in ntpost.read_metrics(a.run_a)}
    B = {r["step"]: r for r in ntpost.read_metrics(a.run_b)}
    steps = sorted(set(A) & set(B))
    if not steps:
        ntpost.die("the runs share no logged step")
    table, ok = [], True
    for f, t in tol.items():
        have = [s for s in steps if f in A[s] and f in B[s]]
        if not have:
            continue
        worst, at = -1.0, None
        for s in have:
            d = rel(float(A[s][f]), float(B[s][f]))
            if d != d:  # NaN
                d = float("inf")
            if d > worst:
                worst, at = d, s
        good = worst <= t
        ok &= good
        table.append([f, len(have), "%.3g" % worst, at, "%g" % t, "ok" if good else "DIFFERENT"])
    only = sorted(set(A) ^ set(B))
    if a.ckpt:
        ca, cb = ntpost.read_ckpt_attrs(a.ckpt[0]), ntpost.read_ckpt_attrs(a.ckpt[1])
        for k in sorted(set(ca) & set(cb)):
            if k in ("iteration", "consumed_samples", "consumed_tokens", "deck_sha256", "format_version"):
                good = ca[k] == cb[k]
                ok &= good
                table.append(["ckpt:" + k, 1, "equal" if good else "%s vs %s" % (ca[k], cb[k]), "-", "exact",
                              "ok" if good else "DIFFERENT"])
    ntpost.write_table(table, ["field", "steps", "worst rel. diff", "at step", "tolerance", "verdict"], a.md, a.csv)
    if only:
        print("steps logged by only one run: %d (first %s)" % (len(only), only[0]))
    if a.output:
        plt = ntpost.pyplot()
        fig, ax = plt.subplots(1, 2, figsize=(11, 4))
        ax[0].plot(steps, [A[s]["loss"] for s in steps], label="A " + a.run_a)
        ax[0].plot(steps, [B[s]["loss"] for s in steps], "--", label="B " + a.run_b)
        ax[0].set_title("loss"); ax[0].legend(fontsize=7)
        ax[1].semilogy(steps, [max(rel(A[s]["loss"], B[s]["loss"]), 1e-17) for s in steps])
        ax[1].axhline(tol["loss"], color="r", ls=":", label="tolerance")
        ax[1].set_title("relative loss difference"); ax[1].legend()
        for axi in ax:
            axi.set_xlabel("step"); axi.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(a.output, dpi=100)
    print("verdict: %s (%d common steps)" % ("REPRODUCED" if ok else "DIFFERENT", len(steps)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
