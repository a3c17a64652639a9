#!/bin/bash
# bench_sft_pack.sh — SFT throughput in real (conversation) tokens per second,
# packed rows (data.pack = true) against one conversation per padded row, on
# the same conversations and model (a benchmark, not a test).
# Usage: postprocess/bench_sft_pack.sh BUILD_DIR [SCRATCH_DIR] [SEQ_LEN] [STEPS] [BACKEND]
# Writes 2000 conversations whose token lengths are drawn log-normal
# (median seq_len/6, sigma 0.8) and clipped to [50, seq_len] — the long
# tail of real chat data — prepared with a SentencePiece model (vocab 512,
# `ntron tokenizer train` on inputs/data/tokenizer.txt; the lengths are set
# in words and measured in tokens after prep), then runs phase
# sft on one rank for STEPS steps (default 12; default seq_len 1024, backend
# cpu) padded and packed with the same model (the tiny SFT shape, 4 layers,
# hidden 128), micro_batch 4, global batch 8 rows.  Reported: rows per step,
# padding/packing efficiency (real tokens / row tokens), real tokens/s
# (median over the steps after the first two) and the packed/padded ratio.
# NTRON=path overrides BUILD_DIR/src/ntron (tests/device_check.sh passes its carried binary).
set -euo pipefail
S=${2:-/tmp/ntron-sft-pack-bench}; T=${3:-1024}; STEPS=${4:-12}; BACKEND=${5:-cpu}
top=$(cd "$(dirname "$0")/.." && pwd)
N=${NTRON:-$(cd "$1" && pwd)/src/ntron}
PY=${PYTHON:-/usr/bin/python3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
mkdir -p "$S"; cd "$S"
"$PY" - "$T" <<'PY'
import json, math, random, sys
T = int(sys.argv[1]); rng = random.Random(5)
words = "the of and to in is for on that with as by at from this be are or it an was which".split()
def text(n):   # about n tokens: these words are about one token each (measured after prep)
    return " ".join(rng.choice(words) for _ in range(max(int(n / 2.4), 1)))
with open("conv.jsonl", "w") as f:
    for _ in range(2000):
        L = int(min(T, max(50, math.exp(math.log(T / 6) + 0.8 * rng.gauss(0, 1)))))
        u = max(8, L // 4)
        f.write(json.dumps({"messages": [{"role": "user", "content": text(u)},
                                         {"role": "assistant", "content": text(max(8, L - u - 15))}]}) + "\n")
PY
[ -f spm.model ] || "$N" tokenizer train --vocab 512 -o spm "$top/inputs/data/tokenizer.txt" > /dev/null
"$N" prep --tokenizer spm.model --format chat conv.jsonl -o conv.h5 | sed 's/^/prep: /'
"$PY" - conv.h5 "$T" <<'PY'
import sys, h5py, numpy as np
L = np.diff(h5py.File(sys.argv[1], "r")["doc_offsets"][()]); T = int(sys.argv[2])
print(f"lengths: {len(L)} conversations, tokens min {L.min()} median {int(np.median(L))} mean {L.mean():.0f} "
      f"max {L.max()}, {np.mean(L > T + 1) * 100:.1f}% longer than a row (cut)")
PY
deck=$top/inputs/tiny/sft-code.deck
common=(--set run.backend="$BACKEND" --set data.tokenizer="$S/spm.model" --set data.train="$S/conv.h5" --set data.valid= --set model.vocab=512
        --set model.seq_len="$T" --set parallel.micro_batch=4 --set train.global_batch=8 --set train.epochs=0
        --set train.steps="$STEPS" --set checkpoint.dir= --set checkpoint.load= --set run.log_interval=1)
for mode in padded packed; do
    pack=false; [ $mode = packed ] && pack=true
    mpirun --oversubscribe -np 1 "$N" run "$deck" "${common[@]}" --set data.pack=$pack --set run.dir="$S/$mode" \
        < /dev/null > "$mode.out" 2>&1 || { tail -5 "$mode.out"; exit 1; }
done
grep -h '^pack    ' packed.out || true
"$PY" - padded/metrics.jsonl packed/metrics.jsonl "$T" "$BACKEND" <<'PY'
import json, statistics, sys
T, backend = int(sys.argv[3]), sys.argv[4]
res = {}
for mode, path in (("padded", sys.argv[1]), ("packed", sys.argv[2])):
    r = [json.loads(l) for l in open(path)]
    key = "pack_efficiency" if mode == "packed" else "pad_efficiency"
    tail = r[2:] if len(r) > 3 else r
    res[mode] = (statistics.median(x["real_tokens_per_s"] for x in tail),
                 statistics.mean(x[key] for x in r), statistics.median(x["tokens_per_s"] for x in tail))
print(f"SFT, seq_len {T}, global batch 8 rows, backend {backend}: median over steps 3..{len(r)}")
print(f"{'mode':8s} {'efficiency':>10s} {'row tok/s':>10s} {'real tok/s':>11s}")
for m in ("padded", "packed"):
    rt, eff, row = res[m]
    print(f"{m:8s} {eff:10.3f} {row:10.0f} {rt:11.0f}")
print(f"packed/padded real tokens/s: {res['packed'][0] / res['padded'][0]:.2f}x")
PY
