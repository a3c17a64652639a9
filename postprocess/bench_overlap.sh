#!/bin/bash
# postprocess/bench_overlap.sh [DECK [NP [REPEATS [BUCKET_MB ...]]]] — the
# exposed data-parallel communication of `ntron bench` with
# parallel.overlap_grad_reduce off and on (one row per bucket size; default
# inputs/small/pretrain.deck on 2 ranks, 3 repeats, buckets of 25 and 2 MB).
# The runs alternate off/on REPEATS times (a shared machine drifts); each
# column is the median over the repeats of bench's value: the wait for the
# gradient reduce-scatter after the backward (its exposed part) and for the
# parameter all-gather, mean ms per step, max over ranks; ms/iter median.
# The first and last losses of every run must be the same bits as the first
# run's (the overlap changes no result); exit 1 otherwise.
# Extra bench flags: BENCH_FLAGS (default "--steps 8 --warmup 2").
set -euo pipefail
cd "$(dirname "$0")/.."
N=${NTRON:-build/src/ntron}
[ -x "$N" ] || { echo "bench_overlap.sh: no ntron at $N" >&2; exit 1; }
DECK=${1:-inputs/small/pretrain.deck}
NP=${2:-2}
REP=${3:-3}
shift $(($# < 3 ? $# : 3))
[ $# -gt 0 ] || set -- 25 2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo OPENBLAS_NUM_THREADS=1
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
echo "bench_overlap: $(date -u +%FT%TZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "deck $DECK on $NP ranks (--oversubscribe), ${BENCH_FLAGS:---steps 8 --warmup 2}, $REP repeats"
modes=("false:25")
for mb in "$@"; do modes+=("true:$mb"); done
for r in $(seq "$REP"); do
    for m in "${modes[@]}"; do
        IFS=: read -r ov mb <<< "$m"
        # shellcheck disable=SC2086
        mpirun --oversubscribe -np "$NP" "$N" bench "$DECK" --set run.backend=cpu --set parallel.overlap_grad_reduce="$ov" \
            --set parallel.bucket_mb="$mb" ${BENCH_FLAGS:---steps 8 --warmup 2} --json "$OUT/$ov-$mb-$r.json" \
            < /dev/null > "$OUT/$ov-$mb-$r.out" 2>&1 || { echo "bench_overlap: bench failed:" >&2; tail -5 "$OUT/$ov-$mb-$r.out" >&2; exit 1; }
    done
done
python3 - "$OUT" "$REP" "${modes[@]}" <<'PY'
import json, statistics, sys
out, rep, modes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
first = None
print("| overlap | bucket MB | buckets | started in backward | reduce-scatter wait ms (exposed) | all-gather wait ms | ms/iter | verdict |")
print("|---|---|---|---|---|---|---|---|")
for m in modes:
    ov, mb = m.split(":")
    d = [json.load(open(f"{out}/{ov}-{mb}-{r}.json")) for r in range(1, rep + 1)]
    for x in d:
        key = (x["first_loss"], x["last_loss"])
        first = first or key
        if key != first:
            sys.exit(f"bench_overlap: losses {key} differ from {first} ({ov}, {mb} MB)")
    med = lambda k: statistics.median(x[k] for x in d)
    print(f"| {'on' if ov == 'true' else 'off'} | {mb if ov == 'true' else '-'} | {d[0]['dp_buckets']} | "
          f"{d[0]['dp_buckets_started_in_backward']} | {med('ms_dp_reduce_exposed_max'):.2f} | "
          f"{med('ms_dp_allgather_max'):.2f} | {med('ms_median'):.1f} | {'/'.join(sorted({x['verdict'] for x in d}))} |")
print(f"losses: first {first[0]!r}, last {first[1]!r} in every run (bitwise)")
PY
