#!/bin/bash
# test_faults.sh — issue #20: nothing lost, nothing silent.
#  1. a checkpoint is verified before it is trusted: a resume (and a
#     weights-only load) refuses, with one line and exit 2 and nothing
#     written, a flipped bit in /model (which a resume does not load but
#     verifies), a deleted, reshaped or retyped dataset, an altered or
#     missing xxh3_sum, an altered root attribute (attrs_xxh3), counters out
#     of range or inconsistent even when the root checksum is forged to
#     match, an iteration that is not the directory's; format-1 files load
#     with one warning; the checksum is recomputed independently
#     (tests/ckpt_attrs.py: h5py + libxxhash)
#  2. `latest` is a pointer (see below)
. "$(dirname "$0")/lib.sh"
cd "$WORK"
if ! "$PYTHON" -c "import h5py, numpy" 2>/dev/null; then echo "SKIP: $PYTHON lacks h5py/numpy"; exit 77; fi
export OPENBLAS_NUM_THREADS=1
CMP="$PYTHON $top_srcdir/tests/ckpt_compare.py"
ATTR="$PYTHON $top_srcdir/tests/ckpt_attrs.py"
"$NTRON" prep --tokenizer byte "$top_srcdir/inputs/tiny/corpus.txt" -o corpus.h5 >/dev/null || fail "prep"
DECK=$top_srcdir/inputs/tiny/pretrain.deck
C=(--set data.train=$WORK/corpus.h5 --set model.layers=2 --set model.hidden=64 --set model.ffn_hidden=128
   --set model.seq_len=32 --set parallel.micro_batch=2 --set train.global_batch=8 --set train.steps=6
   --set train.warmup=2 --set run.log_interval=1 --set run.seed=5)
run() { # name ranks [--set ...]: run.dir = name, checkpoint.dir = name.ck
    local name=$1 n=$2; shift 2
    mpi "$n" "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/$name --set checkpoint.dir=$WORK/$name.ck "$@" \
        < /dev/null > "$name.out" 2>&1
}
# snapshot of the files (path, size, mtime) and directories (path) under $WORK but
# the logs: "nothing written" (MPI-IO creates and unlinks a lock-test file next
# to a file it opens, which touches its directory's mtime only)
snap() { find . -path ./tests -prune -o -type f ! -name '*.out' ! -name '*.err' -printf '%p %s %T@\n' -o -type d -printf '%p\n' | sort | md5sum; }
# refuse NAME STATUS REGEX CKDIR [--set ...]: a run on checkpoint.dir=CKDIR exits STATUS,
# stderr is one line matching REGEX, the run directory is not created, nothing changes
refuse() {
    local name=$1 want=$2 re=$3 ck=$4; shift 4
    local before rc err; before=$(snap)
    "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/run_$name --set checkpoint.dir=$WORK/$ck "$@" \
        < /dev/null > "$name.out" 2> "$name.err"; rc=$?
    err=$(cat "$name.err")
    if [ $rc -eq "$want" ] && [ "$(wc -l < "$name.err")" -eq 1 ] && grep -Eq -- "$re" "$name.err" \
       && [ ! -e "run_$name" ] && [ "$(snap)" = "$before" ]; then pass "$name: exit $rc, one line: $err"
    else fail "$name: exit $rc (want $want), $(wc -l < "$name.err") lines, run dir $([ -e "run_$name" ] && echo created || echo absent): $err"; fi
}
# a copy of base.ck's iteration 3 as CKDIR with latest naming it
copy3() { rm -rf "$1"; mkdir -p "$1"; cp -r base.ck/iter_0000003 "$1/"; echo iter_0000003 > "$1/latest"; }

run base 1 --set checkpoint.interval=3 || { fail "base run"; tail -5 base.out; }
F=iter_0000003/ckpt.h5
h5dump -A -a attrs_xxh3 base.ck/$F > /dev/null 2>&1 && h5dump -a format_version base.ck/$F | grep -q '(0): 2' \
    && pass "format_version 2 with a root attrs_xxh3" || fail "format_version / attrs_xxh3"
$ATTR check base.ck/$F > sum.out && pass "attrs_xxh3 recomputed independently (h5py + libxxhash): $(cat sum.out)" \
    || fail "attrs_xxh3 differs from the independent computation: $(cat sum.out)"

# ---- 1: damaged checkpoints ----
copy3 flip.ck; $CMP h5set flip.ck/$F model/layers.1.mlp.up.weight flip
refuse model_flip 2 "tensor /model/layers.1.mlp.up.weight: checksum mismatch" flip.ck
copy3 mdel.ck; $CMP h5set mdel.ck/$F model/final_norm.bias delete
refuse model_deleted 2 "tensor /model/final_norm.bias missing" mdel.ck
copy3 odel.ck; $CMP h5set odel.ck/$F optimizer/adam_v/layers.0.attn.qkv.weight delete
refuse adam_deleted 2 "tensor /optimizer/adam_v/layers.0.attn.qkv.weight missing" odel.ck
copy3 dt.ck; $CMP h5set dt.ck/$F optimizer/master/final_norm.weight float64
refuse master_dtype 2 "tensor /optimizer/master/final_norm.weight has the wrong dtype" dt.ck
copy3 mdt.ck; $CMP h5set mdt.ck/$F model/final_norm.weight float64
refuse model_dtype 2 "tensor /model/final_norm.weight has the wrong dtype" mdt.ck
copy3 shp.ck; "$PYTHON" - shp.ck/$F <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r+")
p = "optimizer/adam_m/layers.0.mlp.down.weight"
d = f[p]; a = d[...]; s = int(d.attrs["xxh3_sum"]); del f[p]
n = f.create_dataset(p, data=a.reshape(a.shape[1], a.shape[0])); n.attrs["xxh3_sum"] = np.uint64(s)
PY
refuse reshaped 2 "tensor /optimizer/adam_m/layers.0.mlp.down.weight has shape \[128,64\], the model \[64,128\]" shp.ck
copy3 sum.ck; "$PYTHON" -c "import sys,h5py,numpy as np; d=h5py.File(sys.argv[1],'r+')['optimizer/master/layers.1.input_norm.weight']; d.attrs.modify('xxh3_sum', np.uint64(int(d.attrs['xxh3_sum'])^1))" sum.ck/$F
refuse sum_altered 2 "tensor /optimizer/master/layers.1.input_norm.weight: checksum mismatch" sum.ck
copy3 nosum.ck; "$PYTHON" -c "import sys,h5py; del h5py.File(sys.argv[1],'r+')['model/embedding.weight'].attrs['xxh3_sum']" nosum.ck/$F
refuse no_checksum 2 "tensor /model/embedding.weight has no xxh3_sum checksum attribute" nosum.ck
# the same damage to /model refused by a weights-only load of a later phase
refuse weights_flip 2 "tensor /model/layers.1.mlp.up.weight: checksum mismatch" none.ck \
    --set checkpoint.load=$WORK/flip.ck --set checkpoint.load_optimizer=false

# ---- 1: root attributes ----
copy3 it.ck; $ATTR set it.ck/$F iteration 2
refuse attr_altered 2 "root attributes checksum mismatch \(attrs_xxh3 stored" it.ck
copy3 seed.ck; $ATTR set seed.ck/$F seed 6
refuse seed_altered 2 "root attributes checksum mismatch" seed.ck
copy3 lay.ck; $ATTR setstr lay.ck/$F layout "TP8 PP1 v1 DP1 SP0"
refuse layout_altered 2 "root attributes checksum mismatch" lay.ck
copy3 nos.ck; "$PYTHON" -c "import sys,h5py; del h5py.File(sys.argv[1],'r+').attrs['attrs_xxh3']" nos.ck/$F
refuse attrs_sum_missing 2 "root attribute attrs_xxh3 missing \(format_version 2 has one\)" nos.ck
# forged: the checksum recomputed after the change; the range checks still refuse
forge() { copy3 "$1"; shift; local a; for a in "$@"; do $ATTR set "$WORK/${FORGED}/$F" ${a/=/ }; done; $ATTR stamp "$WORK/$FORGED/$F"; }
FORGED=neg.ck forge neg.ck iteration=-1 optimizer_step=-1
refuse iteration_negative 2 "root attribute iteration = -1 is negative" neg.ck
FORGED=inc.ck forge inc.ck optimizer_step=2
refuse steps_inconsistent 2 "optimizer_step 2 \+ skipped_steps 0 != iteration 3" inc.ck
FORGED=dir.ck forge dir.ck iteration=5 optimizer_step=5
refuse iteration_not_dir 2 "root attribute iteration = 5, but the directory is iter_0000003" dir.ck
FORGED=smp.ck forge smp.ck consumed_samples=2
refuse samples_inconsistent 2 "consumed_samples 2 < iteration 3" smp.ck
FORGED=tok.ck forge tok.ck consumed_tokens=-1
refuse tokens_inconsistent 2 "consumed_tokens -1 for 24 consumed samples" tok.ck
FORGED=hsm.ck forge hsm.ck consumed_samples=-24
refuse samples_huge 2 "consumed_samples = [0-9]+ is out of range" hsm.ck
FORGED=tp.ck forge tp.ck tensor=0
refuse layout_range 2 "root attribute tensor missing or out of range" tp.ck

# ---- 1: format 1 (no root checksum): loads with one warning, resumes bitwise ----
copy3 v1.ck; "$PYTHON" -c "
import sys,h5py,numpy as np; f=h5py.File(sys.argv[1],'r+'); del f.attrs['attrs_xxh3']; f.attrs.modify('format_version', np.int64(1))" v1.ck/$F
run v1 1; rc=$?
w=$(grep -c "warning: checkpoint .*format_version 1 has no root-attribute checksum: root attributes .* unverified" v1.out)
if [ $rc -eq 0 ] && [ "$w" = 1 ] && $CMP losses base/metrics.jsonl v1/metrics.jsonl 4 6 0 > v1.cmp \
   && $CMP same base.ck/iter_0000006/ckpt.h5 v1.ck/iter_0000006/ckpt.h5 > /dev/null \
   && h5dump -a format_version v1.ck/iter_0000006/ckpt.h5 | grep -q '(0): 2'; then
    pass "format 1: one warning, resumes bitwise (steps 4-6, final checkpoint), the next save is format 2"
else fail "format 1 resume: rc $rc, $w warnings"; tail -3 v1.out; fi
"$NTRON" ckpt info v1.ck/iter_0000003 > v1info.out 2> v1info.err && grep -q "all .* tensors verified" v1info.out \
    && grep -q "unverified" v1info.err && pass "ckpt info on format 1: verified tensors, warns once" || fail "ckpt info format 1"
expect_error "ckpt info: altered root attribute" 2 "root attributes checksum mismatch" -- "$NTRON" ckpt info it.ck
"$NTRON" ckpt convert v1.ck cv1 > /dev/null 2>&1 && $ATTR check cv1/ckpt.h5 > /dev/null \
    && h5dump -a format_version cv1/ckpt.h5 | grep -q '(0): 2' \
    && pass "ckpt convert: output format 2, its attrs_xxh3 matches (has_optimizer changed)" || fail "ckpt convert attrs_xxh3"
# an undamaged copy still resumes (the refusals are not a blanket refusal)
copy3 ok.ck; run ok 1 && grep -q "^load .*step 3, 24 samples" ok.out && $CMP losses base/metrics.jsonl ok/metrics.jsonl 4 6 0 >/dev/null \
    && pass "an intact copy resumes bitwise" || { fail "intact resume"; tail -3 ok.out; }
finish
