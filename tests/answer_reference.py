#!/usr/bin/python3
"""tests/answer_reference.py LM_EVAL_DIR CASES.jsonl — lm-eval's own answer
extraction on each case, one JSON line per case, for tests/test_answer.sh
to compare with ntron's (tests/answer_check).

The reference functions are taken from the unpacked lm-eval source as they
are, without importing lm-eval (which pulls torch, datasets, ...): Minerva
math's last_boxed_only_string, remove_boxed, normalize_final_answer and
their tables (lm_eval/tasks/minerva_math/utils.py), and the RegexFilter
class (lm_eval/filters/extraction.py) with the two GSM8K chain-of-thought
patterns of lm_eval/tasks/gsm8k/gsm8k-cot.yaml (strict-match,
flexible-extract).  A case {"text": T} gives {"how", "answer"} of the rule
in src/sdg/sdg_answer.h; {"normalize": S} gives {"normalized"}."""
import ast, json, os, re, sys
from typing import Optional

top, cases = sys.argv[1], sys.argv[2]
src = lambda *p: open(os.path.join(top, "lm_eval", *p)).read()

def take(text, names):
    """the top-level definitions called names, compiled from text"""
    tree = ast.parse(text)
    keep = [n for n in tree.body
            if (isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in names)
            or (isinstance(n, ast.Assign) and any(getattr(t, "id", None) in names for t in n.targets))]
    return compile(ast.Module(body=keep, type_ignores=[]), "<lm-eval>", "exec")

ns = {"re": re, "Optional": Optional}
exec(take(src("tasks", "minerva_math", "utils.py"),
          {"last_boxed_only_string", "remove_boxed", "normalize_final_answer",
           "SUBSTITUTIONS", "REMOVED_EXPRESSIONS"}), ns)
ns.update(Filter=object, register_filter=lambda name: (lambda cls: cls))
exec(take(src("filters", "extraction.py"), {"RegexFilter"}), ns)
cot = src("tasks", "gsm8k", "gsm8k-cot.yaml")
pat = re.findall(r"regex_pattern: (.*)", cot)
group = re.findall(r"group_select: (-?\d+)", cot)
assert len(pat) == 2 and group == ["-1"], "gsm8k-cot.yaml has changed shape"
strict = ns["RegexFilter"](regex_pattern=pat[0], group_select=0)
flexible = ns["RegexFilter"](regex_pattern=pat[1], group_select=-1)

def extract(t):
    b = ns["last_boxed_only_string"](t)
    if b is not None:
        try:
            return "boxed", ns["normalize_final_answer"](ns["remove_boxed"](b))
        except AssertionError:   # "\fbox{...}", "\boxedX{...}": remove_boxed refuses
            pass
    for how, f in (("answer_is", strict), ("last_number", flexible)):
        a = f.apply([[t]], None)[0][0]
        if a != f.fallback:
            return how, a
    return "none", None

for line in open(cases, encoding="utf-8"):
    c = json.loads(line)
    if "text" in c:
        how, a = extract(c["text"])
        print(json.dumps({"how": how, "answer": a}, ensure_ascii=False))
    else:
        print(json.dumps({"normalized": ns["normalize_final_answer"](c["normalize"])}, ensure_ascii=False))
