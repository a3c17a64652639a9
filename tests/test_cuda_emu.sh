#!/bin/bash
# test_cuda_emu.sh — the CUDA kernels checked without a GPU: tests/
# test_cuda_kernels.cu built against the host emulator (kernels/cuda/emu/
# cuda_emu.h, by kernels/cuda/build_test.sh with NT_EMU=1, g++) and run.
# Every CUDA kernel's forward and backward against the CPU kernel at
# reduced shapes, the mma.sync and the warpgroup-MMA (wgmma) tensor-core
# attention included, with the emulator's own checks (barriers, fragment
# layouts, wgmma descriptors and fences, shared-memory bounds).  Runs in
# every build, CUDA or not: it needs g++ and OpenBLAS, no nvcc.
#   pass: the emulated run exits 0 with "N passed, 0 failed", N >= 300,
#   and the wgmma path really ran (its layout probes and >= 40 attention checks).
. "$(dirname "$0")/lib.sh"
command -v g++ > /dev/null || { echo "SKIP: g++ not found (the emulator build needs it)"; exit 77; }
if ! (cd "$top_srcdir" && NT_EMU=1 kernels/cuda/build_test.sh "$WORK") > "$WORK/build.log" 2>&1; then
    fail "emulator build failed: $(grep -m1 -E 'error' "$WORK/build.log" || tail -1 "$WORK/build.log")"
    finish
fi
timeout 900 "$WORK/test_cuda_kernels_emu" > "$WORK/run.log" 2>&1; rc=$?
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$WORK/run.log" | tail -1)
npass=${summary%% passed*}
nwg=$(grep -c '^PASS: attention_.*\[wgmma\]' "$WORK/run.log")
nprobe=$(grep -c '^PASS: wgmma_probe' "$WORK/run.log")
if [ $rc -ne 0 ]; then
    fail "emulated kernel test exit $rc: $(grep -m3 -E '^FAIL|EMU' "$WORK/run.log" | tr '\n' ' ')"
elif [ -z "$summary" ] || [ "${npass:-0}" -lt 300 ]; then
    fail "emulated kernel test: summary '$summary' (want >= 300 passed)"
else
    pass "emulated CUDA kernels: $summary"
fi
if [ "$nwg" -ge 40 ] && [ "$nprobe" -eq 4 ]; then
    pass "wgmma path exercised: $nprobe layout probes, $nwg attention checks against the CPU kernel"
else
    fail "wgmma path: $nprobe layout probes (want 4), $nwg attention checks (want >= 40)"
fi
finish
