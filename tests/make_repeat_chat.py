#!/usr/bin/python3
"""Write the repeat-the-last-word chat sets of the SFT behaviour tests.

Usage: tests/make_repeat_chat.py N_TRAIN N_VALID   (writes rep_train.jsonl, rep_valid.jsonl)

Each conversation: the user gives 2-4 words after a lead-in ("Repeat my
last word: ..."), the assistant answers with the last of them — a rule a
tiny model learns from a few hundred examples, so the held-out assistant
NLL must fall while the user tokens (not trained) need not.  Seeded: the
same files every time (tests/test_sft.sh, tests/test_sft_pack.sh)."""
import json, random, sys

rng = random.Random(11)
words = ["apple", "river", "stone", "candle", "garden", "window", "silver", "forest", "pepper", "rocket", "violet", "marble"]
lead = ["Say the last word again:", "Repeat my last word:", "Echo the final word:"]


def conv():
    w = [rng.choice(words) for _ in range(rng.randint(2, 4))]
    return {"messages": [{"role": "user", "content": f"{rng.choice(lead)} {' '.join(w)}"},
                         {"role": "assistant", "content": w[-1]}]}


for name, n in [("train", int(sys.argv[1])), ("valid", int(sys.argv[2]))]:
    with open(f"rep_{name}.jsonl", "w") as f:
        for _ in range(n):
            f.write(json.dumps(conv()) + "\n")
