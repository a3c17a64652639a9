# tests/lib.sh — shared helpers for the shell tests: where the binary and
# sources are, a scratch directory per test, PASS/FAIL bookkeeping, and an
# MPI launcher that works as root on an oversubscribed 2-core machine.
set -u
: "${NTRON:=$PWD/src/ntron}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${PYTHON:=/usr/bin/python3}"
: "${MPIRUN:=mpirun}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo
NT_FAILS=0
NT_NAME=$(basename "$0" .sh)
WORK=$PWD/tests/work/$NT_NAME
rm -rf "$WORK"; mkdir -p "$WORK"

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; NT_FAILS=$((NT_FAILS + 1)); }
finish() { [ "$NT_FAILS" -eq 0 ] && { echo "$NT_NAME: all passed"; exit 0; }; echo "$NT_NAME: $NT_FAILS failed"; exit 1; }
# every MPI launch is bounded: a hang fails the test instead of stalling the suite
mpi() { local n=$1; shift; timeout -k 5 "${NT_MPI_TIMEOUT:-300}" "$MPIRUN" --oversubscribe -np "$n" "$@"; }

# expect_error NAME STATUS REGEX -- command...: runs the command, checks the
# exit status and that stderr matches REGEX.
expect_error() {
    local name=$1 want=$2 re=$3; shift 4
    local out rc
    out=$("$@" 2>&1 >/dev/null); rc=$?
    if [ "$rc" -ne "$want" ]; then fail "$name: exit $rc, want $want ($out)"; return; fi
    if ! printf '%s\n' "$out" | grep -Eq -- "$re"; then fail "$name: stderr '$out' does not match /$re/"; return; fi
    pass "$name: exit $rc: $(printf '%s' "$out" | head -n1)"
}
