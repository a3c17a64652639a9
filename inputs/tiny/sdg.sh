#!/bin/bash
# inputs/tiny/sdg.sh — the synthetic-data stages on the tiny model, after
# inputs/tiny/align.sh: the tiny reward model (inputs/tiny/rm.deck, on the
# tiny SentencePiece pretraining checkpoint), then `ntron sdg
# inputs/tiny/sdg.deck` (generator: the final RPO model), then `ntron prep`
# of its SFT conversations (filter.jsonl, --format chat) and preference
# pairs (pairs.jsonl, --format preference), and a summary of the stage
# reports.  A rerun keeps what is finished.  NP=2 runs 2 MPI ranks.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${NTRON:-build/src/ntron}
[ -x "$N" ] || { echo "sdg.sh: no ntron at $N (run inputs/tiny/run.sh first, or set NTRON)" >&2; exit 1; }
NP=${NP:-1}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo
[ "$NP" -gt 1 ] && export OPENBLAS_NUM_THREADS=1
D=runs/tiny-data
[ -f runs/tiny-rpo3/checkpoints/latest ] || { echo "sdg.sh: no runs/tiny-rpo3 checkpoint (run inputs/tiny/align.sh first)" >&2; exit 1; }
[ -f $D/reward.h5 ] || "$N" prep --tokenizer $D/spm.model --format reward inputs/data/reward.jsonl -o $D/reward.h5 > /dev/null
[ -f runs/tiny-rm/checkpoints/latest ] || mpirun --oversubscribe -np "$NP" "$N" run inputs/tiny/rm.deck < /dev/null > /dev/null
mpirun --oversubscribe -np "$NP" "$N" sdg inputs/tiny/sdg.deck "$@" < /dev/null | grep -v ' shard '
"$N" prep --tokenizer $D/spm.model --format chat runs/tiny-sdg/filter.jsonl -o $D/sdg_chat.h5 > /dev/null
"$N" prep --tokenizer $D/spm.model --format preference runs/tiny-sdg/pairs.jsonl -o $D/sdg_pairs.h5 > /dev/null
postprocess/sdg_report.py runs/tiny-sdg
