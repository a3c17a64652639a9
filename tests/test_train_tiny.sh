#!/bin/bash
# test_train_tiny.sh — end to end on the CPU: prep the tiny corpus, train a
# small model, check the loss falls, the run directory holds the resolved
# deck (with a matching SHA-256) and metrics.jsonl, the batch ramp switches
# at the right step, and a 2-rank data-parallel run gives the same losses as
# one rank (relative difference <= 1e-5: only the order of the fp32
# gradient sum differs), and 2 CPU kernel threads train bitwise as 1.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
DATA=$WORK/corpus.h5
"$NTRON" prep --tokenizer byte "$top_srcdir/inputs/tiny/corpus.txt" -o "$DATA" >/dev/null \
    && pass "prep tiny corpus" || fail "prep tiny corpus"
DECK=$top_srcdir/inputs/tiny/pretrain.deck
COMMON="--set data.train=$DATA --set model.layers=2 --set model.seq_len=64 --set train.warmup=3"

# 1. loss falls over 30 steps
"$NTRON" run "$DECK" $COMMON --set run.dir=$WORK/run1 --set train.steps=30 --set run.log_interval=1 > run1.out 2>&1 \
    && pass "tiny run exits 0" || { fail "tiny run exits non-zero"; cat run1.out; }
first=$(metric run1 1 loss)
last=$(metric run1 30 loss)
if awk -v a="$first" -v b="$last" 'BEGIN{exit !(a > 0 && b < 0.7*a)}'; then pass "loss falls: $first -> $last"
else fail "loss did not fall by 30%: '$first' -> '$last'"; fi

# 2. run directory: resolved deck + sha, metrics.jsonl with one line per step
[ -f run1/deck.resolved ] && pass "deck.resolved written" || fail "deck.resolved missing"
want=$(sha256sum run1/deck.resolved | cut -d' ' -f1)
grep -q "sha256 $want" run1.out && pass "echoed sha256 = sha256sum of deck.resolved" || fail "sha256 mismatch"
grep -q "^layers = 2$" run1/deck.resolved && pass "--set reflected in deck.resolved" || fail "--set not in deck.resolved"
n=$(wc -l < run1/metrics.jsonl)
[ "$n" -eq 30 ] && pass "metrics.jsonl has 30 lines" || fail "metrics.jsonl has $n lines, want 30"
"$PYTHON" - run1/metrics.jsonl <<'PY' && pass "metrics.jsonl parses, fields present" || fail "metrics.jsonl content"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
need = {"step", "consumed_tokens", "loss", "grad_norm", "lr", "global_batch", "ms", "tokens_per_s"}
assert all(need <= set(r) for r in rows), "missing fields"
assert [r["step"] for r in rows] == list(range(1, 31))
PY

# 3. ramp: gbs 8 until 2048 tokens (4 steps of 8x64), then 16
"$NTRON" run "$DECK" $COMMON --set run.dir=$WORK/run2 --set train.steps=6 --set run.log_interval=1 \
    --set "train.ramp=8@0 16@2048" > run2.out 2>&1 || { fail "ramp run failed"; cat run2.out; }
gbs=$("$PYTHON" -c "import json;print(' '.join(str(int(json.loads(l)['global_batch'])) for l in open('run2/metrics.jsonl')))")
[ "$gbs" = "8 8 8 8 16 16" ] && pass "ramp switches after 2048 tokens: $gbs" || fail "ramp gbs sequence '$gbs'"
# a stage whose batch does not divide by micro_batch x DP is rejected when it starts (after 2 steps)
OPENBLAS_NUM_THREADS=1 mpi 2 "$NTRON" run "$DECK" $COMMON --set run.dir=$WORK/run3 --set train.steps=6 \
    --set parallel.micro_batch=4 --set run.log_interval=1 --set "train.ramp=8@0 12@1024" > run3.out 2>&1; rc=$?
if [ $rc -eq 2 ] && [ "$(grep -c "global batch 12 is not divisible by micro_batch (4) x data-parallel size (2)" run3.out)" -eq 1 ] \
   && [ "$(metric_steps run3 | tr '\n' ' ')" = "1 2 " ]; then
    pass "ramp stage that does not divide by micro_batch x DP is rejected when it starts (exit 2, after step 2, printed once)"
else fail "ramp stage divisibility: rc $rc"; cat run3.out; fi

# 4. data parallel over 2 ranks = 1 rank
"$NTRON" run "$DECK" $COMMON --set run.dir=$WORK/dp1 --set run.log_interval=1 --set train.steps=4 --set parallel.micro_batch=4 > dp1.out 2>&1
OPENBLAS_NUM_THREADS=1 mpi 2 "$NTRON" run "$DECK" $COMMON --set run.dir=$WORK/dp2 --set run.log_interval=1 --set train.steps=4 --set parallel.micro_batch=4 > dp2.out 2>&1 \
    || { fail "2-rank run failed"; cat dp2.out; }
grep -q "^place   PMIx: node 0, local rank 0 of 2" dp2.out && pass "placement from PMIx under mpirun: local rank 0 of 2" \
    || fail "placement line: $(grep '^place' dp2.out)"
"$PYTHON" - dp1/metrics.jsonl dp2/metrics.jsonl <<'PY' && pass "DP2 losses = DP1 losses (rel <= 1e-5)" || fail "DP2 vs DP1 losses differ"
import json, sys
a = [json.loads(l)["loss"] for l in open(sys.argv[1])]
b = [json.loads(l)["loss"] for l in open(sys.argv[2])]
assert len(a) == len(b) == 4, (a, b)
for x, y in zip(a, b):
    assert abs(x - y) <= 1e-5 * abs(x), (x, y)
print("losses", a, b)
PY
# 6. the CPU kernels' threads (the pool's split of elementwise ops, attention pairs and GEMM blocks,
# kernels/cpu/parallel.c and matmul.c) give bitwise the losses and gradient norms of one thread
for t in 1 2; do
    OPENBLAS_NUM_THREADS=$t NT_CPU_THREADS=$t "$NTRON" run "$DECK" $COMMON --set run.dir=$WORK/thr$t --set train.steps=6 \
        --set run.log_interval=1 > thr$t.out 2>&1 || fail "run with $t thread(s)"
done
"$PYTHON" - thr1/metrics.jsonl thr2/metrics.jsonl <<'PY' && pass "2 kernel threads = 1 thread bitwise (6 steps' loss and grad norm)" || fail "2 kernel threads differ from 1"
import json, sys
a, b = ([(r["loss"], r["grad_norm"]) for r in map(json.loads, open(f))] for f in sys.argv[1:])
sys.exit(0 if a == b and len(a) == 6 else 1)
PY
finish
