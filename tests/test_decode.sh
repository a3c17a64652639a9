#!/bin/bash
# test_decode.sh — KV-cache decoding (tests/test_decode.c) equals the full
# forward's logits at every position (1e-5 relative) under 1 rank, TP2,
# PP2, PP2 with 2 virtual stages, TP2 x PP2 and DP2; the logit sums of
# every layout agree with one rank's (1e-6 relative: fp32 TP sums); with a
# GPU, the CUDA backend's decoder against the CPU full forward (bf16, 3e-2).
. "$(dirname "$0")/lib.sh"
cd "$WORK"
export OPENBLAS_NUM_THREADS=1
BIN=${NTRON_BUILDDIR:-$PWD/../../..}/tests/test_decode
ref=
for spec in "one 1 1 1 1" "tp2 2 2 1 1" "pp2 2 1 2 1" "pp2v2 2 1 2 2" "tp2pp2 4 2 2 1" "dp2 2 1 1 1"; do
    set -- $spec
    name=$1
    mpi "$2" "$BIN" "$3" "$4" "$5" > "$name.out" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && grep -q '^PASSED' "$name.out"; then pass "$name: $(grep '^positions' "$name.out")"
    else fail "$name (exit $rc): $(tail -3 "$name.out")"; fi
    s=$(sed -n 's/^decode_logit_sum //p' "$name.out")
    if [ -z "$ref" ]; then ref=$s
    elif "$PYTHON" -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(abs(a-b) > 1e-6*abs(a))" "$ref" "$s"; then
        pass "$name: logit sum $s = one rank's $ref"
    else fail "$name: logit sum $s differs from one rank's $ref"; fi
done
# the CUDA backend's decoder (bf16 cached-KV kernel) against the CPU full forward (GPU only)
mpi 1 "$BIN" 1 1 1 cuda > cuda.out 2>&1
rc=$?
case $rc in
    0) pass "cuda: $(grep '^positions' cuda.out)" ;;
    77) echo "SKIP: cuda decode: $(grep SKIP cuda.out)" ;;
    *) fail "cuda (exit $rc): $(tail -3 cuda.out)" ;;
esac
finish
