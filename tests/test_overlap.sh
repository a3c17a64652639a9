#!/bin/bash
# test_overlap.sh — parallel.overlap_grad_reduce: the data-parallel gradient
# reduce-scatter started in buckets during the backward (and the parameter
# all-gather in slices overlapped with AdamW) trains bitwise like the
# reduction after the backward, on the CPU backend:
#  1. `ntron run`, 4 steps with a checkpoint at the end, under DP2, TP2 x DP2
#     with sequence parallelism, PP2 (v2) x DP2 and DP4 (a chain of 4: two
#     relaying ranks), overlap off against on with buckets of 0.01 MB (smaller
#     than any tensor of a layer), 0.05 MB (about half a layer) and 25 MB (the
#     default, larger than the whole model: one bucket per shard): every
#     step's loss and gradient norm, and every dataset of the final checkpoint
#     (weights, fp32 master, Adam moments), bitwise equal
#  2. the echo names the reduction and its buckets; `ntron bench` on DP2
#     starts every bucket in the backward and reports the exposed wait
#  3. DP3 (shards of unequal tensor cut) with ref_dump: off vs 0.01 MB bitwise
#  4. the NaN test hook (NTRON_FAULT_NAN, nan_policy = skip) hits the same
#     step with and without the overlap, and training goes on identically
#  5. bucket sizes out of range (0, 5000, not a number; --set and deck
#     line) and a bad overlap value: one line naming the key, exit 2
#  6. `ntron plan` models it (cpu-fp32 cluster, hand-computed exposed time
#     of the last bucket) and keeps the DP time exposed on a GPU cluster
#  7. `ntron help deck` lists both keys
. "$(dirname "$0")/lib.sh"
cd "$WORK"
if ! "$PYTHON" -c "import h5py, numpy" 2>/dev/null; then echo "SKIP: $PYTHON lacks h5py/numpy"; exit 77; fi
export OPENBLAS_NUM_THREADS=1
CMP="$PYTHON $top_srcdir/tests/ckpt_compare.py"
DUMP=${NTRON_BUILDDIR:-$(dirname "$NTRON")/..}/tests/ref_dump
"$NTRON" prep --tokenizer byte "$top_srcdir/inputs/tiny/corpus.txt" -o corpus.h5 >/dev/null || fail "prep"
DECK=$top_srcdir/inputs/tiny/pretrain.deck
# layer: 28928 fp32 elements = 0.11 MB; the model 164992 elements = 0.63 MB
C=(--set data.train=$WORK/corpus.h5 --set model.layers=4 --set model.hidden=64 --set model.ffn_hidden=128
   --set model.seq_len=32 --set parallel.micro_batch=2 --set train.global_batch=16 --set train.steps=4
   --set train.warmup=2 --set run.log_interval=1 --set run.seed=9 --set run.backend=cpu)
run() { # name ranks [--set ...]: run.dir = name, checkpoint.dir = name.ck (saved at the end)
    local name=$1 n=$2; shift 2
    mpi "$n" "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/$name --set checkpoint.dir=$WORK/$name.ck "$@" \
        < /dev/null > "$name.out" 2>&1 || { fail "$name: run failed"; tail -5 "$name.out"; }
}
# same NAME_A NAME_B: losses, grad norms of steps 1..4 and the final checkpoint bitwise equal
same() {
    local why
    if why=$($CMP losses "$1/metrics.jsonl" "$2/metrics.jsonl" 1 4 0 2>&1) \
       && why=$($CMP same "$1.ck/iter_0000004/ckpt.h5" "$2.ck/iter_0000004/ckpt.h5" model optimizer 2>&1); then
        echo "$why"; return 0
    fi
    echo "$why"; return 1
}

# ---- 1 + 2 ----
while read -r lay n extra; do
    # shellcheck disable=SC2086
    run "${lay}_off" "$n" $extra --set parallel.overlap_grad_reduce=false
    for mb in 0.01 0.05 25; do
        # shellcheck disable=SC2086
        run "${lay}_on$mb" "$n" $extra --set parallel.overlap_grad_reduce=true --set parallel.bucket_mb=$mb
        if why=$(same "${lay}_off" "${lay}_on$mb"); then
            pass "$lay: overlap with $mb MB buckets ($(sed -n 's/^dp grad .* in \([0-9]*\) buckets.*/\1/p' "${lay}_on$mb.out") buckets) = no overlap: losses, grad norms, checkpoint bitwise ($(echo "$why" | tail -n1))"
        else fail "$lay: overlap with $mb MB buckets differs: $why"; fi
    done
done <<'LAYOUTS'
dp2 2
tp2_dp2_sp 4 --set parallel.tensor=2 --set parallel.sequence_parallel=true
pp2_v2_dp2 4 --set parallel.pipeline=2 --set parallel.virtual_stages=2
dp4 4
LAYOUTS
grep -q "^dp grad fixed-order ring reduce-scatter in [0-9]* buckets of <= 0.01 MB, each started in the backward" dp2_on0.01.out \
    && grep -q "^dp grad fixed-order ring reduce-scatter after the backward (parallel.overlap_grad_reduce = false)" dp2_off.out \
    && pass "echo: $(grep '^dp grad' dp2_on0.01.out | cut -c1-100)..." || fail "echo lacks the dp grad line"
n25=$(sed -n 's/^dp grad .* in \([0-9]*\) buckets.*/\1/p' dp2_on25.out)
[ "$n25" = 2 ] && pass "25 MB buckets on DP2: one per shard (2)" || fail "25 MB buckets on DP2: $n25 buckets, want 2"

mpi 2 "$NTRON" bench "$DECK" --set model.layers=2 --set model.seq_len=64 --set run.backend=cpu \
    --set parallel.overlap_grad_reduce=true --set parallel.bucket_mb=0.1 --steps 2 --json bench.json > bench.out 2>&1 \
    || { fail "bench with overlap"; tail -5 bench.out; }
"$PYTHON" - bench.json <<'PY' && pass "bench DP2: $(cat bench.txt)" || fail "bench DP2 overlap: $(cat bench.txt 2>/dev/null)"
import json, sys
d = json.load(open(sys.argv[1]))
open("bench.txt", "w").write("%d of %d buckets started in the backward, exposed wait %.3f ms, all-gather %.3f ms, %s"
    % (d["dp_buckets_started_in_backward"], d["dp_buckets"], d["ms_dp_reduce_exposed_max"], d["ms_dp_allgather_max"], d["verdict"]))
assert d["verdict"] == "PASSED" and d["overlap_grad_reduce"] == 1 and d["dp_buckets"] > 2
assert d["dp_buckets_started_in_backward"] == d["dp_buckets"]
assert d["ms_dp_reduce_exposed_max"] >= 0 and d["ms_dp_allgather_max"] >= 0
PY
grep -q "^dp comm mean ms/step waiting after the backward for the gradient reduce-scatter (exposed)" bench.out \
    && pass "bench prints the exposed DP time" || fail "bench lacks the dp comm line"

# ---- 3: DP3 (ref_dump: 12 sequences) ----
for x in off:false:25 on:true:0.01; do
    IFS=: read -r tag ov mb <<< "$x"
    mpi 3 "$DUMP" "$top_srcdir/tests/decks/layouts.deck" "dp3_$tag.h5" --set train.global_batch=12 --set train.steps=5 \
        --set parallel.overlap_grad_reduce=$ov --set parallel.bucket_mb=$mb < /dev/null > "dp3_$tag.out" 2>&1 \
        || { fail "dp3 $tag"; tail -3 "dp3_$tag.out"; }
done
"$PYTHON" - <<'PY' && pass "DP3 (ref_dump): overlap with 0.01 MB buckets = no overlap, losses and parameters bitwise" || fail "DP3 overlap differs"
import h5py, numpy as np, sys
x, y = h5py.File("dp3_off.h5", "r"), h5py.File("dp3_on.h5", "r")
sys.exit(0 if np.array_equal(x["losses"][()], y["losses"][()]) and all(
    np.array_equal(x["final"][k][()], y["final"][k][()]) for k in x["final"]) else 1)
PY

# ---- 4: the NaN hook ----
for ov in false true; do
    NTRON_FAULT_NAN=1:2 run "nan_$ov" 2 --set train.nan_policy=skip --set parallel.overlap_grad_reduce=$ov --set parallel.bucket_mb=0.01
done
re="step 2: loss .*, grad norm nan is not finite (first seen on rank 0); optimizer update skipped"
if why=$(same nan_false nan_true 2>&1) && grep -q "$re" nan_false.out && grep -q "$re" nan_true.out \
   && grep -q "^skipped   1 steps" nan_true.out; then
    pass "NaN put in by rank 1 at step 2 (in the shard of rank 0, which sees it): skipped with and without overlap, then bitwise the same ($(echo "$why" | tail -n1))"
else fail "NaN hook under overlap: $why"; grep -h "step 2:" nan_false.out nan_true.out; fi

# ---- 5: bad input ----
expect_error "bucket_mb = 0" 2 "^ntron: --set parallel.bucket_mb: 0 is out of range \(must be in \[0.01, 4096\]\)$" -- \
    "$NTRON" check "$DECK" --set parallel.bucket_mb=0
expect_error "bucket_mb = 5000" 2 "^ntron: --set parallel.bucket_mb: 5000 is out of range" -- \
    "$NTRON" check "$DECK" --set parallel.bucket_mb=5000
printf '[parallel]\nbucket_mb = big\n' > bad.deck
expect_error "bucket_mb = big (deck line)" 2 "^ntron: .*bad.deck:2: parallel.bucket_mb: " -- "$NTRON" check bad.deck
expect_error "overlap_grad_reduce = maybe" 2 "^ntron: --set parallel.overlap_grad_reduce: expected true or false" -- \
    "$NTRON" check "$DECK" --set parallel.overlap_grad_reduce=maybe
expect_error "overlap_grad_reduce = true with run.backend = cuda" 2 \
    "^ntron: .*parallel.overlap_grad_reduce: true needs run.backend = cpu: the CUDA backend reduces" -- \
    "$NTRON" check "$DECK" --set run.backend=cuda --set parallel.overlap_grad_reduce=true
out=$(mpi 2 "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/bad2 --set parallel.bucket_mb=-1 2>&1 >/dev/null); rc=$?
k=$(printf '%s\n' "$out" | grep -c '^ntron:')
[ $rc -eq 2 ] && [ "$k" -eq 1 ] && [ ! -e bad2 ] && pass "bad bucket size on 2 ranks: one line, exit 2, nothing written: $(printf '%s\n' "$out" | grep -m1 '^ntron:')" \
    || fail "bad bucket size on 2 ranks: exit $rc, $k lines: $out"

# ---- 6: the plan ----
SMALLD=$top_srcdir/inputs/small/pretrain.deck
CPUC=$top_srcdir/inputs/clusters/cpu-fp32.cluster
"$NTRON" plan "$SMALLD" --cluster "$CPUC" --dp 2 --json plan_off.json > plan_off.out 2>&1 || fail "plan off"
"$NTRON" plan "$SMALLD" --cluster "$CPUC" --dp 2 --set parallel.overlap_grad_reduce=true --set parallel.bucket_mb=0.5 \
    --json plan_on.json > plan_on.out 2>&1 || fail "plan on"
"$NTRON" plan "$SMALLD" --dp 2 --set parallel.overlap_grad_reduce=true --json plan_gpu.json > plan_gpu.out 2>&1 || fail "plan gpu"
"$PYTHON" - plan_off.json plan_on.json plan_gpu.json <<'PY' && pass "plan: $(cat plan.txt)" || fail "plan DP overlap: $(cat plan.txt 2>/dev/null)"
import json, sys
off, on, gpu = (json.load(open(p))["stages"][0] for p in sys.argv[1:])
bad = []
def near(name, got, want):
    if abs(got - want) > 1e-9 * abs(want): bad.append("%s: %r, want %r" % (name, got, want))
# cpu-fp32.cluster: 5 GB/s, 1 us per hop, 1 us per collective; DP 2; the last 0.5 MB bucket
# (131072 fp32 elements, 524288 B) follows the backward: 1 hop; the last all-gather slice: 1 step
last = 524288 / 5e9 + 1e-6 + 1e-6
near("off: t_dp = reduce-scatter + all-gather", off["t_dp"], off["t_dp_rs"] + off["t_dp_ag"])
near("on: reduce-scatter exposed = last bucket", on["t_dp_rs_exposed"], last)
near("on: all-gather exposed = last slice", on["t_dp_ag_exposed"], last)
near("on: t_dp", on["t_dp"], 2 * last)
near("on: t_iter", on["t_iter"], off["t_iter"] - off["t_dp"] + 2 * last)
if not (on["dp_overlap"] == 1 and off["dp_overlap"] == 0 and on["t_dp_rs"] - on["t_bwd_mb"] < last):
    bad.append("overlap flags / backward")
if gpu["dp_overlap"] != 0 or abs(gpu["t_dp"] - gpu["t_dp_rs"] - gpu["t_dp_ag"]) > 1e-12:
    bad.append("the CUDA backend (DGX H100 cluster) must stay exposed")
open("plan.txt", "w").write("DP2 small deck on cpu-fp32: exposed DP %.4g ms -> %.4g ms with 0.5 MB buckets (hand-computed); "
                            "DGX H100 stays exposed (CUDA backend: no overlap)%s" % (1e3 * off["t_dp"], 1e3 * on["t_dp"], "; " + "; ".join(bad) if bad else ""))
sys.exit(1 if bad else 0)
PY
grep -q "^dp overlap reduce-scatter" plan_on.out && grep -q "parallel.overlap_grad_reduce is not implemented on the CUDA backend" plan_gpu.out \
    && pass "plan prints the overlap it assumes, and says the CUDA backend has none" || fail "plan overlap lines"

# ---- 7 ----
h=$("$NTRON" help deck)
grep -q "parallel.overlap_grad_reduce = false" <<< "$h" && grep -q "parallel.bucket_mb = 25 " <<< "$h" \
    && pass "ntron help deck lists parallel.overlap_grad_reduce and parallel.bucket_mb" || fail "help deck lacks the keys"
finish
