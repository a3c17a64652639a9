#!/bin/bash
# postprocess/bench_sdg.sh [NP ...] — throughput of `ntron sdg` per stage:
# inputs/tiny/sdg.deck (the final tiny RPO model generating, the tiny
# reward model judging; run inputs/tiny/pipeline.sh first) into a fresh
# run directory per rank count (default 1 and 2 ranks), then the stage
# table of postprocess/sdg_report.py: records in and out per second of
# each stage (prompts/s, accepted samples/s) and tokens/s.  The outputs of
# every rank count are compared byte for byte (they must be the same).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${NTRON:-build/src/ntron}
[ -x "$N" ] || { echo "bench_sdg.sh: no ntron at $N" >&2; exit 1; }
[ -f runs/tiny-rpo3/checkpoints/latest ] && [ -f runs/tiny-rm/checkpoints/latest ] ||
    { echo "bench_sdg.sh: needs runs/tiny-rpo3 and runs/tiny-rm (inputs/tiny/pipeline.sh)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo OPENBLAS_NUM_THREADS=1
[ $# -gt 0 ] || set -- 1 2
echo "bench_sdg: $(date -u +%FT%TZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
first=""
for np in "$@"; do
    d=runs/bench-sdg-np$np
    rm -rf "$d"
    t0=$(date +%s.%N)
    mpirun --oversubscribe -np "$np" "$N" sdg inputs/tiny/sdg.deck --set run.dir=$d < /dev/null > /dev/null
    t1=$(date +%s.%N)
    echo; echo "## $np rank(s): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s in all"
    postprocess/sdg_report.py "$d" -o "$d/rewards.png" | grep -v '^sdg_report'
    if [ -z "$first" ]; then first=$d; else
        for f in "$first"/*.jsonl; do cmp -s "$f" "$d/$(basename "$f")" || { echo "bench_sdg: $d/$(basename "$f") differs from $f" >&2; exit 1; }; done
        echo "outputs: the same bytes as $first"
    fi
done
