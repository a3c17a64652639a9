#!/bin/bash
# test_answer.sh — math answer extraction (src/sdg/sdg_answer.h) against
# lm-eval's reference functions on the same texts: tests/answer/cases.jsonl
# holds hand-made responses (at least 20 each that the reference extracts as
# \boxed{}, as "The answer is ...", and as the last number, the regex
# quirks included: a number at the end of the text or line loses its last
# digit in the strict match, "..." counts as a number in the flexible one)
# and inputs of Minerva's normalize_final_answer.  tests/answer_check
# (ntron) and tests/answer_reference.py (lm-eval 0.4.5's code, fetched from
# PyPI by tests/lm_eval_fetch.py) each write one JSON line per case; every
# case must agree exactly.  Skips (exit 77) when lm-eval cannot be fetched.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
CASES=$top_srcdir/tests/answer/cases.jsonl
if ! LM=$("$PYTHON" "$top_srcdir/tests/lm_eval_fetch.py" 2> fetch.err); then
    echo "SKIP: lm-eval's source could not be fetched ($(tail -n1 fetch.err))"; exit 77
fi
"$NTRON_BUILDDIR/tests/answer_check" "$CASES" > ntron.jsonl || fail "answer_check exit $?"
"$PYTHON" "$top_srcdir/tests/answer_reference.py" "$LM" "$CASES" > ref.jsonl || fail "answer_reference.py exit $?"
"$PYTHON" - "$CASES" ntron.jsonl ref.jsonl <<'PYEOF' || NT_FAILS=$((NT_FAILS + 1))
import collections, json, sys
cases, mine, ref = ([json.loads(l) for l in open(p, encoding="utf-8")] for p in sys.argv[1:])
assert len(cases) == len(mine) == len(ref), (len(cases), len(mine), len(ref))
agree, total, bad = collections.Counter(), collections.Counter(), 0
for c, m, r in zip(cases, mine, ref):
    kind = r.get("how", "normalize")
    total[kind] += 1
    if m == r:
        agree[kind] += 1
    else:
        bad += 1
        print(f"FAIL: {json.dumps(c)}: ntron {json.dumps(m)}, lm-eval {json.dumps(r)}")
for kind in ("boxed", "answer_is", "last_number", "none", "normalize"):
    print(f"{'PASS' if agree[kind] == total[kind] else 'FAIL'}: {kind}: {agree[kind]}/{total[kind]} cases agree with lm-eval")
short = [k for k in ("boxed", "answer_is", "last_number") if total[k] < 20]
if short:
    print(f"FAIL: fewer than 20 cases the reference extracts as {', '.join(short)}")
sys.exit(1 if bad or short else 0)
PYEOF
finish
