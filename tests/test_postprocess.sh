#!/bin/bash
# test_postprocess.sh — the postprocess tools on real outputs of tiny runs:
# loss/LR curves and throughput plots from metrics.jsonl (PNG + Markdown +
# CSV), a resumed run's metrics.jsonl (repeated steps: the last row per
# step counts) read as the uninterrupted run, run-vs-run comparison (1 rank vs DP 2 of the same deck REPRODUCES
# within the default tolerances; a run with another learning rate is
# DIFFERENT, exit 1), a scaling table from `ntron bench` JSON of 1 and 2
# ranks; every tool answers --help.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
export OPENBLAS_NUM_THREADS=1
PP=$top_srcdir/postprocess
"$PYTHON" -c "import matplotlib" 2>/dev/null || { echo "SKIP: python3-matplotlib not installed (build-aux/install-deps)"; exit 77; }
for t in plot_curves plot_throughput compare_runs scaling_table; do
    "$PYTHON" "$PP/$t.py" --help | grep -q "^usage: $t.py" && pass "$t --help" || fail "$t --help"
done
"$NTRON" prep --tokenizer byte "$top_srcdir/inputs/tiny/corpus.txt" -o corpus.h5 > /dev/null || fail "prep"
DECK=$top_srcdir/inputs/tiny/pretrain.deck
C="--set data.train=$WORK/corpus.h5 --set model.layers=2 --set model.seq_len=64 --set train.steps=12 --set run.log_interval=1"
"$NTRON" run "$DECK" $C --set run.dir=$WORK/r1 > r1.out 2>&1 || { fail "run r1"; cat r1.out; }
mpi 2 "$NTRON" run "$DECK" $C --set run.dir=$WORK/r2 > r2.out 2>&1 || { fail "run r2 (DP2)"; cat r2.out; }
"$NTRON" run "$DECK" $C --set run.dir=$WORK/r3 --set train.lr=2e-3 > r3.out 2>&1 || { fail "run r3"; cat r3.out; }

png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] && [ "$(stat -c %s "$1")" -gt 5000 ]; }
"$PYTHON" "$PP/plot_curves.py" r1 r2 -o curves.png --md curves.md --csv curves.csv > curves.out 2>&1 && png curves.png \
    && grep -q '^| r1 | 12 |' curves.md && [ "$(wc -l < curves.csv)" -eq 3 ] \
    && pass "plot_curves: PNG, Markdown, CSV" || { fail "plot_curves"; cat curves.out; }
first=$(metric r1 1 loss %.4f)
grep -q "| r1 | 12 | .* | $first |" curves.md && pass "plot_curves: first loss $first = the run's step-1 loss" || fail "plot_curves first loss (want $first): $(cat curves.md)"
"$PYTHON" "$PP/plot_throughput.py" r1/metrics.jsonl -o tput.png --md tput.md --csv tput.csv --peak 0.1 > tput.out 2>&1 && png tput.png \
    && grep -q '^| r1 | 12 |' tput.md && pass "plot_throughput: PNG, Markdown, CSV" || { fail "plot_throughput"; cat tput.out; }

# a resumed run: steps 1-8 logged, the job lost after its step-6 checkpoint, the requeued job logs 7-12
# again.  The readers keep the last row per step (the lost attempt's 7-8 are made lower here, so a reader
# that kept them, or every row, would change the min loss and zig-zag)
mkdir -p resumed
"$PYTHON" - r1/metrics.jsonl resumed/metrics.jsonl <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
lost = [dict(r, loss=r["loss"] - 5.0, grad_norm=-1.0) for r in rows if r["step"] in (7, 8)]
with open(sys.argv[2], "w") as f:
    for r in [r for r in rows if r["step"] <= 6] + lost + [r for r in rows if r["step"] >= 7]:
        f.write(json.dumps(r) + "\n")
PY
"$PYTHON" - "$PP" r1 resumed <<'PY' && pass "ntpost.read_metrics: a resumed run's repeated steps read once, the last row wins, steps in order" || fail "ntpost.read_metrics on a resumed run"
import sys
sys.path.insert(0, sys.argv[1])
import ntpost
a, b = ntpost.read_metrics(sys.argv[2]), ntpost.read_metrics(sys.argv[3])
assert [r["step"] for r in b] == list(range(1, 13)), [r["step"] for r in b]
assert b == a, "rows differ from the uninterrupted run's"
PY
"$PYTHON" "$PP/plot_curves.py" r1 resumed -o curves_res.png --md curves_res.md > curves_res.out 2>&1 \
    && [ "$(grep '^| r1 |' curves_res.md | cut -d'|' -f3-)" = "$(grep '^| resumed |' curves_res.md | cut -d'|' -f3-)" ] \
    && pass "plot_curves: the resumed run's summary = the uninterrupted run's" || { fail "plot_curves on a resumed run"; cat curves_res.out curves_res.md; }
"$PYTHON" "$PP/plot_throughput.py" resumed -o tput_res.png --md tput_res.md > tput_res.out 2>&1 && grep -q '^| resumed | 12 |' tput_res.md \
    && pass "plot_throughput: the resumed run has 12 steps" || { fail "plot_throughput on a resumed run"; cat tput_res.out tput_res.md; }
"$PYTHON" "$PP/compare_runs.py" r1 resumed > cmp_res.out 2>&1 && grep -q "verdict: REPRODUCED (12 common steps)" cmp_res.out \
    && pass "compare_runs: the resumed run REPRODUCES the uninterrupted one" || { fail "compare_runs on a resumed run"; cat cmp_res.out; }

"$PYTHON" "$PP/compare_runs.py" r1 r2 -o cmp.png --md cmp.md > cmp.out 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "verdict: REPRODUCED (12 common steps)" cmp.out && png cmp.png && grep -q '^| loss | 12 |' cmp.md \
    && pass "compare_runs: 1 rank vs DP2 REPRODUCED" || { fail "compare_runs r1 r2 (exit $rc)"; cat cmp.out; }
"$PYTHON" "$PP/compare_runs.py" r1 r3 > cmp3.out 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "verdict: DIFFERENT" cmp3.out && grep -q '^| lr | 12 | .* DIFFERENT |' cmp3.out \
    && pass "compare_runs: other lr is DIFFERENT, exit 1" || { fail "compare_runs r1 r3 (exit $rc)"; cat cmp3.out; }
"$PYTHON" "$PP/compare_runs.py" r1 r3 --tol lr=1 --tol loss=1 --tol grad_norm=1 > cmp1.out 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "verdict: REPRODUCED" cmp1.out && pass "compare_runs: --tol loosens the check (other lr accepted at tolerance 1)" \
    || { fail "compare_runs --tol (exit $rc)"; cat cmp1.out; }
expect_error "compare_runs missing run" 2 "no such metrics file" -- "$PYTHON" "$PP/compare_runs.py" r1 nowhere

# checkpoints' attributes: the same deck run twice (1 rank, then DP2) reproduces iteration, consumed
# samples/tokens and the deck hash; a run with another lr has another deck hash
ck() { "$NTRON" run "$DECK" --set data.train="$WORK/corpus.h5" --set model.layers=2 --set model.seq_len=64 \
    --set train.steps=4 --set train.warmup=1 --set run.dir=ckrun --set checkpoint.dir=ck "$@"; }
ck > cka.out 2>&1 && mv ckrun ckrun_a && mv ck ck_a || fail "checkpointed run A"
mpi 2 "$NTRON" run "$DECK" --set data.train="$WORK/corpus.h5" --set model.layers=2 --set model.seq_len=64 \
    --set train.steps=4 --set train.warmup=1 --set run.dir=ckrun --set checkpoint.dir=ck < /dev/null > ckb.out 2>&1 \
    && mv ckrun ckrun_b && mv ck ck_b || fail "checkpointed run B"
ck --set train.lr=1e-3 > ckc.out 2>&1 && mv ckrun ckrun_c && mv ck ck_c || fail "checkpointed run C"
"$PYTHON" "$PP/compare_runs.py" ckrun_a ckrun_b --ckpt ck_a/iter_0000004 ck_b/iter_0000004 > ckab.out 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q '^| ckpt:deck_sha256 | 1 | equal' ckab.out && grep -q '^| ckpt:consumed_tokens | 1 | equal' ckab.out \
    && pass "compare_runs --ckpt: same deck on 1 and 2 ranks REPRODUCED, checkpoint attributes equal" || { fail "compare_runs --ckpt a b (exit $rc)"; cat ckab.out; }
"$PYTHON" "$PP/compare_runs.py" ckrun_a ckrun_c --ckpt ck_a/iter_0000004 ck_c/iter_0000004 --tol lr=1 --tol loss=1 --tol grad_norm=1 > ckac.out 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q '^| ckpt:deck_sha256 | 1 | [0-9a-f]* vs [0-9a-f]* .* DIFFERENT |' ckac.out \
    && pass "compare_runs --ckpt: another deck's checkpoint has another deck hash, exit 1" || { fail "compare_runs --ckpt a c (exit $rc)"; cat ckac.out; }

"$NTRON" bench "$DECK" --set run.backend=cpu --set model.layers=2 --set model.seq_len=64 --steps 2 --json s1.json > s1.out 2>&1 || fail "bench 1"
mpi 2 "$NTRON" bench "$DECK" --set run.backend=cpu --set model.layers=2 --set model.seq_len=64 --steps 2 --json s2.json > s2.out 2>&1 || fail "bench 2"
"$PYTHON" "$PP/scaling_table.py" s2.json s1.json -o scaling.png --md scaling.md --csv scaling.csv > sc.out 2>&1; rc=$?
[ $rc -eq 0 ] && png scaling.png && sed -n 3p scaling.md | grep -q '^| TP1 PP1(v1) DP1 SP0 mb8 | 1 | 16 | .* | 1.00 | 1.00 | PASSED |' \
    && sed -n 4p scaling.md | grep -q '^| TP1 PP1(v1) DP2 SP0 mb8 | 2 | 16 |' && [ "$(wc -l < scaling.csv)" -eq 3 ] \
    && pass "scaling_table: rows sorted by ranks, base speed-up 1.00" || { fail "scaling_table (exit $rc)"; cat sc.out scaling.md; }
sed 's/"verdict":\t"PASSED"/"verdict":\t"FAILED"/' s2.json > s2f.json
"$PYTHON" "$PP/scaling_table.py" s1.json s2f.json > scf.out 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "FAILED |" scf.out && pass "scaling_table: a FAILED row exits 1" || { fail "scaling_table FAILED row (exit $rc)"; cat scf.out; }
finish
