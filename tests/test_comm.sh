#!/bin/bash
# test_comm.sh — the comm API's host and host-staged device paths
# (tests/test_comm_staged.c, a fake device on the CPU) on 1 to 4 ranks.
. "$(dirname "$0")/lib.sh"
BIN=${NTRON_BUILDDIR:-$(dirname "$NTRON")/..}/tests/test_comm_staged
for n in 1 2 3 4; do
    if out=$(mpi "$n" "$BIN" 2>&1); then pass "$n ranks: $(printf '%s\n' "$out" | tail -1)"
    else fail "$n ranks: exit $?: $(printf '%s\n' "$out" | grep -m5 FAIL) $(printf '%s\n' "$out" | tail -n 3)"; fi
done
finish
