#!/bin/bash
# test_prep.sh — tokenizer and data preparation end to end:
#   SentencePiece train / encode / decode round trip (exact, incl. spaces,
#   newlines, non-ASCII), chat control tokens as single ids, BOS/EOS;
#   `ntron prep` for text (byte), jsonl, chat, preference and reward on
#   1, 2 and 4 MPI ranks: datasets identical across rank counts, and checked
#   against the sources by tests/prep_check.py (byte tokens, loss mask on
#   assistant turns + end tokens, preference ranges/rewards, reward labels);
#   --inspect; every class of bad input reported as file:line: reason with
#   exit 2 and no output (also on 2 ranks), an escaped NUL too; -o refused
#   (once, exit 2, nothing written) when it is the input by any path, a
#   checkpoint, a directory or in a missing directory; a FIFO input refused
#   at once; the tokenizer hash checked at
#   training start; a 2-dataset blend with a switch trains.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
D=$top_srcdir/inputs/data
CHECK="$PYTHON $top_srcdir/tests/prep_check.py"

# ---- tokenizer -------------------------------------------------------------------
sed 's/^\(\s*vocab\s*=\).*/\1 400/' "$top_srcdir/inputs/tiny/pretrain.deck" > v400.deck
out=$("$NTRON" tokenizer train --deck v400.deck -o spm "$D/tokenizer.txt" 2>&1) && [ -f spm.model ] \
    && pass "tokenizer train (vocab from the deck): $out" || fail "tokenizer train: $out"
printf ' Two  spaces, naïve café — 42 tabs\there\n\n<extra_id_1>User and trailing \n' > rt.txt
"$NTRON" tokenizer encode spm.model rt.txt > ids.txt && "$NTRON" tokenizer decode spm.model ids.txt > back.txt \
    && cmp -s rt.txt back.txt && pass "encode/decode round trip is exact" || fail "round trip: $(cat back.txt)"
for tok in '<extra_id_0>System' '<extra_id_1>User' '<extra_id_1>Assistant'; do
    n=$(printf '%s' "$tok" | "$NTRON" tokenizer encode spm.model | wc -w)
    [ "$n" = 1 ] && pass "$tok is one token" || fail "$tok encodes to $n tokens"
done
case "$out" in *"BOS 1, EOS 2, chat tokens 3 4 5"*) pass "BOS/EOS/chat ids";; *) fail "ids: $out";; esac
expect_error tok_bad_model 2 'nosuch\.model: cannot open tokenizer model' -- "$NTRON" tokenizer encode nosuch.model rt.txt

expect_help tokenizer -- '^  train TEXT\.\.\. ' '^  encode MODEL \[FILE\] ' '^  decode MODEL \[FILE\] '
expect_help tokenizer train -- '^  --vocab N ' '^  --deck DECK ' '^  --model-type unigram\|bpe ' '^  -o PREFIX '
expect_help tokenizer encode
expect_help tokenizer decode
expect_help prep -- '^  --tokenizer byte\|MODEL ' '^  --format text\|jsonl\|chat\|preference\|reward$' \
    '^  --doc-sep blank\|line ' '^  -o OUT\.h5 ' '^  --inspect FILE\.h5 '

# ---- prep on 1, 2, 4 ranks ---------------------------------------------------------------
prep_all() { # name format tokenizer input
    local np
    for np in 1 2 4; do
        mpi $np "$NTRON" prep --tokenizer "$3" --format "$2" "$4" -o "$1_$np.h5" > "$1_$np.out" 2>&1 || { fail "prep $1 on $np ranks: $(tail -3 "$1_$np.out")"; return; }
    done
    $CHECK same "$1_1.h5" "$1_2.h5" "$1_4.h5" && pass "prep $1: identical datasets on 1, 2, 4 ranks" || fail "prep $1: ranks differ"
}
prep_all text text byte "$top_srcdir/inputs/tiny/corpus.txt"
$CHECK text "$top_srcdir/inputs/tiny/corpus.txt" text_2.h5 && pass "byte tokens = documents + EOD" || fail "byte tokens"
prep_all spmtext text spm.model "$D/tokenizer.txt"
prep_all qa jsonl spm.model "$D/qa.jsonl"
prep_all chat chat spm.model "$D/chat.jsonl"
$CHECK chat "$D/chat.jsonl" chat_4.h5 3 4 5 2 && pass "chat loss mask: assistant content + end tokens only" || fail "chat loss mask"
prep_all pref preference spm.model "$D/preference.jsonl"
$CHECK preference "$D/preference.jsonl" pref_2.h5 && pass "preference ranges and rewards" || fail "preference ranges/rewards"
prep_all rm reward spm.model "$D/reward.jsonl"
$CHECK reward "$D/reward.jsonl" rm_4.h5 && pass "reward labels" || fail "reward labels"

# ---- inspect ------------------------------------------------------------------------------
out=$("$NTRON" prep --inspect chat_2.h5 2>&1)
for want in 'kind +sft' 'hash +[0-9a-f]{64}' 'samples +60' 'loss_mask' '<extra_id_1>Assistant' 'trained on'; do
    printf '%s\n' "$out" | grep -Eq "$want" && pass "inspect shows /$want/" || fail "inspect lacks /$want/: $out"
done
"$NTRON" prep --inspect rm_1.h5 | grep -q 'labels .*helpfulness' && pass "inspect reward labels" || fail "inspect reward"

# ---- bad input: file:line: reason, exit 2, no output -------------------------------------------
bad() { # name format np regex lines...
    local name=$1 fmt=$2 np=$3 re=$4; shift 4
    printf '%s\n' "$@" > "$name.jsonl"
    local run=(mpi "$np"); [ "$np" = 1 ] && run=()
    expect_error "bad_$name (np $np)" 2 "$re" -- "${run[@]}" "$NTRON" prep --tokenizer spm.model --format "$fmt" "$name.jsonl" -o "$name.h5"
    ls "$name".h5* >/dev/null 2>&1 && fail "bad_$name: output left behind" || true
}
C1='{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}'
bad json chat 1 'json\.jsonl:3: malformed JSON' "$C1" "$C1" '{"messages": [' "$C1"
bad json2 chat 2 'json2\.jsonl:6: malformed JSON' "$C1" "$C1" "$C1" "$C1" "$C1" '{"messages":[]} x' "$C1" "$C1"
bad missing preference 1 'missing\.jsonl:1: missing field "rejected"' '{"prompt":"q","chosen":"a"}'
bad label reward 2 'label\.jsonl:2: verbosity = 5 is out of range' \
    '{"prompt":"q","response":"r","helpfulness":1,"correctness":2,"coherence":3,"complexity":4,"verbosity":0}' \
    '{"prompt":"q","response":"r","helpfulness":1,"correctness":2,"coherence":3,"complexity":4,"verbosity":5}'
bad notint reward 1 'notint\.jsonl:1: field "coherence" is not an integer' \
    '{"prompt":"q","response":"r","helpfulness":1,"correctness":2,"coherence":2.5,"complexity":4,"verbosity":0}'
bad empty chat 1 'empty\.jsonl:2: empty conversation' "$C1" '{"messages":[{"role":"system","content":"s"}]}'
bad order chat 1 'order\.jsonl:1: role order: messages\[1\] is user, expected assistant' \
    '{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}'
bad order2 chat 1 'order2\.jsonl:1: role order: .*ends with a user turn' '{"messages":[{"role":"user","content":"a"}]}'
bad role chat 1 'role\.jsonl:1: messages\[0\]: unknown role "robot"' '{"messages":[{"role":"robot","content":"a"}]}'
printf '%s\n%s\n' "$C1" "$C1" > utf8.jsonl; printf '{"messages":[{"role":"user","content":"caf\xe9"}]}\n' >> utf8.jsonl
expect_error bad_utf8 2 'utf8\.jsonl:3: not UTF-8' -- mpi 2 "$NTRON" prep --tokenizer spm.model --format chat utf8.jsonl -o utf8.h5
ls utf8.h5* >/dev/null 2>&1 && fail "bad_utf8: output left behind" || true
printf 'good text\n\nbad \xff text\n' > bad.txt
expect_error bad_utf8_text 2 'bad\.txt:3: not UTF-8' -- "$NTRON" prep --tokenizer byte bad.txt -o badtxt.h5
expect_error bad_chat_byte 2 'needs a SentencePiece model with the chat tokens' -- "$NTRON" prep --tokenizer byte --format chat "$D/chat.jsonl" -o x.h5
expect_error bad_format 2 "prep: --format wants one of text\|jsonl\|chat\|preference\|reward, got 'xml'" -- "$NTRON" prep --tokenizer byte --format xml rt.txt -o x.h5
expect_error bad_doc_sep 2 "prep: --doc-sep wants one of blank\|line, got 'para'" -- "$NTRON" prep --tokenizer byte --doc-sep para rt.txt -o x.h5
expect_error no_out_arg 2 'prep: -o needs an argument OUT\.h5' -- "$NTRON" prep --tokenizer byte rt.txt -o
expect_error tok_train_vocab 2 "tokenizer train: --vocab wants a whole number in \[260, [0-9]+\], got '12'" -- "$NTRON" tokenizer train --vocab 12 -o x rt.txt
expect_error tok_unknown_cmd 2 "tokenizer: unknown command 'split' \(train, encode or decode" -- "$NTRON" tokenizer split
# a usage error under mpirun: exit 2, one line (rank 0 says it)
out=$(mpi 2 "$NTRON" prep --bogus rt.txt -o x.h5 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && [ "$(printf '%s\n' "$out" | grep -c 'prep: unknown option --bogus')" -eq 1 ] \
    && pass "usage error on 2 ranks: exit 2, printed once" || fail "usage error on 2 ranks: exit $rc, '$out'"
: > empty.txt
expect_error bad_empty 2 'empty\.txt: no documents' -- "$NTRON" prep --tokenizer byte empty.txt -o x.h5
ls x.h5* badtxt.h5* >/dev/null 2>&1 && fail "outputs left behind" || true

# ---- -o: never the input, never a checkpoint, a writable file path (issue #20) -------------
printf 'first doc\n\nsecond doc\n' > src.txt; cp src.txt src.keep
ln -sf src.txt src_link.txt; ln -f src.txt src_hard.txt
out_bad() { # name status regex -o [np]: one line, the status, nothing written, the input intact
    local name=$1 st=$2 re=$3 o=$4 np=${5:-1} run=() n
    [ "$np" = 1 ] || run=(mpi "$np")
    expect_error "out_$name (np $np)" "$st" "$re" -- "${run[@]}" "$NTRON" prep --tokenizer byte src.txt -o "$o"
    n=$("${run[@]}" "$NTRON" prep --tokenizer byte src.txt -o "$o" 2>&1 >/dev/null | grep -c '^ntron:')
    [ "$n" = 1 ] || fail "out_$name (np $np): $n 'ntron:' lines, want 1"
    cmp -s src.txt src.keep || fail "out_$name: the input changed"
    ls ./*.tmp.* "$(dirname "$o")"/*.tmp.* >/dev/null 2>&1 && fail "out_$name: temporary file left" || true
}
out_bad input 2 'prep: -o src\.txt is the input src\.txt' src.txt
out_bad input2 2 'prep: -o src\.txt is the input src\.txt' src.txt 2
out_bad symlink 2 'prep: -o src_link\.txt is the input src\.txt' src_link.txt
out_bad hardlink 2 'prep: -o src_hard\.txt is the input src\.txt' src_hard.txt
out_bad path 2 "prep: -o \.\./$NT_NAME/src\.txt is the input" "../$NT_NAME/src.txt"
"$PYTHON" -c 'import h5py, numpy as np, sys
with h5py.File("ckpt.h5", "w") as f: f.attrs["format"] = np.bytes_("ntron-checkpoint"); f["x"] = np.arange(3)' \
    || fail "making a checkpoint-like file"
cp ckpt.h5 ckpt.keep
out_bad checkpoint 2 'prep: -o ckpt\.h5 is a ntron checkpoint: refusing to replace it' ckpt.h5
out_bad checkpoint2 2 'prep: -o ckpt\.h5 is a ntron checkpoint' ckpt.h5 2
cmp -s ckpt.h5 ckpt.keep && pass "the checkpoint is intact" || fail "the checkpoint changed"
mkdir -p outdir
out_bad directory 2 'prep: -o outdir: Is a directory' outdir
out_bad missing_dir 2 'prep: -o nodir/x\.h5: directory nodir: No such file or directory' nodir/x.h5
out_bad missing_dir2 2 'prep: -o nodir/x\.h5: directory nodir: No such file' nodir/x.h5 2
[ -e nodir ] && fail "out_missing_dir: created the directory" || true
if [ "$(id -u)" != 0 ]; then   # root writes anywhere: only testable as a user
    mkdir -p rodir; chmod 555 rodir
    out_bad readonly_dir 1 'prep: -o rodir/x\.h5: cannot write in directory rodir: Permission denied' rodir/x.h5
    chmod 755 rodir
fi
"$NTRON" prep --tokenizer byte src.txt -o text_again.h5 >/dev/null && "$NTRON" prep --tokenizer byte src.txt -o text_again.h5 >/dev/null \
    && pass "-o an existing dataset is replaced" || fail "re-prep over a dataset"
# an escaped NUL in a JSON string is refused like a raw NUL byte (not cut off)
bad nul_escape chat 1 'nul_escape\.jsonl:2: NUL character \(escaped \\u0000\) at column [0-9]+' \
    "$C1" '{"messages":[{"role":"user","content":"hi\u0000there"},{"role":"assistant","content":"x"}]}'
bad nul_escape2 chat 2 'nul_escape2\.jsonl:3: NUL character' "$C1" "$C1" '{"messages":[{"role":"user","content":"\u0000"}]}'
printf '%s\n' '{"text":"a backslash then u0000: \\u0000"}' > bs.jsonl
"$NTRON" prep --tokenizer byte --format jsonl bs.jsonl -o bs.h5 >/dev/null && pass "an escaped backslash before u0000 is text" \
    || fail "an escaped backslash before u0000 refused"
# a FIFO as input is refused at once, not waited on
mkfifo fifo.txt
expect_error in_fifo 2 'fifo\.txt: not a regular file \(a FIFO\)' -- timeout -k 2 20 "$NTRON" prep --tokenizer byte fifo.txt -o fifo.h5
expect_error in_fifo2 2 'fifo\.txt: not a regular file \(a FIFO\)' -- timeout -k 2 30 "$MPIRUN" --oversubscribe -np 2 "$NTRON" prep --tokenizer byte fifo.txt -o fifo.h5
expect_error in_dir 2 'outdir: not a regular file \(a directory\)' -- "$NTRON" prep --tokenizer byte outdir -o dir.h5
ls fifo.h5* dir.h5* >/dev/null 2>&1 && fail "in_fifo: output left behind" || true

# ---- training start: tokenizer hash, blends ------------------------------------------------
DECK=$top_srcdir/inputs/tiny/pretrain.deck
"$NTRON" prep --tokenizer byte --format jsonl "$D/qa.jsonl" -o qa_byte.h5 >/dev/null || fail "prep qa (byte)"
expect_error hash_deck 2 'text_1\.h5: tokenizer mismatch: .*data\.tokenizer = spm\.model' -- \
    "$NTRON" run "$DECK" --set "data.train=$WORK/text_1.h5" --set data.tokenizer=spm.model --set "run.dir=$WORK/run_h1" --set train.steps=1 --set train.warmup=0
expect_error hash_blend 2 'tokenizer mismatch' -- "$NTRON" run "$DECK" --set model.vocab=512 \
    --set "data.train=$WORK/text_1.h5 $WORK/spmtext_1.h5" --set "run.dir=$WORK/run_h2" --set train.steps=1 --set train.warmup=0
expect_error kind_sft 2 'chat_1\.h5: a sft dataset, not a pretraining one' -- "$NTRON" run "$DECK" --set model.vocab=512 \
    --set "data.train=$WORK/chat_1.h5" --set "run.dir=$WORK/run_h3" --set train.steps=1 --set train.warmup=0
expect_error switch_half 2 'data\.switch_at and data\.switch_blend go together' -- "$NTRON" run "$DECK" \
    --set "data.train=$WORK/text_1.h5" --set data.switch_at=1000 --set "run.dir=$WORK/run_h4" --set train.steps=1 --set train.warmup=0
[ -e run_h1 ] || [ -e run_h2 ] || [ -e run_h3 ] || [ -e run_h4 ] && fail "a refused run created its directory" || true
out=$(mpi 2 "$NTRON" run "$DECK" --set data.tokenizer=byte --set "data.train=$WORK/text_1.h5:0.8 $WORK/qa_byte.h5:0.2" \
      --set data.switch_at=4096 --set "data.switch_blend=$WORK/text_1.h5:0.5 $WORK/qa_byte.h5:0.5" \
      --set "run.dir=$WORK/run_blend" --set train.steps=3 --set train.warmup=0 2>&1) \
    && [ "$(grep -c '^data ' <<<"$out")" = 2 ] && pass "2-dataset blend with a switch trains (2 ranks)" || fail "blend run: $(tail -5 <<<"$out")"
finish
