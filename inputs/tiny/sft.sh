#!/bin/bash
# inputs/tiny/sft.sh — the tiny two-stage SFT of the README on this
# machine's CPU: a SentencePiece tokenizer (the chat format needs its chat
# tokens), the tiny corpus and the chat sets prepared with it, the tiny
# pretraining (inputs/tiny/pretrain.deck with that tokenizer, saving a
# checkpoint), then code SFT (inputs/tiny/sft-code.deck) and general SFT
# (inputs/tiny/sft-general.deck), each from the previous stage's weights.
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
[ -f $D/chat.h5 ] || "$N" prep --tokenizer $D/spm.model --format chat inputs/data/chat.jsonl -o $D/chat.h5
[ -f $D/chat_code.h5 ] || "$N" prep --tokenizer $D/spm.model --format chat inputs/data/chat_code.jsonl -o $D/chat_code.h5
run() { mpirun --oversubscribe -np "$NP" "$N" run "$@" < /dev/null; }
[ -f runs/tiny-spm/checkpoints/latest ] ||
    run inputs/tiny/pretrain.deck --set run.name=tiny-spm --set model.vocab=512 --set data.tokenizer=$D/spm.model \
        --set data.train=$D/corpus-spm.h5 --set checkpoint.dir=runs/tiny-spm/checkpoints
run inputs/tiny/sft-code.deck "$@"
run inputs/tiny/sft-general.deck "$@"
