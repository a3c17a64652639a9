#!/bin/bash
# tests/check.sh — the README's test command: installs what is missing,
# builds ntron in build/ (CUDA if found, override with
# NTRON_CONFIGURE_FLAGS), runs `make check`, and prints
# "N passed, N failed, N skipped".  Exit status 0 when nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build-aux/install-deps || exit 1
./autogen.sh >/dev/null 2>&1 || { echo "autogen.sh failed"; exit 1; }
mkdir -p build && cd build
"$top/configure" ${NTRON_CONFIGURE_FLAGS:-} > configure.out 2>&1 || { cat configure.out; exit 1; }
sed -n '/build configuration/,$p' configure.out
make -j"$(nproc)" >make.out 2>&1 || { tail -40 make.out; exit 1; }
make -j"$(nproc)" check >check.out 2>&1; rc=$?
if [ ! -f test-suite.log ]; then tail -30 check.out; echo "0 passed, 1 failed (make check did not run the tests, exit $rc)"; exit 1; fi
grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' check.out
for f in $(grep -lE '^:test-result: (FAIL|ERROR)' tests/*.trs 2>/dev/null); do
    # the failed checks first (a long log's FAIL lines must not fall beyond the excerpt), then the context
    echo "---- ${f%.trs}.log ----"; grep -E '^FAIL' "${f%.trs}.log" | head -20
    echo "---- ${f%.trs}.log: error and ntron lines ----"; grep -E 'error|ntron:' "${f%.trs}.log" | grep -v '^FAIL' | head -20
    echo "---- ${f%.trs}.log: last lines ----"; tail -8 "${f%.trs}.log"
done
count() { grep -E "^# $1: " test-suite.log | awk '{print $3}'; }
p=$(count PASS); f=$(count FAIL); s=$(count SKIP); e=$(count ERROR)
p=${p:-0}; f=$((${f:-0} + ${e:-0})); s=${s:-0}
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { tail -20 check.out; f=1; }
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
