#!/usr/bin/python3
"""CPU PyTorch training-throughput baseline for ntron (a benchmark, not a test).

This file owns the PyTorch side of the CPU throughput comparison: it trains a
Nemotron-4-style model (tests/reference/nemotron_ref.py, fp32) on random
tokens with AdamW, global-norm clipping and gradient accumulation — the same
work per step as an ntron CPU pretrain step — and prints one JSON object:

  {"tokens_per_s": ..., "tokens_per_s_best": ..., "ms_per_step_median": ..., "ms_per_step_mean": ...,
   "ms_per_step_min": ..., "ms_per_step_max": ..., "timed_steps": ...,
   "warmup_steps": ..., "threads": ..., <config>, "params": ..., ...}

tokens_per_s = micro_batch * grad_accum * seq / median step time
(tokens_per_s_best uses the fastest step: less sensitive to a busy machine;
loadavg_1min_before/after flag contention).  Only the
--steps timed steps count; the --warmup-steps before them are run untimed
(allocator / thread-pool warm-up).  A step = zero grads, forward+backward of
every micro-batch, grad norm, clipping, AdamW update.  --threads sets
torch.set_num_threads and OMP/OPENBLAS/MKL_NUM_THREADS (before torch loads).

Example:  postprocess/bench_cpu_torch.py --threads 2 --steps 20
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

REF_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "tests", "reference")
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_argument_group("model (defaults: the ntron CPU bench config)")
    g.add_argument("--layers", type=int, default=4, help="decoder layers (default 4)")
    g.add_argument("--hidden", type=int, default=384, help="hidden size (default 384)")
    g.add_argument("--heads", type=int, default=6, help="attention heads (default 6)")
    g.add_argument("--kv-heads", type=int, default=2, help="KV heads / query groups (default 2)")
    g.add_argument("--ffn", type=int, default=1536, help="MLP hidden size (default 1536)")
    g.add_argument("--vocab", type=int, default=384, help="padded vocab rows (default 384)")
    g.add_argument("--seq", type=int, default=256, help="sequence length (default 256)")
    g.add_argument("--rotary-fraction", type=float, default=0.5, help="default 0.5")
    g = ap.add_argument_group("run")
    g.add_argument("--micro-batch", type=int, default=4, help="sequences per micro-batch (default 4)")
    g.add_argument("--grad-accum", type=int, default=1, help="micro-batches per step (default 1)")
    g.add_argument("--steps", type=int, default=20, help="timed optimizer steps (default 20)")
    g.add_argument("--warmup-steps", type=int, default=3,
                   help="untimed steps run before the timed ones (default 3)")
    g.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    g.add_argument("--seed", type=int, default=0, help="RNG seed for init and tokens (default 0)")
    a = ap.parse_args(argv)
    if a.steps < 1 or a.warmup_steps < 0 or a.threads < 1:
        ap.error("--steps >= 1, --warmup-steps >= 0, --threads >= 1")

    # torch and its BLAS (OpenBLAS keeps its own pool) read these when loaded:
    # set them from --threads before importing torch so the whole step obeys it.
    load_before = os.getloadavg()[0]
    for k in THREAD_ENV:
        os.environ[k] = str(a.threads)
    import torch
    sys.path.insert(0, REF_DIR)
    from nemotron_ref import NemotronConfig, NemotronRef, OptimConfig, torch_adamw, train_step

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cfg = NemotronConfig(layers=a.layers, hidden=a.hidden, ffn_hidden=a.ffn, heads=a.heads,
                         kv_heads=a.kv_heads, vocab=a.vocab, seq_len=a.seq,
                         rotary_fraction=a.rotary_fraction).validate()
    total = a.warmup_steps + a.steps
    oc = OptimConfig(lr=3e-4, min_lr=3e-4, warmup=0, steps=total, decay="constant",
                     weight_decay=0.1, beta1=0.9, beta2=0.95, eps=1e-8, clip_grad=1.0)
    model = NemotronRef(cfg).init_random(0.02, 0.0)
    opt = torch_adamw(model, oc)
    nparams = sum(p.numel() for p in model.parameters())
    gb = a.micro_batch * a.grad_accum
    tokens = torch.randint(0, cfg.vocab, (total, gb, cfg.seq_len + 1))

    times, losses = [], []
    for s in range(1, total + 1):
        mbs = [tokens[s - 1, m * a.micro_batch:(m + 1) * a.micro_batch] for m in range(a.grad_accum)]
        t0 = time.perf_counter()
        r = train_step(model, opt, mbs, s, oc, use_torch_opt=True)
        dt = time.perf_counter() - t0
        losses.append(r["loss"])
        if s > a.warmup_steps:
            times.append(dt)

    tok_per_step = gb * cfg.seq_len
    med = statistics.median(times)
    # 6*N per token for the matmul parameters (embedding lookup excluded) + attention
    n_matmul = nparams - cfg.vocab * cfg.hidden - (2 * cfg.layers + 1) * 2 * cfg.hidden
    attn_flops = 6 * cfg.layers * cfg.seq_len * cfg.hidden  # causal: half of 12*L*T*H
    out = {
        "tokens_per_s": tok_per_step / med,
        "tokens_per_s_best": tok_per_step / min(times),
        "ms_per_step_median": med * 1e3,
        "ms_per_step_mean": statistics.fmean(times) * 1e3,
        "ms_per_step_min": min(times) * 1e3,
        "ms_per_step_max": max(times) * 1e3,
        "timed_steps": a.steps,
        "warmup_steps": a.warmup_steps,
        "threads": a.threads,
        "torch_threads": torch.get_num_threads(),
        "loadavg_1min_before": load_before,
        "loadavg_1min_after": os.getloadavg()[0],
        "layers": cfg.layers, "hidden": cfg.hidden, "heads": cfg.heads,
        "kv_heads": cfg.kv_heads, "ffn": cfg.ffn_hidden, "vocab": cfg.vocab,
        "seq": cfg.seq_len, "micro_batch": a.micro_batch, "grad_accum": a.grad_accum,
        "rotary_fraction": cfg.rotary_fraction,
        "tokens_per_step": tok_per_step,
        "params": nparams,
        "model_flops_per_token": 6 * n_matmul + attn_flops,
        "gflops_per_s": (6 * n_matmul + attn_flops) * tok_per_step / med / 1e9,
        "dtype": "float32", "optimizer": "torch.optim.AdamW",
        "loss_first": losses[0], "loss_last": losses[-1],
        "torch": torch.__version__, "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
