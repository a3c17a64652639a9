#!/bin/bash
# test_sft_pack.sh — supervised fine-tuning with packed rows (data.pack = true):
#  1. a packed sft run from a pretraining checkpoint: the "pack" line states
#     the rows of the epoch, the step logs pack_efficiency (real tokens / row
#     tokens) above the padded run's pad_efficiency, the loss falls
#  2. packed == padded end to end: 8 conversations padded (8 rows, one step)
#     and the same 8 packed (R rows, global batch R, one step, lr 0) give the
#     same step-1 loss and gradient norm (1e-5 relative: fp32 sums in another
#     order), and the same loss tokens
#  3. TP2 (sequence parallel), PP2 and DP2 of the packed run agree with one
#     rank (1e-5 relative, as every layout in test_layouts.sh; PP2: losses
#     bitwise, grad norms within 1e-12, the gradient norm's sum of squares
#     being added per pipeline stage)
#  4. bitwise resume of a packed run from its own checkpoint (mid-epoch)
#  5. train.epochs with packing: steps = ceil(rows of the epochs / global batch),
#     stated at start; the summary counts the samples the rows held
#  6. behaviour: the repeat-the-last-word set trained packed: the held-out
#     assistant NLL falls below 60% of its value before training
#  7. data.pack in phase pretrain is refused by `ntron check` (exit 2)
#  8. conversations longer than a packed row (seq_len 200: 10 of the 60 of
#     chat.jsonl's, the others ~1.2 per row): cut to the row and
#     counted, not refused: one epoch read exactly once (global batch = the
#     epoch's rows) reports "truncated N rows" with N = the conversations of
#     chat.h5 longer than seq_len+1 tokens (h5py), and the loss tokens of the
#     step are those of the cut conversations
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
C=(--set data.tokenizer=$WORK/spm.model --set model.layers=4 --set model.hidden=64 --set model.ffn_hidden=128 --set model.seq_len=512
   --set parallel.micro_batch=2 --set train.global_batch=8 --set train.warmup=2 --set run.log_interval=1 --set run.seed=7)
mpi 1 "$NTRON" run "$DECK" "${C[@]}" --set data.train=$WORK/corpus.h5 --set train.steps=3 \
    --set run.dir=$WORK/pre --set checkpoint.dir=$WORK/pre.ck < /dev/null > pre.out 2>&1 || { fail "pretrain"; tail -3 pre.out; }
S=(--set run.phase=sft --set data.train=$WORK/chat.h5 --set train.lr=1e-3 --set train.steps=8 --set data.pack=true
   --set checkpoint.load=$WORK/pre.ck --set checkpoint.load_optimizer=false)
sft_run() { # name ranks [--set ...]
    local name=$1 n=$2; shift 2
    mpi "$n" "$NTRON" run "$DECK" "${C[@]}" "${S[@]}" --set run.dir=$WORK/$name --set checkpoint.dir=$WORK/$name.ck "$@" \
        < /dev/null > "$name.out" 2>&1
}

# ---- 1 ---- (seq_len 512: the conversations of chat.jsonl are ~100 tokens)
sft_run pk1 1 --set checkpoint.interval=4 || { fail "packed sft run"; tail -5 pk1.out; }
sft_run pad1 1 --set data.pack=false || { fail "padded sft run"; tail -5 pad1.out; }
grep -Eq "^pack    best-fit decreasing per epoch: epoch 1 = 60 samples in [0-9]+ rows" pk1.out \
    && pass "pack line: $(grep '^pack    ' pk1.out | cut -c1-110)" || fail "no pack line: $(grep -E '^(data|pack) ' pk1.out)"
"$PYTHON" - pk1/metrics.jsonl pad1/metrics.jsonl <<'PY' > eff.txt 2>&1 && pass "packed sft: $(cat eff.txt)" || fail "packed metrics: $(cat eff.txt)"
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])]
d = [json.loads(l) for l in open(sys.argv[2])]
ep = sum(r["pack_efficiency"] for r in p) / len(p)
ed = sum(r["pad_efficiency"] for r in d) / len(d)
print(f"loss {p[0]['loss']:.4f} -> {p[-1]['loss']:.4f}, pack_efficiency {ep:.3f} vs pad_efficiency {ed:.3f}, "
      f"loss tokens/step {sum(r['loss_tokens'] for r in p) / len(p):.0f} vs {sum(r['loss_tokens'] for r in d) / len(d):.0f}")
assert len(p) == 8 and p[-1]["loss"] < 0.95 * p[0]["loss"]
assert ep > 1.5 * ed and ep <= 1.0
assert sum(r["loss_tokens"] for r in p) > 1.5 * sum(r["loss_tokens"] for r in d)
# real tokens per second = the rows' real tokens (efficiency x 8 rows x 513 tokens) over the step time
for x in p:
    want = x["pack_efficiency"] * 8 * 513 / (x["ms"] / 1000)
    assert abs(x["real_tokens_per_s"] - want) <= 1e-6 * want, (x["real_tokens_per_s"], want)
PY

# ---- 2 ----
"$PYTHON" - chat.h5 <<'PY' || fail "make batch8.h5"
import sys, h5py
src = h5py.File(sys.argv[1], "r")
offs = src["doc_offsets"][:9]; n = int(offs[-1])
with h5py.File("batch8.h5", "w") as f:
    for k, v in src.attrs.items(): f.attrs[k] = v
    f["tokens"] = src["tokens"][:n]; f["doc_offsets"] = offs; f["loss_mask"] = src["loss_mask"][:n]
PY
Z=(--set data.train=$WORK/batch8.h5 --set train.lr=0 --set train.min_lr=0 --set train.warmup=0 --set train.steps=1)
sft_run one_pad 1 "${Z[@]}" --set data.pack=false || { fail "one-step padded"; tail -3 one_pad.out; }
sft_run one_probe 1 "${Z[@]}" || { fail "one-step pack probe"; tail -3 one_probe.out; }
R=$(sed -n 's/^pack .* in \([0-9]*\) rows.*/\1/p' one_probe.out)
sft_run one_pk 1 "${Z[@]}" --set train.global_batch="${R:-1}" --set parallel.micro_batch=1 || { fail "one-step packed"; tail -3 one_pk.out; }
"$PYTHON" - one_pad/metrics.jsonl one_pk/metrics.jsonl "$R" <<'PY' > one.txt 2>&1 \
    && pass "8 conversations padded (8 rows) == packed ($(cat one.txt))" || fail "packed vs padded: $(cat one.txt)"
import json, sys
a, b = (json.loads(open(p).readline()) for p in sys.argv[1:3])
print(f"{sys.argv[3]} rows: loss {a['loss']:.7f} vs {b['loss']:.7f}, grad_norm {a['grad_norm']:.7f} vs {b['grad_norm']:.7f}, "
      f"{a['loss_tokens']:.0f} loss tokens")
assert int(sys.argv[3]) < 8 and a["loss_tokens"] == b["loss_tokens"]
for k in ("loss", "grad_norm"):
    assert abs(a[k] - b[k]) <= 1e-5 * abs(a[k]), k
PY

# ---- 3 ----
same_losses() { # A B: every step's loss of two runs bitwise equal
    "$PYTHON" - "$1/metrics.jsonl" "$2/metrics.jsonl" <<'PY'
import json, sys
a, b = ([json.loads(l)["loss"] for l in open(p)] for p in sys.argv[1:3])
assert len(a) == len(b) and a == b, list(zip(a, b))
print(f"; losses of {len(a)} steps bitwise equal")
PY
}
for spec in "tp2 2 1e-5 --set parallel.tensor=2 --set parallel.sequence_parallel=true" \
            "pp2 2 1e-12 --set parallel.pipeline=2" "dp2 2 1e-5"; do
    set -- $spec
    name=$1 n=$2 tol=$3; shift 3
    sft_run "$name" "$n" "$@" || { fail "$name packed sft run"; tail -3 "$name.out"; continue; }
    $CMP losses pk1/metrics.jsonl "$name/metrics.jsonl" 1 8 "$tol" > "$name.cmp" 2>&1 \
        && { [ "$name" != pp2 ] || same_losses pk1 pp2 >> pp2.cmp 2>&1; } \
        && pass "packed sft $name = 1 rank (tol $tol: $(tr "\n" " " < "$name.cmp"))" || fail "packed sft $name differs: $(cat "$name.cmp")"
done

# ---- 4 ----
mkdir -p res.ck && cp -r pk1.ck/iter_0000004 res.ck/ && echo iter_0000004 > res.ck/latest
sft_run res 1 || fail "packed sft resume run"
grep -q "^load .*step 4," res.out && $CMP losses pk1/metrics.jsonl res/metrics.jsonl 5 8 0 > res.cmp 2>&1 \
    && pass "packed sft resumed at step 4: steps 5-8 bitwise equal" || fail "packed resume: $(cat res.cmp; grep '^load' res.out)"

# ---- 5 ----
sft_run ep 1 --set train.steps=0 --set train.epochs=2 --set train.lr=0 --set train.min_lr=0 || { fail "packed epochs run"; tail -3 ep.out; }
"$PYTHON" - ep.out ep/metrics.jsonl <<'PY' > ep.txt 2>&1 && pass "packed epochs: $(cat ep.txt)" || fail "packed epochs: $(cat ep.txt)"
import json, math, re, sys
out = open(sys.argv[1]).read()
m = re.search(r"^epochs  run 2 epochs of 60 samples \((\d+) packed rows\) = (\d+) steps of global batch 8$", out, re.M)
assert m, out
rows, steps = int(m.group(1)), int(m.group(2))
r = [json.loads(l) for l in open(sys.argv[2])]
held = int(re.search(r"^packed    (\d+) rows held (\d+) samples", out, re.M).group(2))
print(f"{rows} rows in 2 epochs -> {steps} steps (ceil {rows}/8), {len(r)} run, {held} samples held by the rows read")
assert steps == math.ceil(rows / 8) and len(r) == steps and rows < 120
assert 120 <= held < 120 + 8 * 8   # the last step's rows may reach into epoch 3
PY

# ---- 6 ----
"$PYTHON" "$top_srcdir/tests/make_repeat_chat.py" 400 50 || fail "make the repeat-word sets"
for s in train valid; do "$NTRON" prep --tokenizer spm.model --format chat rep_$s.jsonl -o rep_$s.h5 >/dev/null || fail "prep rep_$s"; done
H=(--set model.seq_len=64 --set parallel.micro_batch=4 --set train.global_batch=8 --set train.warmup=5 --set train.lr=3e-3
   --set train.min_lr=3e-4 --set train.steps=0 --set train.epochs=4 --set data.train=$WORK/rep_train.h5
   --set data.valid=$WORK/rep_valid.h5)
sft_run before 1 "${H[@]}" --set train.epochs=0 --set train.steps=1 --set train.lr=0 --set train.min_lr=0 --set train.warmup=0 \
    || { fail "held-out run before training"; tail -3 before.out; }
sft_run ho 1 "${H[@]}" || { fail "packed held-out sft run"; tail -3 ho.out; }
"$PYTHON" - before/heldout.json ho/heldout.json ho/metrics.jsonl <<'PY' > ho.txt 2>&1 \
    && pass "packed sft held-out: $(cat ho.txt)" || fail "packed held-out check: $(cat ho.txt)"
import json, sys
b, a = (json.load(open(p)) for p in sys.argv[1:3])
n = sum(1 for _ in open(sys.argv[3]))
print(f"assistant-token NLL {b['assistant_nll']:.3f} -> {a['assistant_nll']:.3f} (ratio {a['assistant_nll'] / b['assistant_nll']:.3f}), "
      f"user-token NLL {b['user_nll']:.3f} -> {a['user_nll']:.3f}, 4 packed epochs of 400 in {n} steps")
assert a["assistant_nll"] < 0.6 * b["assistant_nll"], (a, b)
PY

# ---- 7 ----
expect_error "data.pack in phase pretrain" 2 "data\.pack: phase pretrain does not pack rows" -- \
    "$NTRON" check "$DECK" "${C[@]}" --set data.train=$WORK/corpus.h5 --set data.pack=true --set train.steps=1 --set train.warmup=0

# ---- 8 ----
X=(--set model.seq_len=200 --set train.lr=0 --set train.min_lr=0 --set train.warmup=0 --set train.steps=1)
sft_run cut_probe 1 "${X[@]}" || { fail "seq_len 200 pack probe"; tail -3 cut_probe.out; }
RC=$(sed -n 's/^pack .* in \([0-9]*\) rows.*/\1/p' cut_probe.out)
sft_run cut 1 "${X[@]}" --set train.global_batch="${RC:-1}" --set parallel.micro_batch=1 || { fail "seq_len 200 packed run"; tail -3 cut.out; }
"$PYTHON" - chat.h5 cut.out cut/metrics.jsonl <<'PY' > cut.txt 2>&1 \
    && pass "conversations longer than a row are cut and counted: $(cat cut.txt)" || fail "packed truncation: $(cat cut.txt)"
import json, re, sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
offs, mask = f["doc_offsets"][()].astype(np.int64), f["loss_mask"][()]
L = np.diff(offs)
cap = 201
want = int((L > cap).sum())
# loss tokens of the cut rows: a conversation's first token is never a target, nor any past the cut
loss_tokens = sum(int(mask[o + 1 : o + min(n, cap)].sum()) for o, n in zip(offs[:-1], L))
out = open(sys.argv[2]).read()
m = re.search(r"^truncated (\d+) rows read", out, re.M)
r = [json.loads(l) for l in open(sys.argv[3])]
print(f"{want} of {len(L)} conversations longer than {cap} tokens, summary: {m.group(0) if m else 'no truncated line'}; "
      f"loss tokens {r[0]['loss_tokens']:.0f} (want {loss_tokens})")
assert m and int(m.group(1)) == want and want > 0, out
assert re.search(r"^samples   60 seen = 1 epochs of 60 samples", out, re.M), out
assert len(r) == 1 and r[0]["loss_tokens"] == loss_tokens
assert int(re.search(r"^pack .* in (\d+) rows", out, re.M).group(1)) < len(L)   # packed, not one per row
PY
finish
