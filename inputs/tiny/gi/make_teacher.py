#!/usr/bin/env python3
"""inputs/tiny/gi/make_teacher.py TEMPLATES OUT.jsonl — the conversations of
the tiny pipeline's teacher (inputs/tiny/pipeline/04-sft-teacher.deck), the
stand-in for the outside instruct model the report's Genetic Instruct ran
on: for a family of small Python tasks (5 operations x 4 argument names, two
or three arguments, with or without a worked example), the answers to the
genetic templates of TEMPLATES (deepen: two arguments -> three; broaden:
another operation; concretise: add an example; new: a task of the family
not among the examples), the solution of every task, and the judge's
verdicts (the right code: "Correct: yes", score 9; another operation's code:
"Correct: no", score 2).  Templates are rendered here as ntron renders them
({name} replaced, {{ }} literal braces)."""
import json
import random
import re
import sys

tpl_dir, out = sys.argv[1], sys.argv[2]
OPS = ["sum", "difference", "product", "maximum", "minimum"]
SYM = {"sum": "+", "difference": "-", "product": "*"}
ARGS = [("a", "b", "c"), ("x", "y", "z"), ("n", "m", "k"), ("left", "right", "mid")]


def value(op, vals):
    if op == "sum": return sum(vals)
    if op == "product":
        r = 1
        for v in vals: r *= v
        return r
    if op == "difference":
        r = vals[0]
        for v in vals[1:]: r -= v
        return r
    return max(vals) if op == "maximum" else min(vals)


def task(op, args, three, example):
    p = args if three else args[:2]
    name = f"{op}3_of" if three else f"{op}_of"
    listed = f"{p[0]}, {p[1]} and {p[2]}" if three else f"{p[0]} and {p[1]}"
    t = f"Write a Python function {name}({', '.join(p)}) that returns the {op} of {listed}."
    if example:
        ex = (2, 3, 4) if three else (2, 3)
        t += f" For example, {name}({', '.join(map(str, ex))}) returns {value(op, ex)}."
    return t


def code(op, args, three):
    p = args if three else args[:2]
    name = f"{op}3_of" if three else f"{op}_of"
    if op in SYM: body = f"    return {f' {SYM[op]} '.join(p)}"
    else: body = f"    return {'max' if op == 'maximum' else 'min'}({', '.join(p)})"
    return f"```python\ndef {name}({', '.join(p)}):\n{body}\n```"


def render(name, **vals):
    text = open(f"{tpl_dir}/genetic_{name}.txt").read()
    text = re.sub(r"\{(\w+)\}", lambda m: vals[m.group(1)], text.replace("{{", "\0").replace("}}", "\1"))
    return text.replace("\0", "{").replace("\1", "}")


convs = []
fam = [(op, a, three, ex) for op in OPS for a in ARGS for three in (False, True) for ex in (False, True)]
for op, a, three, ex in fam:
    t = task(op, a, three, ex)
    convs.append((t, code(op, a, three)))
    convs.append((render("judge", instruction=t, solution=code(op, a, three)),
                  f"Correct: yes\nScore: 9\nReason: it returns the {op}."))
    other = OPS[(OPS.index(op) + 2) % len(OPS)]
    convs.append((render("judge", instruction=t, solution=code(other, a, three)),
                  f"Correct: no\nScore: 2\nReason: it returns the {other}, not the {op}."))
    if not three:
        convs.append((render("deepen", instruction=t), task(op, a, True, ex)))
    convs.append((render("broaden", instruction=t), task(OPS[(OPS.index(op) + 1) % len(OPS)], a, three, ex)))
    if not ex:
        convs.append((render("concretise", instruction=t), task(op, a, three, True)))
rng = random.Random(20261203)
two = [f for f in fam if not f[2] and not f[3]]
for i in range(120):
    e1, e2 = rng.sample(fam, 2)
    pick = [f for f in two if f[0] not in (e1[0], e2[0])]
    new = pick[i % len(pick)]
    convs.append((render("new", examples=f"1. {task(*e1)}\n2. {task(*e2)}"), task(*new)))
with open(out, "w") as f:
    for user, reply in convs:
        f.write(json.dumps({"messages": [{"role": "user", "content": user},
                                         {"role": "assistant", "content": reply}]}) + "\n")
print(f"make_teacher: {len(convs)} conversations")
