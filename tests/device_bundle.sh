#!/bin/bash
# tests/device_bundle.sh BUILD_DIR [DEST] — packs CUDA test binaries built
# here with the shared libraries they need that a bare GPU node may lack
# (Open MPI, parallel HDF5, OpenBLAS, ...; not glibc, not the CUDA
# toolkit's own libraries) into DEST (default .carry/), so that
# tests/device_check.sh can run them there with LD_LIBRARY_PATH=DEST/lib.
set -euo pipefail
build=${1:?usage: device_bundle.sh BUILD_DIR [DEST]}; dest=${2:-.carry}
mkdir -p "$dest/lib"
for b in tests/test_cuda_step; do
    make -s -C "$build" "$b" >/dev/null    # objects up to date first
    # relink with the static OpenBLAS (the shared one is 35 MB of per-CPU kernels)
    link=$(make -s -C "$build" -n -W "$b.o" "$b" | grep -- "-o $b " | sed 's/^.*; *mpicc/mpicc/')
    blas=/usr/lib/x86_64-linux-gnu/libopenblas.a
    [ -f "$blas" ] && link=${link/-lopenblas/$blas -lgfortran -lpthread}
    (cd "$build" && eval "${link/-o $b/-o $b.bundle}")
    cp "$build/$b.bundle" "$dest/$(basename "$b")"
    ldd "$build/$b.bundle" | awk '$3 ~ /^\// {print $3}' | while read -r lib; do
        case "$(basename "$lib")" in
            libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|libstdc++.so*|libgcc_s.so*|ld-linux*) ;;
            libcuda.so*|libcudart.so*|libcublas*|libnccl*|libnvidia*) ;;
            *) cp -L "$lib" "$dest/lib/" ;;
        esac
    done
done
strip "$dest"/test_cuda_step 2>/dev/null || true
strip --strip-unneeded "$dest"/lib/*.so* 2>/dev/null || true
du -sh "$dest"
