#!/bin/bash
# postprocess/bench_cpu_vs_torch.sh — a benchmark, not a test: trains the
# same small Nemotron-shaped config (default 4 layers, hidden 384, 6 heads
# / 2 KV groups, FFN 1536, vocab 384 after padding, seq 256, micro-batch 4,
# fp32, AdamW) with ntron and with the PyTorch reference on this machine,
# one after the other with the same thread count, and prints tokens/s for
# both and the ratio ntron / PyTorch (median step time, warm-up excluded).
# Usage: postprocess/bench_cpu_vs_torch.sh [BUILD_DIR] [THREADS] [STEPS]
# RANKS=R (default 1) runs ntron as R data-parallel MPI ranks of THREADS/R
# BLAS threads each (the same global batch, the same cores); PyTorch runs
# in one process with THREADS threads.  PYTHON names the interpreter whose
# torch is compared (postprocess/torch_bench_venv.sh makes a venv with the
# newest torch from PyPI); without PYTHON, that venv's interpreter when it
# exists, else /usr/bin/python3 (Debian's torch 1.13, old and slower: a
# warning is printed).  REPEATS=N (default 1) alternates the two N times
# (ntron, PyTorch, ntron, ...) and reports each pair's ratio and their
# median: on a shared machine whose speed drifts, pairs run side by side
# are the comparison to trust.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}; threads=${2:-2}; steps=${3:-12}; warm=2
venv=${VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/ntron/torch-bench-venv}
if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x "$venv/bin/python" ]; then PY=$venv/bin/python
else
    PY=/usr/bin/python3
    echo "bench_cpu_vs_torch: no $venv; using $PY (run postprocess/torch_bench_venv.sh for a current torch)" >&2
fi
torch_ver=$("$PY" -c "import torch; print(torch.__version__)")
echo "bench_cpu_vs_torch: PyTorch $torch_ver from $PY" >&2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$build/src/ntron" prep --tokenizer byte "$top/inputs/tiny/corpus.txt" -o "$work/corpus.h5" >/dev/null
ranks=${RANKS:-1}
# ntron: THREADS/RANKS BLAS and kernel-pool threads per rank (the pool reads NT_CPU_THREADS); PyTorch: THREADS
per_rank=$(( threads / ranks > 0 ? threads / ranks : 1 ))
export OPENBLAS_NUM_THREADS=$per_rank NT_CPU_THREADS=$per_rank OMP_NUM_THREADS=$threads
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo
launch=()
[ "$ranks" -gt 1 ] && launch=(mpirun --oversubscribe -np "$ranks")
run_ntron() {
    rm -rf "$work/run"
    "${launch[@]}" "$build/src/ntron" run "$top/inputs/tiny/pretrain.deck" --set data.train="$work/corpus.h5" --set run.dir="$work/run" \
        --set model.layers=4 --set model.hidden=384 --set model.heads=6 --set model.kv_heads=2 \
        --set model.ffn_hidden=1536 --set model.seq_len=256 --set parallel.micro_batch=$((4 / ranks)) --set train.global_batch=4 \
        --set train.steps=$((steps + warm)) --set train.warmup=1 --set run.log_interval=1 > "$work/ntron.out"
    "$PY" -c "
import statistics, sys
sys.path.insert(0, '$top/postprocess')
import ntpost
rows = ntpost.read_metrics('$work/run')[$warm:]
print(4 * 256 / (statistics.median(r['ms'] for r in rows) / 1e3))"
}
run_torch() {
    "$PY" "$top/postprocess/bench_cpu_torch.py" --threads "$threads" --steps "$steps" --warmup-steps $warm \
        --layers 4 --hidden 384 --heads 6 --kv-heads 2 --ffn 1536 --vocab 384 --seq 256 --micro-batch 4 \
        | "$PY" -c "import json,sys; print(json.load(sys.stdin)['tokens_per_s'])"
}
repeats=${REPEATS:-1}
label="ntron (cpu-fp32, OpenBLAS, $ranks rank(s) x $OPENBLAS_NUM_THREADS thread(s))"
printf '%-4s %-58s %10s %10s %7s\n' "pair" "ntron" "tokens/s" "PyTorch" "ratio"
ratios=() nt_all=() pt_all=()
for ((i = 1; i <= repeats; i++)); do
    ntron_tps=$(run_ntron); torch_tps=$(run_torch)
    r=$("$PY" -c "print($ntron_tps / $torch_tps)")
    ratios+=("$r"); nt_all+=("$ntron_tps"); pt_all+=("$torch_tps")
    printf '%-4s %-58s %10.0f %10.0f %7.3f\n' "$i" "$label" "$ntron_tps" "$torch_tps" "$r"
done
med() { "$PY" -c "import statistics, sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
printf 'PyTorch %s; median over %s pair(s): ntron %.0f tokens/s, PyTorch %.0f tokens/s\n' "$torch_ver" "$repeats" \
    "$(med "${nt_all[@]}")" "$(med "${pt_all[@]}")"
printf 'ratio ntron/PyTorch: %.2f  (median of the pairs; min %.2f, max %.2f; threads %s, %s timed steps, %s, %s)\n' \
    "$(med "${ratios[@]}")" "$("$PY" -c "print(min(float(x) for x in '${ratios[*]}'.split()))")" \
    "$("$PY" -c "print(max(float(x) for x in '${ratios[*]}'.split()))")" "$threads" "$steps" "$(date -u +%F)" "$(nproc) cores $(uname -m)"
