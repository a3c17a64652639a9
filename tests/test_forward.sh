#!/bin/bash
# test_forward.sh — the forward-only pass of a model set (tests/test_forward.c)
# under 1 rank, TP2+SP, PP2 with 2 virtual stages and DP2: bitwise equal to
# the training forward in each layout, checkpoints load into frozen sets, no
# gradient or optimizer memory; the log-prob sums of every layout agree with
# one rank within 1e-5 relative (fp32 sums in another order).
. "$(dirname "$0")/lib.sh"
cd "$WORK"
export OPENBLAS_NUM_THREADS=1
BIN=${NTRON_BUILDDIR:-$PWD/../../..}/tests/test_forward
ref=
for spec in "one 1 1 1 1 0" "tp2sp 2 2 1 1 1" "pp2v2 2 1 2 2 0" "dp2 2 1 1 1 0"; do
    set -- $spec
    name=$1 n=$2
    mpi "$n" "$BIN" "$3" "$4" "$5" "$6" "$WORK/$name.ck" > "$name.out" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && grep -q '^PASSED' "$name.out"; then
        pass "$name: $(grep -E '^[123]\.' "$name.out" | cut -c1-60 | tr '\n' ';')"
    else
        fail "$name (exit $rc): $(grep -E 'DIFFER|FAIL|NO|ntron:' "$name.out" | head -3)"
    fi
    s=$(sed -n 's/^logp_sum //p' "$name.out")
    if [ -z "$ref" ]; then ref=$s
    elif "$PYTHON" -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(abs(a-b) > 1e-5*abs(a))" "$ref" "$s"; then
        pass "$name: log-prob sum $s = one rank's $ref (1e-5 rel)"
    else fail "$name: log-prob sum $s differs from one rank's $ref"; fi
done
grep -E '^ *(3\.|trainable)' one.out
finish
