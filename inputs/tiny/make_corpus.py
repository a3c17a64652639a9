#!/usr/bin/env python3
"""make_corpus.py — writes inputs/tiny/corpus.txt, the tiny demo's training
text: short documents of simple English sentences drawn from a small
hand-written grammar with a fixed seed (our own text, no licence burden).
Usage: python3 make_corpus.py [OUT] [N_DOCS]"""
import random
import sys

SUBJ = ["the cat", "a small dog", "the old farmer", "my sister", "the young pilot", "a quiet student",
        "the baker", "our teacher", "the red fox", "a tired runner", "the river", "the cold wind"]
VERB = ["sees", "likes", "finds", "follows", "paints", "carries", "watches", "helps", "remembers", "builds"]
OBJ = ["the green hill", "a wooden boat", "the bright star", "an empty house", "the long road",
       "a heavy stone", "the blue door", "a warm loaf of bread", "the tall tree", "a paper map"]
WHEN = ["in the morning", "at night", "after the rain", "before dinner", "every day", "in winter",
        "on sunday", "at noon"]
LINK = ["and then", "but", "because", "so", "while"]


def sentence(rng):
    s = f"{rng.choice(SUBJ)} {rng.choice(VERB)} {rng.choice(OBJ)}"
    if rng.random() < 0.5:
        s += f" {rng.choice(WHEN)}"
    if rng.random() < 0.3:
        s += f", {rng.choice(LINK)} {rng.choice(SUBJ)} {rng.choice(VERB)} {rng.choice(OBJ)}"
    return s[0].upper() + s[1:] + "."


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "corpus.txt"
    ndocs = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
    rng = random.Random(20240614)
    with open(out, "w") as f:
        for _ in range(ndocs):
            f.write(" ".join(sentence(rng) for _ in range(rng.randint(2, 6))) + "\n\n")


if __name__ == "__main__":
    main()
