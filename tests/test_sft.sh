#!/bin/bash
# test_sft.sh — supervised fine-tuning (run.phase = sft) from a pretraining checkpoint:
#  1. a tiny pretraining run saves a checkpoint; sft loads its weights only
#     (fresh optimizer) and trains on `ntron prep --format chat` data; the
#     step logs loss_tokens and pad_efficiency; train.epochs sets the steps
#     (a blend's epoch: min_i n_i / w_i samples)
#  2. the loss is over the assistant tokens only, checked against the
#     forward-only pass: on a set of exactly one global batch with lr 0, the
#     step-1 loss equals the held-out mean NLL of the assistant tokens of the
#     same file (its other tokens are scored apart), and with the loss mask
#     set to all ones (h5py) it equals the NLL over all real tokens
#  3. TP2 (sequence parallel), PP2 and DP2 agree with one rank, and micro_batch
#     1 with 2 (losses and grad norms within 1e-5 relative; PP2: losses
#     bitwise, grad norms within 1e-12)
#  4. bitwise resume from the sft run's own checkpoint
#  5. behaviour: a synthetic chat set whose assistant repeats the user's last
#     word (200 train / 50 held-out conversations): the held-out assistant-token
#     NLL falls below 60% of its value before training; the user-token NLL is
#     reported beside it; DP2 gives the same held-out numbers within 1e-5
#  6. refusals (one line, exit 2, no run directory): pretraining data given to
#     sft, chat data prepared with another tokenizer than data.tokenizer, a
#     chat set whose every loss mask is empty, train.epochs in phase pretrain,
#     train.epochs with train.steps
#  7. the decks: `ntron check` passes inputs/nemotron4-340b/sft-code.deck and
#     sft-general.deck (memory per GPU printed) and the tiny ones; the 340B
#     decks hold the report's values (code: 1 epoch, constant lr 3e-7, global
#     batch 128, from the pretraining checkpoint; general: 3 epochs, batch
#     128, the code set kept at weight 0.02, from the code-SFT checkpoint)
. "$(dirname "$0")/lib.sh"
cd "$WORK"
if ! "$PYTHON" -c "import h5py, numpy" 2>/dev/null; then echo "SKIP: $PYTHON lacks h5py/numpy"; exit 77; fi
export OPENBLAS_NUM_THREADS=1
CMP="$PYTHON $top_srcdir/tests/ckpt_compare.py"
sed 's/^\(\s*vocab\s*=\).*/\1 400/' "$top_srcdir/inputs/tiny/pretrain.deck" > v400.deck
"$NTRON" tokenizer train --deck v400.deck -o spm "$top_srcdir/inputs/data/tokenizer.txt" > /dev/null 2>&1 || fail "tokenizer train"
"$NTRON" prep --tokenizer spm.model "$top_srcdir/inputs/data/tokenizer.txt" -o corpus.h5 >/dev/null || fail "prep corpus"
"$NTRON" prep --tokenizer spm.model --format chat "$top_srcdir/inputs/data/chat.jsonl" -o chat.h5 >/dev/null || fail "prep chat"
DECK=$WORK/v400.deck
C=(--set data.tokenizer=$WORK/spm.model --set model.layers=4 --set model.hidden=64 --set model.ffn_hidden=128 --set model.seq_len=128
   --set parallel.micro_batch=2 --set train.global_batch=8 --set train.warmup=2 --set run.log_interval=1 --set run.seed=7)
mpi 1 "$NTRON" run "$DECK" "${C[@]}" --set data.train=$WORK/corpus.h5 --set train.steps=3 \
    --set run.dir=$WORK/pre --set checkpoint.dir=$WORK/pre.ck < /dev/null > pre.out 2>&1 || { fail "pretrain"; tail -3 pre.out; }
S=(--set run.phase=sft --set data.train=$WORK/chat.h5 --set train.lr=1e-3 --set train.steps=8
   --set checkpoint.load=$WORK/pre.ck --set checkpoint.load_optimizer=false)
sft_run() { # name ranks [--set ...]
    local name=$1 n=$2; shift 2
    mpi "$n" "$NTRON" run "$DECK" "${C[@]}" "${S[@]}" --set run.dir=$WORK/$name --set checkpoint.dir=$WORK/$name.ck "$@" \
        < /dev/null > "$name.out" 2>&1
}

# ---- 1 ----
sft_run sft1 1 --set checkpoint.interval=4 || { fail "sft run"; tail -5 sft1.out; }
grep -q "^load .*model weights only, fresh optimizer" sft1.out && pass "sft starts from the pretraining weights, fresh optimizer" \
    || fail "sft load line: $(grep '^load' sft1.out)"
"$PYTHON" - sft1/metrics.jsonl <<'PY' && pass "sft loss falls; loss_tokens and pad_efficiency logged each step" || fail "sft loss / metrics"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
print(f"sft loss {r[0]['loss']:.4f} -> {r[-1]['loss']:.4f}, loss tokens {r[0]['loss_tokens']:.0f}, padding efficiency {r[0]['pad_efficiency']:.3f}")
assert len(r) == 8 and r[-1]["loss"] < 0.95 * r[0]["loss"]
assert all(0 < x["loss_tokens"] < 8 * 128 and 0 < x["pad_efficiency"] <= 1 for x in r)
# real tokens per second = the rows' real tokens (efficiency x 8 rows x 129 tokens) over the step time
for x in r:
    want = x["pad_efficiency"] * 8 * 129 / (x["ms"] / 1000)
    assert abs(x["real_tokens_per_s"] - want) <= 1e-6 * want, (x["real_tokens_per_s"], want)
PY
sft_run ep 1 --set train.steps=0 --set train.epochs=2 --set train.lr=0 --set train.min_lr=0 || { fail "sft epochs run"; tail -3 ep.out; }
# 60 conversations, 2 epochs, global batch 8: ceil(120 / 8) = 15 steps
grep -q "^epochs  run 2 epochs of 60 samples = 15 steps of global batch 8" ep.out && [ "$(metric ep 15 step)" = 15 ] \
    && grep -q "^samples   120 seen = 2 epochs of 60 samples" ep.out \
    && pass "train.epochs = 2 of 60 conversations, global batch 8: 15 steps, 120 samples seen" \
    || fail "epochs: $(grep -E '^(epochs|samples|run )' ep.out)"

# ---- 2 ----
"$PYTHON" - chat.h5 <<'PY' || fail "make one-batch sets"
import sys, h5py, numpy as np, shutil
src = h5py.File(sys.argv[1], "r")
offs = src["doc_offsets"][:9]; n = int(offs[-1])
for name, ones in (("batch8.h5", False), ("batch8_ones.h5", True)):
    with h5py.File(name, "w") as f:
        for k, v in src.attrs.items(): f.attrs[k] = v
        f["tokens"] = src["tokens"][:n]
        f["doc_offsets"] = offs
        m = src["loss_mask"][:n]
        f["loss_mask"] = np.ones_like(m) if ones else m
PY
for v in batch8 batch8_ones; do
    sft_run "$v" 1 --set data.train=$WORK/$v.h5 --set data.valid=$WORK/batch8.h5 --set train.lr=0 --set train.min_lr=0 --set train.warmup=0 \
        --set train.steps=1 || { fail "$v run"; tail -3 "$v.out"; }
done
"$PYTHON" - batch8/metrics.jsonl batch8_ones/metrics.jsonl batch8/heldout.json <<'PY' \
    && pass "sft loss = mean NLL of the assistant tokens only (forward-only pass of the same rows; all-ones mask: of all tokens)" \
    || fail "sft loss against the forward-only NLL"
import json, sys
a, o = (json.loads(open(p).readline()) for p in sys.argv[1:3])
h = json.load(open(sys.argv[3]))
allnll = (h["assistant_nll"] * h["assistant_tokens"] + h["user_nll"] * h["user_tokens"]) / (h["assistant_tokens"] + h["user_tokens"])
print(f"step-1 loss {a['loss']:.6f} over {a['loss_tokens']:.0f} tokens, held-out assistant NLL {h['assistant_nll']:.6f} "
      f"over {h['assistant_tokens']:.0f}; all-ones mask {o['loss']:.6f} over {o['loss_tokens']:.0f}, all tokens {allnll:.6f}")
assert a["loss_tokens"] == h["assistant_tokens"] and o["loss_tokens"] == h["assistant_tokens"] + h["user_tokens"]
assert abs(a["loss"] - h["assistant_nll"]) <= 1e-5 * a["loss"]
assert abs(o["loss"] - allnll) <= 1e-5 * o["loss"]
assert abs(a["loss"] - o["loss"]) > 1e-3   # the mask matters
PY

# a blend's epoch: min_i n_i / w_i = min(60 / 0.75, 8 / 0.25) = 32 samples; 1 epoch at batch 8 = 4 steps
sft_run blend 1 --set data.train="$WORK/chat.h5:3 $WORK/batch8.h5:1" --set train.steps=0 --set train.epochs=1 \
    --set train.lr=0 --set train.min_lr=0 || { fail "blend epochs run"; tail -3 blend.out; }
grep -q "^epochs  run 1 epochs of 32 samples = 4 steps of global batch 8" blend.out \
    && grep -q "batch8.h5: 8 samples = 1 epochs" blend.out && grep -q "chat.h5: 24 samples = 0.4 epochs" blend.out \
    && pass "blend chat 3 : batch8 1: one epoch = 32 samples (batch8 read once), 4 steps" \
    || fail "blend epochs: $(grep -E '^(epochs|samples|  )' blend.out)"

# ---- 3 ----
same_losses() { # A B: every step's loss of two runs bitwise equal
    "$PYTHON" - "$1/metrics.jsonl" "$2/metrics.jsonl" <<'PY'
import json, sys
a, b = ([json.loads(l)["loss"] for l in open(p)] for p in sys.argv[1:3])
assert len(a) == len(b) and a == b, list(zip(a, b))
print(f"losses of {len(a)} steps bitwise equal")
PY
}
for spec in "tp2 2 --set parallel.tensor=2 --set parallel.sequence_parallel=true" \
            "pp2 2 --set parallel.pipeline=2" "dp2 2" "mb1 1 --set parallel.micro_batch=1"; do
    set -- $spec
    name=$1 n=$2; shift 2
    sft_run "$name" "$n" "$@" || { fail "$name sft run"; tail -3 "$name.out"; continue; }
    # pp2 as in test_dpo.sh: the losses bitwise, the grad norm within 1e-12 (the stages' partial
    # sums of squares added in another association than one rank's single sum)
    tol=1e-5; [ "$name" = pp2 ] && tol=1e-12
    $CMP losses sft1/metrics.jsonl "$name/metrics.jsonl" 1 8 $tol > "$name.cmp" 2>&1 \
        && { [ "$name" != pp2 ] || same_losses sft1 "$name" >> "$name.cmp" 2>&1; } \
        && pass "sft $name = 1 rank, micro_batch 2 (tol $tol: $(cat "$name.cmp" | tr '\n' ' '))" || fail "sft $name differs: $(cat "$name.cmp")"
done

# ---- 4 ----
mkdir -p res.ck && cp -r sft1.ck/iter_0000004 res.ck/ && echo iter_0000004 > res.ck/latest
sft_run res 1 || fail "sft resume run"
grep -q "^load .*step 4," res.out && $CMP losses sft1/metrics.jsonl res/metrics.jsonl 5 8 0 > res.cmp 2>&1 \
    && pass "sft resumed at step 4: steps 5-8 bitwise equal" || fail "sft resume: $(cat res.cmp; grep '^load' res.out)"

# ---- 5 ----
"$PYTHON" "$top_srcdir/tests/make_repeat_chat.py" 200 50 || fail "make the repeat-word sets"
for s in train valid; do "$NTRON" prep --tokenizer spm.model --format chat rep_$s.jsonl -o rep_$s.h5 >/dev/null || fail "prep rep_$s"; done
H=(--set model.seq_len=64 --set parallel.micro_batch=4 --set train.global_batch=16 --set train.warmup=5 --set train.lr=3e-3
   --set train.min_lr=3e-4 --set train.steps=0 --set train.epochs=4 --set data.train=$WORK/rep_train.h5
   --set data.valid=$WORK/rep_valid.h5)
sft_run before 1 "${H[@]}" --set train.epochs=0 --set train.steps=1 --set train.lr=0 --set train.min_lr=0 --set train.warmup=0 \
    || { fail "held-out run before training"; tail -3 before.out; }
sft_run ho1 1 "${H[@]}" || { fail "held-out sft run"; tail -3 ho1.out; }
sft_run ho2 2 "${H[@]}" || { fail "held-out sft run, DP2"; tail -3 ho2.out; }
"$PYTHON" - before/heldout.json ho1/heldout.json ho2/heldout.json <<'PY' > ho.txt 2>&1 \
    && pass "sft held-out: $(cat ho.txt)" || fail "sft held-out check: $(cat ho.txt)"
import json, sys
b, a, d = (json.load(open(p)) for p in sys.argv[1:4])
print(f"assistant-token NLL {b['assistant_nll']:.3f} -> {a['assistant_nll']:.3f} (ratio {a['assistant_nll'] / b['assistant_nll']:.3f}), "
      f"user-token NLL {b['user_nll']:.3f} -> {a['user_nll']:.3f}, 50 conversations, 4 epochs of 200")
assert a["samples"] == 50 and a["assistant_tokens"] > 0 and a["user_tokens"] > 0
assert a["assistant_nll"] < 0.6 * b["assistant_nll"], (a, b)
assert abs(a["assistant_nll"] - d["assistant_nll"]) <= 1e-5 * a["assistant_nll"]
assert abs(a["user_nll"] - d["user_nll"]) <= 1e-5 * a["user_nll"] and d["assistant_tokens"] == a["assistant_tokens"]
PY

# ---- 6 ----
"$PYTHON" - chat.h5 nomask.h5 <<'PY' || fail "make nomask.h5"
import sys, shutil, h5py, numpy as np
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f: f["loss_mask"][...] = np.zeros(f["loss_mask"].shape, np.uint8)
PY
refuse() { # name regex ranks [--set ...]: one 'ntron:' line, exit 2, no run directory
    local name=$1 re=$2 n=$3; shift 3
    local out rc k
    out=$(mpi "$n" "$NTRON" run "$DECK" "${C[@]}" "${S[@]}" --set run.dir=$WORK/$name "$@" 2>&1 >/dev/null); rc=$?
    k=$(printf '%s\n' "$out" | grep -c '^ntron:')
    if [ "$rc" -eq 2 ] && [ "$k" -eq 1 ] && printf '%s\n' "$out" | grep -Eq -- "$re" && [ ! -e "$name" ]; then
        pass "$name: exit 2, one line: $(printf '%s\n' "$out" | grep -m1 '^ntron:')"
    else fail "$name: exit $rc, $k lines, dir $([ -e "$name" ] && echo left || echo none): $out"; fi
}
refuse bad_pretrain_data 'corpus\.h5: missing dataset /loss_mask' 2 --set data.train=$WORK/corpus.h5
refuse bad_tokenizer 'chat\.h5: tokenizer mismatch: .*data\.tokenizer = byte' 2 --set data.tokenizer=byte
refuse bad_empty_mask 'nomask\.h5: every loss mask is empty' 2 --set data.train=$WORK/nomask.h5
expect_error "train.epochs in phase pretrain" 2 "train\.epochs: phase pretrain does not count epochs" -- \
    "$NTRON" check "$DECK" "${C[@]}" --set data.train=$WORK/corpus.h5 --set train.steps=0 --set train.epochs=1
expect_error "train.epochs with train.steps" 2 "train\.epochs: 1 epochs and train\.steps > 0 both set" -- \
    "$NTRON" check "$DECK" "${C[@]}" "${S[@]}" --set train.epochs=1
expect_error "sft with data.switch_at" 2 "data\.switch_at: phase sft has no blend switch" -- \
    "$NTRON" check "$DECK" "${C[@]}" "${S[@]}" --set data.switch_at=1M --set data.switch_blend=$WORK/chat.h5

# ---- 7 ----
for d in nemotron4-340b/sft-code nemotron4-340b/sft-general tiny/sft-code tiny/sft-general; do
    out=$("$NTRON" check "$top_srcdir/inputs/$d.deck" 2>&1)
    if [ $? -eq 0 ] && printf '%s\n' "$out" | grep -q "^check   PASSED" && printf '%s\n' "$out" | grep -q "^phase .*sft" \
        && printf '%s\n' "$out" | grep -Eq "^memory  per GPU, .*DP 1: [0-9.]+ GB" \
        && { [ "${d%%/*}" = tiny ] || printf '%s\n' "$out" | grep -Eq "^memory  .*DP 8: [0-9.]+ GB"; }; then
        pass "ntron check $d.deck: $(printf '%s\n' "$out" | grep -E '^(plan|memory) ' | cut -c1-100 | tr '\n' ' ')"
    else fail "ntron check $d.deck: $(printf '%s\n' "$out" | grep -E '^(phase|memory|check)|^ntron:')"; fi
done
"$PYTHON" - "$top_srcdir/inputs/nemotron4-340b" <<'PY' && pass "340B SFT decks: the report's values (code: 1 epoch, constant lr 3e-7, batch 128; general: 3 epochs, batch 128, code kept at 0.02)" \
    || fail "340B SFT deck values"
import sys, configparser
def deck(n):
    c = configparser.ConfigParser(inline_comment_prefixes=("#",)); c.read(f"{sys.argv[1]}/{n}.deck"); return c
c, g = deck("sft-code"), deck("sft-general")
for d in (c, g):
    assert d["run"]["phase"] == "sft" and d["train"]["global_batch"] == "128" and d["train"]["steps"] == "0"
    assert d["train"]["decay"] == "constant" and float(d["train"]["lr"]) == float(d["train"]["min_lr"])
    assert d["checkpoint"]["load_optimizer"] == "false"
    assert (d["model"]["layers"], d["model"]["hidden"], d["model"]["heads"], d["model"]["kv_heads"]) == ("96", "18432", "96", "8")
assert c["train"]["epochs"] == "1" and float(c["train"]["lr"]) == 3e-7
assert c["checkpoint"]["load"] == "runs/nemotron4-340b/checkpoints"
assert g["train"]["epochs"] == "3" and 1e-7 <= float(g["train"]["lr"]) <= 5e-7
assert g["checkpoint"]["load"] == c["checkpoint"]["dir"]
blend = dict(x.rsplit(":", 1) for x in g["data"]["train"].split())
code = c["data"]["train"].rsplit(":", 1)[0]
assert code in blend and abs(float(blend[code]) / sum(map(float, blend.values())) - 0.02) < 1e-9, blend
PY
finish
