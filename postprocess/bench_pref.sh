#!/bin/bash
# bench_pref.sh — cost of a preference (DPO) step per pair against two SFT
# sequences of the same length (a benchmark, not a test).
# Usage: postprocess/bench_pref.sh BUILD_DIR [SCRATCH_DIR] [--set section.key=value ...]
# Trains a SentencePiece model (vocab 512) on inputs/data/tokenizer.txt,
# prepares inputs/data/chat.jsonl (SFT) and 256 synthetic pairs
# (inputs/tiny/make_pref.py) with it, then runs on one rank, same model,
# seq_len, micro-batch and global batch G (sequences; G/2 pairs):
#   sft                   phase sft on the chat rows
#   dpo precomputed       phase dpo, reference log-probs from
#                         RUNDIR/reference_logps.h5 (one forward-only pass
#                         before step 1, reported apart)
#   dpo online            phase dpo, align.reference_mode = online (a second,
#                         frozen model set runs a forward of every batch)
# Every row is padded to seq_len, so an SFT step of G rows and a DPO step of
# G/2 pairs run the same matmuls; each run is done twice, interleaved, and the
# table gives the fastest step over steps 3.. of both (ms, from
# metrics.jsonl; online adds ms_reference, the reference forward, which runs
# before the trainer's step) — the minimum, as other processes on a shared
# machine only ever add time — with the median beside it, the time per pair
# against two SFT sequences, and the one-off precompute per pair.  Default model:
# layers 4, hidden 128, ffn 512, seq_len 128, micro_batch 8, G 16, 20 steps;
# --set overrides (e.g. run.backend=cuda and a larger model on a GPU).
set -euo pipefail
B=$(cd "$1" && pwd); S=${2:-/tmp/ntron-pref-bench}; shift; [ $# -gt 0 ] && shift
top=$(cd "$(dirname "$0")/.." && pwd)
N=$B/src/ntron
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo
mkdir -p "$S"; cd "$S"
[ -f spm.model ] || "$N" tokenizer train --vocab 512 -o spm "$top/inputs/data/tokenizer.txt" > /dev/null
[ -f chat.h5 ] || "$N" prep --tokenizer spm.model --format chat "$top/inputs/data/chat.jsonl" -o chat.h5 > /dev/null
[ -f pref_train.jsonl ] || python3 "$top/inputs/tiny/make_pref.py" pref 256 8
[ -f pref.h5 ] || "$N" prep --tokenizer spm.model --format preference pref_train.jsonl -o pref.h5 > /dev/null
C=(--set data.tokenizer=spm.model --set model.vocab=512 --set model.layers=4 --set model.hidden=128 --set model.ffn_hidden=512
   --set model.heads=4 --set model.kv_heads=2 --set model.seq_len=128 --set parallel.micro_batch=8 --set train.global_batch=16
   --set train.steps=20 --set train.warmup=0 --set train.lr=1e-4 --set train.min_lr=1e-4 --set run.log_interval=1 "$@")
deck=$top/inputs/tiny/pretrain.deck
run() { local name=$1; shift; rm -rf "$name"; mpirun --oversubscribe -np 1 "$N" run "$deck" "${C[@]}" --set run.dir="$S/$name" "$@" \
        < /dev/null > "$name.out" 2>&1 || { tail -3 "$name.out"; exit 1; }; }
for k in 1 2; do
    run sft$k --set run.phase=sft --set data.train=chat.h5
    run dpo$k --set run.phase=dpo --set data.train=pref.h5
    run online$k --set run.phase=dpo --set data.train=pref.h5 --set align.reference_mode=online
done
grep -h "^layout\|^model" sft1.out | head -2
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
pre=$(sed -n "s/^ref .*reference log-probs computed .* in \([0-9.]*\) s$/\1/p" dpo1.out dpo2.out | sort -g | head -1)
python3 - "$pre" <<'PY'
import json, statistics, sys
pre = float(sys.argv[1])
def steps(run, ref):
    t = []
    for k in (1, 2):
        r = [json.loads(l) for l in open(f"{run}{k}/metrics.jsonl")][2:]
        t += [x["ms"] + (x["ms_reference"] if ref else 0.0) for x in r]
    return min(t), statistics.median(t), r[0]["global_batch"]
sft, sftm, G = steps("sft", False)
dpo, dpom, _ = steps("dpo", True)
onl, onlm, _ = steps("online", True)
pairs = G // 2
print(f"{'run':<18} {'ms/step':>9} {'median':>9} {'ms/pair':>9} {'vs 2 SFT seq':>13}")
print(f"{'sft (G seqs)':<18} {sft:9.1f} {sftm:9.1f} {sft / pairs:9.2f} {1.0:13.3f}")
print(f"{'dpo precomputed':<18} {dpo:9.1f} {dpom:9.1f} {dpo / pairs:9.2f} {dpo / sft:13.3f}")
print(f"{'dpo online':<18} {onl:9.1f} {onlm:9.1f} {onl / pairs:9.2f} {onl / sft:13.3f}")
print(f"precompute: 256 pairs in {pre:.2f} s = {pre * 1e3 / 256:.2f} ms per pair once "
      f"({pre * 1e3 / 256 / (dpo / pairs):.2f} of a training step's cost per pair)")
json.dump({"global_batch": G, "sft_ms": sft, "dpo_precomputed_ms": dpo, "dpo_online_ms": onl,
           "median_ms": {"sft": sftm, "dpo_precomputed": dpom, "dpo_online": onlm},
           "precompute_s_256_pairs": pre}, open("bench_pref.json", "w"), indent=1)
PY
