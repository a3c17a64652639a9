#!/bin/bash
# test_pipeline.sh — the weak-to-strong loop of inputs/tiny/pipeline/ as one
# Slurm chain (issue #17 point 5, #21 point 3), in a shortened form: the same 18 numbered
# decks and inputs/tiny/pipeline/run.sh (data, local Slurm, slurm/submit DIR,
# the table), with fewer steps per phase (pretraining 12, CPT 4, RM 6, code
# SFT 4, general SFT and DPO/RPO 2 each; the teacher and Genetic Instruct as
# they are: a weaker teacher keeps no pair), 8 seed prompts, 2 responses of at
# most 24 tokens, the held-out pairs only after the first DPO and the last RPO; the full form is README's `inputs/tiny/pipeline/run.sh`
# (about 8 minutes here).  Checks: every job COMPLETED, in chain order; the
# SDG jobs wrote their datasets (sdg.prep); Genetic Instruct ran on the
# teacher and kept pairs with their lineage, and code SFT read them (the
# genetic report adds up); round 1 generated with the code-SFT
# model and round 2 with round 1's last RPO model; round 2's SFT read round
# 2's conversations and its DPO round 2's pairs; each preference phase
# started from and referenced the one before; held-out numbers written; the
# last RPO checkpoint exists.  And slurm/submit
# refuses a chain whose SFT reads a dataset no earlier phase writes.  Skips
# (77) without Slurm.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
export OPENBLAS_NUM_THREADS=1
for d in inputs slurm build-aux; do ln -s "$top_srcdir/$d" "$d"; done
mkdir -p short runs/tiny-data
cp "$top_srcdir"/inputs/tiny/pipeline/*.deck short/
head -n 8 "$top_srcdir/inputs/sdg/prompts.jsonl" > runs/tiny-data/short_prompts.jsonl
printf '{"id": "b1", "prompt": "Write two sentences about an empty house."}\n{"id": "b2", "prompt": "Write a Python function that doubles a number."}\n' >> runs/tiny-data/short_prompts.jsonl
cd short
sed -i 's/^steps = 80$/steps = 12/; s/^interval = 80$/interval = 12/' 01-pretrain.deck
sed -i 's/^steps = 30$/steps = 4/; s/^interval = 30$/interval = 4/' 02-cpt.deck
sed -i 's/^steps = 60$/steps = 6/; s/^interval = 60$/interval = 6/' 03-rm.deck
sed -i 's/^steps = 14$/steps = 4/' 06-sft-code.deck
for d in 08-sft-general.deck 14-sft-general-r2.deck 09-dpo.deck 10-rpo1.deck 11-rpo2.deck 12-rpo3.deck 15-dpo-r2.deck 1[678]-rpo*-r2.deck; do
    sed -i 's/^steps = 0$/steps = 2/; s/^epochs = [0-9]*$/epochs = 0/' "$d"
done
# the held-out pairs (100 at seq_len 384: most of a preference job's time) only after the first and the last
for d in 10-rpo1.deck 11-rpo2.deck 12-rpo3.deck 15-dpo-r2.deck 16-rpo1-r2.deck 17-rpo2-r2.deck; do sed -i '/^valid = /d' "$d"; done
for d in 07-sdg.deck 13-sdg2.deck; do
    sed -i 's#^prompts = .*#prompts = runs/tiny-data/short_prompts.jsonl#; s/^responses = 3$/responses = 2/; s/^max_new_tokens = 48$/max_new_tokens = 24/; s/^reward_threshold = .*/reward_threshold = -1e9/' "$d"
done
cd "$WORK"
export NTRON_SLURM_DIR=$WORK/slurm-state NTRON_SLURM_PORT=$((18800 + $$ % 400 * 2))
if ! "$top_srcdir/slurm/local-cluster" start > cluster.out 2>&1; then cat cluster.out; echo "SKIP: local Slurm did not start"; exit 77; fi
"$top_srcdir/slurm/local-cluster" stop > /dev/null 2>&1   # run.sh starts its own, with the same settings

t0=$(date +%s)
NTRON_WORKDIR=$WORK PIPELINE=short NTRON_SKIP_BUILD=1 NTRON_BIN=$NTRON \
    timeout -k 5 900 "$top_srcdir/inputs/tiny/pipeline/run.sh" > pipeline.out 2>&1; rc=$?
el=$(( $(date +%s) - t0 ))
n=$(grep -c '^pipeline: job [0-9]* .* COMPLETED ' pipeline.out)
order=$(sed -n 's/^pipeline: job [0-9]* \([0-9][0-9]\)-.*/\1/p' pipeline.out | tr '\n' ' ')
if [ $rc = 0 ] && [ "$n" = 18 ] && [ "$order" = "01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 " ]; then
    pass "the two-round chain: 18 jobs COMPLETED in order in ${el} s"
else fail "pipeline run.sh: rc $rc, $n COMPLETED, order '$order'"; tail -15 pipeline.out; fi
if "$PYTHON" - <<'PY'
import json, os
def deck(d):
    out, sec = {}, None
    for l in open(f"runs/{d}/deck.resolved"):
        l = l.strip()
        if l.startswith("["): sec = l.strip("[]")
        elif "=" in l: k, v = l.split("=", 1); out[f"{sec}.{k.strip()}"] = v.strip()
    return out
for r in ("tl-sdg1", "tl-sdg2"):
    for f in ("filter.h5", "pairs.h5", "pairs.report.json"):
        assert os.path.getsize(f"runs/{r}/{f}") > 0, (r, f)
assert deck("tl-genetic")["checkpoint.load"] == "runs/tl-sft-teacher/checkpoints"
assert "runs/tl-genetic/genetic.h5" in deck("tl-sft-code")["data.train"], deck("tl-sft-code")["data.train"]
assert os.path.getsize("runs/tl-genetic/genetic.h5") > 0
g = json.load(open("runs/tl-genetic/genetic.report.json"))
kept = [json.loads(l) for l in open("runs/tl-genetic/genetic.jsonl")]
assert g["total"]["kept"] == len(kept) > 0 and g["total"]["population"] == sum(x["population"] for x in g["generations"]), g["total"]
for o in kept:
    assert o["seed"].startswith("s.") and o["generation"] in (1, 2) and o["operator"] and o["parent"] and o["judge_score"] >= 7, o
assert deck("tl-sdg1")["checkpoint.load"] == "runs/tl-sft-code/checkpoints", deck("tl-sdg1")["checkpoint.load"]
assert deck("tl-sdg2")["checkpoint.load"] == "runs/tl-rpo3/checkpoints"
assert "runs/tl-sdg1/filter.h5" in deck("tl-sft-general")["data.train"]
assert "runs/tl-sdg2/filter.h5" in deck("tl-sft-general-r2")["data.train"]
assert deck("tl-dpo")["data.train"] == "runs/tl-sdg1/pairs.h5" and deck("tl-dpo-r2")["data.train"] == "runs/tl-sdg2/pairs.h5"
prev = "tl-sft-general"
for r in ("tl-dpo", "tl-rpo1", "tl-rpo2", "tl-rpo3"):
    d = deck(r)
    assert d["checkpoint.load"] == d["align.reference"] == f"runs/{prev}/checkpoints", (r, d["checkpoint.load"])
    prev = r
for r in ("tl-dpo", "tl-rpo3-r2"):
    h = json.load(open(f"runs/{r}/heldout.json"))
    assert 0 <= h["accuracy"] <= 1 and h["pairs"] == 100, h
assert os.path.exists("runs/tl-rpo3-r2/checkpoints/latest")
PY
then pass "Genetic Instruct on the teacher kept pairs with their lineage and code SFT read them; round 1 generated with the code-SFT model, round 2 with rpo3; each round's SFT and DPO read its own SDG datasets; each preference phase from and referencing the previous, held-out numbers of the first DPO and the last RPO; final checkpoint runs/tl-rpo3-r2"
else fail "the chain's data flow"; fi
grep -q '^pipeline: tl-sdg2: ' pipeline.out && grep -q '^pipeline: tl-rpo3-r2: held-out pairs accuracy' pipeline.out \
    && pass "the loop's table: $(grep -c '^pipeline: tl-' pipeline.out) lines" || fail "the loop's table"
# refused: a general SFT whose synthetic conversations no earlier phase writes (sdg.prep off)
mkdir -p noprep; cp short/*.deck noprep/
sed -i 's#tl-sdg1#tl-sdgx#g' noprep/*.deck; sed -i 's/^prep = true$/prep = false/' noprep/07-sdg.deck
expect_error "submit: SFT reads a dataset nothing writes" 2 "chain does not connect: noprep/08-sft-general.deck reads \(data\) 'runs/tl-sdgx/filter.h5'" \
    -- env NTRON_HOME="$top_srcdir" NTRON_BIN="$NTRON" "$top_srcdir/slurm/submit" --dry-run noprep
finish
