#!/usr/bin/python3
"""measure_gpu_efficiency.py — measure the achievable bf16 GEMM and causal
attention throughput on one GPU at the shapes of a Nemotron-4 layer shard,
for the `gemm_efficiency` / `attention_efficiency` values of a cluster file
(inputs/clusters/*.cluster).  Needs PyTorch with CUDA.

GEMMs: the four weight GEMMs of one layer on one TP rank (fused QKV, attention
output, MLP up, MLP down) for forward (x W^T), data gradient and weight gradient,
timed with CUDA events, median of --iters after warm-up; the efficiency is
total FLOPs / total median time / peak.  Attention: PyTorch scaled_dot_product_attention,
causal, bf16, forward + backward; FLOPs counted as executed (causal half:
forward 4*B*heads*T^2*d/2, backward 2.5x forward).

usage: measure_gpu_efficiency.py [--hidden 18432 --ffn 73728 --heads 96 --kv-heads 8
        --seq 4096 --tp 8 --micro-batch 1 --peak 989.4 --iters 20 --json OUT]
"""
import argparse, json, statistics, sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hidden", type=int, default=18432)
    ap.add_argument("--ffn", type=int, default=73728)
    ap.add_argument("--heads", type=int, default=96)
    ap.add_argument("--kv-heads", type=int, default=8)
    ap.add_argument("--seq", type=int, default=4096)
    ap.add_argument("--tp", type=int, default=8)
    ap.add_argument("--micro-batch", type=int, default=1)
    ap.add_argument("--peak", type=float, default=989.4, help="dense bf16 peak, TFLOP/s")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--json", help="write the results here")
    a = ap.parse_args()
    import torch
    import torch.nn.functional as F
    if not torch.cuda.is_available():
        print("SKIP: no CUDA device", file=sys.stderr)
        return 77
    dev = torch.device("cuda")
    bf = torch.bfloat16
    hd = a.hidden // a.heads
    M = a.seq * a.micro_batch
    qkv_out = (a.heads + 2 * a.kv_heads) * hd // a.tp
    att_in = a.hidden // a.tp
    ffn_l = a.ffn // a.tp
    layers = [("qkv", a.hidden, qkv_out), ("proj", att_in, a.hidden), ("up", a.hidden, ffn_l), ("down", ffn_l, a.hidden)]

    def timeit(fn):
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        ts = []
        for _ in range(a.iters):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record(); fn(); e.record(); torch.cuda.synchronize()
            ts.append(s.elapsed_time(e) * 1e-3)
        return statistics.median(ts)

    rows, tot_f, tot_t = [], 0.0, 0.0
    for name, K, N in layers:
        x = torch.randn(M, K, device=dev, dtype=bf)
        w = torch.randn(N, K, device=dev, dtype=bf)
        dy = torch.randn(M, N, device=dev, dtype=bf)
        for kind, fn in (("fwd", lambda: x @ w.t()), ("dgrad", lambda: dy @ w), ("wgrad", lambda: dy.t() @ x)):
            t = timeit(fn)
            f = 2.0 * M * K * N
            rows.append({"gemm": name, "pass": kind, "M": M, "K": K, "N": N, "ms": t * 1e3, "tflops": f / t / 1e12})
            tot_f += f; tot_t += t
    gemm_tflops = tot_f / tot_t / 1e12
    big = torch.randn(8192, 8192, device=dev, dtype=bf)
    t = timeit(lambda: big @ big)
    square = 2.0 * 8192 ** 3 / t / 1e12

    hq = a.heads // a.tp; hk = max(1, a.kv_heads // a.tp)
    q = torch.randn(a.micro_batch, hq, a.seq, hd, device=dev, dtype=bf, requires_grad=True)
    k = torch.randn(a.micro_batch, hk, a.seq, hd, device=dev, dtype=bf, requires_grad=True)
    v = torch.randn(a.micro_batch, hk, a.seq, hd, device=dev, dtype=bf, requires_grad=True)
    def att():
        kk = k.repeat_interleave(hq // hk, dim=1); vv = v.repeat_interleave(hq // hk, dim=1)
        o = F.scaled_dot_product_attention(q, kk, vv, is_causal=True)
        o.backward(torch.ones_like(o))
    def att_fwd():
        with torch.no_grad():
            kk = k.repeat_interleave(hq // hk, dim=1); vv = v.repeat_interleave(hq // hk, dim=1)
            F.scaled_dot_product_attention(q, kk, vv, is_causal=True)
    fwd_f = 4.0 * a.micro_batch * hq * a.seq ** 2 * hd / 2
    t_fb = timeit(att); t_f = timeit(att_fwd)
    res = {
        "device": torch.cuda.get_device_name(0), "torch": torch.__version__,
        "cuda": torch.version.cuda, "peak_tflops": a.peak,
        "gemm_rows": rows, "gemm_layer_tflops": gemm_tflops, "gemm_efficiency": gemm_tflops / a.peak,
        "gemm_8192_tflops": square,
        "attention": {"B": a.micro_batch, "heads": hq, "kv_heads": hk, "T": a.seq, "head_dim": hd,
                      "fwd_ms": t_f * 1e3, "fwd_bwd_ms": t_fb * 1e3,
                      "fwd_tflops_executed": fwd_f / t_f / 1e12,
                      "fwd_bwd_tflops_executed": 3.5 * fwd_f / t_fb / 1e12},
    }
    res["attention_efficiency"] = res["attention"]["fwd_bwd_tflops_executed"] / a.peak
    for r in rows:
        print("%-5s %-5s M %6d K %6d N %6d  %8.3f ms  %6.1f TFLOP/s" % (r["gemm"], r["pass"], r["M"], r["K"], r["N"], r["ms"], r["tflops"]))
    print("layer GEMMs: %.1f TFLOP/s = %.3f of %.1f;  8192^3: %.1f TFLOP/s" % (gemm_tflops, gemm_tflops / a.peak, a.peak, square))
    print("attention causal fwd %.3f ms (%.1f TFLOP/s), fwd+bwd %.3f ms (%.1f TFLOP/s executed) = %.3f of peak"
          % (t_f * 1e3, res["attention"]["fwd_tflops_executed"], t_fb * 1e3, res["attention"]["fwd_bwd_tflops_executed"], res["attention_efficiency"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
