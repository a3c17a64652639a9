#!/bin/bash
# test_sdg.sh — `ntron sdg` (issue #17) on a tiny model that memorised the
# answers of short test templates (tests/make_sdg_chat.py):
#  1. behaviour, greedy: topics -> subtopics -> questions give exactly the
#     memorised lists, whatever their format (numbered, "1)", bullets, a JSON
#     array, a preamble), the repeat "Trains" dropped and counted; the
#     dialogue stage plays the memorised 3-turn dialogue from the persona
#     with the polite filler ("Thank you!", "Great.") removed; twoturn the
#     memorised follow-up; every stage of the pipeline runs (revise, writing,
#     closed_qa, math, python, responses, score, filter, pairs; the math
#     seed's responses checked against its reference answer) and its
#     output is read by `ntron prep` (filter: --format chat; pairs:
#     --format preference); reports count what went in and out
#  2. the same bytes for 1, 2 and 3 data-parallel ranks, TP2 and PP2 (every
#     stage's output), and through `ntron run` with run.phase = sdg
#  3. resumable: rank 0 killed (SIGKILL) after 2 shards of responses; the
#     rerun keeps the finished stages and shards, generates only the rest,
#     and ends with the same bytes; a finished run is kept whole; a changed
#     template is refused (exit 2) instead of mixing outputs
#  4. bad input: one line, exit 2, no run directory: an unknown placeholder
#     (file:line), a template without its required placeholder, an empty
#     topics file, a generator checkpoint with a reward head, a reward model
#     with an LM head, an unknown stage, a stage
#     before what it reads, a missing personas file key, a bad prompts line,
#     pairs with one response per prompt, an unknown IFEval instruction id,
#     IFEval variant fractions above 1
#  5. ifeval: prompts with 1..2 instructions in the three variants, their
#     texts where each variant puts them, carried by responses and score;
#     the same bytes on 2 ranks
. "$(dirname "$0")/lib.sh"
cd "$WORK"
export OPENBLAS_NUM_THREADS=1
PY=$PYTHON
"$NTRON" tokenizer train --vocab 400 -o spm "$top_srcdir/inputs/data/tokenizer.txt" > /dev/null 2>&1 || fail "tokenizer train"
"$PY" "$top_srcdir/tests/make_sdg_chat.py" mem.jsonl || fail "make_sdg_chat.py"
"$NTRON" prep --tokenizer spm.model --format chat mem.jsonl -o mem.h5 > /dev/null || fail "prep chat"
"$NTRON" prep --tokenizer spm.model --format reward "$top_srcdir/inputs/data/reward.jsonl" -o reward.h5 > /dev/null || fail "prep reward"
MODEL="[model]
layers = 2
hidden = 64
ffn_hidden = 256
heads = 4
kv_heads = 2
vocab = 400
seq_len = 192
init_std = 0.02"
cat > lm.deck <<EOF
[run]
phase = sft
name = sdg-lm
dir = $WORK/sftrun
seed = 3
log_interval = 100
$MODEL
[parallel]
micro_batch = 17
[train]
steps = 500
global_batch = 17
lr = 3e-3
min_lr = 3e-4
warmup = 10
[data]
tokenizer = $WORK/spm.model
train = $WORK/mem.h5
[checkpoint]
dir = $WORK/lmck
EOF
"$NTRON" run lm.deck < /dev/null > sft.out 2>&1 || { fail "sft run"; tail -3 sft.out; }
"$NTRON" run lm.deck --set run.phase=rm --set model.head=reward --set data.train=$WORK/reward.h5 --set checkpoint.load=$WORK/lmck \
    --set checkpoint.load_optimizer=false --set checkpoint.dir=$WORK/rmck --set run.dir=$WORK/rmrun --set train.steps=20 \
    < /dev/null > rm.out 2>&1 || { fail "rm run"; tail -3 rm.out; }

# the test's templates, inputs and deck
mkdir -p tpl
printf 'List {n} topics.\n' > tpl/topics.txt
printf 'List {n} subtopics of {topic}.\n' > tpl/subtopics.txt
printf 'Ask {n} questions about {subtopic}.\n' > tpl/questions.txt
printf 'Revise: {question}\n' > tpl/revise.txt
printf 'Write {n} {document_type} tasks on {topic}.\n' > tpl/writing.txt
printf 'Text: {document}\nAsk {n} things.\n' > tpl/closed_qa.txt
printf 'Make {n} problems on {keyword}.\n' > tpl/math.txt
printf 'Make {n} python problems on {keyword}.\n' > tpl/python.txt
printf 'Follow up on: {conversation}\n' > tpl/twoturn.txt
printf 'As {persona}, reply to: {conversation}\n' > tpl/dialogue.txt
echo "a patient teacher" > personas.txt
printf 'poem\nletter\n' > types.txt
printf '{"text": "The river runs past the old mill."}\n{"text": "Bread needs flour, water and time."}\n' > docs.jsonl
printf 'percent\nprimes\n' > kw.txt
printf '{"id": "bread", "prompt": "Tell me about bread."}\n{"id": "add", "prompt": "What is 2+3?", "answer": 5}\n' > prompts.jsonl
ALL="topics subtopics questions revise writing closed_qa math python twoturn dialogue responses score filter pairs"
cat > sdg.deck <<EOF
[run]
phase = sdg
name = sdg
dir = $WORK/ref
seed = 5
$MODEL
[data]
tokenizer = $WORK/spm.model
[checkpoint]
load = $WORK/lmck
[generate]
temperature = 0
max_new_tokens = 48
batch = 4
[sdg]
stages = $ALL
templates = $WORK/tpl
topics = 3
subtopics = 2
questions = 2
shard_size = 2
personas = $WORK/personas.txt
document_types = $WORK/types.txt
documents = $WORK/docs.jsonl
math_keywords = $WORK/kw.txt
python_keywords = $WORK/kw.txt
prompts = $WORK/prompts.jsonl
responses = 3
responses_temperature = 1.2
reward_model = $WORK/rmck
reward_threshold = -1e9
EOF
sdg() { # name ranks [args]: run.dir = name
    local name=$1 n=$2; shift 2
    mpi "$n" "$NTRON" sdg sdg.deck --set run.dir=$WORK/$name "$@" < /dev/null > "$name.out" 2> "$name.err"
}

# ---- 1: behaviour ----
"$NTRON" check sdg.deck > check.out 2>&1 && grep -q "PASSED" check.out && pass "ntron check accepts the sdg deck" \
    || { fail "ntron check sdg.deck"; tail -3 check.out; }
sdg ref 1 || { fail "sdg run: exit $?"; tail -5 ref.err; }
if msg=$("$PY" - ref <<'PY'
import json, sys
d = sys.argv[1]
def load(s): return [json.loads(l) for l in open(f"{d}/{s}.jsonl")]
def rep(s): return json.load(open(f"{d}/{s}.report.json"))
t = [r["topic"] for r in load("topics")]
assert t == ["cooking", "music", "travel"], t
s = [(r["id"], r["subtopic"]) for r in load("subtopics")]
assert s == [("t1.s1", "bread"), ("t1.s2", "rice"), ("t2.s1", "piano"), ("t2.s2", "drums"), ("t3.s1", "trains"),
             ("t3.s2", "maps")], s
c = rep("subtopics")["counts"]
assert (c["lists"], c["items"], c["repeats"], c["unlisted"]) == (3, 6, 1, 0), c
q = [r["prompt"] for r in load("questions")]
want = ["How long does bread rise?", "Which flour is best?", "How much water for rice?", "Is brown rice healthy?",
        "How do I start piano?", "Who built the first piano?", "Are drums loud?", "How do I tune a drum?",
        "How fast is a train?", "Where do trains go?", "Who drew the first map?", "How do I read a map?"]
assert q == want, q
dl = [r for r in load("dialogue") if r["id"] == "f.bread.dlg"]
assert len(dl) == 1, [r["id"] for r in load("dialogue")]
turns = [m["content"] for m in dl[0]["prompt"]] + [dl[0]["response"]]
assert turns == ["Tell me about bread.", "Bread is baked.", "Why is it baked?", "Heat sets it.", "How hot?", "Very hot."], turns
assert dl[0]["persona"] == "a patient teacher"
assert rep("dialogue")["counts"]["filler"] >= 2, rep("dialogue")["counts"]
tt = [r for r in load("twoturn") if r["id"] == "f.bread.2t"]
assert [m["content"] for m in tt[0]["prompt"]] == ["Tell me about bread.", "Bread is baked.", "What flour?"], tt
resp = load("responses")
assert all(r["prompt"][-1]["role"] == "user" and r["response"] for r in resp)
ids = {r["source"] for r in resp}
assert "f.add" in ids and "t1.s1.q1" in ids, sorted(ids)[:5]
sc = load("score")
assert len(sc) == len(resp) + len(load("dialogue")) and all("reward" in r and len(r["scores"]) == 5 for r in sc)
h = rep("score")["reward"]
assert h["n"] == len(sc) and sum(h["histogram"]["counts"]) == len(sc)
fl = load("filter")
assert len(fl) == len(sc) and all(r["messages"][-1]["role"] == "assistant" for r in fl)
pr = load("pairs")
assert pr and all(p["chosen_reward"] > p["rejected_reward"] and p["chosen"] != p["rejected"] for p in pr)
# the math seed (reference answer 5): its 3 responses are the memorised "The answer is 5.", all right
# (sdg_answer.h), so they are ranked by the reward, which ties: no pair
c = rep("pairs")["counts"]
assert (c["answers_right"], c["answers_wrong"], c["no_correct"], c["pairs_truth"]) == (3, 0, 0, 0), c
assert not [p for p in pr if p["id"] == "f.add"], pr
for s in ["topics", "subtopics", "questions", "revise", "writing", "closed_qa", "math", "python", "twoturn", "dialogue",
          "responses", "score", "filter", "pairs"]:
    r = rep(s)
    assert r["records_out"] == len(load(s)) and r["records_in"] == r["counts"]["in"], (s, r["records_out"])
print(f"topics {t}, 6 subtopics (1 repeat dropped), the 12 memorised questions, the dialogue and follow-up with "
      f"filler removed; {len(resp)} responses, {len(sc)} scored (reward {h['min']:.3f}..{h['max']:.3f}), "
      f"{len(fl)} filtered, {len(pr)} pairs; writing {len(load('writing'))}, closed_qa {len(load('closed_qa'))}, "
      f"math {len(load('math'))}, python {len(load('python'))}, revise {len(load('revise'))}")
PY
); then pass "pipeline on the memorised model: $msg"; else fail "pipeline: $msg"; fi
"$NTRON" prep --tokenizer spm.model --format chat ref/filter.jsonl -o filter.h5 > prep1.out 2>&1 \
    && "$NTRON" prep --tokenizer spm.model --format preference ref/pairs.jsonl -o pairs.h5 > prep2.out 2>&1 \
    && pass "ntron prep reads filter.jsonl (--format chat) and pairs.jsonl (--format preference)" \
    || { fail "prep of the sdg outputs"; tail -2 prep1.out prep2.out; }
"$PY" "$top_srcdir/postprocess/sdg_report.py" ref > report.out 2>&1 && [ "$(grep -c '^| [a-z_]* | [0-9]' report.out)" = 14 ] \
    && { "$PY" -c 'import matplotlib' 2>/dev/null || grep -q "no histogram" report.out; } \
    && { ! "$PY" -c 'import matplotlib' 2>/dev/null || [ -s ref/rewards.png ]; } \
    && pass "postprocess/sdg_report.py: 14 stage rows$([ -s ref/rewards.png ] && echo ', reward histograms in ref/rewards.png')" \
    || { fail "sdg_report.py"; tail -3 report.out; }
grep -q "^sdg done: 14 stages" ref.out && grep -Eq "^sdg responses +shard [0-9]+/[0-9]+: .*tokens/s.*ETA" ref.out \
    && pass "progress: a line per shard with tokens/s and ETA" || fail "progress lines"

# ---- 2: the same bytes for any rank count and layout ----
same() { # name: every stage output equal to ref's
    local s bad=""
    for s in $ALL; do cmp -s ref/$s.jsonl $1/$s.jsonl || bad="$bad $s"; done
    [ -z "$bad" ] && pass "$1: every stage's output has the same bytes as 1 rank" || fail "$1: differs in:$bad"
}
sdg dp2 2 --set sdg.prep=true && same dp2 || fail "dp2 run"
# sdg.prep = true: the next phases' datasets, written by the sdg job itself (2 ranks), hold what ntron prep makes
if "$PY" - dp2 <<'PY'
import sys, h5py, numpy as np
for name, keys in (("filter", ("tokens", "doc_offsets", "loss_mask")), ("pairs", ("tokens", "doc_offsets", "ranges", "rewards"))):
    a, b = h5py.File(f"{sys.argv[1]}/{name}.h5", "r"), h5py.File(f"{name}.h5", "r")
    for k in keys:
        assert np.array_equal(a[k][()], b[k][()]), (name, k)
    assert a.attrs["kind"] == b.attrs["kind"] and a.attrs["tokenizer_hash"] == b.attrs["tokenizer_hash"], name
PY
then pass "sdg.prep: dp2/filter.h5 and dp2/pairs.h5 hold the datasets ntron prep makes of its outputs"
else fail "sdg.prep datasets"; fi
sdg dp3 3 && same dp3 || fail "dp3 run"
# TP2 splits the reward head's sums: its scores agree to 1e-5 (relative), not bit for bit
sdg tp2 2 --set parallel.tensor=2 || fail "tp2 run"
ALL0=$ALL; ALL="topics subtopics questions revise writing closed_qa math python twoturn dialogue responses"; same tp2; ALL=$ALL0
if msg=$("$PY" - ref tp2 <<'PY'
import json, sys
def load(d, s): return [json.loads(l) for l in open(f"{d}/{s}.jsonl")]
worst = 0.0
for s in ["score", "filter"]:
    a, b = load(sys.argv[1], s), load(sys.argv[2], s)
    assert [x["id"] for x in a] == [x["id"] for x in b], s
    for x, y in zip(a, b):
        worst = max(worst, abs(x["reward"] - y["reward"]) / max(1e-6, abs(x["reward"])))
assert worst <= 1e-5, worst
print(f"rewards within {worst:.2e} relative")
PY
); then pass "tp2: score and filter: the same records, $msg"; else fail "tp2 rewards: $msg"; fi
sdg pp2 2 --set parallel.pipeline=2 && same pp2 || fail "pp2 run"
mpi 1 "$NTRON" run sdg.deck --set run.dir=$WORK/viarun < /dev/null > viarun.out 2>&1 && same viarun || fail "ntron run (run.phase = sdg)"

# ---- 3: resume ----
NTRON_FAULT_SDG_KILL=responses:2 sdg kill 2; rc=$?
ls kill/responses.d/shard_0000[01].jsonl > /dev/null 2>&1 && [ ! -e kill/responses.jsonl ] && [ $rc -ne 0 ] \
    && pass "killed after 2 shards of responses: exit $rc, 2 shards written, no responses.jsonl" || fail "kill: rc $rc"
sdg kill 2
kept=$(grep -c "kept: .* is finished" kill.out)
rep=$("$PY" -c 'import json; r = json.load(open("kill/responses.report.json")); print(r["shards_kept"], r["shards"])')
[ "$kept" = 10 ] && [ "${rep%% *}" = 2 ] && pass "rerun: the 10 finished stages kept, responses goes on from 2 kept shards of ${rep#* }" \
    || fail "rerun: $kept stages kept, responses report '$rep'"
same kill
sdg kill 1 && [ "$(grep -c 'kept: .* is finished' kill.out)" = 14 ] && ! grep -q " shard " kill.out \
    && pass "a finished run: all 14 stages kept, nothing generated" || fail "finished run not kept"
cp -r tpl tpl2; printf 'List {n} sub-topics of {topic}.\n' > tpl2/subtopics.txt
sdg kill 1 --set sdg.templates=$WORK/tpl2; rc=$?
[ $rc = 2 ] && [ "$(grep -c '^ntron:' kill.err)" = 1 ] && grep -q "^ntron: .*kill/subtopics.d: stage subtopics was started with other inputs or settings" kill.err \
    && pass "a changed template: exit 2, '$(head -1 kill.err | cut -c1-110)...'" || { fail "changed template: rc $rc"; head -2 kill.err; }

# ---- 4: bad input ----
bad() { # name regex [--set ...]: exit 2, one ntron line, no run dir (sdg and ntron check)
    local name=$1 re=$2 rc; shift 2
    mpi 2 "$NTRON" sdg sdg.deck --set run.dir=$WORK/bad_$name "$@" < /dev/null > "bad_$name.out" 2> "bad_$name.err"; rc=$?
    if [ $rc = 2 ] && [ "$(grep -c '^ntron:' bad_$name.err)" = 1 ] && grep -Eq -- "^ntron: .*$re" bad_$name.err \
       && [ ! -e bad_$name ]; then pass "$name: exit 2, $(head -1 bad_$name.err | cut -c1-150)"
    else fail "$name: rc $rc, $(grep -c '^ntron:' bad_$name.err) lines: $(head -2 bad_$name.err)"; fi
}
mkdir -p tplbad; cp tpl/* tplbad/; printf 'List {n}\nsubtopics of {topik}.\n' > tplbad/subtopics.txt
bad placeholder "tplbad/subtopics.txt:2: unknown placeholder \{topik\} \(this stage fills \{topic\}, \{n\}\)" --set sdg.templates=$WORK/tplbad
"$NTRON" check sdg.deck --set sdg.templates=$WORK/tplbad > chk.out 2>&1; [ $? = 2 ] && grep -q "unknown placeholder {topik}" chk.out \
    && pass "ntron check refuses the unknown placeholder too" || fail "ntron check: unknown placeholder"
cp tpl/subtopics.txt tplbad/; printf 'Ask {n} questions.\n' > tplbad/questions.txt
bad required "tplbad/questions.txt does not use \{subtopic\}" --set sdg.templates=$WORK/tplbad
: > empty.txt
bad empty_topics "sdg.topics_file = .*empty.txt: no items \(the file is empty" --set sdg.topics_file=$WORK/empty.txt
bad reward_generator "checkpoint .*rmck.* has a reward head; the sdg generator \(checkpoint.load\) needs .*LM head" --set checkpoint.load=$WORK/rmck
bad lm_reward_model "checkpoint .*lmck.* has a language-model \(LM\) head; the sdg score stage" --set sdg.reward_model=$WORK/lmck
bad unknown_stage "sdg.stages: no stage named 'topicz'" --set "sdg.stages=topicz subtopics"
bad genetic_no_seeds "sdg.seeds.*is empty: the genetic stage needs seed" --set "sdg.stages=topics genetic"
bad order "stage subtopics reads the output of topics: list it before subtopics" --set "sdg.stages=subtopics topics"
bad no_prompts "stage responses needs prompts" --set "sdg.stages=topics responses" --set sdg.prompts=
bad personas "sdg.personas.* is empty: the dialogue stage needs it" --set sdg.personas=
printf '{"id": "x", "prompt": "ok"}\n{"id": "y"}\n' > badp.jsonl
bad prompts_line "badp.jsonl:2: missing field \"prompt\"" --set sdg.prompts=$WORK/badp.jsonl
bad one_response "sdg.responses.* = 1: the pairs stage needs 2 or more" --set sdg.responses=1
printf '{"id": "x", "prompt": "Hi", "instructions": [{"id": "keywords:exist", "kwargs": {}}]}\n' > badins1.jsonl
bad seed_instruction_id "badins1.jsonl:1: instructions\[0\]: unknown instruction id 'keywords:exist'" --set sdg.prompts=$WORK/badins1.jsonl
printf '{"id": "x", "prompt": "Hi", "instructions": [{"id": "length_constraints:number_words", "kwargs": {"relation": "at least", "num_words": 5}}]}\n' > badins2.jsonl
bad seed_instruction_args "badins2.jsonl:1: instructions\[0\] \(length_constraints:number_words\): .*num_words must be an integer in 100..500" --set sdg.prompts=$WORK/badins2.jsonl
bad reward_as_generator "a generator of sdg.generators needs a checkpoint with an LM head" --set "sdg.generators=$WORK/rmck"
bad generators_no_responses "sdg.generators: is set, but sdg.stages has no responses stage" --set "sdg.stages=topics" --set "sdg.generators=$WORK/lmck"
bad prep_no_tokenizer "sdg.prep: = true needs data.tokenizer" --set sdg.prep=true --set data.tokenizer=
bad ifeval_kind "sdg.ifeval_kinds.*unknown instruction id 'keywords:exist' \(all, or ids of: keywords:existence" \
    --set "sdg.stages=ifeval responses" --set "sdg.ifeval_kinds=punctuation:no_comma keywords:exist"
bad ifeval_fractions "sdg.ifeval_multiturn.*0.7 \+ sdg.ifeval_secondturn 0.5 is more than 1" --set "sdg.stages=ifeval responses" \
    --set sdg.ifeval_multiturn=0.7 --set sdg.ifeval_secondturn=0.5

# ---- 5: ifeval: prompts with verifiable instructions, into responses and score ----
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do printf '{"id": "q%d", "prompt": "Tell me about bread, part %d."}\n' $i $i; done > iprompts.jsonl
# kinds of short texts: the tiny model's context (192 tokens) refuses longer prompts
ifv() { sdg "$@" --set "sdg.stages=ifeval responses score" --set sdg.prompts=$WORK/iprompts.jsonl --set sdg.ifeval_max=2 \
    --set sdg.ifeval_multiturn=0.3 --set sdg.ifeval_secondturn=0.3 --set sdg.responses=2 \
    --set "sdg.ifeval_kinds=punctuation:no_comma startend:quotation length_constraints:number_words combination:repeat_prompt keywords:existence detectable_format:title"; }
ifv if1 1 || { fail "ifeval run: exit $?"; tail -3 if1.err; }
if msg=$("$PY" - if1 "${NTRON_BUILDDIR:-$PWD}/tests/ifeval_check" <<'PY'
import collections, json, subprocess, sys
d, check = sys.argv[1], sys.argv[2]
def load(s): return [json.loads(l) for l in open(f"{d}/{s}.jsonl")]
recs = load("ifeval")
rep = json.load(open(f"{d}/ifeval.report.json"))["counts"]
# a prompt whose generated turn is empty is dropped (counted): the memorised model ends some at once
assert len(recs) >= 6 and len(recs) + rep["empty"] == 12 and all(r["id"] == r["source"] + ".if" for r in recs), [r["id"] for r in recs]
var = collections.Counter(r["variant"] for r in recs)
assert set(var) <= {"single", "multiturn", "secondturn"} and len(var) >= 2, var
# every instruction's text (tests/ifeval_check describe) is in the user turns, as each variant places it
cases = [{"name": f"{r['id']}/{i}", "id": x["id"], "kwargs": x["kwargs"], "prompt": "", "response": ""}
         for r in recs for i, x in enumerate(r["instructions"])]
open(f"{d}/instructions.jsonl", "w").write("".join(json.dumps(c) + "\n" for c in cases))
desc = dict(l.split(" ", 1) for l in subprocess.run([check, "describe", f"{d}/instructions.jsonl"], check=True,
                                                    capture_output=True, text=True).stdout.splitlines())
for r in recs:
    ins, m = r["instructions"], r["messages"]
    assert 1 <= len(ins) <= 2 and len({x["id"] for x in ins}) == len(ins), ins
    roles = [x["role"] for x in m]
    texts = [json.loads(desc[f"{r['id']}/{i}"]) for i in range(len(ins))]
    if r["variant"] == "single":
        assert roles == ["user"] and m[0]["content"] == "Tell me about bread, part %s.\n\n" % r["source"][3:] + "\n".join(texts), m
    elif r["variant"] == "multiturn":
        assert roles == ["user", "assistant", "user"] and m[1]["content"] and m[2]["content"].startswith("Tell me about bread"), m
        assert all(t in m[0]["content"] for t in texts) and m[0]["content"].endswith("apply to all the following questions."), m[0]
    else:
        assert roles == ["user", "assistant", "user"] and m[0]["content"].startswith("Tell me about bread") and m[1]["content"], m
        assert m[2]["content"].startswith("Revise your previous answer") and all(t in m[2]["content"] for t in texts), m[2]
        assert all(x["id"] != "combination:repeat_prompt" for x in ins)
    for x in ins:
        if x["id"] == "combination:repeat_prompt":
            assert x["kwargs"]["prompt_to_repeat"] and m[-1]["content"].startswith(x["kwargs"]["prompt_to_repeat"]), x
assert rep["multiturn"] == var["multiturn"] and rep["secondturn"] == var["secondturn"], rep
assert rep["instructions"] == len(cases), rep
by = {r["id"]: r for r in recs}
# responses answer the ifeval prompts (carrying their instructions) and, as ever, the plain prompts of sdg.prompts
resp = [r for r in load("responses") if r["source"] in by]
plain = [r for r in load("responses") if r["source"] not in by]
assert resp and all(r["instructions"] == by[r["source"]]["instructions"] and r["prompt"] == by[r["source"]]["messages"]
                    for r in resp) and plain and all("instructions" not in r for r in plain)
sc = [s for s in load("score") if s["source"] in by]
assert len(sc) == len(resp) and all(s["instructions"] == by[s["source"]]["instructions"] for s in sc)
# the reports' verifier pass rates: every instruction of every response checked, per kind
ver = json.load(open(f"{d}/responses.report.json"))["verifiers"]
assert ver["responses"] == len(resp) and sum(k["n"] for k in ver["kinds"].values()) == sum(len(r["instructions"]) for r in resp), ver
assert all(0 <= k["strict"] <= k["loose"] <= 1 for k in ver["kinds"].values()), ver
print(f"{len(recs)} prompts ({dict(var)}; {rep['empty']} dropped: empty generated turn), {len(cases)} instructions, their texts in place; {len(resp)} responses "
      f"and {len(sc)} scored conversations carry them; verifiers: prompt-level strict {ver['prompt_level']['strict']:.2f} over {len(ver['kinds'])} kinds")
PY
); then pass "ifeval stage: $msg"; else fail "ifeval stage: $msg"; fi
# seed prompts with their own IFEval instructions (as IFEval's data gives them): carried, verified, reported
printf '%s\n' '{"id": "nc", "prompt": "Tell me about bread.", "instructions": [{"id": "punctuation:no_comma", "kwargs": {}}]}' \
    '{"id": "caps", "prompt": "What is 2+3?", "instructions": [{"id": "change_case:english_capital", "kwargs": {}}]}' > sprompts.jsonl
sdg sp 2 --set "sdg.stages=responses score pairs" --set sdg.prompts=$WORK/sprompts.jsonl --set sdg.responses=3 \
    || { fail "seed instructions run: exit $?"; tail -3 sp.err; }
if msg=$("$PY" - sp <<'PY'
import json, sys
d = sys.argv[1]
resp = [json.loads(l) for l in open(f"{d}/responses.jsonl")]
assert len(resp) == 6 and all(r["instructions"][0]["id"] in ("punctuation:no_comma", "change_case:english_capital") for r in resp)
k = json.load(open(f"{d}/responses.report.json"))["verifiers"]["kinds"]
# the memorised replies ("Bread is baked.", "The answer is 5.") have no comma and are not in capitals
assert k["punctuation:no_comma"] == {"n": 3, "strict": 1, "loose": 1} and k["change_case:english_capital"]["strict"] == 0, k
c = json.load(open(f"{d}/pairs.report.json"))["counts"]
assert (c["answers_right"], c["answers_wrong"], c["no_correct"]) == (3, 3, 1), c
print(f"verifier pass rates {k}; pairs stage: 3 right, 3 wrong, the capitals prompt without a right response (no pair)")
PY
); then pass "seed prompts with IFEval instructions: $msg"; else fail "seed prompts with instructions: $msg"; fi
# several generators (sdg.generators): n samples per prompt from each, keyed apart, ranked together
for np in 1 2; do
    sdg mg$np $np --set "sdg.stages=responses score pairs" --set sdg.prompts=$WORK/sprompts.jsonl --set sdg.responses=2 \
        --set "sdg.generators=$WORK/./lmck" --set sdg.shard_size=1 || fail "sdg.generators run on $np rank(s)"
done
if "$PY" - mg1 "$WORK/./lmck" <<'PY' && cmp -s mg1/responses.jsonl mg2/responses.jsonl && cmp -s mg1/pairs.jsonl mg2/pairs.jsonl
import json, sys
d, g2 = sys.argv[1], sys.argv[2]
resp = [json.loads(l) for l in open(f"{d}/responses.jsonl")]
for src in ("f.nc", "f.caps"):
    rs = [r for r in resp if r["source"] == src]
    assert [r["sample"] for r in rs] == [0, 1, 2, 3] and [r["generator"] == g2 for r in rs] == [False, False, True, True], rs
assert json.load(open(f"{d}/pairs.report.json"))["counts"]["answers_right"] == 4
PY
then pass "sdg.generators: 2 samples a prompt from checkpoint.load and 2 from the second generator, numbered 0-3, ranked together; the same bytes on 2 ranks"
else fail "sdg.generators"; fi
ifv if2 2 && cmp -s if1/ifeval.jsonl if2/ifeval.jsonl && cmp -s if1/responses.jsonl if2/responses.jsonl \
    && pass "ifeval on 2 data-parallel ranks: the same ifeval and responses bytes" || fail "ifeval dp2 differs"
finish
