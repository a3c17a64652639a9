#!/bin/bash
# test_ckpt.sh — parallel HDF5 checkpoints on the CPU backend:
#  1. format: h5dump -A shows the root attributes, bf16 weights read as numbers
#     (h5py, h5dump), fp32 optimizer group; `ntron ckpt info` verifies checksums
#  2. bitwise resume from step 3 of 6: one rank and TP2 x PP2 x DP2 (8 ranks):
#     losses, grad norms and the final checkpoint (weights, master, Adam) identical
#  3. resharding: a TP2xPP2xDP2 checkpoint continues under 1 rank, PP2 v2,
#     DP4 and TP2 SP; a 1-rank one under TP2 x DP2 and PP4 (losses 1e-5 rel)
#  4. commit protocol: SIGKILL of every rank at 4 points of a save -> previous
#     checkpoint and `latest` intact, the run resumes from it (same losses);
#     pruning to checkpoint.keep, a stale NAME.del removed
#  5. corrupted / truncated files, other model shape, missing tensor, wrong
#     dtype, not a checkpoint, weights-only with load_optimizer: one line, exit 2,
#     nothing written
#  6. `ntron ckpt convert` (weights only) starts a later phase under another layout
. "$(dirname "$0")/lib.sh"
cd "$WORK"
if ! "$PYTHON" -c "import h5py, numpy" 2>/dev/null; then echo "SKIP: $PYTHON lacks h5py/numpy"; exit 77; fi
export OPENBLAS_NUM_THREADS=1
CMP="$PYTHON $top_srcdir/tests/ckpt_compare.py"
"$NTRON" prep --tokenizer byte "$top_srcdir/inputs/tiny/corpus.txt" -o corpus.h5 >/dev/null || fail "prep"
DECK=$top_srcdir/inputs/tiny/pretrain.deck
C=(--set data.train=$WORK/corpus.h5 --set model.layers=4 --set model.hidden=64 --set model.ffn_hidden=128
   --set model.seq_len=32 --set parallel.micro_batch=2 --set train.global_batch=16 --set train.steps=6
   --set train.warmup=2 --set run.log_interval=1 --set run.seed=7)
L8=(--set parallel.tensor=2 --set parallel.pipeline=2)
run() { # name ranks [--set ...]: run.dir = name, checkpoint.dir = name.ck
    local name=$1 n=$2; shift 2
    mpi "$n" "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/$name --set checkpoint.dir=$WORK/$name.ck "$@" \
        < /dev/null > "$name.out" 2>&1
}
# a copy of a run's checkpoints holding only iteration $3, `latest` naming it
stop_at() { mkdir -p "$2.ck"; cp -r "$1.ck/iter_000000$3" "$2.ck/"; echo "iter_000000$3" > "$2.ck/latest"; }

# ---- 1 + 2: one rank ----
run full1 1 --set checkpoint.interval=3 || { fail "1-rank run"; tail -5 full1.out; }
[ "$(cat full1.ck/latest)" = iter_0000006 ] && [ -f full1.ck/iter_0000003/ckpt.h5 ] \
    && pass "interval 3: iter_0000003, iter_0000006, latest -> iter_0000006" || fail "checkpoint files: $(ls full1.ck)"
A=$(h5dump -A full1.ck/iter_0000006/ckpt.h5 2>&1)
miss=""
for a in format format_version ntron_version deck deck_sha256 layout iteration consumed_samples consumed_tokens \
         seed rng data_sampler optimizer_step; do
    grep -q "ATTRIBUTE \"$a\"" <<< "$A" || miss="$miss $a"
done
[ -z "$miss" ] && pass "h5dump -A shows all root attributes" || fail "root attributes missing:$miss"
sha=$(sha256sum full1/deck.resolved | cut -d' ' -f1)
grep -q "\"$sha\"" <<< "$A" && pass "deck_sha256 attribute = sha256 of deck.resolved" || fail "deck_sha256 attribute"
h5dump -d /model/embedding.weight -s 0,0 -c 1,3 full1.ck/iter_0000006/ckpt.h5 | grep -Eq '\(0,0\): -?0\.0[0-9]+, ' \
    && pass "h5dump prints bf16 weights as numbers" || fail "h5dump bf16 values"
"$PYTHON" - full1.ck/iter_0000006/ckpt.h5 <<'PY' && pass "h5py: /model bf16 (2-byte float) = fp32 master rounded; optimizer fp32; full shapes" || fail "h5py format check"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
m, w = f["model/layers.0.attn.qkv.weight"], f["optimizer/master/layers.0.attn.qkv.weight"]
t = m.id.get_type()   # h5py shows bf16 as float32 numbers; the file type is the 16-bit float
assert t.get_size() == 2 and t.get_class() == h5py.h5t.FLOAT and t.get_fields() == (15, 7, 8, 0, 7) and t.get_ebias() == 127
assert m.shape == w.shape == (128, 64), m.shape
assert w.dtype == np.float32 and f["optimizer/adam_v/embedding.weight"].dtype == np.float32
a = m[...].astype(np.float64); b = w[...].astype(np.float64)
assert np.all(np.abs(a - b) <= np.abs(b) * 2.0**-8 + 1e-30), "bf16 is not the rounded master"
assert f.attrs["iteration"] == 6 and f.attrs["consumed_samples"] == 96
PY
"$NTRON" ckpt info full1.ck > info.out 2>&1 && grep -q "all 144 tensors verified" info.out && grep -q "^iteration  *6$" info.out \
    && grep -q "layers.3.mlp.down.weight" info.out && pass "ckpt info: attributes, tensor list, 144 checksums verified" \
    || { fail "ckpt info"; tail -3 info.out; }

stop_at full1 res1 3
run res1 1 || { fail "1-rank resume"; tail -5 res1.out; }
grep -q "^load .*step 3, 48 samples" res1.out && pass "1 rank resumes from latest = iter_0000003" || fail "resume banner"
$CMP losses full1/metrics.jsonl res1/metrics.jsonl 4 6 0 && pass "1 rank: resumed steps 4-6 bitwise equal (loss, grad norm)" \
    || fail "1 rank resume losses differ"
$CMP same full1.ck/iter_0000006/ckpt.h5 res1.ck/iter_0000006/ckpt.h5 && pass "1 rank: final weights, master, Adam bitwise equal" \
    || fail "1 rank resume parameters differ"
# the comparison is two-sided: a tensor only in B (or only in A) fails it, in the whole file or in a named group
mkdir -p extra; cp res1.ck/iter_0000006/ckpt.h5 extra/; $CMP h5set extra/ckpt.h5 optimizer/adam_v/layers.9.extra add
for args in "full1.ck/iter_0000006/ckpt.h5 extra/ckpt.h5:only in B" "extra/ckpt.h5 full1.ck/iter_0000006/ckpt.h5:only in A" \
            "full1.ck/iter_0000006/ckpt.h5 extra/ckpt.h5 optimizer/adam_v:only in B"; do
    # shellcheck disable=SC2086
    out=$($CMP same ${args%%:*} 2>&1) && fail "ckpt_compare same ${args%%:*}: passed with an extra tensor" \
        || { printf '%s\n' "$out" | grep -q "1 dataset(s) ${args#*:} .*/optimizer/adam_v/layers.9.extra" \
             && pass "ckpt_compare same fails on an extra tensor: $out" || fail "ckpt_compare same ${args%%:*}: '$out'"; }
done

# ---- 2: TP2 x PP2 x DP2 ----
run full8 8 "${L8[@]}" --set checkpoint.interval=3 || { fail "8-rank run"; tail -5 full8.out; }
stop_at full8 res8 3
# the resumed run writes with two-phase collective MPI-IO (checkpoint.write),
# the uninterrupted one with independent writes: the files must be equal
run res8 8 "${L8[@]}" --set checkpoint.write=collective || { fail "8-rank resume"; tail -5 res8.out; }
$CMP losses full8/metrics.jsonl res8/metrics.jsonl 4 6 0 && pass "TP2xPP2xDP2: resumed steps 4-6 bitwise equal" \
    || fail "TP2xPP2xDP2 resume losses differ"
$CMP same full8.ck/iter_0000006/ckpt.h5 res8.ck/iter_0000006/ckpt.h5 && pass "TP2xPP2xDP2: final weights, master, Adam bitwise equal (collective vs independent writes)" \
    || fail "TP2xPP2xDP2 resume parameters differ"

# ---- 3: resharding (losses of steps 4-6 against the uninterrupted saving run) ----
reshard() { # name from ranks [--set ...]
    local name=$1 from=$2 n=$3; shift 3
    stop_at "$from" "$name" 3
    run "$name" "$n" "$@" || { fail "$name: run failed"; tail -3 "$name.out"; return; }
    $CMP losses "$from/metrics.jsonl" "$name/metrics.jsonl" 4 6 1e-5 > "$name.cmp" \
        && pass "reshard $name: $(cat "$name.cmp")" || fail "reshard $name: $(cat "$name.cmp")"
}
reshard tp2pp2dp2_to_1 full8 1
reshard tp2pp2dp2_to_pp2v2 full8 2 --set parallel.pipeline=2 --set parallel.virtual_stages=2
reshard tp2pp2dp2_to_dp4 full8 4
reshard tp2pp2dp2_to_tp2sp full8 2 --set parallel.tensor=2 --set parallel.sequence_parallel=true
reshard 1_to_tp2dp2 full1 4 --set parallel.tensor=2
reshard 1_to_pp4 full1 4 --set parallel.pipeline=4

# ---- 4: SIGKILL of every rank during a save (of step 4; step 2 is the previous) ----
for spec in created:1 tensors:2 closed:1 renamed:2; do
    point=${spec%%:*} n=${spec##*:} name=kill_${spec%%:*}
    NTRON_FAULT_CKPT_KILL=$point:4 run "$name" "$n" --set checkpoint.interval=2; rc=$?
    lat=$(cat "$name.ck/latest" 2>/dev/null)
    if [ $rc -ne 0 ] && [ "$lat" = iter_0000002 ] && grep -q "SIGKILL at checkpoint point '$point'" "$name.out" \
       && "$NTRON" ckpt info "$name.ck" > "$name.info" 2>&1; then
        pass "kill -9 at '$point' ($n ranks): exit $rc, latest = iter_0000002, which verifies"
    else fail "kill -9 at '$point': rc $rc latest '$lat'"; tail -3 "$name.out"; fi
    mv "$name.out" "$name.killed.out"
    run "$name" "$n" --set checkpoint.interval=2 || { fail "$name: resume failed"; tail -3 "$name.out"; continue; }
    grep -q "^load .*step 2," "$name.out" && $CMP losses full1/metrics.jsonl "$name/metrics.jsonl" 3 6 1e-5 > "$name.cmp" \
        && [ "$(cat "$name.ck/latest")" = iter_0000006 ] && [ "$(ls -d "$name".ck/iter_* | wc -l)" = 2 ] \
        && pass "after kill at '$point': resumes from step 2, $(cat "$name.cmp"), keeps 2" \
        || fail "after kill at '$point': resume $(cat "$name.cmp" 2>/dev/null) $(ls "$name.ck")"
done

# pruned checkpoints are removed in the background (renamed NAME.del first);
# a .del left by a crash during that removal goes at the next save
mkdir -p del.ck/iter_0000001.del && echo stale > del.ck/iter_0000001.del/ckpt.h5
run del 1 --set checkpoint.interval=2 --set checkpoint.keep=1
[ "$(ls del.ck | tr '\n' ' ')" = "iter_0000006 latest " ] \
    && pass "keep 1: only iter_0000006 and latest remain (pruned ones and a stale .del removed)" \
    || fail "pruning left: $(ls del.ck | tr '\n' ' ')"

# ---- 5: bad checkpoints: one line, exit 2, nothing written ----
bad() { # name regex ckpt-path [--set ...]
    local name=$1 re=$2 ck=$3; shift 3
    local before; before=$(cd "$WORK" && find . -newer corpus.h5 -type f | sort | md5sum)
    expect_error "$name" 2 "$re" -- "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/bad_$name \
        --set checkpoint.load=$ck "$@"
    [ ! -e "bad_$name" ] && [ "$(find . -newer corpus.h5 -type f | sort | md5sum)" = "$before" ] \
        || fail "$name: something was written"
    local n; n=$("$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/bad_$name --set checkpoint.load=$ck "$@" 2>&1 >/dev/null | wc -l)
    [ "$n" -eq 1 ] || fail "$name: $n lines on stderr, want 1"
}
mk() { mkdir -p "$1"; cp full1.ck/iter_0000006/ckpt.h5 "$1/"; }
mk corrupt; $CMP h5set corrupt/ckpt.h5 optimizer/adam_m/layers.2.mlp.up.weight flip
bad corrupt "tensor /optimizer/adam_m/layers.2.mlp.up.weight: checksum mismatch" corrupt
expect_error "ckpt info on the corrupted file" 2 "1 tensors failed" -- "$NTRON" ckpt info corrupt
mk trunc; truncate -s 60000 trunc/ckpt.h5
bad truncated "(truncated|checksum mismatch)" trunc
bad other_shape "model shape differs: model.hidden = 64 in the checkpoint, 128 in the deck" full1.ck --set model.hidden=128
mk missing; $CMP h5set missing/ckpt.h5 optimizer/master/layers.1.input_norm.bias delete
bad missing "tensor /optimizer/master/.* missing" missing
mk dtype; $CMP h5set dtype/ckpt.h5 model/final_norm.weight float64
bad wrong_dtype "tensor /model/final_norm.weight has the wrong dtype" dtype --set checkpoint.load_optimizer=false
bad not_ckpt "not a ntron checkpoint" corpus.h5
echo "hello" > notes.txt
bad not_hdf5 "not an HDF5 file" notes.txt
bad no_such "no such file or directory" nowhere

# ---- 6: convert to weights only, start a later phase under another layout ----
"$NTRON" ckpt convert full8.ck wo > convert.out 2>&1 && [ -f wo/ckpt.h5 ] && ! h5ls wo/ckpt.h5 | grep -q optimizer \
    && $CMP same full8.ck/iter_0000006/ckpt.h5 wo/ckpt.h5 model > /dev/null \
    && pass "ckpt convert: weights only, /model identical" || { fail "ckpt convert"; cat convert.out; }
expect_error "convert refuses to overwrite" 2 "exists; not overwriting" -- "$NTRON" ckpt convert full8.ck wo
expect_error "convert needs IN and OUT" 2 "ckpt convert: too few arguments: want IN OUT" -- "$NTRON" ckpt convert full8.ck
expect_error "ckpt: unknown command" 2 "ckpt: unknown command 'show' \(info, convert, import-hf or export-hf" -- "$NTRON" ckpt show full8.ck
expect_help ckpt -- '^  info PATH ' '^  convert IN OUT ' '^  import-hf HF_DIR OUT ' '^  export-hf CKPT OUT_DIR '
expect_help ckpt info
expect_help ckpt convert
bad weights_only "holds model weights only .*checkpoint.load_optimizer = false" wo
mpi 2 "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/phase2 --set checkpoint.load=$WORK/wo \
    --set checkpoint.load_optimizer=false --set parallel.tensor=2 > phase2.out 2>&1 \
    && grep -q "model weights only, fresh optimizer" phase2.out && grep -q "^load .*step 0, 0 samples" phase2.out \
    && "$PYTHON" - full1/metrics.jsonl phase2/metrics.jsonl <<'PY' && pass "weights-only load under TP2: fresh optimizer, step-1 loss below a fresh model's" || { fail "weights-only load"; tail -3 phase2.out; }
import json, sys
fresh = json.loads(open(sys.argv[1]).readline())["loss"]
start = json.loads(open(sys.argv[2]).readline())["loss"]
assert start < fresh - 0.3, (start, fresh)
PY
finish
