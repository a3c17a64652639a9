#!/bin/bash
# test_sample.sh — the vocab-parallel sampler (tests/test_sample.c): the
# empirical distribution of each mode within 4 sigma of the truncated,
# tempered softmax; greedy = argmax; the draws of 2 and 4 ranks (the
# vocabulary split over them) equal to one rank's.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
export OPENBLAS_NUM_THREADS=1
BIN=${NTRON_BUILDDIR:-$PWD/../../..}/tests/test_sample
for n in 1 2 4; do
    mpi "$n" "$BIN" > "np$n.out" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && grep -q '^PASSED' "np$n.out"; then
        pass "$n rank(s): $(grep -c '^[12]\.' "np$n.out") checks"
    else fail "$n rank(s) (exit $rc): $(grep -E 'FAIL|ntron' "np$n.out" | head -3)"; fi
done
grep '^1\.' np1.out
finish
