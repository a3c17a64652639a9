#!/bin/bash
# postprocess/bench_layouts.sh — a benchmark, not a test: CPU throughput of
# a deck under several TP x PP x v x DP layouts of 1, 2, 4 and 8 MPI ranks
# on this machine, with the pipeline bubble measured on rank 0 (time
# waiting for point-to-point data / step time) next to the formula
# (p-1)/(v·m).  Ranks beyond the core count are oversubscribed: compare
# layouts of the same rank count, not across.
# Usage: postprocess/bench_layouts.sh [BUILD_DIR] [DECK] [STEPS] [extra --set ...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}; deck=${2:-$top/inputs/tiny/pretrain.deck}; steps=${3:-8}; shift $(( $# < 3 ? $# : 3 ))
PY=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$build/src/ntron" prep --tokenizer byte "$top/inputs/tiny/corpus.txt" -o "$work/corpus.h5" >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_mpi_yield_when_idle=1 OPENBLAS_NUM_THREADS=1
printf '%-6s %-22s %4s %10s %10s %12s %12s\n' ranks layout m "ms/step" "tokens/s" "bubble meas" "bubble (p-1)/(vm)"
while read -r n tp pp v mb gbs; do
    d="$work/r$n-$tp-$pp-$v-$mb-$gbs"
    mpirun --oversubscribe -np "$n" "$build/src/ntron" run "$deck" --set data.train="$work/corpus.h5" --set run.dir="$d" \
        --set parallel.tensor=$tp --set parallel.pipeline=$pp --set parallel.virtual_stages=$v \
        --set parallel.micro_batch=$mb --set train.global_batch=$gbs --set train.steps=$((steps + 2)) \
        --set train.warmup=1 --set run.log_interval=1 "$@" < /dev/null > "$d.out" 2>&1 || { echo "failed: $n $tp $pp $v"; tail -3 "$d.out"; continue; }
    dp=$((n / (tp * pp)))
    "$PY" - "$d/metrics.jsonl" "$n" "TP$tp PP$pp v$v DP$dp mb$mb" "$pp" "$v" $((gbs / (mb * dp))) "$top/postprocess" <<'PY'
import statistics, sys
sys.path.insert(0, sys.argv[7])
import ntpost
rows = ntpost.read_metrics(sys.argv[1])[2:]
n, lay, p, v, m = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
ms = statistics.median(r["ms"] for r in rows)
tps = statistics.median(r["tokens_per_s"] for r in rows)
bub = statistics.median(r["ms_p2p_wait"] / r["ms"] for r in rows) if p > 1 else 0.0
print(f"{n:<6} {lay:<22} {m:4d} {ms:10.1f} {tps:10.0f} {bub:12.3f} {(p - 1) / (v * m):12.3f}")
PY
done <<'LAYOUTS'
1 1 1 1 4 16
2 1 1 1 4 16
2 2 1 1 4 16
2 1 2 1 4 16
2 1 2 1 2 16
2 1 2 2 2 16
2 1 2 1 1 16
4 2 1 1 4 16
4 1 2 1 2 16
4 1 4 1 2 16
4 2 2 1 4 16
8 2 2 1 2 16
8 2 2 2 2 16
LAYOUTS
echo "($(date -u +%F), $(nproc) cores $(uname -m), deck $(basename "$(dirname "$deck")")/$(basename "$deck"), $steps timed steps)"
