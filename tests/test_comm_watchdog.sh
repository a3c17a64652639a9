#!/bin/bash
# test_comm_watchdog.sh — the collective watchdog inside the comm layer:
#  1. TP 2 on 2 ranks, world rank 1 hangs inside a tensor-parallel collective
#     of the model (fault hook NTRON_FAULT_HANG_COMM=1:tp:10): the watchdog
#     aborts the job within run.collective_timeout, naming the operation and
#     the tp communicator; non-zero exit, bounded time
#  2. DP 2 on 2 ranks, rank 1 hangs in a dp collective that the trainer
#     also wraps in a region of its own (nested regions): still caught and
#     named after the inner operation on the dp communicator
. "$(dirname "$0")/lib.sh"
cd "$WORK"
export OPENBLAS_NUM_THREADS=1
"$NTRON" prep --tokenizer byte "$top_srcdir/inputs/tiny/corpus.txt" -o corpus.h5 >/dev/null || fail "prep"
DECK=$top_srcdir/inputs/tiny/pretrain.deck
C=(--set data.train=$WORK/corpus.h5 --set model.layers=2 --set model.hidden=64 --set model.ffn_hidden=128
   --set model.seq_len=32 --set parallel.micro_batch=2 --set train.global_batch=8 --set train.steps=6
   --set train.warmup=2 --set run.log_interval=1 --set run.seed=5 --set run.collective_timeout=2)

# hang_test NAME FAULT LABEL OPREGEX [--set ...]: rank 1 hangs per FAULT; a
# watchdog must name OPREGEX on the LABEL communicator: rank 0's (waiting for
# rank 1 in the same collective) or rank 1's own (it hangs inside the
# region), whichever fires first; the launcher then ends the job
hang_test() {
    local name=$1 fault=$2 label=$3 op=$4; shift 4
    local t0 rc dt
    t0=$(date +%s)
    NTRON_FAULT_HANG_COMM=$fault NT_MPI_TIMEOUT=60 mpi 2 "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/$name "$@" \
        < /dev/null > "$name.out" 2>&1; rc=$?
    dt=$(( $(date +%s) - t0 ))
    local said re="ntron: rank [01]: stuck for more than 2 s in $op on the $label communicator \(run.collective_timeout = 2 s\); aborting"
    said=$(grep -E -m1 "$re" "$name.out")
    if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $dt -lt 30 ] && [ -n "$said" ] \
       && grep -q "ntron: fault injection: world rank 1 hangs in .* on the $label communicator" "$name.out"; then
        pass "$name: rank 1 hangs in a $label collective; aborted after ${dt}s, exit $rc: '${said#ntron: }'"
    else fail "$name: rc $rc after ${dt}s"; tail -5 "$name.out"; fi
}
hang_test tp_hang 1:tp:10 tp 'all-reduce \(sum, f32, [0-9]+ elements\)' --set parallel.tensor=2
hang_test dp_nested 1:dp:2 dp '(all-reduce|reduce-scatter) \(sum, f(32|64), [0-9]+ elements\)'
finish
