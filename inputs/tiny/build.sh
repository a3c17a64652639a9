#!/bin/bash
# inputs/tiny/build.sh — what the tiny scripts (run.sh, pipeline/run.sh) do
# first: install what is missing (build-aux/install-deps) and build ntron
# in build/ (configured once with NTRON_CONFIGURE_FLAGS, then make).
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
build-aux/install-deps
if [ ! -x build/src/ntron ]; then
    ./autogen.sh >/dev/null 2>&1
    mkdir -p build
    (cd build && "$top/configure" ${NTRON_CONFIGURE_FLAGS:-} >configure.out 2>&1 || { cat configure.out; exit 1; })
fi
make -C build -j"$(nproc)" >build/make.out 2>&1 || { tail -40 build/make.out; exit 1; }
