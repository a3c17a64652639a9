#!/bin/bash
# inputs/tiny/pipeline/run.sh — the report's whole pipeline on the tiny
# model as ONE chain of Slurm jobs on this machine's local Slurm, two rounds
# of the weak-to-strong loop:
#   01 pretrain -> 02 continued pretraining -> 03 reward model
#   -> 04 the teacher (SFT on the seed code conversations and the tiny genetic
#      templates' answers: the stand-in for the report's outside instruct model)
#   -> 05 Genetic Instruct (the teacher mutates, solves and judges; genetic.h5)
#   -> 06 code SFT of the base on Genetic Instruct's kept pairs and the seeds
#   round 1: 07 SDG (generator_1 = the weak code-SFT model) -> 08 general SFT
#            (with the SDG conversations) -> 09 DPO -> 10..12 RPO x3 (on the SDG pairs)
#   round 2: 13 SDG (generator_2 = round 1's aligned model) -> 14 general SFT
#            of the base -> 15 DPO -> 16..18 RPO x3 (on round 2's data)
# It installs what is missing and builds (inputs/tiny/build.sh), prepares
# the tokenizer and data under runs/tiny-data (as inputs/tiny/sft.sh,
# align.sh and sdg.sh do), starts slurm/local-cluster, submits the numbered
# decks of the pipeline directory with `slurm/submit DIR` (one job each,
# chained afterok; the SDG jobs write their SFT and preference datasets
# themselves, sdg.prep = true), follows the chain and prints a table per
# job (state, seconds) and the loop's numbers: Genetic Instruct's counts, each SDG round's counts, the
# held-out NLL of general SFT and held-out pair accuracy after DPO and each
# RPO.  Outputs: runs/tl-*; job logs runs/ntron-*-JOB.out.  A rerun starts
# the chain afresh (runs/tl-* removed).  PIPELINE=DIR submits another
# directory of numbered decks (tests/test_pipeline.sh: a shortened copy);
# NTRON_WORKDIR=DIR runs in DIR instead of the clone (it must hold, or
# link to, the clone's inputs/, slurm/ and build-aux/; runs/ goes there);
# NTRON_SKIP_BUILD=1 uses build/src/ntron as it is (or NTRON_BIN).
set -euo pipefail
cd "$(dirname "$0")/../../.."
top=$PWD
[ "${NTRON_SKIP_BUILD:-0}" = 1 ] || inputs/tiny/build.sh   # in the clone, before any NTRON_WORKDIR
[ -z "${NTRON_WORKDIR:-}" ] || cd "$NTRON_WORKDIR"
P=${PIPELINE:-inputs/tiny/pipeline}
export NTRON_HOME=$top NTRON_BIN=${NTRON_BIN:-$top/build/src/ntron}
N=$NTRON_BIN
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo

# ---- data: tokenizer with the chat tokens, corpus, chat sets, reward set, held-out pairs, SDG prompts ----
D=runs/tiny-data
mkdir -p $D
[ -f $D/spm.model ] || "$N" tokenizer train --vocab 512 -o $D/spm inputs/tiny/corpus.txt inputs/data/tokenizer.txt >/dev/null
[ -f $D/corpus-spm.h5 ] || "$N" prep --tokenizer $D/spm.model inputs/tiny/corpus.txt -o $D/corpus-spm.h5 >/dev/null
split() { # SRC NAME KEEP: the first KEEP conversations train, the rest are held out
    [ -f $D/$2_train.h5 ] || { head -n "$3" "$1" > $D/$2_train.jsonl
        "$N" prep --tokenizer $D/spm.model --format chat $D/$2_train.jsonl -o $D/$2_train.h5 >/dev/null; }
    [ -f $D/$2_valid.h5 ] || { tail -n +"$(($3 + 1))" "$1" > $D/$2_valid.jsonl
        "$N" prep --tokenizer $D/spm.model --format chat $D/$2_valid.jsonl -o $D/$2_valid.h5 >/dev/null; }
}
split inputs/data/chat_code.jsonl code 216
# the teacher's conversations (answers to the tiny genetic templates of inputs/tiny/gi)
[ -f $D/teacher.h5 ] || { python3 inputs/tiny/gi/make_teacher.py inputs/tiny/gi/templates $D/teacher.jsonl >/dev/null
    "$N" prep --tokenizer $D/spm.model --format chat $D/teacher.jsonl -o $D/teacher.h5 >/dev/null; }
split inputs/data/chat.jsonl chat 50
[ -f $D/reward.h5 ] || "$N" prep --tokenizer $D/spm.model --format reward inputs/data/reward.jsonl -o $D/reward.h5 >/dev/null
[ -f $D/pref_valid.jsonl ] || python3 inputs/tiny/make_pref.py $D/pref 400 100
[ -f $D/pref_valid.h5 ] || "$N" prep --tokenizer $D/spm.model --format preference $D/pref_valid.jsonl -o $D/pref_valid.h5 >/dev/null
# the SDG rounds' seed prompts: the seed file (two with reference answers) and the first user
# turn of every 2nd general and every 8th code training conversation
python3 - $D <<'PY'
import json, sys
d = sys.argv[1]
out = [json.loads(l) for l in open("inputs/sdg/prompts.jsonl")]
for name, step in (("chat", 2), ("code", 8)):
    for i, l in enumerate(open(f"{d}/{name}_train.jsonl")):
        if i % step == 0:
            u = next(m["content"] for m in json.loads(l)["messages"] if m["role"] == "user")
            out.append({"id": f"{name}{i}", "prompt": u})
with open(f"{d}/loop_prompts.jsonl", "w") as f:
    for r in out: f.write(json.dumps(r) + "\n")
PY

# ---- the chain ----
rm -rf runs/tl-*
slurm/local-cluster start > runs/local-cluster.out 2>&1 || { cat runs/local-cluster.out; echo "pipeline: the local Slurm could not start" >&2; exit 1; }
trap 'slurm/local-cluster stop >/dev/null 2>&1 || true' EXIT
eval "$(slurm/local-cluster env)"
mkdir -p runs
export NTRON_OUTPUT=$PWD/runs/%x-%j.out NTRON_TASKS_PER_NODE=${NP:-1}
t0=$(date +%s)
out=$(slurm/submit "$P") || { printf '%s\n' "$out"; exit 2; }
read -r -a ids <<< "$(printf '%s\n' "$out" | sed -n 's/^jobs: //p')"
mapfile -t decks < <(printf '%s\n' "$out" | sed -n 's/^submitted [0-9]*: [a-z0-9-]* \(.*\) (.*/\1/p')
echo "pipeline: ${#ids[@]} jobs submitted to the local Slurm: ${ids[*]}"
state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
declare -A shown
while :; do
    done_all=1
    for i in "${!ids[@]}"; do
        id=${ids[$i]}; s=$(state "$id")
        case "$s" in
            COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)
                if [ -z "${shown[$id]:-}" ]; then
                    shown[$id]=$s
                    el=$(scontrol show job "$id" | sed -n 's/.* RunTime=\([0-9:]*\) .*/\1/p')
                    printf 'pipeline: job %s %-32s %-10s run time %s\n' "$id" "$(basename "${decks[$i]}")" "$s" "$el"
                fi ;;
            *) done_all=0 ;;
        esac
    done
    [ $done_all = 1 ] && break
    sleep 1
done
echo "pipeline: the chain took $(( $(date +%s) - t0 )) s"
fail=0
for id in "${ids[@]}"; do [ "${shown[$id]}" = COMPLETED ] || fail=1; done
if [ $fail = 1 ]; then
    for id in "${ids[@]}"; do
        [ "${shown[$id]}" = FAILED ] && { echo "pipeline: job $id failed; the end of its log:"; tail -5 runs/ntron-*-"$id".out; }
    done
    exit 1
fi

# ---- the loop's numbers ----
python3 - <<'PY'
import json, os
def js(p):
    return json.load(open(p)) if os.path.exists(p) else None
g = js("runs/tl-genetic/genetic.report.json")
if g:
    t = g["total"]
    print(f"pipeline: tl-genetic: {t['population']} instructions made over {len(g['generations'])} generations, "
          f"{t['judged']} judged ({t['unparsed']} verdicts unparsed, {t['incorrect']} incorrect, {t['below_threshold']} below "
          f"the threshold), {t['duplicates']} near-duplicates, {t['kept']} kept for code SFT")
for r in ("tl-sdg1", "tl-sdg2"):
    f, p = js(f"runs/{r}/filter.report.json"), js(f"runs/{r}/pairs.report.json")
    rs = js(f"runs/{r}/responses.report.json")
    c = p["counts"]
    print(f"pipeline: {r}: {rs['counts']['out']} responses, {f['counts']['passed']} kept by the reward filter, "
          f"{c['pairs']} pairs ({c['pairs_truth']} by the reference answer, {c['answers_right']} right / "
          f"{c['answers_right'] + c['answers_wrong']} answers)")
for r in ("tl-sft-general", "tl-sft-general-r2"):
    h = js(f"runs/{r}/heldout.json")
    if h: print(f"pipeline: {r}: held-out assistant NLL {h['assistant_nll']:.3f}")
for r in ("tl-dpo", "tl-rpo1", "tl-rpo2", "tl-rpo3", "tl-dpo-r2", "tl-rpo1-r2", "tl-rpo2-r2", "tl-rpo3-r2"):
    h = js(f"runs/{r}/heldout.json")
    if h: print(f"pipeline: {r}: held-out pairs accuracy {h.get('accuracy', float('nan')):.2f}, mean margin {h.get('margin', float('nan')):.2f}")
PY
