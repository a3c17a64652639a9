#!/bin/bash
# postprocess/bench_generate.sh — generation throughput (a benchmark, not a
# test): `ntron generate` on the CPU bench shape (4 layers, hidden 384, 6
# heads, 2 KV groups, ffn 1536, byte vocabulary padded to 384; weights of a
# zero-learning-rate checkpoint) with prompts of 64 tokens and 64 new tokens
# (greedy), at batch 1, 8 and 64 (as many prompts as the batch), then the
# PyTorch peer (postprocess/bench_generate_torch.py: the reference model with
# a KV cache) on the same shape and machine.  Prints one table row per run.
#   postprocess/bench_generate.sh [NTRON] [WORKDIR]    (THREADS=1 by default)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
NTRON=${1:-$here/src/ntron}
W=${2:-$(mktemp -d /tmp/ntron-genbench.XXXXXX)}
THREADS=${THREADS:-1}
PY=${PYTHON:-/usr/bin/python3}
export OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS
mkdir -p "$W" && cd "$W"
"$NTRON" prep --tokenizer byte "$here/inputs/tiny/corpus.txt" -o corpus.h5 > /dev/null
cat > bench.deck <<EOF
[run]
name = genbench
dir = $W/run
seed = 1
[model]
layers = 4
hidden = 384
ffn_hidden = 1536
heads = 6
kv_heads = 2
vocab = 258
seq_len = 256
[parallel]
micro_batch = 1
[train]
steps = 1
global_batch = 1
lr = 0
min_lr = 0
[data]
tokenizer = byte
train = $W/corpus.h5
[checkpoint]
dir = $W/ck
[generate]
input = $W/prompts.jsonl
output = $W/out.jsonl
temperature = 0
max_new_tokens = 64
EOF
"$NTRON" run bench.deck > train.log 2>&1
printf '%-8s %6s %22s %22s\n' engine batch "prefill tokens/s" "decode tokens/s"
for B in 1 8 64; do
    "$PY" -c "import random, json, sys
random.seed(int(sys.argv[1]))
for i in range(int(sys.argv[1])):
    print(json.dumps({'id': i, 'prompt': ''.join(random.choice('abcdefghijklmnopqrstuvwxyz ') for _ in range(64))}))" "$B" > prompts.jsonl
    "$NTRON" generate bench.deck --set checkpoint.load="$W/ck" --set checkpoint.dir= --set generate.batch="$B" > gen$B.log 2>&1
    sed -n 's/.*prefill \([0-9]*\) tokens at \([0-9.]*\) tokens\/s, decode \([0-9]*\) tokens at \([0-9.]*\) tokens\/s.*/\2 \4/p' gen$B.log |
        { read -r p d; printf '%-8s %6d %22.0f %22.0f\n' ntron "$B" "$p" "$d"; }
done
"$PY" "$here/postprocess/bench_generate_torch.py" --threads "$THREADS" --batches 1,8,64 > torch.jsonl
"$PY" -c "import json
for l in open('torch.jsonl'):
    r = json.loads(l)
    print('%-8s %6d %22.0f %22.0f' % ('torch', r['batch'], r['prefill_tokens_per_s'], r['decode_tokens_per_s']))"
