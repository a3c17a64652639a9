#!/bin/bash
# inputs/tiny/align.sh — the tiny preference chain of the README on this
# machine's CPU, after inputs/tiny/sft.sh: the synthetic graded preference
# pairs (inputs/tiny/make_pref.py, prepared with the SFT chain's
# SentencePiece tokenizer), then DPO (inputs/tiny/dpo.deck) and three RPO
# iterations (inputs/tiny/rpo1.deck .. rpo3.deck), each from and
# referencing the previous phase's checkpoint; every phase prints its
# held-out pair numbers.  NTRON=path to use another ntron; NP=2 runs 2 MPI
# ranks.  Everything goes under runs/.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${NTRON:-build/src/ntron}
[ -x "$N" ] || { echo "align.sh: no ntron at $N (run inputs/tiny/run.sh first, or set NTRON)" >&2; exit 1; }
[ -f runs/tiny-sft-general/checkpoints/latest ] || { echo "align.sh: run inputs/tiny/sft.sh first" >&2; exit 1; }
NP=${NP:-1}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo
[ "$NP" -gt 1 ] && export OPENBLAS_NUM_THREADS=1
D=runs/tiny-data
[ -f $D/pref_train.jsonl ] || python3 inputs/tiny/make_pref.py $D/pref 400 100
for s in train valid; do
    [ -f $D/pref_$s.h5 ] || "$N" prep --tokenizer $D/spm.model --format preference $D/pref_$s.jsonl -o $D/pref_$s.h5
done
for d in dpo rpo1 rpo2 rpo3; do mpirun --oversubscribe -np "$NP" "$N" run inputs/tiny/$d.deck "$@" < /dev/null; done
