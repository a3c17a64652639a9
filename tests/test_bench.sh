#!/bin/bash
# test_bench.sh — `ntron bench` on the tiny deck with synthetic data:
# 1 rank and TP2 x PP2 (4 ranks) PASS against the single-rank reference
# step, a same-ranks rerun reference on DP 2 PASSES, a planted fault (the
# --inject-fault test hook perturbs the measured loss by 0.1%) FAILS with
# exit 1; the JSON copy holds the row; --peak gives MFU; `--comm` on
# TP2 x DP2 x PP2 (8 ranks) reports all-reduce, reduce-scatter, all-gather
# and send/recv over tp/dp/pp with busbw = algbw x 2(n-1)/n, (n-1)/n, 1 and
# zero wrong elements, and a corrupted element (--inject-fault) per row is
# counted and fails; bad options exit 2 with one line, --help lists every
# flag; train.recompute = selective and full train exactly like none (loss,
# gradient norm) with measurably less memory.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
export OPENBLAS_NUM_THREADS=1
TINY=$top_srcdir/inputs/tiny/pretrain.deck
SMALL="--set model.layers=2 --set model.seq_len=64 --set run.backend=cpu"   # the CPU backend even where a GPU is visible

"$NTRON" bench "$TINY" $SMALL --steps 3 --peak 0.05 --json b1.json > b1.out 2>&1; rc=$?
[ $rc -eq 0 ] && grep -Eq '^TRAIN +TP1 PP1\(v1\) DP1 SP0 mb8 +16 .* PASSED$' b1.out && pass "1 rank: PASSED row, exit 0" || { fail "1 rank (exit $rc)"; cat b1.out; }
"$PYTHON" - b1.json <<'PY' && pass "JSON copy: fields, min <= median <= max, MFU = TFLOP/s / peak" || fail "JSON copy"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"] == "PASSED" and d["reference"] == "single" and d["rel_error"] <= 1e-5
assert d["ms_min"] <= d["ms_median"] <= d["ms_max"] and d["steps"] == 3
assert abs(d["tokens_per_s"] - 16 * 64 / (d["ms_median"] / 1e3)) < 1e-6 * d["tokens_per_s"]
assert abs(d["tflops_per_rank"] - d["flops_per_token"] * d["tokens_per_s"] / 1e12) < 1e-9
assert abs(d["mfu"] - d["tflops_per_rank"] / 0.05) < 1e-12
PY

mpi 4 "$NTRON" bench "$TINY" $SMALL --set parallel.tensor=2 --set parallel.pipeline=2 --set parallel.micro_batch=2 \
    --steps 2 --json b4.json > b4.out 2>&1; rc=$?
[ $rc -eq 0 ] && grep -Eq '^TRAIN +TP2 PP2\(v1\) DP1 SP0 mb2 .* PASSED$' b4.out && pass "TP2 x PP2: PASSED vs single rank ($(grep -o 'rel. error [^ ]*' b4.out))" \
    || { fail "TP2 x PP2 (exit $rc)"; cat b4.out; }

mpi 2 "$NTRON" bench "$TINY" $SMALL --reference same --steps 2 --json b2.json > b2.out 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "same-ranks rerun" b2.out && grep -Eq 'DP2 .* PASSED$' b2.out && pass "DP2 same-ranks reference: PASSED" || { fail "DP2 same-ranks (exit $rc)"; cat b2.out; }

mpi 2 "$NTRON" bench "$TINY" $SMALL --steps 1 --inject-fault --json bf.json > bf.out 2>&1; rc=$?
[ $rc -eq 1 ] && grep -Eq 'FAILED$' bf.out && grep -q '"verdict":	"FAILED"' bf.json && pass "planted fault: FAILED, exit 1" || { fail "planted fault (exit $rc)"; cat bf.out; }

mpi 8 "$NTRON" bench "$TINY" --comm --set parallel.tensor=2 --set parallel.pipeline=2 --max-bytes 65536 --iters 3 \
    --json comm.json > comm.out 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "data check: 0 wrong elements: PASSED" comm.out && pass "--comm: PASSED, exit 0" || { fail "--comm (exit $rc)"; cat comm.out; }
"$PYTHON" - comm.json <<'PY' && pass "--comm rows: 3 comms x 4 ops x 3 sizes, nccl-tests busbw factors, #wrong 0" || fail "--comm rows"
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["rows"]
assert {(r["comm"], r["op"]) for r in rows} == {(c, o) for c in ("tp", "dp", "pp")
        for o in ("all_reduce", "reduce_scatter", "all_gather", "sendrecv")}, "comm/op set"
assert len(rows) == 36, len(rows)
want = {"all_reduce": 2 * (2 - 1) / 2, "reduce_scatter": (2 - 1) / 2, "all_gather": (2 - 1) / 2, "sendrecv": 1.0}
for r in rows:
    assert r["ranks"] == 2 and r["busbw_factor"] == want[r["op"]], r
    assert abs(r["busbw_gbs"] - r["algbw_gbs"] * want[r["op"]]) <= 1e-12 * r["algbw_gbs"]
    assert abs(r["algbw_gbs"] - r["size_bytes"] / (r["time_us"] * 1e-6) / 1e9) <= 1e-9 * r["algbw_gbs"]
    assert r["wrong"] == 0 and r["size_bytes"] == 4 * r["count"]
assert d["verdict"] == "PASSED"
assert d["backend"].startswith("cpu") and d["path"] == "host buffers, MPI", (d["backend"], d["path"])
PY

mpi 4 "$NTRON" bench "$TINY" --comm --set parallel.tensor=2 --max-bytes 16384 --iters 2 --inject-fault --json commf.json > commf.out 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "data check: 16 wrong elements: FAILED" commf.out && pass "--comm data check catches a corrupted element per row (16 wrong), exit 1" \
    || { fail "--comm planted corruption (exit $rc)"; cat commf.out; }

expect_error "unknown option" 2 "bench: unknown option --bogus" -- "$NTRON" bench "$TINY" --bogus
expect_error "bad --steps" 2 "bench: --steps wants a whole number in \[1, 1000000\], got '0'" -- "$NTRON" bench "$TINY" --steps 0
expect_error "bad --peak" 2 "bench: --peak wants a number > 0, got 'fast'" -- "$NTRON" bench "$TINY" --peak fast
expect_error "bad --reference" 2 "bench: --reference wants one of single\|same, got 'other'" -- "$NTRON" bench "$TINY" --reference other
expect_error "missing argument" 2 "bench: --json needs an argument FILE" -- "$NTRON" bench "$TINY" --json
# a bad deck on 3 ranks: one line (not one per rank), exit 2
out=$(mpi 3 "$NTRON" bench "$TINY" --set parallel.tensor=3 --steps 1 2>&1 >/dev/null); rc=$?
k=$(printf '%s\n' "$out" | grep -c '^ntron:')
[ "$rc" -eq 2 ] && [ "$k" -eq 1 ] && pass "bench: bad deck on 3 ranks: one line, exit 2: $(printf '%s\n' "$out" | grep -m1 '^ntron:')" \
    || fail "bench: bad deck on 3 ranks: exit $rc, $k lines: $out"
expect_help bench -- '^  --steps N ' '^  --warmup N ' '^  --gbs N ' '^  --peak TFLOPS ' '^  --reference single\|same ' \
    '^  --json FILE ' '^  --comm ' '^  --max-bytes N ' '^  --iters N ' '^  --set section\.key=value ' '^  --inject-fault '
# recompute = none | selective | full: the same training step with less memory.  bench's JSON: first
# and last loss bitwise equal, each PASSED, and the peak RSS above the pre-model baseline at least 10%
# lower for selective than none and for full than selective (measured 2026-12-01: 50.9, 38.8, 29.8 MB);
# `ntron run`: every step's loss and gradient norm (metrics.jsonl) bitwise equal
for m in none selective full; do
    "$NTRON" bench "$TINY" --set run.backend=cpu --set train.recompute=$m --steps 1 --json rc_$m.json > rc_$m.out 2>&1 \
        || { fail "bench train.recompute=$m (exit $?)"; cat rc_$m.out; }
done
"$PYTHON" - rc_none.json rc_selective.json rc_full.json <<'PY' && pass "bench recompute none/selective/full: $(cat rc.txt)" || fail "bench recompute: $(cat rc.txt 2>/dev/null)"
import json, sys
d = [json.load(open(p)) for p in sys.argv[1:]]
mem = [x["rss_above_base_mb"] for x in d]
open("rc.txt", "w").write("first/last loss %r/%r, RSS above base %.1f / %.1f / %.1f MB" % (d[0]["first_loss"], d[0]["last_loss"], *mem))
assert all(x["verdict"] == "PASSED" for x in d), [x["verdict"] for x in d]
assert all(x["first_loss"] == d[0]["first_loss"] and x["last_loss"] == d[0]["last_loss"] for x in d), "losses differ"
assert mem[1] <= 0.9 * mem[0] and mem[2] <= 0.9 * mem[1], "recomputation does not lower the peak memory enough"
PY
# the per-op profile of the extra step (every backend op timed): call counts
# from the tiny model's structure (L = 4 layers, m = 2 micro-batches of 8;
# per layer and micro-batch 2 LayerNorms, 4 GEMMs, 1 attention; plus the
# final LayerNorm and the LM head), recomputation's extra forward calls, and
# the class totals = the sums of their ops
"$PYTHON" - rc_none.json rc_selective.json rc_full.json <<'PY' && pass "bench per-op profile: call counts of none/selective/full, class totals" || fail "bench per-op profile"
import json, sys
d = [json.load(open(p)) for p in sys.argv[1:]]
L, m = 4, 2
calls = [{o["op"]: o["calls"] for o in x["ops"]} for x in d]
fwd = {"attention_fwd": L * m, "attention_bwd": L * m, "layernorm_fwd": (2 * L + 1) * m, "layernorm_bwd": (2 * L + 1) * m,
       "matmul": 2 * (4 * L + 1) * m, "matmul_wgrad": (4 * L + 1) * m, "sqrelu_fwd": L * m, "sqrelu_bwd": L * m,
       "embedding_fwd": m, "embedding_bwd": m, "ce_stats": m, "ce_bwd": m}
for k, v in fwd.items():
    assert calls[0][k] == v, ("none", k, calls[0][k], v)
assert calls[1]["sqrelu_fwd"] == 2 * L * m and calls[1]["attention_fwd"] == L * m, calls[1]
assert calls[2]["attention_fwd"] == 2 * L * m and calls[2]["layernorm_fwd"] == (4 * L + 1) * m, calls[2]
assert calls[2]["matmul"] == 2 * (4 * L + 1) * m + 4 * L * m, calls[2]
for x in d:
    for cls, key in (("GEMM", "gemm_ms"), ("attention", "attention_ms"), ("other", "other_ms"), ("host copy", "host_copy_ms")):
        s = sum(o["ms"] for o in x["ops"] if o["class"] == cls)
        assert abs(s - x[key]) <= 1e-9 * max(1.0, s), (cls, s, x[key])
    assert x["gemm_ms"] > 0 and x["attention_ms"] > 0 and x["other_ms"] > 0
PY
grep -Eq '^split  rank 0 CPU time of one profiled step .*GEMM [0-9.]+ ms .*attention .*other .*host copy' rc_none.out \
    && grep -Eq '^ops +attention_fwd +attention +8 ' rc_none.out && pass "bench split line and ops table printed" \
    || { fail "bench split line / ops table"; grep -E '^(split|ops)' rc_none.out; }
"$NTRON" prep --tokenizer byte "$top_srcdir/inputs/tiny/corpus.txt" -o corpus.h5 > /dev/null || fail "prep corpus"
for m in none selective full; do
    "$NTRON" run "$TINY" $SMALL --set data.train="$WORK/corpus.h5" --set train.recompute=$m --set train.steps=3 \
        --set train.warmup=1 --set run.log_interval=1 --set run.dir="$WORK/run_$m" > run_$m.out 2>&1 || { fail "run train.recompute=$m"; tail -3 run_$m.out; }
done
"$PYTHON" - run_none run_selective run_full <<'PY' && pass "ntron run recompute none/selective/full: 3 steps' loss and grad norm bitwise equal" || fail "ntron run recompute: losses or grad norms differ"
import json, sys
rows = [[json.loads(l) for l in open(d + "/metrics.jsonl")] for d in sys.argv[1:]]
key = [[(r["step"], r["loss"], r["grad_norm"]) for r in rs] for rs in rows]
assert len(key[0]) == 3 and key[0] == key[1] == key[2], key
PY
finish
