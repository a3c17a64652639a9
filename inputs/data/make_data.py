#!/usr/bin/env python3
"""make_data.py — writes the small, license-clean corpora (our own text from
a tiny hand-written grammar, fixed seed) for every `ntron prep` format:
  qa.jsonl          pretraining documents as JSON lines ({"text"}): a QA-style set
  chat.jsonl        SFT conversations ({"messages": [...]}, optional system, multi-turn)
  preference.jsonl  preference pairs (prompt conversation, chosen, rejected, rewards)
  reward.jsonl      HelpSteer2-style reward samples (prompt, response, 5 labels 0-4)
  tokenizer.txt     text for `ntron tokenizer train` (plain lines, some non-ASCII)
  chat_code.jsonl   code-SFT conversations (4N: small Python functions), for the tiny SFT decks
Usage: python3 make_data.py [OUTDIR] [N]   (N records per file, default 60)"""
import json, os, random, sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
N = int(sys.argv[2]) if len(sys.argv) > 2 else 60
rng = random.Random(20261126)
SUBJ = ["the baker", "a small dog", "the old farmer", "the red fox", "a tired runner", "the young pilot", "the cat"]
VERB = ["finds", "paints", "carries", "watches", "builds", "remembers", "follows"]
OBJ = ["a paper map", "the green hill", "a wooden boat", "the blue door", "an empty house", "the bright star"]
WHEN = ["at night", "every day", "in the morning", "after the rain", "near the river"]
NAMES = ["Ada", "Bruno", "Chloé", "Dmitri", "Eun-ji", "Farid"]

def sentence():
    s = f"{rng.choice(SUBJ)} {rng.choice(VERB)} {rng.choice(OBJ)}"
    if rng.random() < 0.5: s += " " + rng.choice(WHEN)
    return s[0].upper() + s[1:] + "."

def para(n=3): return " ".join(sentence() for _ in range(n))

def question():
    return rng.choice([f"What does {rng.choice(SUBJ)} do {rng.choice(WHEN)}?",
                       f"Write two sentences about {rng.choice(OBJ)}.",
                       f"How many doors does {rng.choice(OBJ)} have? Answer in one word.",
                       f"{rng.choice(NAMES)} asks: who {rng.choice(VERB)} {rng.choice(OBJ)}?"])

def write(name, rows):
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        for r in rows: f.write(json.dumps(r, ensure_ascii=False) + "\n")

write("qa.jsonl", [{"text": f"Question: {question()}\nAnswer: {para(2)}"} for _ in range(N)])
chats = []
for i in range(N):
    msgs = []
    if i % 3 == 0: msgs.append({"role": "system", "content": "You are a helpful assistant who answers briefly."})
    for _ in range(1 + i % 3):
        msgs += [{"role": "user", "content": question()}, {"role": "assistant", "content": para(1 + i % 2)}]
    chats.append({"messages": msgs})
write("chat.jsonl", chats)
prefs = []
for i in range(N):
    prompt = [{"role": "user", "content": question()}]
    if i % 4 == 1:
        prompt = [{"role": "system", "content": "Answer politely."}, {"role": "user", "content": question()},
                  {"role": "assistant", "content": para(1)}, {"role": "user", "content": "And then?"}]
    p = {"prompt": prompt if i % 5 else question(), "chosen": para(2), "rejected": sentence()}
    if i % 2 == 0: p["chosen_reward"], p["rejected_reward"] = round(rng.uniform(2, 4), 3), round(rng.uniform(0, 2), 3)
    prefs.append(p)
write("preference.jsonl", prefs)
write("reward.jsonl", [dict(prompt=question(), response=para(1 + i % 3),
                            **{k: rng.randint(0, 4) for k in ["helpfulness", "correctness", "coherence", "complexity", "verbosity"]})
                       for i in range(N)])
with open(os.path.join(out, "tokenizer.txt"), "w", encoding="utf-8") as f:
    for i in range(2000):
        f.write((para(2) if i % 10 else f"{rng.choice(NAMES)} — naïve café: {question()} {para(1)}") + "\n")
# chat_code.jsonl: code-SFT conversations (a user asks for a small Python
# function, the assistant answers with it); its own generator, so the files
# above do not change
crng = random.Random(20261201)
OPS = [("sum", "+"), ("difference", "-"), ("product", "*"), ("maximum", None), ("minimum", None)]
ARGS = [("a", "b"), ("x", "y"), ("left", "right"), ("n", "m")]
def code_answer(name, op, a, b):
    if op: body = f"    return {a} {op} {b}"
    else: body = f"    return {a} if {a} {'>' if name == 'maximum' else '<'} {b} else {b}"
    return f"```python\ndef {name}_of({a}, {b}):\n{body}\n```"
codes = []
for i in range(4 * N):
    name, op = crng.choice(OPS)
    a, b = crng.choice(ARGS)
    msgs = [{"role": "user", "content": f"Write a Python function {name}_of({a}, {b}) that returns the {name} of {a} and {b}."},
            {"role": "assistant", "content": code_answer(name, op, a, b)}]
    if i % 4 == 3:
        msgs += [{"role": "user", "content": "Now call it with 2 and 3."},
                 {"role": "assistant", "content": f"```python\nprint({name}_of(2, 3))\n```"}]
    codes.append({"messages": msgs})
write("chat_code.jsonl", codes)
