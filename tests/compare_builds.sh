#!/bin/bash
# tests/compare_builds.sh OLD_BUILDDIR NEW_BUILDDIR [WORKDIR] — a refactoring
# check (not part of make check): runs the same short jobs with two builds
# (tiny deck 1 rank, TP2xPP2xDP2 on 8 ranks, PP2 with 2 virtual stages,
# TP2+SP x PP2 with selective recompute, TP2+SP with full recompute, a
# pretraining checkpoint and the reward model from it on 1 rank and on TP2+SP)
# and requires the losses, gradient norms, learning rates and every tensor of
# the final checkpoints to be bitwise equal.  Prints one line per run and
# PASSED/FAILED.
set -u
[ $# -ge 2 ] || { echo "usage: $0 OLD_BUILDDIR NEW_BUILDDIR [WORKDIR]" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
W=${3:-$(mktemp -d)}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo OPENBLAS_NUM_THREADS=1
runs() { # BUILDDIR OUTDIR
    local N=$1/src/ntron O=$2 D=$top/inputs/tiny/pretrain.deck
    rm -rf "$O"; mkdir -p "$O"; cd "$O" || exit 1
    "$N" prep --tokenizer byte "$top/inputs/tiny/corpus.txt" -o corpus.h5 >/dev/null
    local T=(--set data.train=$O/corpus.h5 --set run.log_interval=1)
    mpirun -np 1 "$N" run "$D" "${T[@]}" --set train.steps=20 --set run.dir=$O/t1 --set checkpoint.dir=$O/t1.ck > t1.out 2>&1
    mpirun -np 8 "$N" run "$D" "${T[@]}" --set train.steps=10 --set parallel.tensor=2 --set parallel.pipeline=2 \
        --set parallel.micro_batch=2 --set run.dir=$O/t8 --set checkpoint.dir=$O/t8.ck > t8.out 2>&1
    mpirun -np 2 "$N" run "$D" "${T[@]}" --set train.steps=10 --set parallel.pipeline=2 --set parallel.virtual_stages=2 \
        --set parallel.micro_batch=2 --set run.dir=$O/pv --set checkpoint.dir=$O/pv.ck > pv.out 2>&1
    mpirun -np 4 "$N" run "$D" "${T[@]}" --set train.steps=10 --set parallel.tensor=2 --set parallel.sequence_parallel=true \
        --set parallel.pipeline=2 --set train.recompute=selective --set parallel.micro_batch=2 --set run.dir=$O/sp \
        --set checkpoint.dir=$O/sp.ck > sp.out 2>&1
    mpirun -np 2 "$N" run "$D" "${T[@]}" --set train.steps=10 --set parallel.tensor=2 --set parallel.sequence_parallel=true \
        --set train.recompute=full --set run.dir=$O/spf --set checkpoint.dir=$O/spf.ck > spf.out 2>&1
    sed 's/^\(\s*vocab\s*=\).*/\1 400/' "$D" > v400.deck
    "$N" tokenizer train --deck v400.deck -o spm "$top/inputs/data/tokenizer.txt" > /dev/null 2>&1
    "$N" prep --tokenizer spm.model "$top/inputs/data/tokenizer.txt" -o c4.h5 >/dev/null
    "$N" prep --tokenizer spm.model --format reward "$top/inputs/data/reward.jsonl" -o reward.h5 >/dev/null
    local C=(--set data.tokenizer=$O/spm.model --set model.layers=4 --set model.hidden=64 --set model.ffn_hidden=128
             --set parallel.micro_batch=2 --set train.global_batch=8 --set train.warmup=2 --set run.log_interval=1 --set run.seed=7)
    mpirun -np 1 "$N" run v400.deck "${C[@]}" --set data.train=$O/c4.h5 --set train.steps=3 --set run.dir=$O/pre \
        --set checkpoint.dir=$O/pre.ck > pre.out 2>&1
    local R=(--set run.phase=rm --set model.head=reward --set data.train=$O/reward.h5 --set train.lr=1e-3 --set train.steps=8
             --set checkpoint.load=$O/pre.ck --set checkpoint.load_optimizer=false)
    mpirun -np 1 "$N" run v400.deck "${C[@]}" "${R[@]}" --set run.dir=$O/rm1 --set checkpoint.dir=$O/rm1.ck > rm1.out 2>&1
    mpirun -np 2 "$N" run v400.deck "${C[@]}" "${R[@]}" --set parallel.tensor=2 --set parallel.sequence_parallel=true \
        --set run.dir=$O/rm2 --set checkpoint.dir=$O/rm2.ck > rm2.out 2>&1
}
(runs "$(cd "$1" && pwd)" "$W/old")
(runs "$(cd "$2" && pwd)" "$W/new")
/usr/bin/python3 - "$W/old" "$W/new" <<'PY'
import sys, json, glob, os, h5py
A, B = sys.argv[1:3]; bad = 0
for run in ["t1", "t8", "pv", "sp", "spf", "pre", "rm1", "rm2"]:
    try:
        ma = [json.loads(l) for l in open(f"{A}/{run}/metrics.jsonl")]
        mb = [json.loads(l) for l in open(f"{B}/{run}/metrics.jsonl")]
    except OSError as e:
        print(f"{run}: {e}"); bad += 1; continue
    same = len(ma) == len(mb) and all(x[k] == y[k] for x, y in zip(ma, mb) for k in ("step", "loss", "grad_norm", "lr"))
    ca = sorted(glob.glob(f"{A}/{run}.ck/iter_*/ckpt.h5"))[-1]; cb = B + ca[len(A):]
    fa, fb = h5py.File(ca, "r"), h5py.File(cb, "r")
    na, nb = [], []
    fa.visititems(lambda n, o: na.append(n) if isinstance(o, h5py.Dataset) else None)
    fb.visititems(lambda n, o: nb.append(n) if isinstance(o, h5py.Dataset) else None)
    diff = sorted(set(na) ^ set(nb)) + [n for n in na if n in nb and fa[n][()].tobytes() != fb[n][()].tobytes()]
    print(f"{run:4s} {len(ma):3d} steps: loss/grad_norm/lr {'bitwise equal' if same else 'DIFFER'} (final loss {ma[-1]['loss']!r}); "
          f"{os.path.basename(os.path.dirname(ca))}: {len(na)} tensors {'bitwise equal' if not diff else 'DIFFER: ' + ' '.join(diff[:4])}")
    bad += (not same) + bool(diff)
print("FAILED" if bad else "PASSED")
sys.exit(1 if bad else 0)
PY
