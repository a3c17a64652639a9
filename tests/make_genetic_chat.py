#!/usr/bin/env python3
"""tests/make_genetic_chat.py OUT.jsonl — the conversations a tiny model
memorises for tests/test_genetic.sh: the answers of the test's short
genetic templates (mutations of the two seeds, solutions, the judge's
verdicts: accepted, below the threshold, incorrect, unparsed, a
near-duplicate of a seed), two answers to each preference prompt (the
responses stage samples between them) and the pairwise judge's replies in
both orders (consistent, position-biased, unparsed)."""
import json
import sys

SEEDS = {"Add two numbers.": "def add(a, b): return a + b",
         "Multiply two numbers.": "def mul(a, b): return a * b"}
# deepen: instruction -> harder instruction (the test's operator template "Harder: {instruction}")
DEEPEN = {"Add two numbers.": "Add three numbers.",
          "Multiply two numbers.": "Multiply three numbers.",
          "Add three numbers.": "Add two numbers!"}   # a near-duplicate of a seed
# new: the examples, in either order -> a new task
NEW = {("Add two numbers.", "Multiply two numbers."): "Subtract two numbers.",
       ("Multiply two numbers.", "Add two numbers."): "Divide two numbers."}
SOLVE = {"Add three numbers.": "def add3(a, b, c): return a + b + c",
         "Multiply three numbers.": "def mul3(a, b, c): return a * b + c",
         "Add two numbers!": "def add(a, b): return a + b",
         "Subtract two numbers.": "def sub(a, b): return a - b",
         "Divide two numbers.": "def div(a, b): return a / b"}
VERDICT = {"Add three numbers.": "Correct: yes\nScore: 9\nReason: right.",
           "Multiply three numbers.": "Correct: no\nScore: 8\nReason: adds c.",
           "Add two numbers!": "Correct: yes\nScore: 10\nReason: good.",
           "Subtract two numbers.": "Correct: yes\nScore: 3\nReason: terse.",
           "Divide two numbers.": "Looks good."}
# preference prompts: (good, bad) answers; the judge's behaviour
PREF = {"Name a fruit.": ("An apple.", "A rock.", "consistent"),
        "Name a color.": ("Blue.", "Loud.", "consistent"),
        "Name a pet.": ("A cat.", "A cloud.", "biased"),
        "Name a tree.": ("An oak.", "A car.", "unparsed"),
        "What is 2+3?": ("The answer is 5.", "The answer is 6.", "consistent")}   # a reference answer: 5


def judge_prompt(q, a, b):
    return f"Compare for User: {q}: A) {a} B) {b}"


convs = []
for ins, sol in SEEDS.items():
    convs.append((ins, sol))
for ins, new in DEEPEN.items():
    convs.append((f"Harder: {ins}", new))
for (e1, e2), new in NEW.items():
    convs.append((f"Like:\n1. {e1}\n2. {e2}", new))
for ins, sol in SOLVE.items():
    convs.append((ins, sol))
for ins, v in VERDICT.items():
    convs.append((f"Judge: {ins} => {SOLVE[ins]}", v))
for q, (good, bad, how) in PREF.items():
    convs.append((q, good))
    convs.append((q, bad))
    if how == "consistent":
        convs.append((judge_prompt(q, good, bad), "A is right. [[A]]"))
        convs.append((judge_prompt(q, bad, good), "B is right. [[B]]"))
    elif how == "biased":   # prefers the first position either way
        convs.append((judge_prompt(q, good, bad), "The first. [[A]]"))
        convs.append((judge_prompt(q, bad, good), "The first. [[A]]"))
    else:
        convs.append((judge_prompt(q, good, bad), "A is right. [[A]]"))
        convs.append((judge_prompt(q, bad, good), "I cannot tell."))
with open(sys.argv[1], "w") as f:
    for user, reply in convs:
        f.write(json.dumps({"messages": [{"role": "user", "content": user},
                                         {"role": "assistant", "content": reply}]}) + "\n")
if len(sys.argv) > 2:   # the facts, for the test's checks
    json.dump({"seeds": SEEDS, "deepen": DEEPEN, "new": {"|".join(k): v for k, v in NEW.items()}, "solve": SOLVE,
               "verdict": VERDICT, "pref": PREF}, open(sys.argv[2], "w"))
