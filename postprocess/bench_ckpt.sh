#!/bin/bash
# bench_ckpt.sh BUILD_DIR [OUT_DIR] — checkpoint write/read throughput (GB/s)
# of a model of >= 1 GB (fp32: 280M parameters; checkpoint = bf16 weights +
# fp32 master + 2 Adam moments = 14 bytes/parameter) for 1, 2, 4, 8 ranks,
# against the same bytes written (write + fsync) and read by one plain
# sequential file on the same disk: medians of 3 rounds after a first one
# (reported on its own), see tests/ckpt_bench.c.  A benchmark, not a test.
# Layouts: 1 rank; TP2; TP2 x PP2; TP2 x PP2 x DP2 (the model's memory is
# split, so 8 ranks fit in the memory of one).
set -eu
B=${1:?usage: bench_ckpt.sh BUILD_DIR [OUT_DIR]}
OUT=${2:-/tmp/ntron-bench-ckpt}
mkdir -p "$OUT"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo OPENBLAS_NUM_THREADS=1
DECK=$(cd "$(dirname "$0")/.." && pwd)/tests/decks/layouts.deck
M=(--set model.layers=8 --set model.hidden=1536 --set model.ffn_hidden=6144 --set model.heads=8
   --set model.kv_heads=4 --set model.vocab=32000 --set model.seq_len=16)
for spec in "1 1 1" "2 2 1" "4 2 2" "8 2 2"; do
    set -- $spec
    rm -rf "$OUT/ck$1"
    mpirun --oversubscribe -np "$1" "$B/tests/ckpt_bench" "$DECK" "$OUT/ck$1" --reps "${NT_CKPT_REPS:-4}" "${M[@]}" \
        --set parallel.tensor=$2 --set parallel.pipeline=$3 | grep '^ranks'
    rm -rf "$OUT/ck$1"
done | awk '{b=$6; printf "%s | %d ranks %-12s | %.2f GB | write %.2f GB/s (%.2f of plain %.2f; first write %.2f GB/s) | read %.2f GB/s (plain %.2f)\n", \
    strftime("%F"), $2, $4, b/1e9, b/$8/1e9, ($12)/$8, b/$12/1e9, b/$16/1e9, b/$10/1e9, b/$14/1e9}'
