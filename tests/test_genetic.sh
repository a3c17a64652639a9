#!/bin/bash
# test_genetic.sh — the genetic stage (Genetic Instruct) and the judge
# stage of `ntron sdg` (issue #21) on a tiny model that memorised the
# answers of short test templates (tests/make_genetic_chat.py):
#  1. behaviour, greedy: generation 1 mutates the two seeds (deepen: "Add
#     three numbers." accepted, "Multiply three numbers." judged incorrect;
#     new: "Subtract ..." judged below the threshold, "Divide ..." whose
#     verdict does not parse); generation 2 mutates them again ("Add three
#     numbers." again: a near-duplicate of generation 1's; "Add two
#     numbers!": accepted, a near-duplicate of a seed); every memorised case
#     gets its status (run.seed is one whose draws reach every case: the
#     test fails, rather than passes, if they do not); genetic.jsonl holds exactly the kept
#     pairs, once each, with their lineage (seed, generation, operator,
#     parent) as chat records that `ntron prep --format chat` reads
#     (genetic.h5 with sdg.prep); the per-generation reports add up
#     (population, judged, unparsed, incorrect, below, accepted,
#     duplicates, kept, the score histogram, the operator mix), log the
#     replies that did not parse, and a progress line is printed per
#     generation
#  2. judge: each pair judged in both orders: the consistent prompts give
#     the memorised preference, the position-biased one "inconsistent",
#     the unparsed one "unparsed"; judge_pairs.jsonl holds the decided
#     pairs oriented by the LLM; the report's agreement with the reward
#     model and with the reference answer is recomputed from judge.jsonl;
#     sdg.judge_disagree = drop takes undecided pairs out of the rates
#  3. the same bytes for 1 rank, DP2, DP3 and PP2 (every genetic and judge file), TP2
#     (the genetic files; the judge's pairs and verdicts, its rewards within 1e-5)
#  4. resumable per generation: rank 0 killed after 1 shard of generation 2;
#     the rerun keeps generation 1 and the shard and ends with the same bytes
#  5. bad input: one line, exit 2, no run directory: an empty seed file, a
#     seed without a solution, an operator template with an unknown
#     placeholder, an operator without a template, a judge template without
#     {solution}, a population of 0, a judge checkpoint with a reward head
. "$(dirname "$0")/lib.sh"
cd "$WORK"
export OPENBLAS_NUM_THREADS=1
PY=$PYTHON
"$NTRON" tokenizer train --vocab 400 -o spm "$top_srcdir/inputs/data/tokenizer.txt" > /dev/null 2>&1 || fail "tokenizer train"
"$PY" "$top_srcdir/tests/make_genetic_chat.py" mem.jsonl facts.json || fail "make_genetic_chat.py"
"$NTRON" prep --tokenizer spm.model --format chat mem.jsonl -o mem.h5 > /dev/null || fail "prep chat"
"$NTRON" prep --tokenizer spm.model --format reward "$top_srcdir/inputs/data/reward.jsonl" -o reward.h5 > /dev/null || fail "prep reward"
MODEL="[model]
layers = 2
hidden = 64
ffn_hidden = 256
heads = 4
kv_heads = 2
vocab = 400
seq_len = 160
init_std = 0.02"
cat > lm.deck <<EOF2
[run]
phase = sft
name = genetic-lm
dir = $WORK/sftrun
seed = 3
log_interval = 100
$MODEL
[parallel]
micro_batch = 20
[train]
steps = 600
global_batch = 40
lr = 3e-3
min_lr = 3e-4
warmup = 10
[data]
tokenizer = $WORK/spm.model
train = $WORK/mem.h5
[checkpoint]
dir = $WORK/lmck
EOF2
"$NTRON" run lm.deck < /dev/null > sft.out 2>&1 || { fail "sft run"; tail -3 sft.out; }
"$NTRON" run lm.deck --set run.phase=rm --set model.head=reward --set data.train=$WORK/reward.h5 --set checkpoint.load=$WORK/lmck \
    --set checkpoint.load_optimizer=false --set checkpoint.dir=$WORK/rmck --set run.dir=$WORK/rmrun --set train.steps=20 \
    --set parallel.micro_batch=4 --set train.global_batch=8 < /dev/null > rm.out 2>&1 || { fail "rm run"; tail -3 rm.out; }

mkdir -p tpl
printf 'Like:\n{examples}\n' > tpl/genetic_new.txt
printf 'Harder: {instruction}\n' > tpl/genetic_deepen.txt
printf 'Judge: {instruction} => {solution}\n' > tpl/genetic_judge.txt
printf 'Compare for {question}: A) {response_a} B) {response_b}\n' > tpl/judge.txt
printf '{"id": "add", "instruction": "Add two numbers.", "solution": "def add(a, b): return a + b"}\n{"id": "mul", "instruction": "Multiply two numbers.", "solution": "def mul(a, b): return a * b"}\n' > seeds.jsonl
"$PY" - <<'PY'
import json
f = json.load(open("facts.json"))
with open("prompts.jsonl", "w") as o:
    for i, q in enumerate(f["pref"]):
        r = {"id": f"q{i}", "prompt": q}
        if q == "What is 2+3?":
            r["answer"] = 5
        o.write(json.dumps(r) + "\n")
PY
cat > sdg.deck <<EOF2
[run]
phase = sdg
name = genetic
dir = $WORK/ref
seed = 7
$MODEL
[data]
tokenizer = $WORK/spm.model
[checkpoint]
load = $WORK/lmck
[generate]
temperature = 0
max_new_tokens = 40
batch = 4
[sdg]
stages = genetic responses score pairs judge
templates = $WORK/tpl
seeds = $WORK/seeds.jsonl
operators = new:1 deepen:1
population = 12
generations = 2
examples = 2
judge_threshold = 7
dedup_threshold = 0.7
shard_size = 2
prompts = $WORK/prompts.jsonl
responses = 6
responses_temperature = 1.0
reward_model = $WORK/rmck
prep = true
EOF2
sdg() { # name ranks [args]: run.dir = name
    local name=$1 n=$2; shift 2
    mpi "$n" "$NTRON" sdg sdg.deck --set run.dir=$WORK/$name "$@" < /dev/null > "$name.out" 2> "$name.err"
}
"$NTRON" check sdg.deck > check.out 2>&1 && grep -q "PASSED" check.out && pass "ntron check accepts the genetic + judge deck" \
    || { fail "ntron check sdg.deck"; tail -3 check.out; }

# ---- 1, 2: behaviour ----
sdg ref 1 || { fail "sdg run: exit $?"; tail -5 ref.err; }
grep -q "generation 1/2: 12 made" ref.out && grep -q "generation 2/2: 12 made" ref.out \
    && pass "a progress line per generation: $(grep 'generation 2/2' ref.out | cut -c1-160)" || fail "progress lines: $(grep generation ref.out)"
if msg=$("$PY" - ref <<'PY'
import json, sys
d = sys.argv[1]
f = json.load(open("facts.json"))
rd = lambda p: [json.loads(l) for l in open(p) if l.strip()]
want = {}   # memorised instruction -> the status its memorised solution and verdict give
for ins, v in f["verdict"].items():
    want[ins] = ("unparsed" if "Score" not in v else "incorrect" if "Correct: no" in v
                 else "below" if "Score: 3" in v else "accepted")
gens = [rd(f"{d}/genetic.g0{r}.jsonl") for r in (1, 2)]
checked = 0
for r, recs in enumerate(gens, 1):
    assert len(recs) == 12, (r, len(recs))
    for o in recs:
        assert o["generation"] == r and o["operator"] in ("new", "deepen") and o["seed"] in ("s.add", "s.mul"), o
        ins, sol = o["instruction"], o["solution"]
        if ins in want and sol == f["solve"][ins]:
            assert o["status"] == want[ins], (o["id"], ins, o["status"], o.get("judge"))
            assert o["judge"]["reply"] == f["verdict"][ins], o
            checked += 1
        if o["operator"] == "deepen" and o["parent"] in ("s.add", "s.mul"):
            seed_ins = {"s.add": "Add two numbers.", "s.mul": "Multiply two numbers."}[o["parent"]]
            assert ins == f["deepen"][seed_ins], (o["id"], o["parent"], ins)
statuses = {o["instruction"]: o["status"] for g in gens for o in g}
for ins in ("Add three numbers.", "Multiply three numbers.", "Subtract two numbers.", "Divide two numbers.",
            "Add two numbers!"):
    assert ins in statuses, ("never made", ins, sorted(statuses))
out = rd(f"{d}/genetic.jsonl")
kept = [o["messages"][0]["content"] for o in out]
assert len(kept) == len(set(kept)), kept
assert "Add three numbers." in kept, kept
for bad in ("Subtract two numbers.", "Divide two numbers.", "Multiply three numbers.", "Add two numbers!",
            "Add two numbers.", "Multiply two numbers."):
    assert bad not in kept, bad
accepted = [o for g in gens for o in g if o["status"] == "accepted"]
for o in out:
    m = o["messages"]
    assert [x["role"] for x in m] == ["user", "assistant"] and o["judge_score"] >= 7, o
    assert o["seed"] in ("s.add", "s.mul") and o["generation"] in (1, 2) and o["operator"] and o["parent"], o
    src = next(a for a in accepted if a["id"] == o["id"])
    assert src["instruction"] == m[0]["content"] and src["solution"] == m[1]["content"] and src["parent"] == o["parent"]
a3 = next(o for o in out if o["messages"][0]["content"] == "Add three numbers.")
assert a3["seed"] == "s.add" and a3["operator"] == "deepen" and a3["parent"] == "s.add", a3
dups = 0
for r in (1, 2):
    g = json.load(open(f"{d}/genetic.g0{r}.report.json"))["genetic"]
    assert g["population"] == 12 and g["empty"] + g["judged"] == 12, g
    assert g["judged"] == g["unparsed"] + g["incorrect"] + g["below_threshold"] + g["accepted"], g
    assert g["accepted"] == g["duplicates"] + g["kept"], g
    assert sum(g["score_histogram"]["counts"]) == g["judged"] - g["unparsed"], g
    assert sum(v["made"] for v in g["operators"].values()) == 12, g
    assert sum(v["kept"] for v in g["operators"].values()) == g["kept"], g
    rec = gens[r - 1]
    assert g["unparsed"] == sum(o["status"] == "unparsed" for o in rec), g
    if any(o["instruction"] == "Divide two numbers." for o in rec):
        assert any(e["reply"] == "Looks good." for e in g["unparsed_examples"]), g["unparsed_examples"]
    dups += g["duplicates"]
assert dups >= 1, "no near-duplicate removed"
rep = json.load(open(f"{d}/genetic.report.json"))
assert rep["total"]["kept"] == len(out) and len(rep["generations"]) == 2 and rep["seeds"] == 2, rep["total"]
print(f"{checked} memorised cases with their status; kept {len(out)}: {sorted(kept)}; {dups} near-duplicates")
PY
); then pass "genetic: $msg"; else fail "genetic behaviour: $msg"; fi
[ -s ref/genetic.h5 ] && "$NTRON" prep --tokenizer spm.model --format chat ref/genetic.jsonl -o gchat.h5 > /dev/null \
    && pass "genetic.jsonl is read by ntron prep --format chat (genetic.h5 written by sdg.prep)" || fail "prep of genetic.jsonl"

if msg=$("$PY" - ref <<'PY'
import json, sys
d = sys.argv[1]
f = json.load(open("facts.json"))
rd = lambda p: [json.loads(l) for l in open(p) if l.strip()]
recs = rd(f"{d}/judge.jsonl")
pairs = rd(f"{d}/pairs.jsonl")
assert len(recs) == len(pairs) and len(recs) > 0, (len(recs), len(pairs))
seen = set()
for o in recs:
    q = o["prompt"][-1]["content"]
    l = o["llm"]
    assert set(l) >= {"ab", "ba", "verdict", "reply_ab", "reply_ba", "position_bias"}
    if q not in f["pref"]:
        continue
    good, bad, how = f["pref"][q]
    if {o["chosen"], o["rejected"]} != {good, bad}:
        continue
    first_good = o["chosen"] == good
    if how == "consistent":
        want = "chosen" if first_good else "rejected"
        assert l["verdict"] == want and l["ab"] == want and l["ba"] == want, (q, l)
    elif how == "biased":
        assert l["verdict"] == "inconsistent" and l["position_bias"] is True, (q, l)
    else:
        assert l["verdict"] == "unparsed", (q, l)
    seen.add(how)
assert seen == {"consistent", "biased", "unparsed"}, ("cases not reached (sampled responses)", seen)
jp = rd(f"{d}/judge_pairs.jsonl")
dec = [o for o in recs if o["llm"]["verdict"] in ("chosen", "rejected")]
assert len(jp) == len(dec), (len(jp), len(dec))
for o, p in zip(dec, jp):
    sw = o["llm"]["verdict"] == "rejected"
    assert p["chosen"] == (o["rejected"] if sw else o["chosen"]) and p["judge"] == "llm", p
rep = json.load(open(f"{d}/judge.report.json"))["judge"]
def rate(pick_want, drop):
    n = a = 0
    for o in recs:
        v = o["llm"]["verdict"]
        want = pick_want(o)
        if v == "unparsed" or want is None:
            continue
        if v not in ("chosen", "rejected") and drop:
            continue
        n += 1
        a += v == want
    return a, n
a, n = rate(lambda o: o.get("rm"), False)
assert (rep["llm_vs_rm"]["agree"], rep["llm_vs_rm"]["pairs"]) == (a, n), (rep["llm_vs_rm"], a, n)
a, n = rate(lambda o: "chosen" if o["judge"] in ("answer", "verifiers") else None, False)
assert (rep["llm_vs_truth"]["agree"], rep["llm_vs_truth"]["pairs"]) == (a, n) and n >= 1, (rep["llm_vs_truth"], a, n)
assert rep["unparsed_pairs"] == sum(o["llm"]["verdict"] == "unparsed" for o in recs)
assert rep["position_bias"] == sum(o["llm"]["position_bias"] for o in recs) >= 1
print(f"{len(recs)} pairs: verdicts {[o['llm']['verdict'] for o in recs]}; LLM/RM {rep['llm_vs_rm']['agree']}/{rep['llm_vs_rm']['pairs']}, "
      f"LLM/truth {rep['llm_vs_truth']['agree']}/{rep['llm_vs_truth']['pairs']}, RM/truth {rep['rm_vs_truth']['agree']}/{rep['rm_vs_truth']['pairs']}")
PY
); then pass "judge: $msg"; else fail "judge: $msg"; fi
[ -s ref/judge.h5 ] && pass "judge_pairs.jsonl prepared as judge.h5 (--format preference)" || fail "no judge.h5"
# drop: undecided pairs leave the rates
sdg drop 1 --set sdg.judge_disagree=drop || fail "sdg judge_disagree=drop: exit $?"
if msg=$("$PY" - <<'PY'
import json
t = json.load(open("ref/judge.report.json"))["judge"]["llm_vs_rm"]
d = json.load(open("drop/judge.report.json"))["judge"]["llm_vs_rm"]
recs = [json.loads(l) for l in open("ref/judge.jsonl")]
und = sum(o["llm"]["verdict"] in ("tie", "inconsistent") for o in recs)
assert d["pairs"] == t["pairs"] - und and d["agree"] == t["agree"] and und >= 1, (t, d, und)
print(f"tie: {t['agree']}/{t['pairs']}, drop: {d['agree']}/{d['pairs']}")
PY
); then pass "judge_disagree: $msg"; else fail "judge_disagree: $msg"; fi

# ---- 3: any rank count, the same bytes ----
FILES="genetic.g01.jsonl genetic.g02.jsonl genetic.jsonl genetic.report.json judge.jsonl judge_pairs.jsonl"
same() { # dir: every file of $FILES equal to ref's
    local f
    for f in $FILES; do cmp -s "ref/$f" "$1/$f" || { echo "$f differs"; return 1; }; done
}
sdg dp2 2 && same dp2 && pass "DP2: the same bytes" || fail "DP2: $(same dp2) $(tail -2 dp2.err)"
# TP2 splits the reward head's sums: its rewards agree to 1e-5 (relative), not bit for bit (as test_sdg)
sdg tp2 2 --set parallel.tensor=2 && FILES="genetic.g01.jsonl genetic.g02.jsonl genetic.jsonl genetic.report.json" same tp2 \
    && "$PY" - <<'PY' && pass "TP2: the same genetic bytes, the same pairs and verdicts (rewards within 1e-5)" || fail "TP2: $(same tp2) $(tail -2 tp2.err)"
import json
a = [json.loads(l) for l in open("ref/judge.jsonl")]
b = [json.loads(l) for l in open("tp2/judge.jsonl")]
assert len(a) == len(b)
for x, y in zip(a, b):
    for k in ("chosen", "rejected", "llm"):
        assert x[k] == y[k], (k, x[k], y[k])
    for k in ("chosen_reward", "rejected_reward"):
        assert abs(x[k] - y[k]) <= 1e-5 * max(1, abs(x[k])), (k, x[k], y[k])
PY
sdg dp3 3 && same dp3 && pass "DP3: the same bytes" || fail "DP3: $(same dp3) $(tail -2 dp3.err)"
sdg pp2 2 --set parallel.pipeline=2 && same pp2 && pass "PP2: the same bytes" || fail "PP2: $(same pp2) $(tail -2 pp2.err)"

# ---- 4: resumable per generation ----
NTRON_FAULT_SDG_KILL=genetic.g02:1 sdg kill 2; rc=$?
[ $rc != 0 ] && [ -s kill/genetic.g01.jsonl ] && [ ! -e kill/genetic.g02.jsonl ] && [ -s kill/genetic.g02.d/shard_00000.jsonl ] \
    && pass "killed after one shard of generation 2 (rc $rc): generation 1 finished, one shard of 2 written" \
    || fail "kill: rc $rc, $(ls kill 2>&1 | tr '\n' ' ')"
sdg kill 2 || fail "resume: exit $?"
grep -q "genetic.g01 kept" kill.out && ! grep -q "genetic.g02 shard 1/6" kill.out && grep -q "genetic.g02 shard 2/6" kill.out && same kill \
    && pass "resumed: generation 1 kept, generation 2 from its second shard, the same bytes" \
    || fail "resume: $(grep -E 'kept|g02 shard' kill.out | head -3) $(same kill)"

# ---- 5: bad input ----
bad() { # name regex [--set ...]: exit 2, one line, no run directory
    local name=$1 re=$2 rc; shift 2
    mpi 2 "$NTRON" sdg sdg.deck --set run.dir=$WORK/bad_$name "$@" < /dev/null > "bad_$name.out" 2> "bad_$name.err"; rc=$?
    if [ $rc = 2 ] && [ "$(grep -c '^ntron:' bad_$name.err)" = 1 ] && grep -Eq -- "^ntron: .*$re" bad_$name.err \
       && [ ! -e bad_$name ]; then pass "$name: exit 2, $(head -1 bad_$name.err | cut -c1-150)"
    else fail "$name: rc $rc, $(grep -c '^ntron:' bad_$name.err) lines: $(head -2 bad_$name.err)"; fi
}
: > empty.jsonl
bad empty_seeds "sdg.seeds = .*empty.jsonl: no JSON lines in the file" --set sdg.seeds=$WORK/empty.jsonl
printf '{"instruction": "Add two numbers."}\n' > nosol.jsonl
bad seed_without_solution "nosol.jsonl:1: missing field \"solution\"" --set sdg.seeds=$WORK/nosol.jsonl
mkdir -p tplbad; cp tpl/* tplbad/; printf 'Harder:\n{instruktion}\n' > tplbad/genetic_deepen.txt
bad placeholder "tplbad/genetic_deepen.txt:2: unknown placeholder \{instruktion\}" --set sdg.templates=$WORK/tplbad
bad no_template "genetic_broaden.txt" --set "sdg.operators=deepen broaden:2"
cp tpl/genetic_deepen.txt tplbad/; printf 'Judge: {instruction}\n' > tplbad/genetic_judge.txt
bad judge_template "tplbad/genetic_judge.txt does not use \{solution\}" --set sdg.templates=$WORK/tplbad
bad population_0 "sdg.population" --set sdg.population=0
bad bad_weight "sdg.operators.*operator deepen: weight 'x' is not a positive number" --set "sdg.operators=new deepen:x"
bad reward_judge "rmck.* has a reward head; the LLM judge \(sdg.judge_model\)" --set sdg.judge_model=$WORK/rmck
"$NTRON" check sdg.deck --set sdg.population=0 > chk.out 2>&1; [ $? = 2 ] && grep -q "sdg.population" chk.out \
    && pass "ntron check refuses a population of 0 too" || fail "ntron check: population 0"
finish
