#!/bin/sh
# test_deck.sh — deck parsing and validation, through `ntron check DECK`.
#
# Every tests/decks/bad_*.deck is good.deck with one fault; each must exit
# with status 2 and one stderr line naming file:line and section.key.
# Also: --set overrides and their errors, a missing deck, over-long lines,
# the resolved echo re-parsing to itself, and that `check` writes nothing.
#
# Env: NTRON (default ../src/ntron, relative to the build dir); the decks
# are found next to this script, else under $srcdir/tests/decks or
# $srcdir/decks (automake sets srcdir).
# Prints one PASS:/FAIL: line per case; exits 1 if any case failed.

NTRON=${NTRON:-../src/ntron}
for DECKS in "$(dirname "$0")/decks" "${srcdir:-.}/tests/decks" "${srcdir:-.}/decks"; do
    [ -f "$DECKS/good.deck" ] && break
done
case $NTRON in /*) ;; *) NTRON=$(pwd)/$NTRON ;; esac
case $DECKS in /*) ;; *) DECKS=$(pwd)/$DECKS ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_deck.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/cwd"
cd "$tmp/cwd" || exit 1   # an empty working directory: check must leave it empty

failures=0
pass() { echo "PASS: $1"; }
fail() {
    echo "FAIL: $1"
    sed 's/^/    | /' "$tmp/err"
    failures=$((failures + 1))
}

# run ARGS...: run ntron, stdout to $tmp/out, stderr to $tmp/err, status to $status
run() {
    "$NTRON" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
}

# expect_error NAME REGEX ARGS...: exit status 2 and a stderr line matching REGEX
expect_error() {
    name=$1 re=$2
    shift 2
    run "$@"
    if [ "$status" -ne 2 ]; then
        fail "$name: exit status $status, expected 2"
    elif ! grep -Eq -- "$re" "$tmp/err"; then
        fail "$name: no stderr line matches /$re/"
    else
        pass "$name"
    fi
}

# expect_ok NAME REGEX ARGS...: exit status 0 and a stdout line matching REGEX
expect_ok() {
    name=$1 re=$2
    shift 2
    run "$@"
    if [ "$status" -ne 0 ]; then
        fail "$name: exit status $status, expected 0"
    elif ! grep -Eq -- "$re" "$tmp/out"; then
        fail "$name: no stdout line matches /$re/"
    else
        pass "$name"
    fi
}

# bad DECK REGEX: `ntron check decks/DECK.deck` fails with REGEX
bad() {
    expect_error "$1" "$1\\.deck$2" check "$DECKS/$1.deck"
}

if [ ! -x "$NTRON" ]; then
    echo "FAIL: ntron binary not found at $NTRON (set NTRON)"
    exit 1
fi

# ---- good decks ---------------------------------------------------------------
expect_ok good 'layers = 4' check "$DECKS/good.deck"
expect_ok good_long 'source_11/text_document\.h5' check "$DECKS/good_long.deck"

# ---- file and syntax errors ------------------------------------------------------
expect_error missing_file 'does_not_exist\.deck: cannot open: No such file' \
    check "$DECKS/does_not_exist.deck"
bad bad_syntax ":11: .*expected 'key = value'"
bad bad_bracket ":20: .*missing '\]'"
bad bad_section ':20: \[paralel\]: unknown section \(did you mean \[parallel\]\?\)'
bad bad_key ':11: model\.hiden: unknown key \(did you mean model\.hidden\?\)'
bad bad_wrong_section ':18: model\.lr: unknown key \(did you mean train\.lr\?\)'
bad bad_outside ':3: layers: key outside any \[section\]'
bad bad_dup ':16: model\.hidden: duplicate key \(first set on line 11\)'

# ---- values: type, range, choices ---------------------------------------------
bad bad_int ":10: model\\.layers: expected an integer, got 'abc'"
bad bad_junk ":11: model\\.hidden: expected an integer, got '64x'"
bad bad_overflow ":15: model\\.vocab: '99999999999' does not fit in an int"
bad bad_double ":18: model\\.norm_eps: expected a number, got '1e-5e'"
bad bad_range ':10: model\.layers: 0 is out of range \(must be >= 1\)'
bad bad_range_open ':17: model\.rotary_fraction: 0 is out of range \(must be in \(0, 1\]\)'
bad bad_enum ":32: train\\.decay: 'cosin' is not one of: cosine, linear, constant"
bad bad_bool ":24: parallel\\.sequence_parallel: expected true or false, got 'maybe'"
bad bad_tokens ":27: train\\.tokens: expected a token count"
bad bad_name ":6: run\\.name: 'my run' is not usable as a directory name"

# ---- over-long lines keep their line numbers --------------------------------------
bad bad_long ":36: data\\.train: item 13 'data/last\\.h5': weight 'x'"
bad bad_after_long ':40: checkpoint\.keep: 0 is out of range'

# ---- ramp and blend ---------------------------------------------------------------
bad bad_ramp_first ':28: train\.ramp: the first stage must start at 0 tokens, not 1K'
bad bad_ramp_order ":28: train\\.ramp: stage 3 threshold 50K is not above stage 2's 100K"
bad bad_ramp_gbs ":28: train\\.ramp: stage 2: global batch '0' must be a positive integer"
bad bad_ramp_mb ':28: train\.ramp: stage 2: global batch 15 is not divisible by parallel\.micro_batch 2'
bad bad_blend_weight ":36: data\\.train: item 1 'data/web\\.h5': weight '0' must be a number > 0"
bad bad_blend_dup ":36: data\\.train: 'data/web\\.h5' is listed twice"

# ---- cross-key checks --------------------------------------------------------------
bad bad_hidden_heads ':11: model\.hidden: hidden 66 is not divisible by model\.heads 4'
bad bad_kv_heads ':14: model\.kv_heads: model\.heads 4 is not a multiple of kv_heads 8'
bad bad_rotary_frac ':17: model\.rotary_fraction: rotated width int\(head_dim\*rotary_fraction\) = int\(16\*0\.2 = 3\.2[0-9]*\) = 3 must be even'
bad bad_rotary_odd ':17: model\.rotary_fraction: rotated width .* = int\(16\*0\.1875 = 3\) = 3 must be even'
bad bad_tp_kv ':21: parallel\.tensor: model\.kv_heads 2 is not divisible by tensor 4'
bad bad_tp_ffn ':21: parallel\.tensor: model\.ffn_hidden 255 is not divisible by tensor 2'
bad bad_virtual ':22: parallel\.virtual_stages: 2 virtual stages need parallel\.pipeline > 1'
bad bad_layers_pp ':10: model\.layers: 5 layers are not divisible by pipeline\*virtual_stages = 2\*1 = 2'
bad bad_sp ':24: parallel\.sequence_parallel: needs model\.seq_len 63 divisible by parallel\.tensor 2'
bad bad_min_lr ':30: train\.min_lr: min_lr 0\.001 is above train\.lr 0\.0003'
bad bad_steps_both ':33: train\.steps: steps 100 and train\.tokens 1M are both set'
bad bad_steps_none ': train\.steps \(default\): phase pretrain needs train\.steps > 0 or train\.tokens > 0'
bad bad_warmup ':31: train\.warmup: 10 warm-up steps exceed train\.steps 5'
bad bad_gbs_mb ':28: train\.global_batch: 9 is not divisible by parallel\.micro_batch 2'
bad bad_default ': train\.global_batch \(default\): 8 is not divisible by parallel\.micro_batch 3'
bad bad_no_data ': data\.train \(default\): phase pretrain needs training data'

# ---- --set ---------------------------------------------------------------------------
G=$DECKS/good.deck
# rotary width truncated like transformers' int(head_dim * partial_rotary_factor):
# 16*0.3 = 4.8 rotates 4 dims; 100*0.58 is 57.999999999999993 in doubles, so
# int() gives 57 (rounding would give 58): refused as odd; 100*0.567 -> 56
expect_ok rotary_trunc 'rotary_fraction = 0\.3' check "$G" --set model.rotary_fraction=0.3
expect_error rotary_trunc_odd 'model\.rotary_fraction: rotated width .* = int\(100\*0\.58 = 57\.99999999999999[0-9]*\) = 57 must be even' \
    check "$G" --set model.hidden=400 --set model.rotary_fraction=0.58
expect_ok rotary_trunc_56 'rotary_fraction = 0\.567' check "$G" --set model.hidden=400 --set model.rotary_fraction=0.567

expect_ok set_override 'layers = 8' check "$G" --set model.layers=8
expect_ok set_last_wins 'layers = 8' check "$G" --set model.layers=5 --set model.layers=8
expect_ok set_tokens 'tokens = 2B' check "$G" --set train.tokens=2000000000
expect_ok set_list 'train = a\.h5:1 b\.h5:2$' check "$G" --set 'data.train=a.h5:1   b.h5:2'
expect_ok set_name_dir 'dir = out/x1/ckpt' check "$G" --set run.name=x1 --set 'run.dir=out/%name/ckpt'
expect_error set_bad_value "--set model\\.layers: expected an integer, got 'abc'" \
    check "$G" --set model.layers=abc
expect_error set_unknown_key '--set model\.layrs: unknown key \(did you mean model\.layers\?\)' \
    check "$G" --set model.layrs=4
expect_error set_no_value '--set model\.layers: expected section\.key=value' \
    check "$G" --set model.layers
expect_error set_cross_check '--set model\.layers: 5 layers are not divisible' \
    check "$G" --set model.layers=5
expect_error set_range '--set train\.beta2: 1 is out of range \(must be in \[0, 1\)\)' \
    check "$G" --set train.beta2=1

# ---- the resolved echo re-parses to the same config -------------------------------------
# The resolved deck is the block from "[run]" to the last "key = value" line.
extract() {
    sed -n '/^\[run\]$/,$p' "$1" | sed -n '/^\[[a-z_]*\]$/p; /^[a-z_]* =/p; /^$/p' >"$2"
}
run check "$G"
extract "$tmp/out" "$tmp/resolved.deck"
if [ ! -s "$tmp/resolved.deck" ]; then
    echo "SKIP: round_trip: no resolved deck ([run] ... key = value) in the output of check"
else
    cp "$tmp/out" "$tmp/out1"
    run check "$tmp/resolved.deck"
    extract "$tmp/out" "$tmp/resolved2.deck"
    if [ "$status" -ne 0 ]; then
        fail "round_trip: the resolved deck does not check (status $status)"
    elif ! cmp -s "$tmp/resolved.deck" "$tmp/resolved2.deck"; then
        diff "$tmp/resolved.deck" "$tmp/resolved2.deck" >"$tmp/err"
        fail "round_trip: the resolved deck resolves differently"
    else
        pass round_trip
    fi
fi

# ---- nothing written ----------------------------------------------------------------------
if [ -z "$(ls -A "$tmp/cwd")" ]; then
    pass "check_writes_nothing"
else
    ls -A "$tmp/cwd" >"$tmp/err"
    fail "check_writes_nothing: files appeared in the working directory"
fi

[ "$failures" -eq 0 ] || exit 1
exit 0
