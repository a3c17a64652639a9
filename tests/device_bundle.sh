#!/bin/bash
# tests/device_bundle.sh BUILD_DIR [DEST] — packs CUDA test binaries (and
# ntron, ref_dump) built
# here with the shared libraries they need that a bare GPU node may lack
# (Open MPI, parallel HDF5, OpenBLAS, ...; not glibc, not the CUDA
# toolkit's own libraries) into DEST (default .carry/), so that
# tests/device_check.sh can run them there with LD_LIBRARY_PATH=DEST/lib.
# Also packs this machine's Open MPI runtime (mpirun, orted, components,
# PMIx) into DEST/ompi, relocated there with OPAL_PREFIX, for the multi-rank
# GPU test (tests/test_cuda_layouts.sh) on a node without MPI.
set -euo pipefail
build=${1:?usage: device_bundle.sh BUILD_DIR [DEST]}; dest=${2:-.carry}
mkdir -p "$dest/lib"
for b in tests/test_cuda_step tests/test_comm_nccl tests/ref_dump src/ntron; do
    make -s -C "$build" "$b" >/dev/null    # objects up to date first
    # relink with the static OpenBLAS (the shared one is 35 MB of per-CPU kernels)
    obj=$b.o; [ "$b" = src/ntron ] && obj=src/main.o
    link=$(make -s -C "$build" -n -W "$obj" "$b" | grep -- "-o $b " | sed 's/^.*; *mpicc/mpicc/')
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
# the kernel test, when kernels/cuda/build_test.sh built it (static cudart/OpenBLAS)
[ -x build-cuda-test/test_cuda_kernels ] && cp build-cuda-test/test_cuda_kernels "$dest/"
strip "$dest"/test_cuda_step "$dest"/test_comm_nccl "$dest"/ref_dump "$dest"/ntron "$dest"/test_cuda_kernels 2>/dev/null || true
# the Open MPI runtime, paths as installed under /usr (Debian layout)
if [ "${NT_BUNDLE_MPI:-1}" = 1 ] && [ -x /usr/bin/orterun ]; then
    o=$dest/ompi/usr
    rm -rf "$dest/ompi"; mkdir -p "$o/bin" "$o/lib/x86_64-linux-gnu" "$o/share"
    cp /usr/bin/orterun /usr/bin/orted "$o/bin/"; ln -sf orterun "$o/bin/mpirun"
    cp -a /usr/lib/x86_64-linux-gnu/openmpi "$o/lib/x86_64-linux-gnu/"
    rm -f "$o"/lib/x86_64-linux-gnu/openmpi/lib/*java* "$o"/lib/x86_64-linux-gnu/openmpi/lib/libmpi_cxx* 2>/dev/null
    [ -d /usr/lib/x86_64-linux-gnu/pmix2 ] && cp -a /usr/lib/x86_64-linux-gnu/pmix2 "$o/lib/x86_64-linux-gnu/"
    cp -a /usr/share/openmpi "$o/share/"
    [ -d /usr/share/pmix ] && cp -a /usr/share/pmix "$o/share/"
    mkdir -p "$dest/ompi/etc"; cp -a /etc/openmpi "$dest/ompi/etc/" 2>/dev/null || true
    for lib in $(ldd /usr/bin/orterun /usr/bin/orted | awk '$3 ~ /^\// {print $3}' | sort -u); do
        case "$(basename "$lib")" in
            libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|libgcc_s.so*|ld-linux*) ;;
            *) cp -L "$lib" "$dest/lib/" ;;
        esac
    done
fi
strip --strip-unneeded "$dest"/lib/*.so* 2>/dev/null || true
du -sh "$dest"
# the whole bundle packed (about 36 MB; the unpacked one is over the 64 MB a
# device call carries): carry DEST.tar.gz, tests/device_check.sh unpacks it
tar czf "$dest.tar.gz" -C "$dest" .
du -sh "$dest.tar.gz"
