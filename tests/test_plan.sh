#!/bin/bash
# test_plan.sh — `ntron plan`: parameters, memory and FLOPs against values
# computed by hand (written out below, independently of src/plan/plan.c) for two
# configurations: the tiny deck on the fp32 CPU backend and the 340B deck at
# TP 8 x PP 12 (v 8) x DP 16, GBS 768 on DGX H100; then the predicted memory
# against the peak RSS the CPU backend really reaches in `ntron bench`
# (tiny deck, micro-batch 4/8/16, DP 2, TP2 and TP4 with sequence parallelism
# at micro-batch 16, TP2+SP x PP2): the plan must be within 15% of
# the measured growth of the resident set (RSS after the model is built,
# minus RSS before).  The 15% covers what the plan does not model: the
# allocator's and OpenBLAS's own buffers, page granularity, the few KB of
# schedule and batch buffers (measured 2026-11-26: plan +5.6% to +8.7%).
# Last: the shipped DGX H100 file equals the built-in default, bad inputs exit 2.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
export OPENBLAS_NUM_THREADS=1
TINY=$top_srcdir/inputs/tiny/pretrain.deck
BIG=$top_srcdir/inputs/nemotron4-340b/pretrain.deck
CPU=$top_srcdir/inputs/clusters/cpu-fp32.cluster
H100=$top_srcdir/inputs/clusters/dgx-h100.cluster

"$NTRON" plan "$TINY" --cluster "$CPU" --json tiny.json > tiny.out 2>&1 && pass "plan tiny exits 0" || { fail "plan tiny"; cat tiny.out; }
"$NTRON" plan "$BIG" --cluster "$H100" --dp 16,32,64 --json big.json > big.out 2>&1 && pass "plan 340B exits 0" || { fail "plan 340B"; cat big.out; }

"$PYTHON" - tiny.json big.json <<'PY' && pass "hand-computed parameters, memory, FLOPs, bubble (2 configs, rel 1e-9)" || fail "hand-computed values"
import json, sys
tiny, big = (json.load(open(p)) for p in sys.argv[1:3])
bad = []
def near(name, got, want, tol=1e-9):
    if abs(got - want) > tol * abs(want):
        bad.append("%s: plan %r, hand %r" % (name, got, want))
# --- tiny: h 128, a 4 heads of 32, g 2 KV groups, f 512, L 4, s 128, V 258 -> 384, mb 8, gbs 16, fp32 CPU
# layer: QKV (4+2*2)*32*128 = 32768, O 128*128 = 16384, MLP 2*128*512 = 131072, norms 4*128 = 512
near("tiny params_layer", tiny["params_layer"], 32768 + 16384 + 131072 + 512)           # 180736
near("tiny params_total", tiny["params_total"], 4 * 180736 + 2 * 384 * 128 + 2 * 128)   # 821504
near("tiny flops/token", tiny["flops_per_token"],
     6 * 4 * 128**2 * (2 + 2 * 2 / 4 + 2 * 512 / 128) + 12 * 4 * 128 * 128 + 6 * 128 * 384)  # 5406720
t = tiny["stages"][0]
near("tiny flops/iter", t["flops_iter"], 16 * 128 * 5406720)
# fp32 CPU backend, DP 1: params=master 4 B + grads 4 B + (m, v, grad shard) 12/1 B = 20 B/param
near("tiny weights+grads+opt", t["mem_weights"] + t["mem_grads"] + t["mem_optimizer"], 821504 * 20)
# stored per layer per micro-batch, elements of s*b*h = 128*8*128 = 131072: x, xmid, ln1, ln2 = 4;
# q,k,v = 1 + 2*2/4 = 2; attention out 1; up, act 2*512/128 = 8 -> 15; x 4 B; + fp32 stats s*b*(4 + 4 heads)*4 B
act_layer = 15 * 131072 * 4 + 1024 * 8 * 4
near("tiny act/layer", t["act_layer_bytes"], act_layer)                                   # 7897088
head = 131072 * 4 + 1024 * 384 * 4 + 1024 * 5 * 4      # final norm, logits, fp32 CE rows
near("tiny activations", t["mem_activations"], 4 * act_layer + 1024 * 8 + head)           # 1 micro-batch in flight
ws = 131072 * 4 * (2 + 2 + max(2, 4) + 1 + 4)          # dx, lnl, dtmp, dfull, dqkv, datt, dup
near("tiny workspace", t["mem_workspace"], ws)
near("tiny total", t["mem_total"], 821504 * 20 + 4 * act_layer + 8192 + head + ws)      # 56960000
near("tiny bubble", t["bubble"] + 1, 1)
# --- 340B: h 18432, a 96 of 192, g 8, f 73728, L 96, s 4096, V 256000, TP 8, PP 12, v 8, DP 16, SP, mb 1
h, a, g, f, L, s, V = 18432, 96, 8, 73728, 96, 4096, 256000
layer = (a + 2 * g) * 192 * h + h * h + 2 * h * f + 4 * h
near("340B params_layer", big["params_layer"], layer)                                    # 3454083072
near("340B params_total", big["params_total"], L * layer + 2 * V * h + 2 * h)            # 341029195776
near("340B flops/token", big["flops_per_token"], 6 * L * h * h * (2 + 2 * g / a + 2 * f / h) + 12 * L * s * h + 6 * h * V)
b = big["stages"][0]
near("340B flops/iter", b["flops_iter"], 768 * s * big["flops_per_token"])
near("340B stage-0 params", big["params_stage"][0], 8 * layer + V * h)
n_gpu = 8 * ((layer - 4 * h) / 8 + 4 * h) + V * h / 8           # pipeline rank 0, TP 8 shard, norms replicated
near("340B params/GPU", b["params_gpu"], n_gpu)                                          # 4044423168
near("340B weights (bf16 2 B)", b["mem_weights"], 2 * n_gpu)
near("340B grads (fp32 4 B)", b["mem_grads"], 4 * n_gpu)
near("340B optimizer (12/d B, d=16)", b["mem_optimizer"], 12 / 16 * n_gpu)
near("340B bytes/param 6+12/d", b["bytes_per_param"], 6 + 12 / 16)
sbh = s * 1 * h
e = 4 / 8 + (1 + 2 * g / a) / 8 + 1 / 8 + 2 * f / (h * 8)     # SP: everything / t
act_layer = sbh * e * 2 + s * (4 / 8 + a / 8) * 4
near("340B act/layer", b["act_layer_bytes"], act_layer)
inflight = 2 * (12 - 1) + (8 - 1) * 12 + 1                     # Megatron interleaved warm-up + 1 = 107
near("340B layers in flight", b["inflight_layers"], inflight * 96 / (12 * 8))
near("Korthikanti factor 1+(p-1)/(pv)", b["inflight_layers"] / 96, 1 + 11 / 96)
near("340B activations", b["mem_activations"], inflight * act_layer + inflight * s * 8)
near("340B bubble", b["bubble"], 11 / (8 * 48))
# grouped point-to-point (parallel.p2p = auto on GPUs): the outputs a rank holds until their round
# sends them (nt_schedule_rounds_held; the trainer checks it holds exactly that many), each one
# micro-batch's SP-sharded activations s*b*h/t in bf16
if not 1 <= b["p2p_held"] <= 2 * 48 * 8:
    bad.append("340B p2p_held %r" % b["p2p_held"])
near("340B p2p buffers", b["mem_p2p"], b["p2p_held"] * sbh / 8 * 2)
if t["mem_p2p"] != 0:
    bad.append("tiny (CPU, PP1) p2p buffers %r" % t["mem_p2p"])
if b["fits"] != 1 or not 40e9 < b["mem_total"] < 80e9:
    bad.append("340B at DP16 should fit in 80 GB, got %g" % b["mem_total"])
for st, dp, gbs in zip(big["stages"], (16, 32, 64), (768, 1536, 2304)):
    if (st["dp"], st["global_batch"], st["gpus"]) != (dp, gbs, 96 * dp):
        bad.append("stage layout %r" % ((st["dp"], st["global_batch"], st["gpus"]),))
    near("MFU = FLOPs/(t*GPUs*peak)", st["mfu"], st["flops_iter"] / (st["t_iter"] * st["gpus"] * 989.4e12))
    near("tokens/s/GPU", st["tokens_per_s_gpu"], gbs * 4096 / st["t_iter"] / st["gpus"])
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY

# measured memory: plan (cpu-fp32) vs bench peak RSS growth
for v in "mb4:--set parallel.micro_batch=4:1" "mb8::1" "mb16:--set parallel.micro_batch=16:1" "dp2::2" \
         "tp2sp:--set parallel.tensor=2 --set parallel.sequence_parallel=true --set parallel.micro_batch=16:2:1" \
         "tp4sp:--set parallel.tensor=4 --set model.kv_heads=4 --set parallel.sequence_parallel=true --set parallel.micro_batch=16:4:1" \
         "tp2sp_pp2:--set parallel.tensor=2 --set parallel.sequence_parallel=true --set parallel.pipeline=2 --set parallel.micro_batch=4:4:1" \
         "pp2v2_grouped:--set parallel.pipeline=2 --set parallel.virtual_stages=2 --set parallel.p2p=grouped:2:1"; do
    name=${v%%:*}; rest=${v#*:}; sets=${rest%%:*}; rest=${rest#*:}; np=${rest%%:*}; dp=${rest##*:}
    mpi "$np" "$NTRON" bench "$TINY" --set run.backend=cpu --steps 1 --warmup 0 $sets --json "bench_$name.json" > "bench_$name.out" 2>&1 \
        || { fail "bench $name"; cat "bench_$name.out"; continue; }
    "$NTRON" plan "$TINY" --cluster "$CPU" --dp "$dp" $sets --json "plan_$name.json" > /dev/null 2>&1 || { fail "plan $name"; continue; }
    "$PYTHON" - "plan_$name.json" "bench_$name.json" "$name" <<'PY' && pass "memory $name: $(cat mem.txt)" || fail "memory $name: $(cat mem.txt)"
import json, sys
p = json.load(open(sys.argv[1]))["stages"][0]["mem_total"] / 2**20
m = json.load(open(sys.argv[2]))["rss_above_base_mb"]
d = (p - m) / m
open("mem.txt", "w").write("plan %.1f MiB vs measured RSS growth %.1f MiB (%+.1f%%, margin 15%%)" % (p, m, 100 * d))
sys.exit(0 if abs(d) <= 0.15 else 1)
PY
done

# parallel.p2p = tagged: no send buffers, the total smaller by exactly the grouped rounds' buffers
"$NTRON" plan "$BIG" --cluster "$H100" --dp 16 --set parallel.p2p=tagged --json tagged.json > /dev/null 2>&1
"$PYTHON" - big.json tagged.json <<'PY' && pass "plan p2p: grouped holds $(cat p2p.txt), tagged none" || fail "plan p2p buffers: $(cat p2p.txt 2>/dev/null)"
import json, sys
g, t = (json.load(open(p))["stages"][0] for p in sys.argv[1:3])
open("p2p.txt", "w").write("%d outputs (%.3f GB) on pipeline rank %d" % (g["p2p_held"], g["mem_p2p"] / 1e9, g["mem_rank"]))
assert t["mem_p2p"] == 0 and t["p2p_held"] == 0
assert abs((g["mem_total"] - t["mem_total"]) - g["mem_p2p"]) <= 1e-6 * g["mem_total"]
PY

# the built-in default is the shipped file
"$NTRON" plan "$BIG" --dp 16 --json default.json > /dev/null 2>&1
"$NTRON" plan "$BIG" --cluster "$H100" --dp 16 --json file.json > /dev/null 2>&1
cmp -s default.json file.json && pass "built-in cluster = inputs/clusters/dgx-h100.cluster" || fail "built-in cluster differs from the shipped file"
grep -Eq '^\| 0 \| 768 \| 8 x 12 \(8\) x 16 \| 1536 \|' big.out && pass "summary table row for stage 0" || fail "summary table row"

# `ntron check` predicts per-GPU memory with the same model: DP 16 of stage 0 = plan's total
want=$("$PYTHON" -c "import json; print('%.3g' % (json.load(open('big.json'))['stages'][0]['mem_total'] / 1e9))" 2>/dev/null)
got=$("$NTRON" check "$BIG" | sed -n 's/^memory .*DP 16: \([0-9.]*\) GB.*/\1/p')
[ -n "$want" ] && [ "$got" = "$want" ] && pass "ntron check: 340B memory per GPU at TP8 x PP12 x DP16 = plan's ($got GB)" \
    || fail "ntron check memory '$got' != plan '$want'"

# bad inputs: exit 2 with the reason
sed '/^gemm_efficiency/d' "$H100" > nogemm.cluster
expect_error "missing cluster key" 2 "nogemm.cluster: cluster.gemm_efficiency: missing" -- "$NTRON" plan "$TINY" --cluster nogemm.cluster
printf '[cluster]\nname = x\nbogus = 1\n' > bogus.cluster
expect_error "unknown cluster key" 2 "bogus.cluster:3: cluster.bogus: unknown key" -- "$NTRON" plan "$TINY" --cluster bogus.cluster
sed 's/^peak_tflops = .*/peak_tflops = fast/' "$H100" > badnum.cluster
expect_error "bad number" 2 "cluster.peak_tflops: 'fast' is not a number" -- "$NTRON" plan "$TINY" --cluster badnum.cluster
expect_error "gbs not divisible" 2 "global batch 16 is not divisible by parallel.micro_batch \(8\) x DP \(3\)" -- "$NTRON" plan "$TINY" --dp 3
expect_error "bad --dp" 2 "plan: --dp wants N or N,N,\.\.\. \(positive integers\), got 'x'" -- "$NTRON" plan "$TINY" --dp x
expect_error "empty --dp" 2 "plan: --dp wants N or N,N,\.\.\. \(positive integers\), got ''" -- "$NTRON" plan "$TINY" --dp ""
expect_error "unknown option" 2 "plan: unknown option --nodes \(see ntron plan --help\)" -- "$NTRON" plan "$TINY" --nodes 4
expect_error "missing argument" 2 "plan: --cluster needs an argument FILE" -- "$NTRON" plan "$TINY" --cluster
expect_error "no deck" 2 "plan: no DECK given" -- "$NTRON" plan --dp 2
expect_help plan -- '^  --cluster FILE ' '^  --dp N\[,N\.\.\.\] ' '^  --set section\.key=value ' '^  --json FILE '
expect_error "too few micro-batches" 2 "fewer than parallel.pipeline" -- "$NTRON" plan "$BIG" --dp 128
finish
