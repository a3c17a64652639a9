#!/bin/bash
# test_generate.sh — `ntron generate` and `ntron score` end to end:
#  1. a tiny SFT model memorises four chat conversations (a SentencePiece
#     tokenizer with the chat tokens); greedy generation from their prompts
#     (the chat template up to <extra_id_1>Assistant) reproduces every
#     assistant reply exactly and stops at EOS, or at the end-of-turn token
#     where the training conversation went on; also through `ntron run`
#     with run.phase = generate
#  2. sampling (temperature, top-k, top-p, n = 3 per prompt) gives the same
#     responses whatever the batch (8, 1, 3), the order of the prompts, the
#     rank count or the layout (DP2, DP3, TP2, PP2); the output is one file in
#     input order; log-probs agree within 1e-4
#  3. stop conditions: a stop string (text cut before it), max_new_tokens
#     (finish "length"), a prompt longer than the context refused on its own
#     record while the others are generated
#  4. score: a reward model (phase rm from the SFT checkpoint) scores
#     conversations; batch 1 and 4, TP2, PP2 and DP2 give the same scores
#     (1e-5 relative), reward = the deck's weights x scores; a conversation
#     longer than the context is refused on its record.  score --logprobs of
#     the greedy responses under the LM equals generate's per-token
#     log-probs of the same tokens (the training forward against the KV
#     cache path, 1e-4), and the same under batch 2, TP2, PP2 and DP2 (1e-5)
#  5. bad input: one line, exit 2, no output (nor OUTPUT.tmp): a reward
#     checkpoint given to generate, an LM checkpoint to score, a malformed
#     prompt line (file:line), an unknown role, top_p 0 and 1.5, temperature
#     < 0, top_k < 0, max_new_tokens beyond the context, a line without a
#     prompt, a bad stop list, a missing output directory, output = input
#     or a checkpoint (generate and score; the checkpoint intact)
. "$(dirname "$0")/lib.sh"
cd "$WORK"
export OPENBLAS_NUM_THREADS=1
PY=$PYTHON
"$NTRON" tokenizer train --vocab 400 -o spm "$top_srcdir/inputs/data/tokenizer.txt" > /dev/null 2>&1 || fail "tokenizer train"
cat > memchat.jsonl <<'EOF'
{"messages": [{"role": "user", "content": "What colour is the sky?"}, {"role": "assistant", "content": "The sky is blue on a clear day."}]}
{"messages": [{"role": "user", "content": "Name a small animal."}, {"role": "assistant", "content": "A small dog builds the green hill."}]}
{"messages": [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Where is the map?"}, {"role": "assistant", "content": "The paper map is in the empty house."}]}
{"messages": [{"role": "user", "content": "Say hello."}, {"role": "assistant", "content": "Hello from the young pilot."}, {"role": "user", "content": "And goodbye?"}, {"role": "assistant", "content": "Goodbye after the rain."}]}
EOF
"$NTRON" prep --tokenizer spm.model --format chat memchat.jsonl -o memchat.h5 > /dev/null || fail "prep chat"
"$NTRON" prep --tokenizer spm.model --format reward "$top_srcdir/inputs/data/reward.jsonl" -o reward.h5 > /dev/null || fail "prep reward"
cat > gen.deck <<EOF
[run]
phase = sft
name = gen
dir = $WORK/sftrun
seed = 3
log_interval = 100
[model]
layers = 2
hidden = 64
ffn_hidden = 256
heads = 4
kv_heads = 2
vocab = 400
seq_len = 96
init_std = 0.02
[parallel]
micro_batch = 4
[train]
steps = 300
global_batch = 4
lr = 3e-3
min_lr = 3e-4
warmup = 10
[data]
tokenizer = $WORK/spm.model
train = $WORK/memchat.h5
[checkpoint]
dir = $WORK/sftck
[generate]
input = $WORK/prompts.jsonl
output = $WORK/out.jsonl
temperature = 0
max_new_tokens = 60
EOF
"$NTRON" run gen.deck < /dev/null > sft.out 2>&1 || { fail "sft run"; tail -3 sft.out; }
"$NTRON" run gen.deck --set run.phase=rm --set model.head=reward --set data.train=$WORK/reward.h5 --set checkpoint.load=$WORK/sftck --set checkpoint.load_optimizer=false \
    --set checkpoint.dir=$WORK/rmck --set run.dir=$WORK/rmrun --set train.steps=20 < /dev/null > rm.out 2>&1 \
    || { fail "rm run"; tail -3 rm.out; }
G=(--set checkpoint.load=$WORK/sftck --set checkpoint.dir=)

# ---- 1: memorised conversations, greedy ----
cat > prompts.jsonl <<'EOF'
{"id": "sky", "messages": [{"role": "user", "content": "What colour is the sky?"}]}
{"id": "animal", "messages": "Name a small animal."}
{"id": "map", "messages": [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Where is the map?"}]}
{"id": "bye", "messages": [{"role": "user", "content": "Say hello."}, {"role": "assistant", "content": "Hello from the young pilot."}, {"role": "user", "content": "And goodbye?"}]}
{"id": "hello", "messages": [{"role": "user", "content": "Say hello."}]}
EOF
check_memorised() { # file
    "$PY" - "$1" <<'PY'
import json, sys
want = {"sky": ("The sky is blue on a clear day.", "eos"), "animal": ("A small dog builds the green hill.", "eos"),
        "map": ("The paper map is in the empty house.", "eos"), "bye": ("Goodbye after the rain.", "eos"),
        "hello": ("Hello from the young pilot.", "end_of_turn")}
r = [json.loads(l) for l in open(sys.argv[1])]
assert [x["id"] for x in r] == list(want), [x["id"] for x in r]
for x in r:
    if (x["response"], x["finish_reason"]) != want[x["id"]]:
        sys.exit(f"{x['id']}: {x['response']!r} {x['finish_reason']}")
print(", ".join(f"{x['id']}: {x['response_tokens']} tokens, {x['finish_reason']}" for x in r))
PY
}
mpi 1 "$NTRON" generate gen.deck "${G[@]}" --set generate.logprobs=true < /dev/null > g1.out 2>&1 || { fail "generate"; tail -3 g1.out; }
if msg=$(check_memorised out.jsonl); then pass "greedy reproduces the memorised replies: $msg"; else fail "memorised: $msg"; fi
cp out.jsonl greedy.jsonl
mpi 1 "$NTRON" run gen.deck "${G[@]}" --set run.phase=generate --set generate.output=$WORK/run.jsonl < /dev/null > g2.out 2>&1 \
    && check_memorised run.jsonl > /dev/null && pass "ntron run with run.phase = generate: the same replies" || fail "run.phase = generate"
grep -E '^generate done' g1.out

# ---- 2: sampling is independent of batch, order, ranks and layout ----
LONG=$("$PY" -c 'print(" ".join(["the green hill after the rain"] * 30))')
cat > sp.jsonl <<EOF
{"id": "sky", "messages": [{"role": "user", "content": "What colour is the sky?"}]}
{"id": "raw", "prompt": "The red fox finds"}
{"id": "long", "prompt": "$LONG"}
{"id": "map", "messages": [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Where is the map?"}]}
{"id": "animal", "messages": "Name a small animal.", "extra": {"kept": [1, 2]}}
{"id": "two", "prompt": "A small dog"}
EOF
"$PY" -c 'import sys; l=open("sp.jsonl").readlines(); open("sp_rev.jsonl","w").writelines(l[::-1])'
SP=(--set generate.temperature=1.3 --set generate.top_k=40 --set generate.top_p=0.95 --set generate.n=3
    --set generate.max_new_tokens=30 --set generate.logprobs=true --set run.seed=11)
variant() { # name ranks input [--set ...]
    local name=$1 n=$2 in=$3; shift 3
    mpi "$n" "$NTRON" generate gen.deck "${G[@]}" "${SP[@]}" --set generate.input=$WORK/$in \
        --set generate.output=$WORK/$name.jsonl "$@" < /dev/null > "$name.out" 2>&1 || { fail "$name: exit $?"; tail -3 "$name.out"; }
}
variant ref 1 sp.jsonl
variant b1 1 sp.jsonl --set generate.batch=1
variant b3 1 sp.jsonl --set generate.batch=3
variant rev 1 sp_rev.jsonl
variant dp2 2 sp.jsonl
variant dp3 3 sp.jsonl --set generate.batch=2
variant tp2 2 sp.jsonl --set parallel.tensor=2
variant pp2 2 sp.jsonl --set parallel.pipeline=2
variant pp2g 2 sp.jsonl --set parallel.pipeline=2 --set parallel.p2p=grouped
cmp -s pp2.jsonl pp2g.jsonl && pass "generate pp2 with grouped pipeline exchanges (parallel.p2p = grouped) = tagged, byte for byte" \
    || fail "generate pp2 grouped differs from tagged"
for v in b1 b3 rev dp2 dp3 tp2 pp2; do
    if msg=$("$PY" - ref.jsonl $v.jsonl $v <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
key = lambda x: (x["id"], x["sample"])
if sys.argv[3] != "rev":   # one file in input order: prompt by prompt, samples 0..n-1
    assert [key(x) for x in a] == [key(x) for x in b], "order differs"
ids = [x["id"] for x in a]
assert ids == [i for i in ["sky", "raw", "long", "map", "animal", "two"] for _ in range(3)], ids
A = {key(x): x for x in a}
worst = 0
for x in b:
    y = A[key(x)]
    for f in ("response", "finish_reason", "response_tokens", "prompt_tokens"):
        assert x[f] == y[f], (key(x), f, x[f], y[f])
    for p, q in zip(x.get("logprobs", []), y.get("logprobs", [])):
        worst = max(worst, abs(p - q))
assert worst <= 1e-4, worst
print(f"{len(b)} records equal, log-probs within {worst:.1e}")
PY
    ); then pass "$v: $msg"; else fail "$v: $msg"; fi
done
"$PY" - ref.jsonl <<'PY' && pass "samples differ, long prompt refused, fields carried" || fail "sampling output: see above"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
per = {}
for x in r: per.setdefault(x["id"], set()).add(x["response"])
assert any(len(v) > 1 for k, v in per.items() if k != "long"), per
lg = [x for x in r if x["id"] == "long"]
assert all(x["finish_reason"] == "refused" and "model.seq_len = 96" in x["error"] for x in lg), lg[0]
assert all(x["extra"] == {"kept": [1, 2]} for x in r if x["id"] == "animal")
assert all(x["finish_reason"] in ("eos", "end_of_turn", "length") for x in r if x["id"] != "long")
print("responses to 'raw':", sorted(per["raw"]))
PY

# ---- 3: stop string, max_new_tokens ----
mpi 1 "$NTRON" generate gen.deck "${G[@]}" --set 'generate.stop=["green", "zzz"]' --set generate.output=$WORK/stop.jsonl \
    < /dev/null > stop.out 2>&1 || fail "stop run"
mpi 1 "$NTRON" generate gen.deck "${G[@]}" --set generate.max_new_tokens=4 --set generate.output=$WORK/len.jsonl \
    < /dev/null > len.out 2>&1 || fail "length run"
"$PY" - stop.jsonl len.jsonl <<'PY' && pass "stop string cuts the text (finish stop); max_new_tokens = 4 gives finish length" || fail "stop conditions"
import json, sys
s = {x["id"]: x for x in map(json.loads, open(sys.argv[1]))}
assert s["animal"]["response"] == "A small dog builds the " and s["animal"]["finish_reason"] == "stop", s["animal"]
assert s["sky"]["finish_reason"] == "eos"
l = [json.loads(x) for x in open(sys.argv[2])]
assert all(x["response_tokens"] == 4 and x["finish_reason"] == "length" for x in l), l
PY

# ---- 4: score ----
RW=$top_srcdir/inputs/data/reward.jsonl
export RW
"$PY" - <<'PY'
import json, itertools, os
rows = [json.loads(l) for l in open("memchat.jsonl")]
out = open("conv.jsonl", "w")
for i, r in enumerate(rows):
    m = r["messages"]
    out.write(json.dumps({"id": i, "prompt": m[:-1], "response": m[-1]["content"]}) + "\n")
for i, l in enumerate(itertools.islice(open(os.environ["RW"]), 9)):
    r = json.loads(l)
    out.write(json.dumps({"id": 10 + i, "prompt": r["prompt"], "response": r["response"]}) + "\n")
out.write(json.dumps({"id": 99, "prompt": "long " * 10, "response": "the green hill " * 40}) + "\n")
PY
S=(--set model.head=reward --set checkpoint.load=$WORK/rmck --set score.input=$WORK/conv.jsonl --set 'score.weights=0.3 0.74 0.46 0.47 -0.33')
score_v() { # name ranks [--set ...]
    local name=$1 n=$2; shift 2
    mpi "$n" "$NTRON" score gen.deck "${S[@]}" --set score.output=$WORK/$name.jsonl "$@" < /dev/null > "$name.out" 2>&1 \
        || { fail "score $name: exit $?"; tail -3 "$name.out"; }
}
score_v s1 1 --set score.batch=1
score_v s4 1 --set score.batch=4
score_v stp2 2 --set parallel.tensor=2 --set score.batch=3
score_v spp2 2 --set parallel.pipeline=2
score_v spp2g 2 --set parallel.pipeline=2 --set parallel.p2p=grouped
cmp -s spp2.jsonl spp2g.jsonl && pass "score pp2 with grouped pipeline rounds = tagged, byte for byte" || fail "score pp2 grouped differs from tagged"
score_v sdp2 2 --set score.batch=2
for v in s4 stp2 spp2 sdp2; do
    if msg=$("$PY" - s1.jsonl $v.jsonl <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert [x["id"] for x in a] == [x["id"] for x in b]
w = [0.3, 0.74, 0.46, 0.47, -0.33]
names = ["helpfulness", "correctness", "coherence", "complexity", "verbosity"]
worst = 0
for x, y in zip(a, b):
    if "error" in x:   # longer than the context: refused in every run
        assert "error" in y and "scores" not in y, y
        continue
    r = sum(wi * y["scores"][n] for wi, n in zip(w, names))
    assert abs(r - y["reward"]) <= 1e-6 * max(1, abs(r)), (r, y["reward"])
    for n in names:
        worst = max(worst, abs(x["scores"][n] - y["scores"][n]) / max(1e-3, abs(x["scores"][n])))
assert worst <= 1e-5, worst
assert sum("error" in x for x in a) >= 1 and a[-1]["error"].startswith("conversation of")
print(f"{len(b)} records ({sum('error' in x for x in a)} refused as too long): scores equal to batch-1 within {worst:.1e} rel, reward = weights x scores")
PY
    ); then pass "score $v: $msg"; else fail "score $v: $msg"; fi
done
# --logprobs of the greedy replies = generate's log-probs of the same tokens
"$PY" - greedy.jsonl <<'PY'
import json, sys
out = open("lpconv.jsonl", "w")
for l in open(sys.argv[1]):
    x = json.loads(l)
    m = x["messages"]
    out.write(json.dumps({"id": x["id"], "prompt": m, "response": x["response"]}) + "\n")
PY
mpi 1 "$NTRON" score gen.deck --logprobs --set checkpoint.load=$WORK/sftck --set score.input=$WORK/lpconv.jsonl \
    --set score.output=$WORK/lp.jsonl < /dev/null > lp.out 2>&1 || { fail "score --logprobs"; tail -3 lp.out; }
if msg=$("$PY" - greedy.jsonl lp.jsonl <<'PY'
import json, sys
g = {x["id"]: x for x in map(json.loads, open(sys.argv[1]))}
worst = 0
for s in map(json.loads, open(sys.argv[2])):
    a, b = g[s["id"]]["logprobs"], s["logprobs"]
    assert len(b) >= len(a) and s["response_tokens"] == len(b)
    worst = max(worst, max(abs(p - q) for p, q in zip(a, b)))
assert worst <= 1e-4, worst
print(f"{len(g)} responses: score --logprobs = generate's log-probs within {worst:.1e}")
PY
); then pass "$msg"; else fail "score --logprobs vs generate: $msg"; fi
# --logprobs under other batches and layouts = the one-rank run (vocab-parallel log-softmax under TP)
for spec in "lpb2 1 --set score.batch=2" "lptp2 2 --set parallel.tensor=2 --set score.batch=3" \
    "lppp2 2 --set parallel.pipeline=2 --set score.batch=2" "lpdp2 2 --set score.batch=1"; do
    set -- $spec
    name=$1 n=$2; shift 2
    mpi "$n" "$NTRON" score gen.deck --logprobs --set checkpoint.load=$WORK/sftck --set score.input=$WORK/lpconv.jsonl \
        --set score.output=$WORK/$name.jsonl "$@" < /dev/null > "$name.out" 2>&1 || { fail "score --logprobs $name: exit $?"; tail -3 "$name.out"; continue; }
    if msg=$("$PY" - lp.jsonl $name.jsonl <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert [x["id"] for x in a] == [x["id"] for x in b], "order differs"
worst = 0
for x, y in zip(a, b):
    assert x["response_tokens"] == y["response_tokens"] == len(y["logprobs"]), (x["id"], x["response_tokens"], y["response_tokens"])
    worst = max(worst, max(abs(p - q) for p, q in zip(x["logprobs"], y["logprobs"])), abs(x["logprob_sum"] - y["logprob_sum"]))
assert worst <= 1e-5, worst
print(f"{len(b)} records: log-probs equal to the one-rank run within {worst:.1e}")
PY
    ); then pass "score --logprobs $name: $msg"; else fail "score --logprobs $name: $msg"; fi
done

# ---- 5: bad input ----
printf '{"id": 1, "prompt": "ok"}\n{"id": 2, "messages": [\n' > bad_json.jsonl
printf '{"id": 1, "messages": [{"role": "bot", "content": "hi"}]}\n' > bad_role.jsonl
printf '{"id": 1, "text_only": "hi"}\n' > bad_field.jsonl
nothing_written() { [ ! -e "$WORK/bad.jsonl" ] && [ ! -e "$WORK/bad.jsonl.tmp" ]; }
bad() { # name regex [--set ...] (generate)
    local name=$1 re=$2; shift 2
    expect_error "$name" 2 "$re" -- mpi 2 "$NTRON" generate gen.deck "${G[@]}" --set generate.output=$WORK/bad.jsonl "$@"
    nothing_written || fail "$name: output written"
    [ "$(mpi 2 "$NTRON" generate gen.deck "${G[@]}" --set generate.output=$WORK/bad.jsonl "$@" 2>&1 | grep -c 'ntron:')" = 1 ] \
        || fail "$name: not exactly one error line from 2 ranks"
}
bad "reward checkpoint to generate" "has a reward head; generate needs .*LM head" --set checkpoint.load=$WORK/rmck
bad "malformed line" "bad_json.jsonl:2: malformed JSON" --set generate.input=$WORK/bad_json.jsonl
bad "unknown role" "bad_role.jsonl:1: .*unknown role \"bot\"" --set generate.input=$WORK/bad_role.jsonl
bad "no prompt field" "bad_field.jsonl:1: no \"messages\"" --set generate.input=$WORK/bad_field.jsonl
bad "top_p 0" "generate.top_p" --set generate.top_p=0
bad "top_p 1.5" "generate.top_p" --set generate.top_p=1.5
bad "temperature < 0" "generate.temperature" --set generate.temperature=-0.5
bad "top_k < 0" "generate.top_k" --set generate.top_k=-1
bad "max_new_tokens beyond the context" "generate.max_new_tokens: 96 is beyond the context" --set generate.max_new_tokens=96
bad "stop not a list" "generate.stop" --set 'generate.stop=green'
bad "output directory missing" "generate.output = /nonexistent/dir/o.jsonl: directory /nonexistent/dir does not exist" \
    --set generate.output=/nonexistent/dir/o.jsonl
bad "output = input" "generate.output = .*prompts.jsonl is the input file" --set generate.output=$WORK/prompts.jsonl
# an output never replaces a checkpoint (issue #20 point 4): refused, the checkpoint intact
CKF=$WORK/sftck/$(cat "$WORK/sftck/latest")/ckpt.h5; cp "$CKF" ckf.keep
bad "output = a checkpoint" "generate.output = .*/ckpt\.h5 is a ntron checkpoint: refusing to replace it" --set generate.output=$CKF
expect_error "score output = a checkpoint" 2 "score.output = .*/ckpt\.h5 is a ntron checkpoint: refusing to replace it" -- \
    mpi 2 "$NTRON" score gen.deck "${S[@]}" --set score.output=$CKF
cmp -s "$CKF" ckf.keep && pass "the checkpoint named as an output is intact" || fail "the checkpoint named as an output changed"
expect_error "LM checkpoint to score" 2 "has a language-model \(LM\) head; score needs .*reward head" -- \
    mpi 2 "$NTRON" score gen.deck "${S[@]}" --set checkpoint.load=$WORK/sftck --set score.output=$WORK/bad.jsonl
nothing_written || fail "score: output written"
finish
