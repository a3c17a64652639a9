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
#  2. `latest` is a pointer: a path, `..`, an absolute path, `latest`
#     itself, a directory named latest, empty, binary or multi-line content,
#     a name without a committed checkpoint: one line, exit 2, nothing
#     written; committed checkpoints without `latest` are never a fresh
#     start (refused, naming the newest and how to resume) unless
#     checkpoint.overwrite = true; the suggested command resumes bitwise;
#     2 ranks: printed once
#  5. full disk and read-only file system (a small tmpfs, mounted here: needs
#     root, else SKIP): a save whose datasets do not fit (statvfs, before
#     writing) and one whose file does not (its blocks are reserved with
#     fallocate before HDF5 writes anything), on 1 rank and 2 ranks (DP2,
#     independent and collective MPI-IO), stop every rank with one line naming
#     the path and the OS error, exit 1, no crash, the partial .tmp removed, the
#     previous checkpoint and `latest` intact; with space again the run resumes
#     from it bitwise (against an uninterrupted run of the same layout); a
#     read-only or full checkpoint.dir and a read-only run.dir (or its parent)
#     are refused before the first step, creating nothing; `ntron prep` onto a
#     full disk: one line, exit 1, no .tmp left; a raw write failing on one
#     rank only (EIO injected, NTRON_FAULT_CKPT_EIO=RANK:STEP): the same clean stop
#  6. a stopped peer: SIGSTOP of world rank 1 mid-training with
#     run.collective_timeout = 2: the others' watchdogs fire within the timeout
#     naming the operation (and the peer, for a pipeline transfer), the job
#     ends non-zero within seconds — also when the launcher does not end a job
#     on one rank's exit (orte_abort_on_non_zero_status = 0, as srun without
#     --kill-on-bad-exit): the watchdog aborts the job, which kills the stopped rank
#  7. one error, once: bad inputs under 2 and 3 ranks (a batch that does not
#     divide at DP 3, a damaged data file, truncated and damaged checkpoints,
#     a bad `latest`) print one ntron line, as the first line of stderr, no
#     HDF5 diagnostic stack, no MPI_Abort (the ranks agree), exit 2
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
run base2 2 --set checkpoint.interval=3 || { fail "2-rank base run"; tail -5 base2.out; }
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
# ---- 2: latest ----
ptr() { copy3 "$1"; printf "$2" > "$1/latest"; }
ptr p_dotdot.ck '../base.ck/iter_0000003\n'
refuse latest_dotdot 2 "latest names '../base.ck/iter_0000003': not a directory name inside .* \(no paths, no '..'\)" p_dotdot.ck
ptr p_dd.ck '..\n'
refuse latest_dd 2 "latest names '..': not a directory name" p_dd.ck
ptr p_abs.ck "$WORK/base.ck/iter_0000003\n"
refuse latest_absolute 2 "latest names '/.*': not a directory name inside" p_abs.ck
ptr p_self.ck 'latest\n'
refuse latest_self 2 "latest names 'latest', which is not a checkpoint directory name" p_self.ck
ptr p_empty.ck ''
refuse latest_empty 2 "latest is empty" p_empty.ck
ptr p_nl.ck '\n'
refuse latest_newline 2 "latest is empty" p_nl.ck
ptr p_bin.ck 'iter_0000003\0\377\001'
refuse latest_binary 2 "latest holds a non-printable byte 0x00 at offset 12" p_bin.ck
ptr p_two.ck 'iter_0000003\niter_0000003\n'
refuse latest_two_lines 2 "latest holds a non-printable byte 0x0a" p_two.ck
ptr p_tmp.ck 'iter_0000009.tmp\n'
refuse latest_tmp 2 "latest names 'iter_0000009.tmp', which is not a checkpoint directory name" p_tmp.ck
ptr p_gone.ck 'iter_0000009\n'
refuse latest_missing 2 "latest names iter_0000009, which is not a directory of" p_gone.ck
ptr p_empty_dir.ck 'iter_0000004\n'; mkdir p_empty_dir.ck/iter_0000004
refuse latest_uncommitted 2 "latest names iter_0000004, which holds no ckpt.h5 \(not a committed checkpoint\)" p_empty_dir.ck
copy3 p_dir.ck; rm p_dir.ck/latest; mkdir p_dir.ck/latest
refuse latest_directory 2 "latest is not a regular file" p_dir.ck
head -c 300 /dev/zero | tr '\0' a > long.txt; ptr p_long.ck "$(cat long.txt)"
refuse latest_long 2 "latest is longer than a checkpoint directory name" p_long.ck
# a bad latest is not overridden by checkpoint.overwrite
refuse latest_bad_overwrite 2 "latest names '\.\.'" p_dd.ck --set checkpoint.overwrite=true
# checkpoint.load naming a root with a bad latest
refuse load_bad_latest 2 "latest names '\.\.'" none.ck --set checkpoint.load=$WORK/p_dd.ck --set checkpoint.load_optimizer=false
# committed checkpoints, no latest: refused, the command given resumes
rm -rf nolat.ck; cp -r base.ck nolat.ck; rm nolat.ck/latest
refuse no_latest 2 "checkpoint.dir .*/nolat.ck holds committed checkpoints \(newest iter_0000006\) but no 'latest' pointer: not starting fresh over them; to resume from it: echo iter_0000006 > .*/nolat.ck/latest; to start over: checkpoint.overwrite = true" nolat.ck
rm -rf nolat3.ck; mkdir nolat3.ck; cp -r base.ck/iter_0000003 nolat3.ck/
cmd=$(grep -o 'echo iter_[0-9]* > [^;]*' no_latest.err)
"$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/nolat3 --set checkpoint.dir=$WORK/nolat3.ck > nolat3.refused.out 2>&1; rc=$?
cmd3=$(grep -o 'echo iter_[0-9]* > [^;]*' nolat3.refused.out)
bash -c "$cmd3" && run nolat3 1 && grep -q "^load .*step 3, 24 samples" nolat3.out \
    && $CMP losses base/metrics.jsonl nolat3/metrics.jsonl 4 6 0 > /dev/null && [ $rc = 2 ] && [ -n "$cmd" ] \
    && pass "no latest: refused (exit $rc); the suggested '$cmd3' then resumes bitwise" || fail "no latest: suggested command ($cmd3)"
# only stale .tmp / uncommitted directories: a fresh start is fine (nothing committed to lose)
mkdir -p stale.ck/iter_0000002.tmp stale.ck/iter_0000004; run stale 1 && [ "$(cat stale.ck/latest)" = iter_0000006 ] \
    && pass "uncommitted leftovers only: fresh start, saves iter_0000006" || { fail "fresh start over uncommitted leftovers"; tail -3 stale.out; }
# checkpoint.overwrite = true: starts fresh, its saves replace the old ones
rm -rf ow.ck; cp -r base.ck ow.ck; rm ow.ck/latest
run ow 1 --set checkpoint.overwrite=true && grep -q "^load  " ow.out && fail "overwrite: loaded something" \
    || { [ "$(cat ow.ck/latest 2>/dev/null)" = iter_0000006 ] && $CMP losses base/metrics.jsonl ow/metrics.jsonl 1 6 0 > /dev/null \
         && pass "checkpoint.overwrite = true: fresh start over committed checkpoints, latest -> its own iter_0000006" \
         || { fail "overwrite run"; tail -3 ow.out; }; }
# 2 ranks: the refusal printed once, all exit 2 (agreed: no MPI_Abort)
mpi 2 "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/two --set checkpoint.dir=$WORK/nolat.ck < /dev/null > two.out 2> two.err; rc=$?
# (then only mpirun's own notice that a process exited non-zero)
[ $rc = 2 ] && [ "$(grep -c '^ntron:' two.err)" = 1 ] && head -1 two.err | grep -q "^ntron: .*but no 'latest' pointer" \
    && ! grep -q MPI_ABORT two.err && [ ! -e two ] \
    && pass "2 ranks: exit 2, printed once, as the first line of stderr, no MPI_Abort" \
    || { fail "2 ranks no latest: rc $rc, $(grep -c '^ntron:' two.err) ntron lines"; cat two.err; }

# ---- 5: full disk, read-only file system ----
TFS=$WORK/tfs
umount "$TFS" 2>/dev/null   # left by an interrupted earlier run
mkdir -p "$TFS"
if ! mount -t tmpfs -o size=64k tmpfs "$TFS" 2>/dev/null; then
    echo "SKIP: full-disk cases: cannot mount a tmpfs (needs root)"
else
    trap 'umount "$TFS" 2>/dev/null' EXIT
    PAGE=$(getconf PAGESIZE)
    FILE=$(stat -c %s base.ck/iter_0000003/ckpt.h5)
    # tmpfs of 1 checkpoint + LEFT pages: the second save (step 6) lacks space
    disk() { umount "$TFS"; mount -t tmpfs -o size=$(( ($(( (FILE + PAGE - 1) / PAGE )) + 1 + $1) * PAGE )) tmpfs "$TFS"; }
    # full NAME RANKS LEFT REGEX [--set ...]: the save of step 6 fails (exit 1, one
    # ntron line matching REGEX, besides Open MPI's own notices), iter_0000003 and
    # latest intact, no .tmp; then with space the run resumes bitwise
    full() {
        local name=$1 n=$2 left=$3 re=$4 rc b=base; shift 4
        [ "$n" = 2 ] && b=base2
        disk "$left"
        mpi "$n" "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/$name --set checkpoint.dir=$TFS/ck \
            --set checkpoint.interval=3 "$@" < /dev/null > "$name.out" 2> "$name.err"; rc=$?
        local said; said=$(grep '^ntron:' "$name.err")
        if [ $rc -eq 1 ] && [ "$(grep -c '^ntron:' "$name.err")" = 1 ] && grep -Eq -- "$re" "$name.err" \
           && ! grep -Eq 'Segmentation|signal|HDF5-DIAG' "$name.err" \
           && [ "$(cat $TFS/ck/latest)" = iter_0000003 ] && [ "$(ls $TFS/ck | tr '\n' ' ')" = "iter_0000003 latest " ] \
           && "$NTRON" ckpt info $TFS/ck > /dev/null 2>&1; then
            pass "$name ($n ranks): exit 1, '${said#ntron: }'; .tmp removed, iter_0000003 and latest intact and verified"
        else fail "$name: rc $rc, $(grep -c '^ntron:' "$name.err") ntron lines, ck: $(ls $TFS/ck | tr '\n' ' ')"; cat "$name.err" | head -5; fi
        [ "$(grep -vc '^ntron:' "$name.err")" -gt 0 ] && echo "  (other stderr lines: $(grep -v '^ntron:' "$name.err" | sort | uniq -c | head -3 | tr -s ' \n' ' '))"
        mount -o remount,size=16m "$TFS"
        mpi "$n" "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/$name.res --set checkpoint.dir=$TFS/ck \
            --set checkpoint.interval=3 "$@" < /dev/null > "$name.res.out" 2>&1 \
            && grep -q "^load .*step 3, 24 samples" "$name.res.out" && $CMP losses $b/metrics.jsonl $name.res/metrics.jsonl 4 6 0 > /dev/null \
            && $CMP same $b.ck/iter_0000006/ckpt.h5 $TFS/ck/iter_0000006/ckpt.h5 > /dev/null \
            && pass "$name: with space again resumes from iter_0000003, steps 4-6 and the final checkpoint bitwise (= $b)" \
            || { fail "$name: resume after the full disk"; tail -3 "$name.res.out"; }
    }
    # not enough room for the datasets: refused before writing.  The disk must
    # still take the first save's reservation (datasets + 1 MiB + 4 KiB per
    # dataset: 2.88 MB here) and then leave less than the datasets (1.5 MB):
    # 2 files - 16 pages lies in between
    FP=$(( (FILE + PAGE - 1) / PAGE ))
    full nospace_before 1 $((FP - 17)) "checkpoint save of step 6 not started: $TFS/ck/iter_0000006.tmp: No space left on device: a checkpoint needs at least 1.5 MB"
    full nospace_before_dp2 2 $((FP - 17)) "checkpoint save of step 6 not started: .*No space left on device"
    # room for the datasets, not for the whole file: the reservation fails
    raw=$(( ($(stat -c %s base.ck/iter_0000003/ckpt.h5) - 40000 + PAGE - 1) / PAGE ))
    RE="checkpoint save failed: $TFS/ck/iter_0000006.tmp/ckpt.h5: cannot reserve [0-9.]+ MB for it: No space left on device"
    full nospace_file 1 $((raw + 2)) "$RE"
    full nospace_file_dp2 2 $((raw + 2)) "$RE"
    full nospace_file_coll 2 $((raw + 2)) "$RE" --set checkpoint.write=collective
    # the reserved blocks past the end are given back: a checkpoint takes its size
    du=$(du -k -s $TFS/ck/iter_0000006 | cut -f1); sz=$(( $(stat -c %s $TFS/ck/iter_0000006/ckpt.h5) / 1024 ))
    [ "$du" -le $((sz + 8)) ] && pass "reservation given back: iter_0000006 uses ${du} KiB for a ${sz} KiB file" \
        || fail "iter_0000006 uses ${du} KiB for a ${sz} KiB file (reservation kept)"
    # before the first step: full, read-only checkpoint.dir, read-only run.dir
    disk 0; mkdir -p $TFS/ck; head -c $(( FILE + PAGE )) /dev/zero > $TFS/fill 2>/dev/null
    refuse start_full 1 "checkpoint.dir $TFS/ck: .*No space left on device" none.ck --set checkpoint.dir=$TFS/ck
    disk 400; mkdir -p $TFS/ck $TFS/run; mount -o remount,ro "$TFS"
    refuse start_ro_ckpt 1 "checkpoint.dir $TFS/ck: not writable: cannot create a file in it: Read-only file system" none.ck --set checkpoint.dir=$TFS/ck
    refuse start_ro_run 1 "run.dir $TFS/run: not writable: cannot create a file in it: Read-only file system" none.ck --set run.dir=$TFS/run
    refuse start_ro_mkdir 1 "run.dir $TFS/run/sub: cannot be created: $TFS/run is not writable: cannot create a file in it: Read-only file system" none.ck --set run.dir=$TFS/run/sub
    # prep onto a full disk: one line first, exit 1, no .tmp and no output left
    for n in 1 2; do
        disk 0; mpi $n "$NTRON" prep --tokenizer byte "$top_srcdir/inputs/tiny/corpus.txt" -o $TFS/out.h5 \
            < /dev/null > prep$n.out 2> prep$n.err; rc=$?
        [ $rc = 1 ] && head -1 prep$n.err | grep -q "^ntron: prep: -o $TFS/out.h5: cannot reserve .* MB for $TFS/out.h5.tmp.[0-9]*: No space left on device" \
            && [ "$(grep -c '^ntron:' prep$n.err)" = 1 ] && ! grep -q HDF5-DIAG prep$n.err && [ -z "$(ls $TFS)" ] \
            && pass "prep on a full disk ($n ranks): exit 1, $(head -1 prep$n.err | cut -c1-120)..., nothing left" \
            || { fail "prep on a full disk ($n ranks): rc $rc, left: $(ls $TFS)"; head -3 prep$n.err; }
    done
    umount "$TFS"; trap - EXIT
fi

# ---- 5: a write failing on one rank only, after the reservation (EIO injected:
# NTRON_FAULT_CKPT_EIO=RANK:STEP, independent writes): the ranks agree before any
# metadata is written, one line, exit 1, .tmp removed, latest intact; resumes bitwise
for r in 0 1; do
    name=eio_rank$r
    rm -rf $name.ck; mkdir -p $name.ck; cp -r base2.ck/iter_0000003 $name.ck/; echo iter_0000003 > $name.ck/latest
    NTRON_FAULT_CKPT_EIO=$r:6 run $name 2 --set checkpoint.interval=3; rc=$?
    err=$(grep '^ntron:' $name.out)
    [ $rc = 1 ] && [ "$(grep -c '^ntron:' $name.out)" = 1 ] \
        && grep -q "^ntron: checkpoint save failed: .*/$name.ck/iter_0000006.tmp/ckpt.h5: write failed: Input/output error (fault injection) (.*iter_0000006.tmp removed" $name.out \
        && [ "$(ls $name.ck | tr '\n' ' ')" = "iter_0000003 latest " ] && ! grep -Eq 'Segmentation|HDF5-DIAG' $name.out \
        && pass "EIO on rank $r only (DP2): exit 1, '${err#ntron: }'" || { fail "EIO on rank $r: rc $rc, ck: $(ls $name.ck)"; grep -v '^ *[0-9]' $name.out | tail -4; }
    mv $name.out $name.failed.out
    run $name 2 --set checkpoint.interval=3 && $CMP losses base2/metrics.jsonl $name/metrics.jsonl 4 6 0 > /dev/null \
        && $CMP same base2.ck/iter_0000006/ckpt.h5 $name.ck/iter_0000006/ckpt.h5 > /dev/null \
        && pass "after EIO on rank $r: resumes bitwise (= base2)" || { fail "after EIO on rank $r: resume"; tail -3 $name.out; }
done

# ---- 6: a stopped peer ----
# stopped NAME RANKS OPREGEX [mpirun args] -- [--set ...]
stopped() {
    local name=$1 n=$2 op=$3; shift 3
    local margs=() t0 t1 rc p pid=""
    while [ $# -gt 0 ] && [ "$1" != -- ]; do margs+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    rm -rf "$name"
    NT_MPI_TIMEOUT=60 mpi "$n" "${margs[@]}" "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/$name --set train.steps=100000 \
        --set run.collective_timeout=2 "$@" < /dev/null > "$name.out" 2> "$name.err" &
    local job=$!
    for _ in $(seq 100); do [ "$(grep -c '^step' "$name.out" 2>/dev/null)" -ge 3 ] && break; sleep 0.2; done
    for p in $(pgrep -f "run.dir=$WORK/$name "); do
        tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && pid=$p
    done
    [ -n "$pid" ] || { fail "$name: world rank 1 not found"; kill $job; wait $job; return; }
    t0=$(date +%s.%N); kill -STOP "$pid"
    wait $job; rc=$?
    t1=$(date +%s.%N)
    local dt; dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    local said; said=$(grep -E -m1 "^ntron: rank [02]: stuck for more than 2 s in $op" "$name.err")
    # the launcher kills the stopped rank as the job ends: allow it a moment to go
    for _ in $(seq 50); do { [ ! -e /proc/$pid ] || grep -q '^State:.*zombie' /proc/$pid/status; } && break; sleep 0.1; done
    if [ $rc -ne 0 ] && [ $rc -ne 124 ] && awk -v d="$dt" 'BEGIN { exit !(d < 15) }' && [ -n "$said" ] \
       && { [ ! -e /proc/$pid ] || grep -q '^State:.*zombie' /proc/$pid/status; }; then
        pass "$name: SIGSTOP of rank 1: exit $rc after ${dt}s, '${said#ntron: }'; the stopped rank is gone"
    else fail "$name: SIGSTOP of rank 1: rc $rc after ${dt}s, said '$said'"; head -3 "$name.err"; kill -KILL "$pid" 2>/dev/null; fi
}
stopped stop_dp3 3 '[a-z-]+ \([a-z0-9, ]+ elements[a-z ]*\) on the (dp|world) communicator' -- --set train.global_batch=12
stopped stop_dp3_no_launcher_abort 3 '[a-z-]+ \([a-z0-9, ]+ elements[a-z ]*\) on the (dp|world) communicator' \
    --mca orte_abort_on_non_zero_status 0 -- --set train.global_batch=12
# rank 0 waits on rank 1 either in a pipeline transfer (which names the peer) or,
# between steps, in the loss all-reduce: whichever it is in when rank 1 stops
stopped stop_pp2 2 '(.*(from|to) rank 1, tag|[a-z-]+ \([a-z0-9, ]+ elements[a-z ]*\) on the (world|pp) communicator)' -- --set parallel.pipeline=2

# ---- 7: one error, once ----
once() { # NAME RANKS REGEX [--set ...]
    local name=$1 n=$2 re=$3 rc; shift 3
    rm -rf "run_$name"
    mpi "$n" "$NTRON" run "$DECK" "${C[@]}" --set run.dir=$WORK/run_$name "$@" < /dev/null > "$name.out" 2> "$name.err"; rc=$?
    if [ $rc -eq 2 ] && [ "$(grep -c '^ntron:' "$name.err")" = 1 ] && head -1 "$name.err" | grep -Eq -- "^ntron: .*$re" \
       && ! grep -Eq 'HDF5-DIAG|MPI_ABORT|#[0-9]{3}:' "$name.err" && [ ! -e "run_$name" ]; then
        pass "$name ($n ranks): exit 2, one line first: $(head -1 "$name.err" | cut -c1-160)"
    else fail "$name ($n ranks): rc $rc, $(grep -c '^ntron:' "$name.err") ntron lines, first '$(head -1 "$name.err")'"; head -4 "$name.err"; fi
}
once batch_dp3 3 "global batch 8 is not divisible by micro_batch \(2\) x data-parallel size \(3\)"
head -c 5000 corpus.h5 > cut.h5
once data_truncated 2 "cut.h5" --set data.train=$WORK/cut.h5
mkdir -p cut.ck/iter_0000003; head -c 700000 base.ck/$F > cut.ck/$F; echo iter_0000003 > cut.ck/latest
once ckpt_truncated 2 "cut.ck/iter_0000003/ckpt.h5: .*(truncated|checksum mismatch)" --set checkpoint.dir=$WORK/cut.ck
once ckpt_flip 3 "checksum mismatch" --set checkpoint.dir=$WORK/flip.ck --set train.global_batch=12
once ckpt_attrs 2 "root attributes checksum mismatch" --set checkpoint.dir=$WORK/it.ck
once latest_bad 3 "latest names '\.\.'" --set checkpoint.dir=$WORK/p_dd.ck --set train.global_batch=12
expect_error "ckpt info on a truncated file: one line" 2 "^ntron: checkpoint cut.ck/iter_0000003/ckpt.h5: (cannot open|.*failed)" -- "$NTRON" ckpt info cut.ck
"$NTRON" ckpt info cut.ck > /dev/null 2> cut.info.err; ! grep -q 'HDF5-DIAG' cut.info.err && [ "$(grep -c '^ntron:' cut.info.err)" = 1 ] \
    && pass "ckpt info on a truncated file: no HDF5 stack" || { fail "ckpt info truncated: $(head -3 cut.info.err)"; }

# an undamaged copy still resumes (the refusals are not a blanket refusal)
copy3 ok.ck; run ok 1 && grep -q "^load .*step 3, 24 samples" ok.out && $CMP losses base/metrics.jsonl ok/metrics.jsonl 4 6 0 >/dev/null \
    && pass "an intact copy resumes bitwise" || { fail "intact resume"; tail -3 ok.out; }
finish
