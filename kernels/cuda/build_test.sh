#!/bin/sh
# build_test.sh — build tests/test_cuda_kernels (CUDA kernels + CPU references)
# outside the autotools build, as the lead's device check uses it.
#   kernels/cuda/build_test.sh [OUTDIR]        (default: build-cuda-test)
# Run from the repository root.  Produces OUTDIR/test_cuda_kernels, linked
# with static cudart and (when libopenblas.a exists) static OpenBLAS, so the
# binary runs on a GPU machine that has only libc/libstdc++.
# Exit status of the test: 0 pass, 1 fail, 77 skip (no GPU).
#   CUDA_ARCH=80,90a kernels/cuda/build_test.sh   other GPU targets (default 90a)
# Built without src/util/check.c: -DNT_CHECK_STANDALONE gives cuda_check.h's
# macros their local reporter (print file:line and the CUDA text, exit 1).
#   NT_EMU=1 kernels/cuda/build_test.sh OUTDIR  builds the host-emulation
#   variant OUTDIR/test_cuda_kernels_emu instead (g++, no GPU needed; slow).
set -eu
OUT=${1:-build-cuda-test}
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
# CUDA_ARCH: the GPU targets, as configure's --with-cuda-arch (a list such
# as 80,90,90a; default 90a), or nvcc flags verbatim when it starts with '-'
case ${CUDA_ARCH:=90a} in
    -*) ARCH=$CUDA_ARCH ;;
    *) ARCH=$(sh "$(dirname "$0")/gencode.sh" "$CUDA_ARCH" "$NVCC") || exit 1 ;;
esac
mkdir -p "$OUT"
for f in kernels/cpu/*.c; do
    gcc -std=c11 -O2 -Ikernels/cpu -c "$f" -o "$OUT/cpu_$(basename "$f" .c).o"
done
BLAS=-lopenblas
for a in /usr/lib/x86_64-linux-gnu/libopenblas.a /usr/lib64/libopenblas.a /usr/lib/libopenblas.a; do
    if [ -f "$a" ]; then BLAS="$a -lpthread"; break; fi
done
if [ "${NT_EMU:-0}" = 1 ]; then
    g++ -std=c++17 -O1 -g -DNT_CUDA_EMU -DNT_CHECK_STANDALONE -x c++ -Ikernels/cpu -Ikernels/cuda \
        kernels/cuda/[a-z]*.cu tests/test_cuda_kernels.cu -x none "$OUT"/cpu_*.o \
        $BLAS -lm -o "$OUT/test_cuda_kernels_emu"
    echo "built $OUT/test_cuda_kernels_emu"
    exit 0
fi
for f in kernels/cuda/*.cu tests/test_cuda_kernels.cu; do
    "$NVCC" -std=c++17 -O3 $ARCH -DNT_CHECK_STANDALONE -Ikernels/cpu -Ikernels/cuda -c "$f" \
        -o "$OUT/cu_$(basename "$f" .cu).o"
done
"$NVCC" $ARCH -o "$OUT/test_cuda_kernels" "$OUT"/cu_*.o "$OUT"/cpu_*.o $BLAS -lm
echo "built $OUT/test_cuda_kernels"
