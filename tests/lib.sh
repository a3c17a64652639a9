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

# expect_help CMD... : `ntron CMD... --help` exits 0 with nothing on stderr and
# prints the one help format (tests/lib.sh, src/cli/cli_flags.c): "usage: ntron
# CMD...", an "options:" list ending in "-h, --help" (or, for a command with
# sub-commands, a "commands:" list); extra arguments after -- are regexes
# the text must match (e.g. each flag).
expect_help() {
    local cmd=() out err rc re
    while [ $# -gt 0 ] && [ "$1" != -- ]; do cmd+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    out=$("$NTRON" "${cmd[@]}" --help 2>"$WORK/help.err"); rc=$?
    err=$(cat "$WORK/help.err")
    if [ $rc -ne 0 ] || [ -n "$err" ]; then fail "${cmd[*]} --help: exit $rc, stderr '$err'"; return; fi
    if ! printf '%s\n' "$out" | head -n1 | grep -q "^usage: ntron ${cmd[*]} "; then
        fail "${cmd[*]} --help: first line '$(printf '%s\n' "$out" | head -n1)'"; return
    fi
    if ! printf '%s\n' "$out" | grep -Eq '^(options|commands):$'; then fail "${cmd[*]} --help: no options:/commands: list"; return; fi
    if printf '%s\n' "$out" | grep -q '^options:$' && ! printf '%s\n' "$out" | grep -Eq '^  -h, --help  +print this help and exit$'; then
        fail "${cmd[*]} --help: no '-h, --help' line"; return
    fi
    for re in "$@"; do
        printf '%s\n' "$out" | grep -Eq -- "$re" || { fail "${cmd[*]} --help lacks /$re/"; return; }
    done
    pass "${cmd[*]} --help: usage, $(printf '%s\n' "$out" | sed -n '/^[a-z]*:$/,$p' | grep -c '^  [-a-z]') entries"
}

# metric FILE STEP FIELD [FORMAT]: FIELD of STEP in a run's metrics.jsonl (a
# run directory or the file), printed with Python's FORMAT (e.g. %.4f; default
# repr); the last row of a step wins (a resumed run appends).  Prints nothing
# (and returns 1) when the step is absent.
metric() {
    "$PYTHON" - "$@" <<'PY'
import json, os, sys
path, step, field = sys.argv[1:4]
fmt = sys.argv[4] if len(sys.argv) > 4 else None
if os.path.isdir(path):
    path = os.path.join(path, "metrics.jsonl")
rows = {}
for line in open(path):
    if line.strip():
        r = json.loads(line)
        rows[int(r["step"])] = r
if int(step) not in rows:
    sys.exit(1)
v = rows[int(step)][field]
print(fmt % v if fmt else repr(v))
PY
}
# metric_steps FILE: the logged steps of a run's metrics.jsonl, one per line, in order, repeats folded
metric_steps() {
    "$PYTHON" - "$1" <<'PY'
import json, os, sys
path = sys.argv[1]
if os.path.isdir(path):
    path = os.path.join(path, "metrics.jsonl")
steps = sorted({int(json.loads(l)["step"]) for l in open(path) if l.strip()}) if os.path.exists(path) else []
print("\n".join(map(str, steps)))
PY
}
