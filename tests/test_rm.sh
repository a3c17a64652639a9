#!/bin/bash
# test_rm.sh — reward model (run.phase = rm) from a pretraining checkpoint:
#  1. a tiny pretraining run saves a checkpoint (LM head); the rm phase loads
#     its weights only (fresh optimizer), drops the LM head and adds a seeded
#     reward head (model.head = reward, 5 HelpSteer2 scores of the last token),
#     trains on `ntron prep --format reward` data, and its loss falls
#  2. the rm checkpoint says head = reward and holds /model/reward_head.weight
#     [5, hidden] and no lm_head
#  3. TP2 (sequence parallel), PP2 and DP2 agree with one rank (losses and
#     grad norms within 1e-5 relative: fp32 sums in another order)
#  4. bitwise resume of the rm run from its own checkpoint
#  5. refusals: rm with load_optimizer = true from an LM checkpoint, an LM run
#     from a reward checkpoint, rm without model.head = reward, pretraining
#     data as reward data, reward_outputs that do not match the labels, reward
#     data prepared with another tokenizer than data.tokenizer
#  6. behaviour on held-out data: on a reward set whose labels follow the
#     response (its closing phrase sets all five attributes), the trained head
#     scores 60 held-out samples (data.valid, forward-only pass) with a mean
#     squared error per label below half that of predicting the training
#     labels' mean (measured: ~0.06 of it); DP2 (held-out rows padded) gives
#     the same numbers within 1e-5
. "$(dirname "$0")/lib.sh"
cd "$WORK"
if ! "$PYTHON" -c "import h5py, numpy" 2>/dev/null; then echo "SKIP: $PYTHON lacks h5py/numpy"; exit 77; fi
export OPENBLAS_NUM_THREADS=1
CMP="$PYTHON $top_srcdir/tests/ckpt_compare.py"
# one SentencePiece tokenizer (with the chat tokens reward prompts need) for both datasets
sed 's/^\(\s*vocab\s*=\).*/\1 400/' "$top_srcdir/inputs/tiny/pretrain.deck" > v400.deck
"$NTRON" tokenizer train --deck v400.deck -o spm "$top_srcdir/inputs/data/tokenizer.txt" > /dev/null 2>&1 || fail "tokenizer train"
"$NTRON" prep --tokenizer spm.model "$top_srcdir/inputs/data/tokenizer.txt" -o corpus.h5 >/dev/null || fail "prep corpus"
"$NTRON" prep --tokenizer spm.model --format reward "$top_srcdir/inputs/data/reward.jsonl" -o reward.h5 >/dev/null \
    || fail "prep reward"
DECK=$WORK/v400.deck
C=(--set data.tokenizer=$WORK/spm.model --set model.layers=4 --set model.hidden=64 --set model.ffn_hidden=128 --set model.seq_len=128
   --set parallel.micro_batch=2 --set train.global_batch=8 --set train.warmup=2 --set run.log_interval=1
   --set run.seed=7)
mpi 1 "$NTRON" run "$DECK" "${C[@]}" --set data.train=$WORK/corpus.h5 --set train.steps=3 \
    --set run.dir=$WORK/pre --set checkpoint.dir=$WORK/pre.ck < /dev/null > pre.out 2>&1 || { fail "pretrain"; tail -3 pre.out; }
R=(--set run.phase=rm --set model.head=reward --set data.train=$WORK/reward.h5 --set train.lr=1e-3
   --set train.steps=8 --set checkpoint.load=$WORK/pre.ck --set checkpoint.load_optimizer=false)
rm_run() { # name ranks [--set ...]
    local name=$1 n=$2; shift 2
    mpi "$n" "$NTRON" run "$DECK" "${C[@]}" "${R[@]}" --set run.dir=$WORK/$name --set checkpoint.dir=$WORK/$name.ck "$@" \
        < /dev/null > "$name.out" 2>&1
}

# ---- 1 ----
rm_run rm1 1 --set checkpoint.interval=4 || { fail "rm run"; tail -5 rm1.out; }
grep -q "LM head not loaded; reward_head.weight \[5,64\] added" rm1.out && grep -q "model weights only, fresh optimizer" rm1.out \
    && pass "rm starts from the pretraining weights: LM head dropped, reward head [5,64] added, fresh optimizer" \
    || fail "rm load messages: $(grep '^load' rm1.out)"
"$PYTHON" - rm1/metrics.jsonl <<'PY' && pass "rm loss falls (mean squared error per label); the phase's per-attribute metrics average to it" || fail "rm loss / metrics"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
first, last = r[0]["loss"], min(x["loss"] for x in r[-3:])
print(f"rm loss {first:.4f} -> {last:.4f}")
assert len(r) == 8 and last < 0.8 * first
names = ["helpfulness", "correctness", "coherence", "complexity", "verbosity"]
for x in r:   # every label present: the loss is the mean of the five per-attribute MSEs
    per = [x["mse_" + n] for n in names]
    assert abs(sum(per) / 5 - x["loss"]) <= 1e-6 * x["loss"], (per, x["loss"])
PY
grep -q "^step .*| mse_helpfulness [0-9.]* | mse_correctness" rm1.out && pass "the phase's metrics reach the step line" \
    || fail "step line without the phase's metrics: $(grep -m1 '^step' rm1.out)"

# ---- 2 ----
"$PYTHON" - rm1.ck/iter_0000008/ckpt.h5 <<'PY' && pass "rm checkpoint: head = reward, reward_head.weight [5,64], no lm_head" || fail "rm checkpoint contents"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
h = f.attrs["head"]; h = h.decode() if isinstance(h, bytes) else h
assert h == "reward" and f.attrs["reward_outputs"] == 5, (h, f.attrs["reward_outputs"])
assert f["model/reward_head.weight"].shape == (5, 64) and "lm_head.weight" not in f["model"]
assert f["optimizer/adam_v/reward_head.weight"].shape == (5, 64)
PY
"$NTRON" ckpt info rm1.ck | grep -q "reward_head.weight" && pass "ckpt info lists reward_head.weight" || fail "ckpt info"

# ---- 3 ----
for spec in "tp2 2 --set parallel.tensor=2 --set parallel.sequence_parallel=true" \
            "pp2 2 --set parallel.pipeline=2" "dp2 2" "tp2pp2 4 --set parallel.tensor=2 --set parallel.pipeline=2"; do
    set -- $spec
    name=$1 n=$2; shift 2
    rm_run "$name" "$n" "$@" || { fail "$name rm run"; tail -3 "$name.out"; continue; }
    $CMP losses rm1/metrics.jsonl "$name/metrics.jsonl" 1 8 1e-5 > "$name.cmp" 2>&1 \
        && pass "rm $name = 1 rank ($(cat "$name.cmp"))" || fail "rm $name differs: $(cat "$name.cmp")"
done

# ---- 4 ----
mkdir -p res.ck && cp -r rm1.ck/iter_0000004 res.ck/ && echo iter_0000004 > res.ck/latest
rm_run res 1 || fail "rm resume run"
grep -q "^load .*step 4," res.out && $CMP losses rm1/metrics.jsonl res/metrics.jsonl 5 8 0 > res.cmp 2>&1 \
    && pass "rm resumed at step 4: steps 5-8 bitwise equal" || fail "rm resume: $(cat res.cmp; grep '^load' res.out)"

# ---- 5 ----
expect_error "rm with the LM checkpoint's optimizer" 2 "has a lm head, the deck model.head = reward" -- \
    "$NTRON" run "$DECK" "${C[@]}" "${R[@]}" --set checkpoint.load_optimizer=true --set run.dir=$WORK/bad1
expect_error "LM run from a reward checkpoint" 2 "has a reward head, the deck model.head = lm" -- \
    "$NTRON" run "$DECK" "${C[@]}" --set data.train=$WORK/corpus.h5 --set train.steps=1 --set train.warmup=0 \
    --set checkpoint.load=$WORK/rm1.ck --set checkpoint.load_optimizer=false --set run.dir=$WORK/bad2
expect_error "rm without a reward head" 2 "model.head.*phase rm trains a reward head" -- \
    "$NTRON" run "$DECK" "${C[@]}" "${R[@]}" --set model.head=lm --set run.dir=$WORK/bad3
expect_error "pretraining data as reward data" 2 "corpus.h5: missing dataset /labels" -- \
    "$NTRON" run "$DECK" "${C[@]}" "${R[@]}" --set data.train=$WORK/corpus.h5 --set run.dir=$WORK/bad4
expect_error "reward_outputs != labels" 2 "reward.h5: 5 labels per sample, but model.reward_outputs = 3" -- \
    "$NTRON" run "$DECK" "${C[@]}" "${R[@]}" --set model.reward_outputs=3 --set run.dir=$WORK/bad5
expect_error "reward data from another tokenizer" 2 "reward.h5: tokenizer mismatch: .*data.tokenizer = byte" -- \
    "$NTRON" run "$DECK" "${C[@]}" "${R[@]}" --set data.tokenizer=byte --set run.dir=$WORK/bad6
for d in bad1 bad2 bad3 bad4 bad5 bad6; do [ -e "$d" ] && fail "$d: a refused run left its run directory"; done

# ---- 6 ----
"$PYTHON" - <<'PY'
import json, random
rng = random.Random(5)
subj = ["The baker", "A small dog", "The young pilot", "The old farmer", "A tired runner", "The red fox"]
verb = ["finds", "builds", "remembers", "follows", "carries"]
obj = ["a paper map", "the green hill", "a wooden boat", "the bright star", "an empty house", "the blue door"]
ends = ["in the morning", "at night", "after the rain", "in the garden", "by the river"]
def sample():
    lvl = rng.randrange(5)   # the closing phrase sets every attribute
    r = f"{rng.choice(subj)} {rng.choice(verb)} {rng.choice(obj)} {ends[lvl]}."
    lab = dict(helpfulness=lvl, correctness=lvl, coherence=4 - lvl, complexity=lvl, verbosity=4 - lvl)
    return dict(prompt=f"Write about {rng.choice(obj)}.", response=r, **lab)
for name, n in [("train", 240), ("valid", 60)]:
    with open(f"rw_{name}.jsonl", "w") as f:
        for _ in range(n): f.write(json.dumps(sample()) + "\n")
PY
for s in train valid; do "$NTRON" prep --tokenizer spm.model --format reward rw_$s.jsonl -o rw_$s.h5 >/dev/null || fail "prep rw_$s"; done
H=(--set model.seq_len=64 --set parallel.micro_batch=4 --set train.global_batch=16 --set train.warmup=5 --set train.lr=3e-3
   --set train.min_lr=3e-4 --set train.steps=80 --set data.train=$WORK/rw_train.h5 --set data.valid=$WORK/rw_valid.h5)
rm_run ho1 1 "${H[@]}" || { fail "held-out rm run"; tail -3 ho1.out; }
rm_run ho2 2 "${H[@]}" || { fail "held-out rm run, DP2"; tail -3 ho2.out; }
"$PYTHON" - ho1/heldout.json ho2/heldout.json <<'PY' && pass "rm held-out: $(grep '^held-out' ho1.out | cut -d: -f2-)" || fail "rm held-out check: $(cat ho1/heldout.json ho2/heldout.json)"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["samples"] == 60 and a["labels"] == 300, a
assert a["mse"] < 0.5 * a["baseline_mse"], a
assert abs(a["mse"] - b["mse"]) <= 1e-5 * a["mse"] and b["labels"] == 300, (a, b)
PY
expect_error "data.valid in phase pretrain" 2 "data\.valid: phase pretrain does not evaluate held-out data" -- \
    "$NTRON" check "$DECK" "${C[@]}" --set data.train=$WORK/corpus.h5 --set data.valid=$WORK/rw_valid.h5
finish
