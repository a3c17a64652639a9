#!/usr/bin/env python3
"""make_pref.py — a synthetic preference set where "better" is learnable and
graded: the response names one thing, and every thing has a fixed quality
tier 0..4 (two things per tier).  A pair's chosen response is the one of the
higher tier, its reward r* = tier * SCALE (default 0.5) plus a small seeded
jitter (|jitter| <= 0.05), so reward gaps range over 0.5..2 in steps of 0.5.
Prompts vary (template, a few context words) so held-out prompts are new
while the tiers carry over.  Writes OUT_train.jsonl and OUT_valid.jsonl in
`ntron prep --format preference` form (prompt, chosen, rejected,
chosen_reward, rejected_reward).  Our own text, fixed seed.
Usage: python3 make_pref.py OUT [N_TRAIN] [N_VALID] [SCALE]"""
import json
import random
import sys

TIERS = [["a paper map", "an empty house"], ["the long road", "a heavy stone"], ["the blue door", "the green hill"],
         ["a wooden boat", "the tall tree"], ["the bright star", "a warm loaf of bread"]]
ASK = ["What does the cat find?", "Name one thing the baker sees.", "What does the pilot remember?",
       "Tell me what the farmer carries.", "What is near the river?", "What does my sister paint?"]
CTX = ["in the morning", "at night", "after the rain", "before dinner", "every day", "in winter", "on sunday"]


def pairs(rng, n, scale):
    out = []
    for _ in range(n):
        hi, lo = sorted(rng.sample(range(len(TIERS)), 2), reverse=True)
        prompt = f"{rng.choice(ASK)} Answer {rng.choice(CTX)}."
        c, r = rng.choice(TIERS[hi]), rng.choice(TIERS[lo])
        jc, jr = rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05)
        out.append({"prompt": prompt, "chosen": c[0].upper() + c[1:] + ".", "rejected": r[0].upper() + r[1:] + ".",
                    "chosen_reward": round(hi * scale + jc, 4), "rejected_reward": round(lo * scale + jr, 4)})
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    out = sys.argv[1]
    ntrain = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    nvalid = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    scale = float(sys.argv[4]) if len(sys.argv) > 4 else 0.5
    rng = random.Random(2024)
    for name, n in (("train", ntrain), ("valid", nvalid)):
        with open(f"{out}_{name}.jsonl", "w") as f:
            for p in pairs(rng, n, scale):
                f.write(json.dumps(p) + "\n")


if __name__ == "__main__":
    main()
