#!/bin/bash
# inputs/tiny/run.sh — the README's main command: installs what is missing,
# builds ntron in build/, prepares the tiny corpus as an HDF5 token file and
# pretrains the tiny Nemotron-4-shaped model from inputs/tiny/pretrain.deck
# on this machine's CPU.  Extra arguments go to `ntron run` (e.g.
# --set train.steps=200).  NP=2 runs 2 data-parallel MPI ranks.
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
mkdir -p runs/tiny-data
[ -f runs/tiny-data/corpus.h5 ] || build/src/ntron prep --tokenizer byte inputs/tiny/corpus.txt -o runs/tiny-data/corpus.h5
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo
NP=${NP:-1}
[ "$NP" -gt 1 ] && export OPENBLAS_NUM_THREADS=1
exec mpirun --oversubscribe -np "$NP" build/src/ntron run inputs/tiny/pretrain.deck "$@"
