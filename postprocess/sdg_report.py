#!/usr/bin/python3
"""sdg_report.py — the stage reports of an `ntron sdg` run (RUNDIR/STAGE.report.json)
as one table (records in and out, repeats removed, list-parse and filter
pass rates, pairs, tokens and records per second), and the reward
distributions of the score and pairs stages as a histogram PNG.

usage: sdg_report.py RUNDIR [-o rewards.png] [--md FILE] [--csv FILE]
The PNG defaults to RUNDIR/rewards.png (written when the run has a score
stage and matplotlib imports)."""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ntpost  # noqa: E402

ORDER = ["topics", "subtopics", "questions", "revise", "writing", "closed_qa", "math", "python", "twoturn",
         "dialogue", "responses", "score", "filter", "pairs"]


def rate(r, key):
    v = r.get("rates", {}).get(key)
    return "" if v is None else f"{v:.3g}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rundir")
    ap.add_argument("-o", "--output", help="histogram PNG (default RUNDIR/rewards.png)")
    ap.add_argument("--md", help="also write the table as Markdown")
    ap.add_argument("--csv", help="also write the table as CSV")
    a = ap.parse_args()
    reps = {}
    for name in os.listdir(a.rundir):
        if name.endswith(".report.json"):
            with open(os.path.join(a.rundir, name)) as f:
                r = json.load(f)
            reps[r["stage"]] = r
    if not reps:
        ntpost.die(f"sdg_report: {a.rundir}: no STAGE.report.json (not an ntron sdg run directory?)")
    stages = [s for s in ORDER if s in reps] + sorted(s for s in reps if s not in ORDER)
    header = ["stage", "in", "out", "repeats", "list parsed", "filter pass", "pairs", "empty", "tokens/s", "in/s", "out/s"]
    rows = []
    for s in stages:
        r, c = reps[s], reps[s]["counts"]
        rows.append([s, r["records_in"], r["records_out"], r["duplicates_removed"] + c.get("repeats", 0),
                     rate(r, "list_parsed"), rate(r, "filter_pass"), (f"{c['pairs']} ({c.get('pairs_truth', 0)} by answer/verifiers)" if c.get("pairs_truth") else c.get("pairs", 0) or ""), c.get("empty", 0) or "",
                     rate(r, "tokens_per_s"), rate(r, "records_in_per_s"), rate(r, "records_out_per_s")])
    ntpost.write_table(rows, header, a.md, a.csv)
    for s in ("responses", "score"):   # IFEval verifier pass rates of the responses to instruction prompts
        v = reps.get(s, {}).get("verifiers")
        if v:
            print(f"\nverifiers ({s}, {v['responses']} responses): prompt-level strict "
                  f"{v['prompt_level']['strict']:.3f}, loose {v['prompt_level']['loose']:.3f}")
            ntpost.write_table([[k, e["n"], f"{e['strict']:.3f}", f"{e['loose']:.3f}"] for k, e in sorted(v["kinds"].items())],
                               ["instruction", "n", "strict", "loose"])
            break
    hists = [(s, reps[s][k]) for s, k in (("score", "reward"), ("pairs", "pair_rewards")) if s in reps and k in reps[s]]
    if not hists:
        return
    try:
        plt = ntpost.pyplot()
    except ImportError:
        print("sdg_report: matplotlib not importable: no histogram", file=sys.stderr)
        return
    out = a.output or os.path.join(a.rundir, "rewards.png")
    fig, axes = plt.subplots(1, len(hists), figsize=(5 * len(hists), 3.5), squeeze=False)
    for ax, (s, h) in zip(axes[0], hists):
        lo, hi, counts = h["histogram"]["lo"], h["histogram"]["hi"], h["histogram"]["counts"]
        w = (hi - lo) / len(counts) if hi > lo else 1.0
        ax.bar([lo + (i + 0.5) * w for i in range(len(counts))], counts, width=w * 0.95)
        ax.set_title(f"{s}: {h['n']} rewards, mean {h['mean']:.3g}")
        ax.set_xlabel("reward")
        ax.set_ylabel("count")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"sdg_report: reward histogram {out}")


if __name__ == "__main__":
    main()
