#!/bin/bash
# test_layouts.sh — every parallel layout trains the same model: 20 steps of
# tests/decks/layouts.deck under 16 layouts of up to 8 ranks among TP
# {1,2,4} x PP {1,2,4} x v {1,2} x DP {1,2,4}, with and without sequence
# parallelism (TP2 x PP2 x v2 x DP2 + SP among them), against the
# single-rank run (tests/compare_layouts.py states the tolerances).  A
# second set runs m not a multiple of PP (18 micro-batches on PP 4, v 2);
# a third checks that activation recomputation (selective, full) trains
# bitwise identically to none; a fourth that the grouped pipeline rounds
# (parallel.p2p = grouped) train bitwise as the tagged sends.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
if ! "$PYTHON" -c "import h5py, numpy" 2>/dev/null; then echo "SKIP: $PYTHON lacks h5py/numpy"; exit 77; fi
DUMP=${NTRON_BUILDDIR:-$(dirname "$NTRON")/..}/tests/ref_dump
DECK=$top_srcdir/tests/decks/layouts.deck
export OPENBLAS_NUM_THREADS=1
run() { # name ranks tp pp v sp [extra --set ...]
    local name=$1 n=$2 tp=$3 pp=$4 v=$5 sp=$6; shift 6
    mpi "$n" "$DUMP" "$DECK" "$name.h5" --set parallel.tensor=$tp --set parallel.pipeline=$pp \
        --set parallel.virtual_stages=$v --set parallel.sequence_parallel=$sp "$@" < /dev/null > "$name.out" 2>&1 \
        || { fail "$name: run failed"; tail -5 "$name.out"; }
}
# bitwise A1 B1 A2 B2 ...: each B's losses and final parameters bitwise equal to its A's
bitwise() {
    "$PYTHON" - "$@" <<'PY'
import h5py, numpy as np, sys
ok = True
names = sys.argv[1:]
for a, b in zip(names[::2], names[1::2]):
    x, y = h5py.File(a + ".h5", "r"), h5py.File(b + ".h5", "r")
    same = np.array_equal(x["losses"][()], y["losses"][()]) and all(
        np.array_equal(x["final"][k][()], y["final"][k][()]) for k in x["final"])
    print(f"{b} vs {a}: {'bitwise equal' if same else 'DIFFERENT'}")
    ok &= same
sys.exit(0 if ok else 1)
PY
}
run base 1 1 1 1 false
files=(base.h5)
while read -r name n tp pp v sp; do
    run "$name" "$n" "$tp" "$pp" "$v" "$sp"; files+=("$name.h5")
done <<'LAYOUTS'
tp2 2 2 1 1 false
tp4 4 4 1 1 false
tp2_sp 2 2 1 1 true
tp4_sp 4 4 1 1 true
pp2 2 1 2 1 false
pp4 4 1 4 1 false
pp2_v2 2 1 2 2 false
pp4_v2 4 1 4 2 false
dp2 2 1 1 1 false
dp4 4 1 1 1 false
tp2_dp2_sp 4 2 1 1 true
tp2_pp2 4 2 2 1 false
tp2_pp2_v2_dp2_sp 8 2 2 2 true
tp4_pp2_sp 8 4 2 1 true
pp2_dp4 8 1 2 1 false
tp2_dp4 8 2 1 1 false
pp2_v2_dp2 4 1 2 2 false
LAYOUTS
if "$PYTHON" "$top_srcdir/tests/compare_layouts.py" "${files[@]}"; then pass "${#files[@]} layouts agree with the single-rank run"
else fail "some layouts differ from the single-rank run"; fi

# m not a multiple of PP, interleaved: 18 micro-batches on PP 4 x v 2 (and DP 2: 9 on PP 4)
run odd_base 1 1 1 1 false --set train.global_batch=18 --set train.steps=6
run odd_pp4_v2 4 1 4 2 false --set train.global_batch=18 --set train.steps=6
run odd_pp4_dp2 8 1 4 1 false --set train.global_batch=18 --set train.steps=6
run odd_pp2_v2_dp2 4 1 2 2 false --set train.global_batch=18 --set train.steps=6
if "$PYTHON" "$top_srcdir/tests/compare_layouts.py" odd_base.h5 odd_pp4_v2.h5 odd_pp4_dp2.h5 odd_pp2_v2_dp2.h5; then
    pass "m not a multiple of PP (m = 18, 9) agrees"
else fail "m not a multiple of PP differs"; fi
# activation recomputation: selective and full give bitwise the same training as none
run rc_sel 1 1 1 1 false --set train.recompute=selective --set train.steps=5
run rc_full 1 1 1 1 false --set train.recompute=full --set train.steps=5
run rc_none 1 1 1 1 false --set train.steps=5
run rc_full8 8 2 2 2 true --set train.recompute=full --set train.steps=5
run rc_none8 8 2 2 2 true --set train.steps=5
if bitwise rc_none rc_sel rc_none rc_full rc_none8 rc_full8; then
    pass "recompute selective/full: losses and parameters bitwise equal to none (1 rank, and TP2 PP2 v2 DP2 SP)"
else fail "recompute differs"; fi
# grouped pipeline rounds (parallel.p2p = grouped: NCCL's semantics, here over MPI) train bitwise as the tagged sends
run g_pp2_v2 2 1 2 2 false --set parallel.p2p=grouped
run g_odd_pp4_v2 4 1 4 2 false --set train.global_batch=18 --set train.steps=6 --set parallel.p2p=grouped
run g_rc_none8 8 2 2 2 true --set train.steps=5 --set parallel.p2p=grouped
if bitwise pp2_v2 g_pp2_v2 odd_pp4_v2 g_odd_pp4_v2 rc_none8 g_rc_none8; then
    pass "parallel.p2p = grouped: losses and parameters bitwise equal to tagged (PP2 v2, PP4 v2 with m = 18, TP2 PP2 v2 DP2 SP)"
else fail "grouped p2p differs from tagged"; fi
grep -q "^p2p: grouped rounds over MPI (host buffers)" g_pp2_v2.out && ! grep -q "^p2p:" pp2_v2.out \
    && pass "rank 0 names the grouped path; the default (tagged, CPU) prints nothing" || fail "p2p line: $(grep -h '^p2p' g_pp2_v2.out pp2_v2.out)"
finish
