#!/bin/bash
# inputs/tiny/run.sh — the README's main command: installs what is missing,
# builds ntron in build/, prepares the tiny corpus as an HDF5 token file and
# pretrains the tiny Nemotron-4-shaped model from inputs/tiny/pretrain.deck
# on this machine's CPU — as a job of a local single-node Slurm
# (slurm/local-cluster, slurm/pretrain.sbatch) when Slurm can start here,
# else directly with mpirun (and says which).  Extra arguments go to
# `ntron run` (e.g. --set train.steps=200).  NP=2 runs 2 MPI ranks;
# NTRON_NO_SLURM=1 skips Slurm.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
inputs/tiny/build.sh
mkdir -p runs/tiny-data
[ -f runs/tiny-data/corpus.h5 ] || build/src/ntron prep --tokenizer byte inputs/tiny/corpus.txt -o runs/tiny-data/corpus.h5
NP=${NP:-1}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo
[ "$NP" -gt 1 ] && export OPENBLAS_NUM_THREADS=1

if [ "${NTRON_NO_SLURM:-0}" != 1 ] && slurm/local-cluster start > runs/local-cluster.out 2>&1; then
    eval "$(slurm/local-cluster env)"
    export NTRON_HOME=$top NTRON_BIN=$top/build/src/ntron
    id=$(sbatch --parsable -n "$NP" --chdir="$top" --output="$top/runs/%x-%j.out" slurm/pretrain.sbatch inputs/tiny/pretrain.deck "$@")
    echo "run.sh: submitted job $id to the local Slurm ($(tail -n1 runs/local-cluster.out)); output: runs/ntron-pretrain-$id.out"
    out=runs/ntron-pretrain-$id.out
    shown=0
    while :; do
        st=$(scontrol show job "$id" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
        if [ -f "$out" ]; then
            n=$(wc -l < "$out")
            if [ "$n" -gt "$shown" ]; then sed -n "$((shown + 1)),${n}p" "$out"; shown=$n; fi
        fi
        case "$st" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) break ;; esac
        sleep 1
    done
    if [ -f "$out" ]; then sed -n "$((shown + 1)),\$p" "$out"; fi
    slurm/local-cluster stop >/dev/null 2>&1 || true
    echo "run.sh: job $id $st"
    [ "$st" = COMPLETED ]
else
    echo "run.sh: local Slurm could not start (see runs/local-cluster.out); running with mpirun instead"
    exec mpirun --oversubscribe -np "$NP" build/src/ntron run inputs/tiny/pretrain.deck "$@"
fi
