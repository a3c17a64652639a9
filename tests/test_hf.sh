#!/bin/bash
# test_hf.sh — ntron against Hugging Face transformers' NemotronForCausalLM
# itself (torch 2.4.1 + transformers 4.44.2 in the venv that
# tests/hf/setup_venv.sh makes or reuses; skips, exit 77, when it cannot):
#  1. six random models, three written by tests/hf/hf_files.py (GQA 3 with
#     hidden 96; MHA with a quarter of the head rotated, stored bf16; MQA 4
#     with head_dim 100, hidden 400 and partial_rotary_factor 0.567, whose
#     truncated rotary width 56 differs from the rounded 57, stored fp16 in
#     3 shards) and three built by transformers and written with its
#     save_pretrained (GQA 2 at hidden 160 in 14 fp32 shards; GQA 4 with 6 of
#     16 dims rotated, bf16; head_dim 100 with 56 rotated, fp16), are
#     imported with `ntron ckpt import-hf`; ntron's logits and loss on the
#     same tokens equal transformers' within 1e-5 relative (fp32 both sides;
#     the weights are bf16 values, which ntron's /model holds exactly); the
#     fp32 and bf16 ones written by transformers round-trip import -> export
#     bit-exactly;
#  2. a negative control: the third model with partial_rotary_factor
#     0.58000001 (58 dims) in HF must differ;
#  3. an ntron-trained tiny model (inputs/tiny/pretrain.deck, SentencePiece
#     vocabulary 400: padded to 512 in ntron) exported with `ntron ckpt
#     export-hf` loads with from_pretrained and agrees within 1e-5; the
#     tokenizer files are there and the padding is trimmed;
#  4. greedy generation: `ntron generate` (temperature 0, 20 new tokens) on the
#     tiny checkpoint and transformers' generate (do_sample=False) on its export
#     give the same token ids for three raw-text prompts (ntron stops before
#     EOS, HF includes it: where ntron finished at EOS, HF's next token is it).
. "$(dirname "$0")/lib.sh"
cd "$WORK"
PY=/usr/bin/python3
H="$PY $top_srcdir/tests/hf/hf_files.py"
if ! VPY=$("$top_srcdir/tests/hf/setup_venv.sh" 2> setup.err | tail -n1) || [ ! -x "$VPY" ]; then
    echo "SKIP: no Python environment with torch 2.4.1 + transformers 4.44.2 could be made (tests/hf/setup_venv.sh: $(tail -n1 setup.err))"
    exit 77
fi
echo "using $VPY ($(tail -n1 setup.err 2>/dev/null))"
export OPENBLAS_NUM_THREADS=1
DUMP=${NTRON_BUILDDIR:-$(dirname "$NTRON")/..}/tests/hf_logits
NOPHASE=(--set run.phase=pretrain --set train.steps=1 --set data.train=none.h5)
B=2 T=24
: > cases

# case NAME DIR CKPT DECK EXPECT [--set ...]: ntron's logits of CKPT on tokens for DIR's comparison
case_line() {
    local name=$1 dir=$2 ck=$3 deck=$4 expect=$5 vocab; shift 5
    vocab=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['vocab_size'])" "$dir/config.json")
    $H tokens tok_$name.i32 $B $T "$vocab" 11
    local out
    if out=$("$DUMP" "$deck" "$ck" $B $T tok_$name.i32 nt_$name.f32 "$@" 2>&1); then
        echo "$name $dir tok_$name.i32 $B $T nt_$name.f32 ${out#loss } $expect" >> cases
    else
        fail "hf_logits $name: $out"
    fi
}

$H make a --layers 2 --hidden 96 --ffn 200 --heads 6 --kv 2 --vocab 300 --dtype f32 --bf16-exact --seed 1
$H make b --layers 2 --hidden 128 --ffn 256 --heads 4 --kv 4 --vocab 256 --rot 0.25 --dtype bf16 --seed 2
$H make c --layers 3 --hidden 400 --ffn 320 --heads 4 --kv 1 --vocab 200 --rot 0.567 --dtype f16 --seed 3 --shards 3
for m in a b c; do
    "$NTRON" ckpt import-hf $m ck_$m --deck-out $m.deck > imp_$m.out 2>&1 || { fail "import-hf $m: $(cat imp_$m.out)"; continue; }
    case_line $m $m ck_$m $m.deck pass "${NOPHASE[@]}"
done
# the same through models transformers itself builds and writes (save_pretrained): GQA 2
# at hidden 160, sharded fp32; GQA 4 with 6 of 16 dims rotated, bf16; head_dim 100
# with 56 dims rotated, fp16
cat > specs <<EOF
t_d 2 160 288 10 5 300 0.5 float32 100KB 5
t_e 2 128 256 8 2 256 0.375 bfloat16 5GB 6
t_f 2 400 320 4 2 200 0.567 float16 5GB 7
EOF
if "$VPY" "$top_srcdir/tests/hf/compare_hf.py" make specs > make.out 2> make.err; then
    pass "save_pretrained: $(paste -sd';' make.out)"
    for m in t_d t_e t_f; do
        "$NTRON" ckpt import-hf $m ck_$m --deck-out $m.deck > imp_$m.out 2>&1 || { fail "import-hf $m: $(cat imp_$m.out)"; continue; }
        case_line $m $m ck_$m $m.deck pass "${NOPHASE[@]}"
    done
    for rt in "t_d fp32" "t_e bf16"; do
        set -- $rt
        if "$NTRON" ckpt export-hf ck_$1 rt_$1 --dtype $2 > rt_$1.out 2>&1 && out=$($H same $1 rt_$1 2>&1); then
            pass "transformers' $2 files: import -> export bit-exact ($out)"
        else
            fail "round trip $1 $2: $(cat rt_$1.out) $out"
        fi
    done
else
    fail "compare_hf.py make: $(grep -v Warning make.err | tail -3)"
fi
# negative control: HF rotating 58 dims where ntron rotates int(100*0.567) = 56
rm -rf c58; cp -r c c58
$PY -c "import json; p='c58/config.json'; c=json.load(open(p)); c['partial_rotary_factor']=0.58000001; json.dump(c,open(p,'w'))"
cp nt_c.f32 nt_c58.f32 2>/dev/null; cp tok_c.i32 tok_c58.i32 2>/dev/null
grep '^c ' cases | sed 's/^c c tok_c.i32/c58 c58 tok_c58.i32/; s/nt_c.f32/nt_c58.f32/; s/ pass$/ fail/' >> cases

# ---- an ntron-trained tiny model, exported ----------------------------------------------
sed 's/^\(\s*vocab\s*=\).*/\1 400/' "$top_srcdir/inputs/tiny/pretrain.deck" > tiny.deck
"$NTRON" tokenizer train --deck tiny.deck -o spm "$top_srcdir/inputs/data/tokenizer.txt" > /dev/null 2>&1 || fail "tokenizer train"
"$NTRON" prep --tokenizer spm.model "$top_srcdir/inputs/tiny/corpus.txt" -o corpus.h5 > /dev/null || fail "prep corpus"
TINY=(--set data.tokenizer=$WORK/spm.model --set data.train=$WORK/corpus.h5 --set train.steps=4 --set train.warmup=1
      --set run.dir=$WORK/tiny --set checkpoint.dir=$WORK/tiny.ck --set checkpoint.interval=4)
if "$NTRON" run tiny.deck "${TINY[@]}" < /dev/null > tiny.out 2>&1; then
    pass "tiny pretraining (4 steps, vocab 400 padded to 512): loss $(metric tiny 4 loss %.4f)"
else
    fail "tiny pretraining: $(tail -3 tiny.out)"
fi
if "$NTRON" ckpt export-hf tiny.ck tiny_hf > exp.out 2>&1; then
    pass "export-hf: $(cat exp.out)"
    for f in config.json generation_config.json model.safetensors tokenizer.model tokenizer_config.json; do
        [ -f tiny_hf/$f ] || fail "export-hf: tiny_hf/$f missing"
    done
    grep -q '"vocab_size":	400' tiny_hf/config.json && pass "exported vocab_size 400 (ntron's padding to 512 trimmed)" \
        || fail "tiny_hf/config.json: $(grep vocab tiny_hf/config.json)"
    case_line tiny tiny_hf tiny.ck tiny.deck pass "${TINY[@]}"
    # the exported tokenizer in transformers (slow and fast) gives ntron's ids
    printf 'Hello world, this is  a test.\n%s Summarise:\tnumbers 12345 and "quotes".\n' '<extra_id_1>User' > tok.txt
    want=$("$NTRON" tokenizer encode spm.model tok.txt)
    if ! "$VPY" -c "import sentencepiece, google.protobuf" 2>/dev/null; then
        echo "SKIP: tokenizer check: the venv has no sentencepiece/protobuf"
    else
        for fast in False True; do
            got=$("$VPY" -c "
import sys
from transformers import AutoTokenizer
t = AutoTokenizer.from_pretrained('tiny_hf', use_fast=$fast)
s = open('tok.txt').read()
ids = t.encode(s, add_special_tokens=False)
print(type(t).__name__, t.decode(ids) == s, ' '.join(map(str, ids)))" 2> tok.err)
            if [ "${got#* * }" = "$want" ] && [ "$(echo "$got" | cut -d' ' -f2)" = True ]; then
                pass "exported tokenizer: $(echo "$got" | cut -d' ' -f1) ids = ntron's ($(echo "$want" | wc -w) ids), decode round trip"
            else
                fail "exported tokenizer (use_fast=$fast): '$got' vs ntron '$want' $(tail -1 tok.err)"
            fi
        done
    fi
else
    fail "export-hf tiny: $(cat exp.out)"
fi

# ---- greedy generation: ntron generate on the tiny checkpoint = transformers' generate on its export
if [ -d tiny_hf ]; then
    printf '%s\n' '{"id": "a", "prompt": "The quick brown fox"}' '{"id": "b", "prompt": "Numbers and letters"}' \
        '{"id": "c", "prompt": "In the beginning"}' > gen_prompts.jsonl
    if "$NTRON" generate tiny.deck "${TINY[@]}" --set checkpoint.load=$WORK/tiny.ck --set checkpoint.dir= \
         --set generate.input=$WORK/gen_prompts.jsonl --set generate.output=$WORK/gen_out.jsonl \
         --set generate.temperature=0 --set generate.max_new_tokens=20 < /dev/null > gen.out 2>&1; then
        "$NTRON" tokenizer encode spm.model <(printf 'The quick brown fox') > p_a.ids
        "$NTRON" tokenizer encode spm.model <(printf 'Numbers and letters') > p_b.ids
        "$NTRON" tokenizer encode spm.model <(printf 'In the beginning') > p_c.ids
        if out=$("$VPY" - gen_out.jsonl <<'PY' 2> gen_hf.err
import json, sys, torch
from transformers import AutoModelForCausalLM
m = AutoModelForCausalLM.from_pretrained("tiny_hf", torch_dtype=torch.float32, attn_implementation="eager").eval()
eos = m.generation_config.eos_token_id
res = []
for r in map(json.loads, open(sys.argv[1])):
    ids = [int(x) for x in open(f"p_{r['id']}.ids").read().split()]
    assert len(ids) == r["prompt_tokens"], (r["id"], len(ids), r["prompt_tokens"])
    with torch.no_grad():
        g = m.generate(torch.tensor([ids]), do_sample=False, max_new_tokens=20, eos_token_id=eos, pad_token_id=eos)
    hf = g[0, len(ids):].tolist()
    nt = r["response_ids"]
    # ntron stops before EOS and the chat control tokens; HF includes its EOS
    hf_cut = hf[:len(nt)]
    eos_ids = eos if isinstance(eos, list) else [eos]
    ok = hf_cut == nt and (r["finish_reason"] != "length" or len(hf) == 20)
    # where ntron stopped at EOS, HF's next token is that EOS (not a longer reply)
    ok = ok and (r["finish_reason"] != "eos" or (len(hf) > len(nt) and hf[len(nt)] in eos_ids))
    res.append(ok)
    print(f"{r['id']}: {len(nt)} tokens ({r['finish_reason']}) {'equal' if ok else 'DIFFER: ntron ' + str(nt) + ' hf ' + str(hf)}")
sys.exit(0 if all(res) else 1)
PY
        ); then
            pass "greedy generation: ntron generate = transformers generate token for token ($(echo "$out" | paste -sd';'))"
        else
            fail "greedy generation differs: $out $(grep -v Warning gen_hf.err | tail -2)"
        fi
    else
        fail "ntron generate on the tiny checkpoint: $(tail -3 gen.out)"
    fi
fi

# ---- the README's way: a HF model in, SFT, out again (its logits compared too) ---------------
"$NTRON" prep --tokenizer spm.model --format chat "$top_srcdir/inputs/data/chat.jsonl" -o chat.h5 > /dev/null || fail "prep chat"
$H make s --layers 2 --hidden 64 --ffn 128 --heads 4 --kv 2 --vocab 400 --seq 128 --dtype bf16 --seed 4
SFT=(--set data.train=$WORK/chat.h5 --set data.tokenizer=$WORK/spm.model --set train.steps=3 --set train.lr=1e-3
     --set run.dir=$WORK/sft --set checkpoint.dir=$WORK/sft.ck --set checkpoint.interval=3)
if "$NTRON" ckpt import-hf s s.ck --deck-out s.deck > imp_s.out 2>&1 && "$NTRON" run s.deck "${SFT[@]}" < /dev/null > sft.out 2>&1 \
   && "$NTRON" ckpt export-hf sft.ck s_sft > exp_s.out 2>&1; then
    pass "HF model -> import-hf -> sft (3 steps, loss $(metric sft 1 loss %.4f) -> $(metric sft 3 loss %.4f)) -> export-hf"
    case_line sft s_sft sft.ck s.deck pass "${SFT[@]}"
else
    fail "import / sft / export: $(tail -2 imp_s.out sft.out exp_s.out 2>&1)"
fi

# ---- transformers, once for all cases ------------------------------------------------------
if "$VPY" "$top_srcdir/tests/hf/compare_hf.py" cases > cmp.out 2> cmp.err; then :; fi
grep -E '^(PASS|FAIL): ' cmp.out
NT_FAILS=$((NT_FAILS + $(grep -c '^FAIL: ' cmp.out)))
n=$(grep -c '^PASS: ' cmp.out)
[ "$n" -eq "$(wc -l < cases)" ] || fail "compare_hf.py: $n of $(wc -l < cases) cases passed: $(grep -v FutureWarning cmp.err | tail -3)"
finish
