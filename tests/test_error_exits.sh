#!/bin/bash
# test_error_exits.sh — src/util/check.h's two ways out under MPI (tests/error_exits.c):
#  1. one rank fails alone (nt_die, nt_input_error, a failing CUDA call)
#     while the others wait in a collective: the job is aborted with the
#     status (1, 2, 1), the message is printed, nobody is left hanging.
#     Run with orte_abort_on_non_zero_status = 0, so mpirun does not end the
#     job for us when a rank exits (as srun without --kill-on-bad-exit): a
#     rank that only called exit() would leave the others in the barrier
#  2. an error the ranks agreed on (nt_comm_agree): printed once, every rank
#     exits 2 together, no MPI_Abort
. "$(dirname "$0")/lib.sh"
BIN=${NTRON_BUILDDIR:-$(dirname "$NTRON")/..}/tests/error_exits
cd "$WORK"
# case NAME RANKS STATUS REGEX [mpirun args]: the run ends in < 30 s with
# STATUS and REGEX in its output
case_() {
    local name=$1 n=$2 want=$3 re=$4 t0 rc dt; shift 4
    t0=$(date +%s)
    NT_MPI_TIMEOUT=30 mpi "$n" "$@" "$BIN" "$name" < /dev/null > "$name.$n.out" 2>&1; rc=$?
    dt=$(( $(date +%s) - t0 ))
    if [ $rc -eq 77 ]; then echo "SKIP: $name: $(head -1 "$name.$n.out")"; return; fi
    if [ $rc -eq "$want" ] && [ $dt -lt 30 ] && grep -Eq "$re" "$name.$n.out"; then
        pass "$name on $n ranks: exit $rc after ${dt}s: $(grep -E -m1 "$re" "$name.$n.out")"
    else fail "$name on $n ranks: exit $rc (want $want) after ${dt}s"; tail -5 "$name.$n.out"; fi
}
ALONE=(--mca orte_abort_on_non_zero_status 0)
case_ die 3 1 '^ntron: the last rank fails alone$' "${ALONE[@]}"
case_ input 3 2 '^ntron: bad input seen by the last rank only$' "${ALONE[@]}"
if "$NTRON" --version | grep -q 'CUDA: yes'; then
    case_ cuda 2 1 '^ntron: .*error_exits\.c:[0-9]+: cudaSetDevice\(1 << 20\): CUDA: ' "${ALONE[@]}"
else echo "SKIP: cuda case: this build has no CUDA"; fi
case_ input 1 2 '^ntron: bad input seen by the last rank only$'
case_ agreed 3 2 '^ntron: bad input seen by the last rank only$'
# agreed: exactly one line, and no abort
out=agreed.3.out
if [ "$(grep -c '^ntron:' $out)" = 1 ] && ! grep -q MPI_ABORT $out; then pass "agreed: printed once, no MPI_Abort"
else fail "agreed: $(grep -c '^ntron:' $out) messages, abort: $(grep -c MPI_ABORT $out)"; cat $out; fi
out=input.1.out
if ! grep -q MPI_ABORT $out; then pass "one rank: bad input exits 2 without MPI_Abort"; else fail "one rank: MPI_Abort"; fi
finish
