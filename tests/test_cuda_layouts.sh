#!/bin/bash
# test_cuda_layouts.sh — the CUDA backend on several ranks trains the same
# model as on one: 10 steps of tests/decks/layouts.deck with run.backend =
# cuda under TP2, TP2+SP, PP2, DP2 and TP2 x PP2, each against the one-rank
# CUDA run.  Ranks take GPU (node-local rank mod GPUs); with fewer GPUs than
# ranks they share one and parallel.comm = auto stages device buffers
# through host memory, with one GPU per rank it takes NCCL; the test checks
# that the path each run printed is the one expected.  With 2+ GPUs DP2 also
# runs forced onto the host-staged path; with one GPU parallel.comm = nccl
# must be refused (exit 2).  PP2 also runs with the other pipeline transfer
# mode (parallel.p2p: grouped rounds / tagged sends), bitwise equal.
# Tolerances (bf16 activations and weights, fp32 master/gradients): the
# layouts round partial sums to bf16 at different points (a TP rank's half
# of a row-parallel GEMM, NCCL's bf16 reductions), so per-step losses may
# differ by a few 1e-3; losses within 2e-2 relative (as test_cuda_step), grad
# norms within 5e-2 relative; final parameters per tensor within
# ||a-b|| <= 5e-2 ||b|| + lr sqrt(n) (Adam moves an element ~lr per step, and
# may move a near-zero-gradient element the other way on rounding alone).
# A wrong collective (a missed or doubled sum, stale bf16 weights on a DP
# rank) changes the loss by far more than 2e-2.  Initial parameters must be
# bitwise equal.  Without a GPU: "SKIP: no GPU", exit 77.  NT_LAYOUT_STEPS
# shortens the runs (default 10; test_cuda_emu_backend.sh runs 4 on the
# emulated GPUs, where a step is slow).
. "$(dirname "$0")/lib.sh"
cd "$WORK"
ngpu=$("$NTRON" --version 2>/dev/null | sed -n 's/^devices: \([0-9][0-9]*\) GPU.*/\1/p')
if [ -z "$ngpu" ] || [ "$ngpu" -eq 0 ]; then
    echo "SKIP: no GPU ($("$NTRON" --version 2>&1 | sed -n 's/^devices: //p'))"; exit 77
fi
if ! "$PYTHON" -c "import h5py, numpy" 2>/dev/null; then echo "SKIP: $PYTHON lacks h5py/numpy"; exit 77; fi
nccl=no; "$NTRON" --version | grep -q 'NCCL: yes' && nccl=yes
echo "$ngpu GPU(s), NCCL: $nccl"
DUMP=${NTRON_BUILDDIR:-$(dirname "$NTRON")/..}/tests/ref_dump
DECK=$top_srcdir/tests/decks/layouts.deck
export OPENBLAS_NUM_THREADS=1
run() { # name ranks tp pp sp [extra --set ...]
    local name=$1 n=$2 tp=$3 pp=$4 sp=$5; shift 5
    mpi "$n" "$DUMP" "$DECK" "$name.h5" --set run.backend=cuda --set train.steps=${NT_LAYOUT_STEPS:-10} --set parallel.tensor=$tp \
        --set parallel.pipeline=$pp --set parallel.sequence_parallel=$sp "$@" < /dev/null > "$name.out" 2>&1 \
        || { fail "$name: run failed"; tail -5 "$name.out"; return 1; }
}
# the path a run must print: nccl with one GPU per rank (and NCCL), else host-staged
expect_path() { # name ranks [forced]
    local want=host-staged
    [ "${3:-auto}" != mpi ] && [ "$nccl" = yes ] && [ "$2" -le "$ngpu" ] && want=nccl
    if grep -q "^comm: $want" "$1.out"; then pass "$1: $(grep '^comm:' "$1.out")"
    else fail "$1: expected comm: $want, got '$(grep '^comm:' "$1.out")'"; fi
}
run base 1 1 1 false || finish
files=(base.h5)
while read -r name n tp pp sp; do
    run "$name" "$n" "$tp" "$pp" "$sp" && { files+=("$name.h5"); expect_path "$name" "$n"; }
done <<'LAYOUTS'
tp2 2 2 1 false
tp2_sp 2 2 1 true
pp2 2 1 2 false
dp2 2 1 1 false
tp2_pp2 4 2 2 false
LAYOUTS
if [ "$ngpu" -ge 2 ]; then
    run dp2_mpi 2 1 1 false --set parallel.comm=mpi && { files+=(dp2_mpi.h5); expect_path dp2_mpi 2 mpi; }
else
    expect_error "parallel.comm = nccl with ranks sharing a GPU" 2 "parallel.comm = nccl cannot run" -- \
        mpi 2 "$DUMP" "$DECK" refused.h5 --set run.backend=cuda --set parallel.tensor=2 --set parallel.comm=nccl
fi
# the pipeline's other transfer mode (parallel.p2p): grouped rounds where auto took tagged sends (ranks
# sharing a GPU: host-staged), tagged sends where auto took grouped rounds over NCCL (a GPU per rank);
# both move the bf16 activations unchanged, so the training must be bitwise the same
alt=grouped want="tagged MPI sends from host copies"
if [ "$nccl" = yes ] && [ "$ngpu" -ge 2 ]; then alt=tagged want="grouped rounds over NCCL on device buffers"; fi
if [ -f pp2.h5 ] && run "pp2_$alt" 2 1 2 false --set parallel.p2p=$alt; then
    grep -q "^p2p: $want" pp2.out && pass "pp2 (auto): $(grep '^p2p:' pp2.out)" || fail "pp2: expected p2p: $want, got '$(grep '^p2p:' pp2.out)'"
    if "$PYTHON" - pp2.h5 "pp2_$alt.h5" <<'PY'; then pass "pp2 with parallel.p2p = $alt ($(grep '^p2p:' "pp2_$alt.out")): bitwise equal to auto"; else fail "pp2 p2p = $alt differs from auto"; fi
import sys
import h5py, numpy as np
x, y = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
sys.exit(0 if np.array_equal(x["losses"][()], y["losses"][()]) and all(
    np.array_equal(x["final"][k][()], y["final"][k][()]) for k in x["final"]) else 1)
PY
fi
if "$PYTHON" - "${files[@]}" <<'PY'; then pass "${#files[@]} CUDA layouts agree with the one-rank CUDA run"; else fail "CUDA layouts differ"; fi
import sys
import h5py, numpy as np
TOL_LOSS, TOL_NORM, TOL_PARAM = 2e-2, 5e-2, 5e-2
base = h5py.File(sys.argv[1], "r")
lr = float(base.attrs["lr"])
bl, bn = base["losses"][()], base["grad_norms"][()]
bad = 0
for fn in sys.argv[2:]:
    f = h5py.File(fn, "r")
    lay = f.attrs["layout"]
    lay = lay.decode() if isinstance(lay, bytes) else lay
    msgs = []
    dl = float(np.max(np.abs(f["losses"][()] - bl) / np.abs(bl)))
    dn = float(np.max(np.abs(f["grad_norms"][()] - bn) / np.abs(bn)))
    if not dl <= TOL_LOSS: msgs.append(f"loss rel {dl:.2e} > {TOL_LOSS}")
    if not dn <= TOL_NORM: msgs.append(f"grad norm rel {dn:.2e} > {TOL_NORM}")
    worst = 0.0
    for name, ds in base["final"].items():
        a, b = f["final"][name][()], ds[()]
        if not np.array_equal(f["init"][name][()], base["init"][name][()]):
            msgs.append(f"{name}: initial values differ")
        if a.shape != b.shape:
            msgs.append(f"{name} shape {a.shape} != {b.shape}"); continue
        d, s = float(np.linalg.norm(a - b)), float(np.linalg.norm(b))
        worst = max(worst, d / s if s else d)
        if not d <= TOL_PARAM * s + lr * np.sqrt(b.size):
            msgs.append(f"{name}: |a-b| {d:.2e} vs |b| {s:.2e}")
    bad += bool(msgs)
    print(f"{'FAIL' if msgs else 'PASS'}: {lay:<18} loss rel {dl:.1e}, grad norm rel {dn:.1e}, final params rel {worst:.1e}"
          + ("; " + "; ".join(msgs[:6]) if msgs else ""))
sys.exit(1 if bad else 0)
PY
finish
