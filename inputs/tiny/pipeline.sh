#!/bin/bash
# inputs/tiny/pipeline.sh — the whole tiny pipeline of the report on this
# machine's CPU, phase after phase: inputs/tiny/run.sh (installs what is
# missing, builds, the tiny pretraining as a local Slurm job), then
# inputs/tiny/sft.sh (a SentencePiece tokenizer with the chat tokens, the
# tiny pretraining with it, code SFT, general SFT, held-out NLL before and
# after each), inputs/tiny/align.sh (DPO, then RPO x3, each referencing the
# previous checkpoint, held-out pair numbers) and last `ntron generate`
# with the final RPO model on a few chat prompts (greedy) into
# runs/tiny-generate.jsonl, then inputs/tiny/sdg.sh: the tiny reward model
# and the synthetic-data stages (prompts, dialogues, responses, reward
# scores, filtering, preference pairs) with the final RPO model as
# generator, their outputs prepared for SFT and DPO.  Not in it yet: a
# second round (SFT/DPO of a new base on the SDG data).  Arguments go to
# run.sh's pretraining; NP=2 runs 2 MPI ranks.
set -euo pipefail
cd "$(dirname "$0")/../.."
inputs/tiny/run.sh "$@"
inputs/tiny/sft.sh
inputs/tiny/align.sh
N=build/src/ntron
cat > runs/tiny-prompts.jsonl <<'EOF'
{"id": "code", "messages": [{"role": "user", "content": "Write a Python function that adds two numbers."}]}
{"id": "chat", "messages": [{"role": "user", "content": "What colour is the sky?"}]}
{"id": "raw", "prompt": "The model was trained"}
EOF
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo
mpirun --oversubscribe -np 1 "$N" generate inputs/tiny/rpo3.deck --set run.phase=generate \
    --set checkpoint.load=runs/tiny-rpo3/checkpoints --set checkpoint.dir= --set run.dir=runs/tiny-generate \
    --set generate.input=runs/tiny-prompts.jsonl --set generate.output=runs/tiny-generate.jsonl \
    --set generate.temperature=0 --set generate.max_new_tokens=48 < /dev/null
python3 - <<'PY'
import json
for r in map(json.loads, open("runs/tiny-generate.jsonl")):
    print(f"pipeline: generate [{r['id']}] {r['response_tokens']} tokens ({r['finish_reason']}): {r['response'][:100]!r}")
PY
inputs/tiny/sdg.sh
