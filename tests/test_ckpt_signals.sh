#!/bin/bash
# test_ckpt_signals.sh — pre-emption, time limit and numerical guards:
#  1. SIGUSR1 to one rank (rank 3 of TP2 x PP2) and SIGTERM to another (rank 1
#     of DP2): all ranks stop at the same step boundary, save, exit 3; the
#     resumed run's losses equal the uninterrupted run's bitwise
#  2. run.time_limit: saves and exits 3 before the budget runs out
#  3. a NaN gradient (test hook NTRON_FAULT_NAN) with train.nan_policy = skip:
#     update skipped and counted, message names step and rank; = abort: save, exit 1
#  4. the watchdog: a rank that stops answering (NTRON_FAULT_HANG) makes the
#     others abort within run.collective_timeout, naming the operation
. "$(dirname "$0")/lib.sh"
cd "$WORK"
if ! "$PYTHON" -c "import h5py, numpy" 2>/dev/null; then echo "SKIP: $PYTHON lacks h5py/numpy"; exit 77; fi
export OPENBLAS_NUM_THREADS=1
CMP="$PYTHON $top_srcdir/tests/ckpt_compare.py"
"$NTRON" prep --tokenizer byte "$top_srcdir/inputs/tiny/corpus.txt" -o corpus.h5 >/dev/null || fail "prep"
DECK=$top_srcdir/inputs/tiny/pretrain.deck
C=(--set data.train=$WORK/corpus.h5 --set model.layers=2 --set model.hidden=64 --set model.ffn_hidden=128
   --set model.seq_len=32 --set parallel.micro_batch=2 --set train.global_batch=8 --set train.steps=20000
   --set train.warmup=2 --set run.log_interval=1 --set run.seed=5)
start() { # name ranks [--set ...]: starts in the background, sets PID
    local name=$1 n=$2; shift 2
    mpi "$n" "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/$name --set checkpoint.dir=$WORK/$name.ck "$@" \
        < /dev/null > "$name.out" 2>&1 &
    PID=$!
}
rank_pid() { # launcher pid, rank -> pid of that rank (searches descendants' environments)
    local todo=$1 p kids
    while [ -n "$todo" ]; do
        kids=""
        for p in $todo; do
            if tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then echo "$p"; return; fi
            kids="$kids $(pgrep -P "$p")"
        done
        todo=$(echo $kids)
    done
}
# wait_step RUNDIR N: until the (fresh) run has logged N steps to its metrics.jsonl (20 s at most)
wait_step() { for _ in $(seq 200); do [ -s "$1/metrics.jsonl" ] && [ "$(wc -l < "$1/metrics.jsonl")" -ge "$2" ] && return 0; sleep 0.1; done; return 1; }

signal_test() { # name ranks signal rank [--set ...]
    local name=$1 n=$2 sig=$3 r=$4; shift 4
    start "$name" "$n" "$@"
    wait_step "$name" 3 || { fail "$name: no step 3 in $name/metrics.jsonl"; kill "$PID"; return; }
    local rp; rp=$(rank_pid "$PID" "$r")
    [ -n "$rp" ] || { fail "$name: pid of rank $r not found"; kill "$PID"; return; }
    kill -"$sig" "$rp"; wait "$PID"; local rc=$?
    local k; k=$(sed -n 's/^stop    signal at step \([0-9]*\).*/\1/p' "$name.out")
    if [ $rc -eq 3 ] && [ -n "$k" ] && [ "$k" -lt 20000 ] && [ "$(cat "$name.ck/latest")" = "$(printf 'iter_%07d' "$k")" ]; then
        pass "$name: SIG$sig to rank $r -> all ranks stop at step $k, save, exit 3"
    else fail "$name: rc $rc, stop step '$k', latest '$(cat "$name.ck/latest" 2>/dev/null)'"; tail -5 "$name.out"; return; fi
    # resume to step k+3 of the same 20000-step schedule; compare with an uninterrupted run cut there
    mv "$name.out" "$name.1.out"
    local to=$(( (k + 3) * 256 ))
    mpi "$n" "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/$name --set checkpoint.dir=$WORK/$name.ck "$@" \
        --set train.stop_tokens=$to < /dev/null > "$name.out" 2>&1 || { fail "$name: resume failed"; tail -3 "$name.out"; return; }
    mpi "$n" "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/$name.ref "$@" \
        --set train.stop_tokens=$to < /dev/null > "$name.ref.out" 2>&1 || { fail "$name: reference failed"; return; }
    $CMP losses "$name.ref/metrics.jsonl" "$name/metrics.jsonl" $((k + 1)) $((k + 3)) 0 > "$name.cmp" \
        && pass "$name: resumed from step $k, steps $((k + 1))-$((k + 3)) bitwise equal to the uninterrupted run" \
        || fail "$name: resumed losses differ: $(cat "$name.cmp")"
}
signal_test usr1 4 USR1 3 --set parallel.tensor=2 --set parallel.pipeline=2
signal_test term 2 TERM 1

# ---- 2: time limit ----
# (20000 steps take far longer than 4 s on any machine, so the limit always cuts the run)
start tl 2 --set run.time_limit=4
wait "$PID"; rc=$?
k=$(sed -n 's/^stop    time limit at step \([0-9]*\).*/\1/p' tl.out)
w=$(sed -n 's/^.*saved .* in \([0-9.]*\) s$/\1/p' tl.out | tail -1)
if [ $rc -eq 3 ] && [ -n "$k" ] && [ "$k" -gt 3 ] && [ "$k" -lt 20000 ] && [ "$(cat tl.ck/latest)" = "$(printf 'iter_%07d' "$k")" ]; then
    pass "run.time_limit = 4 s: saved at step $k and exited 3"
else fail "time limit: rc $rc step '$k'"; tail -5 tl.out; fi

# ---- 3: NaN guard ----
C+=(--set train.steps=6)
NTRON_FAULT_NAN=1:3 mpi 2 "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/nan_skip --set train.nan_policy=skip \
    < /dev/null > nan_skip.out 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "step 3: loss .*, grad norm nan is not finite (first seen on rank [01]); optimizer update skipped (train.nan_policy = skip)" nan_skip.out \
   && grep -q "^skipped   1 steps" nan_skip.out && [ "$(wc -l < nan_skip/metrics.jsonl)" = 6 ]; then
    pass "nan_policy = skip: step 3 skipped and counted, run completes"
else fail "nan_policy = skip (rc $rc)"; tail -5 nan_skip.out; fi
"$PYTHON" - nan_skip/metrics.jsonl <<'PY' && pass "skipped step left the parameters unchanged (step 4 grad norm finite, lr schedule held)" || fail "after the skipped step"
import json, math, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert r[2]["grad_norm"] is None or math.isnan(r[2]["grad_norm"])  # cJSON writes NaN as null
assert all(math.isfinite(x["loss"]) and math.isfinite(x["grad_norm"]) for x in r[3:])
assert r[3]["lr"] == r[2]["lr"], "the skipped step must not advance the LR schedule"
PY
NTRON_FAULT_NAN=0:4 mpi 2 "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/nan_abort --set checkpoint.dir=$WORK/nan_abort.ck \
    < /dev/null > nan_abort.out 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q "step 4: .*not finite (first seen on rank 0).*saving a checkpoint and aborting" nan_abort.out \
   && [ "$(cat nan_abort.ck/latest)" = iter_0000004 ]; then
    pass "nan_policy = abort: message names step 4 and rank 0, checkpoint saved, exit 1"
else fail "nan_policy = abort (rc $rc)"; tail -5 nan_abort.out; fi

# ---- 4: watchdog ----
t0=$(date +%s)
NTRON_FAULT_HANG=1:3 NT_MPI_TIMEOUT=60 mpi 2 "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/hang \
    --set run.collective_timeout=2 < /dev/null > hang.out 2>&1; rc=$?
dt=$(( $(date +%s) - t0 ))
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $dt -lt 30 ] && grep -q "ntron: rank 0: stuck for more than 2 s in .*(run.collective_timeout = 2 s); aborting" hang.out; then
    pass "watchdog: rank 1 hangs, rank 0 aborts after 2 s naming '$(sed -n 's/.*stuck for more than 2 s in \(.*\) (run.*/\1/p' hang.out | head -1)' (${dt}s, exit $rc)"
else fail "watchdog: rc $rc after ${dt}s"; tail -5 hang.out; fi
finish
