#!/bin/bash
# test_hf_interop.sh — `ntron ckpt import-hf` / `export-hf` without a
# reference implementation (numpy-written HF directories, tests/hf/hf_files.py;
# tests/test_hf.sh runs them through transformers itself):
#  - three shapes (GQA 3, MHA, MQA 4 with head_dim 100 and a rotary fraction
#    whose truncated width 56 differs from the rounded 57), fp32 / bf16 /
#    fp16 tensors, a sharded set with an index; the written deck's [model]
#    matches config.json and `ntron check` accepts it;
#  - round trip import -> export bit-exact for fp32 and bf16 (and through a
#    sharded export);
#  - a 2-rank import (in small row blocks, NTRON_HF_CHUNK) writes the same
#    checkpoint (every tensor's checksum and every attribute, `ntron ckpt
#    info`) as a 1-rank one;
#  - bad input: one line naming the file and the field or tensor, exit 2,
#    nothing written (no OUT, no OUT.tmp, no deck); once also under 2 ranks.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
PY=/usr/bin/python3
H="$PY $top_srcdir/tests/hf/hf_files.py"
if ! $PY -c "import numpy" 2>/dev/null; then echo "SKIP: $PY has no numpy (Debian: python3-numpy)"; exit 77; fi

expect_help ckpt import-hf -- '--deck-out'
expect_help ckpt export-hf -- '--dtype' '--shard-size'

# ---- three shapes ---------------------------------------------------------------
$H make a --layers 2 --hidden 96 --ffn 200 --heads 6 --kv 2 --vocab 300 --dtype f32 --seed 1
$H make b --layers 2 --hidden 128 --ffn 256 --heads 4 --kv 4 --vocab 256 --rot 0.25 --dtype bf16 --seed 2
$H make c --layers 3 --hidden 400 --ffn 320 --heads 4 --kv 1 --vocab 200 --rot 0.567 --dtype f16 --seed 3 --shards 3
for m in a b c; do
    if "$NTRON" ckpt import-hf $m ck_$m --deck-out $m.deck > imp_$m.out 2>&1; then
        pass "import-hf $m: $(head -n1 imp_$m.out)"
    else
        fail "import-hf $m: $(cat imp_$m.out)"
    fi
done
# the deck's [model] is the config's (c: head_dim 100, rotary_fraction 0.567 -> 56 dims)
want_c='layers = 3|hidden = 400|ffn_hidden = 320|heads = 4|kv_heads = 1|vocab = 200|seq_len = 64|rotary_fraction = 0.567|rotary_base = 10000|norm_eps = 1e-05|init_std = 0.02'
got_c=$(sed -n '/^\[model\]/,/^$/p' c.deck | grep ' = ' | paste -sd'|')
[ "$got_c" = "$want_c" ] && pass "deck c [model] matches config.json" || fail "deck c [model]: '$got_c'"
grep -q "^load = $WORK/ck_c$" c.deck && pass "deck c loads the checkpoint" || fail "deck c: $(grep load c.deck)"
out=$("$NTRON" check c.deck --set train.steps=1 --set data.train=x.h5 2>&1) \
    && pass "ntron check accepts deck c ($(printf '%s\n' "$out" | grep -m1 -i 'rot' | tr -s ' '))" || fail "check c.deck: $out"

# ---- round trips ----------------------------------------------------------------
"$NTRON" ckpt export-hf ck_a ex_a --dtype fp32 > ex_a.out 2>&1 || fail "export-hf a: $(cat ex_a.out)"
out=$($H same a ex_a 2>&1) && pass "round trip fp32 bit-exact: $out" || fail "round trip fp32: $out"
# (in row blocks of at most 1000 elements: many blocks per tensor)
NTRON_HF_CHUNK=1000 "$NTRON" ckpt export-hf ck_b ex_b --dtype bf16 > ex_b.out 2>&1 || fail "export-hf b: $(cat ex_b.out)"
out=$($H same b ex_b 2>&1) && pass "round trip bf16 bit-exact: $out" || fail "round trip bf16: $out"
"$NTRON" ckpt export-hf ck_b ex_b3 --shard-size 100KB > ex_b3.out 2>&1 || fail "export-hf b sharded: $(cat ex_b3.out)"
n=$(ls ex_b3/model-*.safetensors 2>/dev/null | wc -l)
out=$($H same b ex_b3 2>&1); rc=$?
[ "$n" -gt 1 ] && [ -f ex_b3/model.safetensors.index.json ] && [ ! -e ex_b3/model.safetensors ] && [ $rc -eq 0 ] \
    && pass "sharded export ($n shards + index) bit-exact: $out" || fail "sharded export: $n shards, $out"
# a sharded import exported again: the values (F16 -> F32 exactly)
"$NTRON" ckpt export-hf ck_c ex_c --dtype fp32 > ex_c.out 2>&1 || fail "export-hf c: $(cat ex_c.out)"
out=$($PY - <<EOF 2>&1
import sys; sys.path.insert(0, "$top_srcdir/tests/hf")
import numpy as np, hf_files as h
x, y = h.load_dir("c"), h.load_dir("ex_c")
assert set(x) == set(y), "names"
for n in x:
    a = np.frombuffer(x[n][2], "<f2").astype(np.float32); b = np.frombuffer(y[n][2], "<f4")
    assert y[n][0] == "F32" and x[n][1] == y[n][1] and np.array_equal(a, b), n
print(len(x), "tensors")
EOF
) && pass "sharded fp16 import -> fp32 export: equal values ($out)" || fail "fp16 -> fp32: $out"
grep -q '"partial_rotary_factor":	0.567' ex_c/config.json && grep -q '"head_dim":	100' ex_c/config.json \
    && pass "exported config.json keeps head_dim 100, partial_rotary_factor 0.567" || fail "ex_c/config.json: $(cat ex_c/config.json)"
[ -f ex_a/generation_config.json ] && grep -q '"bos_token_id":	1' ex_a/generation_config.json \
    && pass "generation_config.json with the imported bos/eos ids" || fail "generation_config.json: $(cat ex_a/generation_config.json 2>&1)"

# ---- 2 ranks write the same checkpoint --------------------------------------------
# (2 ranks in row blocks of at most 5000 elements: many blocks per tensor, dealt over both ranks)
if NTRON_HF_CHUNK=5000 mpi 2 -x NTRON_HF_CHUNK "$NTRON" ckpt import-hf c ck_c2 > imp_c2.out 2>&1; then
    if diff <("$NTRON" ckpt info ck_c | tail -n +2) <("$NTRON" ckpt info ck_c2 | tail -n +2) > info.diff; then
        pass "2-rank import = 1-rank import ($(grep -c ' ok$' <("$NTRON" ckpt info ck_c2)) tensors, attributes and checksums)"
    else
        fail "2-rank import differs: $(head -5 info.diff)"
    fi
else
    fail "2-rank import: $(cat imp_c2.out)"
fi

# ---- bad input: one line naming file and field/tensor, exit 2, nothing written ------
# bad_case NAME REGEX DIR: import DIR must fail that way and leave nothing behind
bad_case() {
    local name=$1 re=$2 dir=$3
    expect_error "bad: $name" 2 "$re" -- "$NTRON" ckpt import-hf "$dir" out_bad --deck-out bad.deck
    local lines
    lines=$("$NTRON" ckpt import-hf "$dir" out_bad 2>&1 | wc -l)
    [ "$lines" -eq 1 ] || fail "bad: $name: $lines lines of output, want 1"
    if [ -e out_bad ] || [ -e out_bad.tmp ] || [ -e bad.deck ]; then fail "bad: $name: something was written"; rm -rf out_bad out_bad.tmp bad.deck; fi
}
# config_edit DIR KEY JSON-VALUE: a copy of a with one config field changed
config_edit() {
    rm -rf "$1"; cp -r a "$1"
    $PY -c "import json,sys; p=sys.argv[1]+'/config.json'; c=json.load(open(p)); c[sys.argv[2]]=json.loads(sys.argv[3]); json.dump(c,open(p,'w'))" "$1" "$2" "$3"
}
config_edit x_arch architectures '["LlamaForCausalLM"]'
bad_case "another architecture" 'x_arch/config.json: architectures: LlamaForCausalLM, ntron reads NemotronForCausalLM only' x_arch
config_edit x_hd head_dim 32
bad_case "head_dim" 'x_hd/config.json: head_dim: 32, ntron.s heads are hidden_size/num_attention_heads = 96/6 = 16 wide' x_hd
config_edit x_bias attention_bias true
bad_case "attention bias" 'x_bias/config.json: attention_bias: true, ntron.s attention has no biases' x_bias
config_edit x_mlpb mlp_bias true
bad_case "mlp bias" 'x_mlpb/config.json: mlp_bias: true' x_mlpb
config_edit x_tie tie_word_embeddings true
bad_case "tied embeddings" 'x_tie/config.json: tie_word_embeddings: true, ntron.s embedding and lm_head are separate' x_tie
config_edit x_act hidden_act '"gelu"'
bad_case "activation" 'x_act/config.json: hidden_act: gelu, ntron.s MLP is relu2' x_act
config_edit x_rope rope_scaling '{"type": "linear", "factor": 2.0}'
bad_case "rope scaling" 'x_rope/config.json: rope_scaling: set' x_rope
config_edit x_drop attention_dropout 0.1
bad_case "attention dropout" 'x_drop/config.json: attention_dropout: 0.1, ntron has no dropout' x_drop
config_edit x_quant quantization_config '{"quant_method": "fp8"}'
bad_case "quantised weights" 'x_quant/config.json: quantization_config: quantised weights are not supported' x_quant
rm -rf x_rot; $H make x_rot --layers 1 --hidden 400 --ffn 64 --heads 4 --kv 2 --vocab 64 --rot 0.58
bad_case "odd rotary width" 'x_rot/config.json: partial_rotary_factor: rotary width int\(head_dim\*partial_rotary_factor\) = int\(100\*0\.58 = 57\.99999999999999[0-9]*\) = 57 is odd' x_rot
rm -rf x_shard; cp -r c x_shard; rm x_shard/model-00002-of-00003.safetensors
bad_case "missing shard" 'x_shard/model-00002-of-00003\.safetensors: missing shard \(model\.safetensors\.index\.json puts tensor model\.layers\.[0-9.a-z_]+ there\)' x_shard
rm -rf x_shape; cp -r a x_shape; $H edit x_shape/model.safetensors --shape model.layers.1.self_attn.k_proj.weight 16 96
bad_case "wrong shape" 'x_shape/model\.safetensors: tensor model\.layers\.1\.self_attn\.k_proj\.weight: shape \[16, 96\], config\.json makes it \[32, 96\]' x_shape
# under mpirun: every rank finds it, one line is printed, exit 2, nothing written
expect_error "bad: wrong shape, 2 ranks" 2 'x_shape/model\.safetensors: tensor model\.layers\.1\.self_attn\.k_proj\.weight: shape \[16, 96\]' \
    -- mpi 2 "$NTRON" ckpt import-hf x_shape out_bad --deck-out bad.deck
n=$(mpi 2 "$NTRON" ckpt import-hf x_shape out_bad 2>&1 | grep -c 'ntron:')
[ "$n" = 1 ] || fail "bad: wrong shape, 2 ranks: $n error lines, want 1"
if [ -e out_bad ] || [ -e out_bad.tmp ] || [ -e bad.deck ]; then fail "bad: wrong shape, 2 ranks: something was written"; rm -rf out_bad out_bad.tmp bad.deck; fi
rm -rf x_dtype; cp -r a x_dtype; $H edit x_dtype/model.safetensors --dtype model.norm.bias F64
bad_case "wrong dtype" 'x_dtype/model\.safetensors: tensor model\.norm\.bias: dtype F64, ntron reads F32, F16 or BF16' x_dtype
rm -rf x_trunc; cp -r a x_trunc; truncate -s -1000 x_trunc/model.safetensors
bad_case "truncated file" 'x_trunc/model\.safetensors: tensor lm_head\.weight: data_offsets end at byte [0-9]+ of the data, the file holds [0-9]+ \(truncated file\?\)' x_trunc
rm -rf x_trunc2; cp -r a x_trunc2; truncate -s 100 x_trunc2/model.safetensors
bad_case "truncated header" 'x_trunc2/model\.safetensors: truncated safetensors file: header of [0-9]+ bytes' x_trunc2
rm -rf x_lie; cp -r a x_lie; $H edit x_lie/model.safetensors --offsets model.norm.weight 0 384
bad_case "header lies (overlap)" 'x_lie/model\.safetensors: tensor [a-z_.0-9]+: data_offsets \[0, 384\] overlap tensor [a-z_.0-9]+' x_lie
rm -rf x_lie2; cp -r a x_lie2; $H edit x_lie2/model.safetensors --offsets model.norm.weight 0 100
bad_case "header lies (span)" 'x_lie2/model\.safetensors: tensor model\.norm\.weight: data_offsets \[0, 100\] span 100 bytes, its F32 shape needs 384' x_lie2
rm -rf x_extra; cp -r a x_extra; $H edit x_extra/model.safetensors --add model.layers.0.self_attn.q_proj.bias 96 1
bad_case "extra tensor (a bias)" 'x_extra/model\.safetensors: tensor model\.layers\.0\.self_attn\.q_proj\.bias: not part of ntron.s model' x_extra
rm -rf x_miss; cp -r a x_miss; $H edit x_miss/model.safetensors --drop lm_head.weight
bad_case "missing tensor" 'x_miss/model\.safetensors: tensor lm_head\.weight missing' x_miss
rm -rf x_none; mkdir x_none; cp a/config.json x_none/
bad_case "no weights" 'x_none/model\.safetensors: missing \(and no model\.safetensors\.index\.json\)' x_none
bad_case "no config" 'nonexistent/config\.json: cannot open' nonexistent
expect_error "bad: deck directory missing" 2 'import-hf: deck nodir/x\.deck: its directory does not exist' -- "$NTRON" ckpt import-hf a ck_new --deck-out nodir/x.deck
[ ! -e ck_new ] && pass "nothing written for a bad --deck-out" || fail "ck_new written although --deck-out was bad"
expect_error "bad: OUT exists" 2 'import-hf: ck_a exists; not overwriting it' -- "$NTRON" ckpt import-hf a ck_a
expect_error "bad: export of a non-checkpoint" 2 'checkpoint a/config\.json: not an HDF5 file' -- "$NTRON" ckpt export-hf a/config.json ex_bad
expect_error "bad: export over an existing directory" 2 'export-hf: ex_a exists; not overwriting it' -- "$NTRON" ckpt export-hf ck_a ex_a
# a damaged checkpoint (one weight changed behind its checksum): found, the partial export removed
cp -r ck_a ck_bad
$PY -c "import h5py; f=h5py.File('ck_bad/ckpt.h5','r+'); d=f['/optimizer/master/lm_head.weight']; d[299,5]=d[299,5]+1; f.close()"
expect_error "bad: damaged tensor" 2 'checkpoint ck_bad/ckpt\.h5: tensor /optimizer/master/lm_head\.weight: checksum mismatch' -- "$NTRON" ckpt export-hf ck_bad ex_bad --dtype fp32
expect_error "bad: --shard-size" 2 "--shard-size wants a size such as 5GB, 500MB or 2GiB, got '5XB'" -- "$NTRON" ckpt export-hf ck_a ex_bad --shard-size 5XB
[ ! -e ex_bad ] && [ ! -e ex_bad.tmp ] && pass "failed exports wrote nothing" || fail "a failed export left ex_bad"
finish
