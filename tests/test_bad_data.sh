#!/bin/bash
# test_bad_data.sh — bad input gets one clear line naming the file, exit
# status 2, and no run directory: missing, not-HDF5, truncated, missing
# dataset, wrong shape, a dtype other than the format's (int8/int32/uint64
# /tokens, int32 /doc_offsets: refused, not converted; big-endian accepted),
# decreasing offsets, vocabulary larger than the model's, token id out of
# range (anywhere in the file, also where no sample reads it, also on 3
# ranks), too short for one sample, not a regular file (FIFO, directory,
# device: refused at once); `prep --inspect` of damaged files (one line,
# exit 2); unreadable/missing decks; bad prep input;
# padded SFT/reward/preference data: wrong kind, tokenizer hash (SFT too),
# vocabulary, label count, shapes, dtypes, offsets, ranges, token ids (and the
# reader's rows of real prep files equal their source lines).
. "$(dirname "$0")/lib.sh"
cd "$WORK"
DECK=$top_srcdir/inputs/tiny/pretrain.deck
"$NTRON" prep --tokenizer byte "$top_srcdir/inputs/tiny/corpus.txt" -o good.h5 >/dev/null || fail "prep good file"

"$PYTHON" - <<'PY' || fail "making bad files with h5py"
import h5py, numpy as np, shutil
good = h5py.File("good.h5", "r")
tok, offs = good["tokens"][:], good["doc_offsets"][:]
def make(name, tokens=tok, offsets=offs, vocab=258, skip=None):
    with h5py.File(name, "w") as f:
        if skip != "tokens": f["tokens"] = tokens
        if skip != "doc_offsets": f["doc_offsets"] = offsets
        if vocab is not None: f.attrs["vocab_size"] = np.int64(vocab)
make("no_tokens.h5", skip="tokens")
make("no_offsets.h5", skip="doc_offsets")
make("two_d.h5", tokens=tok[: (len(tok) // 2) * 2].reshape(-1, 2), offsets=np.array([0, 2], dtype=np.uint64))
make("float_tokens.h5", tokens=tok.astype(np.float32))
make("big_vocab.h5", vocab=300000)
make("no_vocab.h5", vocab=None)
bad = tok.copy(); bad[:] = 999
make("bad_id.h5", tokens=bad)
make("bad_offsets.h5", offsets=np.array([0, 5], dtype=np.uint64))
make("short.h5", tokens=tok[:10], offsets=np.array([0, 10], dtype=np.uint64))
# dtypes exactly as the format says (uint32 /tokens, uint64 /doc_offsets): refused, not converted
make("int8_tokens.h5", tokens=tok.astype(np.int8))
make("int32_tokens.h5", tokens=tok.astype(np.int32))
make("u64_tokens.h5", tokens=tok.astype(np.uint64))
make("i32_offsets.h5", offsets=offs.astype(np.int32))
make("big_endian.h5", tokens=tok.astype(">u4"), offsets=offs.astype(">u8"))   # uint32 / uint64 still: accepted
bad = tok.copy(); bad[-5] = 999; make("bad_id_late.h5", tokens=bad)   # in no sample of a short run: found at open
o = offs.copy(); o[2] = o[1] - 1; make("offs_down_run.h5", offsets=o)
data = open("good.h5", "rb").read()
open("truncated.h5", "wb").write(data[: len(data) // 2])
open("not_hdf5.h5", "w").write("this is plain text, not HDF5\n")
PY

run_bad() { # name regex file
    expect_error "$1" 2 "$2" -- "$NTRON" run "$DECK" --set "data.train=$WORK/$3" --set "run.dir=$WORK/run_$1" --set train.steps=2 --set train.warmup=0
    [ -e "$WORK/run_$1" ] && fail "$1: run directory was created" || true
}
run_bad missing       'missing\.h5: cannot open data file: No such file'   missing.h5
run_bad not_hdf5      'not_hdf5\.h5: not an HDF5 file'                     not_hdf5.h5
run_bad truncated     'truncated\.h5: .*(cannot open as HDF5|truncated)'  truncated.h5
run_bad no_tokens     'no_tokens\.h5: missing dataset /tokens'              no_tokens.h5
run_bad no_offsets    'no_offsets\.h5: missing dataset /doc_offsets'        no_offsets.h5
run_bad two_d         'two_d\.h5: /tokens has 2 dimensions, expected 1'     two_d.h5
run_bad float_tokens  'float_tokens\.h5: /tokens is not an integer dataset' float_tokens.h5
run_bad big_vocab     'big_vocab\.h5: vocab_size = 300000 exceeds the model.s vocabulary \(model.vocab = 258\)' big_vocab.h5
run_bad no_vocab      'no_vocab\.h5: missing root attribute vocab_size'     no_vocab.h5
run_bad bad_offsets   'bad_offsets\.h5: /doc_offsets runs from 0 to 5'      bad_offsets.h5
run_bad short         'short\.h5: 10 tokens, fewer than one sample'         short.h5
run_bad int8_tokens   'int8_tokens\.h5: /tokens is int8, expected uint32 \(the dataset format.s type; not converted' int8_tokens.h5
run_bad int32_tokens  'int32_tokens\.h5: /tokens is int32, expected uint32' int32_tokens.h5
run_bad u64_tokens    'u64_tokens\.h5: /tokens is uint64, expected uint32'  u64_tokens.h5
run_bad i32_offsets   'i32_offsets\.h5: /doc_offsets is int32, expected uint64' i32_offsets.h5
run_bad offs_down     'offs_down_run\.h5: /doc_offsets\[2\] = [0-9]+ is less than /doc_offsets\[1\]' offs_down_run.h5
run_bad bad_id        'bad_id\.h5: /tokens\[0\] = 999 is outside the vocabulary \(vocab_size = 258\)' bad_id.h5
run_bad bad_id_late   'bad_id_late\.h5: /tokens\[[0-9]+\] = 999 is outside the vocabulary' bad_id_late.h5
# a late bad id on 3 ranks (each checks its share of /tokens; it lies in the last one's): once, exit 2, no run directory
out=$(mpi 3 "$NTRON" run "$DECK" --set "data.train=$WORK/bad_id_late.h5" --set "run.dir=$WORK/run_late3" --set train.steps=2 \
      --set train.warmup=0 --set train.global_batch=12 --set parallel.micro_batch=2 2>&1 >/dev/null); rc=$?
[ $rc = 2 ] && [ "$(grep -c '^ntron:' <<<"$out")" = 1 ] && head -1 <<<"$out" | grep -q 'bad_id_late\.h5: /tokens\[[0-9]*\] = 999' \
    && [ ! -e run_late3 ] && pass "bad id in the last rank's share (3 ranks): exit 2, once, first line, no run directory" \
    || fail "bad id on 3 ranks: rc $rc: $(head -3 <<<"$out")"
"$NTRON" run "$DECK" --set "data.train=$WORK/big_endian.h5" --set "run.dir=$WORK/run_be" --set train.steps=1 --set train.warmup=0 \
    > be.out 2>&1 && pass "big-endian uint32 /tokens, uint64 /doc_offsets: accepted" || fail "big-endian data: $(tail -2 be.out)"
# not a regular file: refused at once (stat first), never waited on
mkfifo fifo.h5; mkdir -p dir.h5
run_bad fifo          'fifo\.h5: not a regular file \(a FIFO\)'             fifo.h5
run_bad directory     'dir\.h5: not a regular file \(a directory\)'         dir.h5
expect_error device 2 '^ntron: /dev/null: not a regular file \(a device\)' -- "$NTRON" run "$DECK" --set data.train=/dev/null \
    --set "run.dir=$WORK/run_device" --set train.steps=2 --set train.warmup=0
expect_error inspect_fifo 2 'fifo\.h5: not a regular file \(a FIFO\)' -- timeout -k 2 20 "$NTRON" prep --inspect fifo.h5
# --inspect runs the readers' validation: one line, exit 2, no statistics
"$PYTHON" - <<'PY' || fail "making bad files for --inspect with h5py"
import h5py, numpy as np
good = h5py.File("good.h5", "r")
tok, offs = good["tokens"][:], good["doc_offsets"][:]
def make(name, tokens=tok, offsets=offs):
    with h5py.File(name, "w") as f:
        f["tokens"] = tokens; f["doc_offsets"] = offsets; f.attrs["vocab_size"] = np.int64(258)
o = offs.copy(); o[0] = 3; make("offs_start.h5", offsets=o)
o = offs.copy(); o[2] = o[1] - 1; make("offs_down.h5", offsets=o)
PY
inspect_bad() { # name regex file
    local out
    expect_error "inspect_$1" 2 "$2" -- "$NTRON" prep --inspect "$3"
    out=$("$NTRON" prep --inspect "$3" 2>&1)
    [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || fail "inspect_$1: more than one line: $out"
}
inspect_bad offs_start  'offs_start\.h5: /doc_offsets runs from 3 to [0-9]+, expected 0'    offs_start.h5
inspect_bad offs_down   'offs_down\.h5: /doc_offsets\[2\] = [0-9]+ is less than /doc_offsets\[1\]' offs_down.h5
inspect_bad offs_short  'bad_offsets\.h5: /doc_offsets runs from 0 to 5'                 bad_offsets.h5
inspect_bad float       'float_tokens\.h5: /tokens is not an integer dataset'            float_tokens.h5
inspect_bad two_d       'two_d\.h5: /tokens has 2 dimensions'                            two_d.h5
inspect_bad int32       'int32_tokens\.h5: /tokens is int32, expected uint32'            int32_tokens.h5
inspect_bad late_id     'bad_id_late\.h5: /tokens\[[0-9]+\] = 999 is outside the vocabulary' bad_id_late.h5
"$NTRON" prep --inspect good.h5 | grep -Eq '^samples +[0-9]+' && pass "inspect of a good file prints statistics" || fail "inspect good.h5"

# decks
expect_error deck_missing 2 'nosuch\.deck: cannot open' -- "$NTRON" run "$WORK/nosuch.deck"
mkdir -p adir.deck
expect_error deck_directory 2 'adir\.deck: ' -- "$NTRON" check "$WORK/adir.deck"
expect_error no_deck 2 'run: no DECK given' -- "$NTRON" run
expect_error two_decks 2 'check: more than one DECK given' -- "$NTRON" check "$DECK" "$DECK"
expect_error unknown_flag 2 'run: unknown option --bogus \(see ntron run --help\)' -- "$NTRON" run "$DECK" --bogus
expect_error set_no_arg 2 'check: --set needs an argument section\.key=value' -- "$NTRON" check "$DECK" --set
expect_help run -- '^  --set section\.key=value +override a deck key \(repeatable\)$'
expect_help check -- '^  --set section\.key=value '
expect_error unknown_cmd 2 "unknown command 'frobnicate'" -- "$NTRON" frobnicate
# under MPI a bad deck or data file is reported once (every rank checks it, they agree), exit 2
for spec in "deck --set train.warmup=99 --set train.steps=3" "data --set data.train=$WORK/nosuch.h5"; do
    set -- $spec; what=$1; shift
    out=$(mpi 3 "$NTRON" run "$DECK" "$@" --set run.dir=$WORK/run_once 2>&1 >/dev/null); rc=$?
    n=$(printf '%s\n' "$out" | grep -c '^ntron:')
    [ "$rc" -eq 2 ] && [ "$n" -eq 1 ] && pass "bad $what on 3 ranks: one line, exit 2: $(printf '%s\n' "$out" | grep -m1 '^ntron:')" \
        || fail "bad $what on 3 ranks: exit $rc, $n 'ntron:' lines: $out"
done
[ -e "$WORK/run_once" ] && fail "bad deck/data on 3 ranks: run directory created" || true
# generate, score (src/infer) and sdg (src/sdg) are built: a training deck lacks their keys, refused alike by run and check
for ph in generate score sdg; do
    for cmd in run check; do
        expect_error "phase_${ph}_$cmd" 2 "^ntron: .*pretrain\.deck: .*(generate\.input|model\.head|sdg\.stages).*" -- \
            "$NTRON" $cmd "$DECK" --set run.phase=$ph --set data.train=$WORK/good.h5 --set run.dir=$WORK/run_phase
    done
done
sed 's/^phase = pretrain/phase = sdgx/' "$DECK" > sdgx.deck
expect_error phase_deck_line 2 "sdgx\.deck:[0-9]+: run\.phase: 'sdgx' is not one of: pretrain, .*sdg" -- "$NTRON" check sdgx.deck
expect_error phase_unknown 2 "run\.phase" -- "$NTRON" check "$DECK" --set run.phase=bench
[ -e "$WORK/run_phase" ] && fail "phase: run directory created" || true
"$NTRON" help phases | grep -Eq "^sdg +ckpt's .*ntron sdg" && ! "$NTRON" help phases | grep -q 'not built yet' && "$NTRON" help phases | grep -Eq '^rm +reward ' \
    && "$NTRON" help phases | grep -Eq '^sft +lm ' && "$NTRON" help phases | grep -Eq '^dpo +lm ' \
    && pass "help phases lists every phase, all built" || fail "help phases: $("$NTRON" help phases)"

# prep input
printf 'abc\0def\n' > nul.txt
expect_error prep_nul 2 'nul\.txt:1: NUL byte' -- "$NTRON" prep --tokenizer byte nul.txt -o nul.h5
[ -e nul.h5 ] && fail "prep_nul: output file left behind" || true
: > empty.txt
expect_error prep_empty 2 'empty\.txt: no documents' -- "$NTRON" prep --tokenizer byte empty.txt -o empty.h5
expect_error prep_tok 2 'unknown' -- "$NTRON" prep --tokenizer bpe empty.txt -o empty.h5
ls *.tmp.* >/dev/null 2>&1 && fail "prep left temporary files" || pass "prep left no temporary files"
# padded datasets (src/data/data_padded.c: SFT, reward, preference), opened by the
# unit test's --open mode (no SFT/DPO phase reads them from a deck yet)
PADDED=${NTRON_BUILDDIR:-$(cd "$(dirname "$NTRON")/.." && pwd)}/tests/test_data_padded
D=$top_srcdir/inputs/data
sed 's/^\(\s*vocab\s*=\).*/\1 400/' "$DECK" > v400.deck
"$NTRON" tokenizer train --deck v400.deck -o spm "$D/tokenizer.txt" >/dev/null 2>&1 || fail "tokenizer train"
for f in chat preference reward; do
    "$NTRON" prep --tokenizer spm.model --format $f "$D/$f.jsonl" -o $f.h5 >/dev/null || fail "prep $f"
done
for k in "sft chat" "reward reward" "preference preference"; do
    set -- $k
    out=$("$PADDED" --prep "$1" "$2.h5" "$D/$2.jsonl" spm.model 2>&1) && pass "padded $1 (prep file): $out" \
        || fail "padded $1 rows: $out"
done
"$PYTHON" - <<'PY' || fail "making bad padded files with h5py"
import h5py, numpy as np, shutil
def copy(src, dst):
    shutil.copy(src, dst)
    return h5py.File(dst, "r+")
with copy("chat.h5", "relabelled.h5") as f: f.attrs["kind"] = np.bytes_("preference")
with copy("chat.h5", "nohash.h5") as f: del f.attrs["tokenizer_hash"]
with copy("chat.h5", "bad_tok.h5") as f: f["tokens"][5] = 999
with copy("chat.h5", "bad_offs.h5") as f: f["doc_offsets"][2] = f["doc_offsets"][1]
with copy("chat.h5", "short_mask.h5") as f:
    m = f["loss_mask"][:-1]; del f["loss_mask"]; f["loss_mask"] = m
with copy("preference.h5", "bad_ranges.h5") as f: f["ranges"][0, 1] = f["ranges"][0, 2]
with copy("preference.h5", "bad_rewards.h5") as f:
    r = f["rewards"][:, :1]; del f["rewards"]; f["rewards"] = r
with copy("reward.h5", "bad_labels.h5") as f:
    l = f["labels"][:-1]; del f["labels"]; f["labels"] = l
def retype(src, dst, name, dtype):
    with copy(src, dst) as f:
        v = f[name][...].astype(dtype); del f[name]; f[name] = v
retype("chat.h5", "i32_tok.h5", "tokens", np.int32)
retype("chat.h5", "i64_mask.h5", "loss_mask", np.int64)
retype("reward.h5", "i64_labels.h5", "labels", np.int64)
retype("preference.h5", "f64_rewards.h5", "rewards", np.float64)
retype("preference.h5", "i64_ranges.h5", "ranges", np.int64)
with copy("chat.h5", "late_tok.h5") as f: f["tokens"][f["tokens"].shape[0] - 2] = 999
PY
open_bad() { # name regex kind file seq_len vocab tokenizer nlabels: exit 2, one line on stderr
    local name=$1 re=$2 n; shift 2
    expect_error "padded_$name" 2 "$re" -- "$PADDED" --open "$@"
    n=$("$PADDED" --open "$@" 2>&1 >/dev/null | wc -l)
    [ "$n" = 1 ] || fail "padded_$name: $n lines on stderr, want 1"
}
open_bad sft_as_reward 'chat\.h5: missing dataset /labels \(a sft dataset, not a reward one: prep it with --format reward\)' \
    reward chat.h5 64 400 spm.model 5
open_bad reward_as_sft 'reward\.h5: missing dataset /loss_mask \(a reward dataset, not an SFT one: prep it with --format chat\)' \
    sft reward.h5 64 400 spm.model 0
open_bad pretrain_as_pref 'good\.h5: missing dataset /ranges \(a pretrain dataset, not a preference one' preference good.h5 64 400 "" 0
open_bad kind_attr 'relabelled\.h5: a preference dataset, not an SFT one \(prep it with --format chat\)' sft relabelled.h5 64 400 "" 0
open_bad sft_tokenizer 'chat\.h5: tokenizer mismatch: the dataset was prepared with tokenizer [0-9a-f]{16}\.\.\., but data\.tokenizer = byte has [0-9a-f]{16}\.\.\.' \
    sft chat.h5 64 400 byte 0
open_bad pref_tokenizer 'preference\.h5: tokenizer mismatch: .*data\.tokenizer = byte' preference preference.h5 64 400 byte 0
open_bad sft_no_hash 'nohash\.h5: no tokenizer_hash attribute, cannot check it against data\.tokenizer = spm\.model' \
    sft nohash.h5 64 400 spm.model 0
open_bad sft_vocab 'chat\.h5: tokenizer vocabulary 391 is larger than model\.vocab = 300' sft chat.h5 64 300 "" 0
open_bad pref_vocab 'preference\.h5: tokenizer vocabulary 391 is larger than model\.vocab = 258' preference preference.h5 64 258 "" 0
open_bad reward_labels 'reward\.h5: 5 labels per sample, but model\.reward_outputs = 3' reward reward.h5 64 400 spm.model 3
open_bad reward_rows 'bad_labels\.h5: /labels has 59 rows, /doc_offsets 60 samples' reward bad_labels.h5 64 400 "" 5
open_bad sft_token 'bad_tok\.h5: /tokens\[5\] = 999 is outside the vocabulary \(vocab_size = 391\)' sft bad_tok.h5 4096 400 "" 0
expect_error inspect_sft_offsets 2 'bad_offs\.h5: /doc_offsets\[2\] out of order or empty sample' -- "$NTRON" prep --inspect bad_offs.h5
expect_error inspect_pref_ranges 2 'bad_ranges\.h5: /ranges\[0\] = ' -- "$NTRON" prep --inspect bad_ranges.h5
expect_error inspect_reward_rows 2 'bad_labels\.h5: /labels has 59 rows' -- "$NTRON" prep --inspect bad_labels.h5
open_bad sft_offsets 'bad_offs\.h5: /doc_offsets\[2\] out of order or empty sample' sft bad_offs.h5 64 400 "" 0
open_bad sft_mask 'short_mask\.h5: /loss_mask has [0-9]+ entries, /tokens [0-9]+' sft short_mask.h5 64 400 "" 0
open_bad pref_ranges 'bad_ranges\.h5: /ranges\[0\] = [0-9 ]+ is not prompt < chosen < rejected < end' preference bad_ranges.h5 64 400 "" 0
open_bad sft_tok_dtype 'i32_tok\.h5: /tokens is int32, expected uint32' sft i32_tok.h5 64 400 "" 0
open_bad sft_mask_dtype 'i64_mask\.h5: /loss_mask is int64, expected uint8' sft i64_mask.h5 64 400 "" 0
open_bad reward_labels_dtype 'i64_labels\.h5: /labels is int64, expected int8' reward i64_labels.h5 64 400 "" 5
open_bad pref_rewards_dtype 'f64_rewards\.h5: /rewards is float64, expected float32' preference f64_rewards.h5 64 400 "" 0
open_bad pref_ranges_dtype 'i64_ranges\.h5: /ranges is int64, expected uint64' preference i64_ranges.h5 64 400 "" 0
open_bad sft_late_token 'late_tok\.h5: /tokens\[[0-9]+\] = 999 is outside the vocabulary' sft late_tok.h5 64 400 "" 0
expect_error inspect_sft_late_token 2 'late_tok\.h5: /tokens\[[0-9]+\] = 999 is outside' -- "$NTRON" prep --inspect late_tok.h5
open_bad pref_rewards 'bad_rewards\.h5: /rewards is \[60,1\], expected \[60,2\]' preference bad_rewards.h5 64 400 "" 0
finish
