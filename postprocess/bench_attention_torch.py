#!/usr/bin/env python3
"""bench_attention_torch.py — the peer for ntron's fused attention benchmark:
times PyTorch's scaled_dot_product_attention (bf16, causal) on the GPU at
ntron's shapes (default seq 4096, head dim 192, 12 query heads in 2 KV
groups, batch 1 2 4; K and V are expanded to all query heads before timing,
so GQA costs PyTorch nothing extra) and prints one JSON line per batch:
ms and TFLOP/s for forward and forward+backward.  FLOPs as in
tests/test_cuda_kernels.cu: forward 4·B·heads·T²·hd/2 (causal half),
forward+backward 3.5× that (FlashAttention's convention) and 2.5× (ntron's
test prints both).  Usage: bench_attention_torch.py [--batch 1 2 4] [--seq N]
[--hd N] [--heads N] [--kv-heads N] [--iters N]"""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--seq", type=int, default=4096)
    ap.add_argument("--hd", type=int, default=192)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=10)
    a = ap.parse_args()
    import torch
    import torch.nn.functional as F
    if not torch.cuda.is_available():
        print(json.dumps({"skipped": "no CUDA device"}))
        return 0
    dev = torch.device("cuda")
    for B in a.batch:
        q = torch.randn(B, a.heads, a.seq, a.hd, device=dev, dtype=torch.bfloat16, requires_grad=True)
        k0 = torch.randn(B, a.kv_heads, a.seq, a.hd, device=dev, dtype=torch.bfloat16)
        v0 = torch.randn(B, a.kv_heads, a.seq, a.hd, device=dev, dtype=torch.bfloat16)
        rep = a.heads // a.kv_heads
        k = k0.repeat_interleave(rep, dim=1).detach().requires_grad_(True)
        v = v0.repeat_interleave(rep, dim=1).detach().requires_grad_(True)
        do = torch.randn(B, a.heads, a.seq, a.hd, device=dev, dtype=torch.bfloat16)
        ffwd = 4.0 * B * a.heads * a.seq * a.seq * a.hd / 2.0

        qd, kd, vd = q.detach(), k.detach(), v.detach()   # forward-only timing: no autograd graph

        def fwd():
            return F.scaled_dot_product_attention(qd, kd, vd, is_causal=True)

        def fwdbwd():
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            o.backward(do)

        def timed(fn):
            for _ in range(3):   # warm-up: backend selection, autotuning, allocator
                fn()
            torch.cuda.synchronize()
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            for _ in range(a.iters):
                fn()
            e1.record()
            torch.cuda.synchronize()
            return e0.elapsed_time(e1) / a.iters

        tf = timed(fwd)
        tb = timed(fwdbwd)
        print(json.dumps({"impl": "torch.sdpa", "torch": torch.__version__, "gpu": torch.cuda.get_device_name(),
                          "B": B, "T": a.seq, "heads": a.heads, "kv_heads": a.kv_heads, "hd": a.hd,
                          "fwd_ms": tf, "fwd_tflops": ffwd / tf / 1e9,
                          "fwdbwd_ms": tb, "fwdbwd_tflops_3.5x": 3.5 * ffwd / tb / 1e9,
                          "fwdbwd_tflops_2.5x": 2.5 * ffwd / tb / 1e9}))
        sys.stdout.flush()
        del q, k, v, k0, v0, do
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
