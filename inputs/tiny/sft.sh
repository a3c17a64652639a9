#!/bin/bash
# inputs/tiny/sft.sh — the tiny two-stage SFT of the README on this
# machine's CPU: a SentencePiece tokenizer (the chat format needs its chat
# tokens), the tiny corpus and the chat sets prepared with it, the tiny
# pretraining (inputs/tiny/pretrain.deck with that tokenizer, saving a
# checkpoint), then code SFT (inputs/tiny/sft-code.deck) and general SFT
# (inputs/tiny/sft-general.deck), each from the previous stage's weights.
# Each stage holds out the last conversations of its chat set (24 of 240
# code, 10 of 60 general) and reports their mean assistant-token NLL before
# the stage (a step at learning rate 0: the weights it starts from) and
# after it (RUNDIR/heldout.json); the table at the end sums them up.
# Needs a built ntron (inputs/tiny/run.sh builds build/src/ntron; NTRON=path
# to use another).  NP=2 runs 2 MPI ranks.  Everything goes under runs/.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${NTRON:-build/src/ntron}
[ -x "$N" ] || { echo "sft.sh: no ntron at $N (run inputs/tiny/run.sh first, or set NTRON)" >&2; exit 1; }
NP=${NP:-1}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo
[ "$NP" -gt 1 ] && export OPENBLAS_NUM_THREADS=1
D=runs/tiny-data
mkdir -p $D
[ -f $D/spm.model ] || "$N" tokenizer train --vocab 512 -o $D/spm inputs/tiny/corpus.txt inputs/data/tokenizer.txt >/dev/null
[ -f $D/corpus-spm.h5 ] || "$N" prep --tokenizer $D/spm.model inputs/tiny/corpus.txt -o $D/corpus-spm.h5
split() { # SRC NAME KEEP: the first KEEP conversations train, the rest are held out
    [ -f $D/$2_train.h5 ] || { head -n "$3" "$1" > $D/$2_train.jsonl
        "$N" prep --tokenizer $D/spm.model --format chat $D/$2_train.jsonl -o $D/$2_train.h5; }
    [ -f $D/$2_valid.h5 ] || { tail -n +"$(($3 + 1))" "$1" > $D/$2_valid.jsonl
        "$N" prep --tokenizer $D/spm.model --format chat $D/$2_valid.jsonl -o $D/$2_valid.h5; }
}
split inputs/data/chat_code.jsonl code 216
split inputs/data/chat.jsonl chat 50
run() { mpirun --oversubscribe -np "$NP" "$N" run "$@" < /dev/null; }
# the held-out NLL of the weights a stage starts from: one step at learning rate 0
before() { run "$1" --set run.name="$2" --set train.epochs=0 --set train.steps=1 --set train.lr=0 --set train.min_lr=0 \
    --set train.warmup=0 --set checkpoint.dir= "${@:3}" > /dev/null; }
[ -f runs/tiny-spm/checkpoints/latest ] ||
    run inputs/tiny/pretrain.deck --set run.name=tiny-spm --set model.vocab=512 --set data.tokenizer=$D/spm.model \
        --set data.train=$D/corpus-spm.h5 --set checkpoint.dir=runs/tiny-spm/checkpoints
before inputs/tiny/sft-code.deck tiny-sft-code-before "$@"
run inputs/tiny/sft-code.deck "$@"
before inputs/tiny/sft-general.deck tiny-sft-general-before "$@"
run inputs/tiny/sft-general.deck "$@"
python3 - <<'PY'
import json
print("stage         held-out conversations       assistant NLL before -> after   other-token NLL before -> after")
for st, what in (("code", "24 code (chat_code.jsonl)"), ("general", "10 general (chat.jsonl)")):
    b = json.load(open(f"runs/tiny-sft-{st}-before/heldout.json"))
    a = json.load(open(f"runs/tiny-sft-{st}/heldout.json"))
    print(f"sft-{st:8s} {what:28s} {b['assistant_nll']:8.3f} -> {a['assistant_nll']:6.3f}"
          f"            {b['user_nll']:8.3f} -> {a['user_nll']:6.3f}")
PY
