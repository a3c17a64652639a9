#!/usr/bin/python3
"""Write a fake ntron reference-state HDF5 file from the PyTorch reference.

This file owns the stand-in for the state file that ntron's C test program
writes, so that tests/compare_reference.py can be tested end to end before
(and independently of) the C side.  Same format as the C side:

  root attrs  layers hidden ffn_hidden heads kv_heads vocab seq_len
              rotary_fraction rotary_base norm_eps lr min_lr warmup
              decay_steps steps weight_decay beta1 beta2 eps clip_grad
              micro_batch grad_accum  (int64 / float64 scalars), decay (string)
  /init/<name>           float32 initial parameters (std 0.02 for 2-D weights)
  /tokens                int32 [steps, grad_accum*micro_batch, seq_len+1]
  /step1/logits          float32 [micro_batch, seq_len, vocab] (first micro-batch)
  /step1/loss            float64 [1] (mean over the global batch)
  /step1/grads/<name>    float32 accumulated gradients of step 1, before clipping
  /losses /grad_norms /lrs  float64 [steps]
  /final/<name>          float32 parameters after `steps` steps

To make the self-test meaningful the file is by default produced by a
*different* computation path than compare_reference.py uses: float64 maths
(cast to float32 on write) and torch.optim.AdamW instead of the explicit
AdamW in nemotron_ref.py.  --dtype float32 --own-adamw gives bit-for-bit the
reference's own path.  --perturb-grad NAME adds rel*max|g| to one element of
that gradient in the file (a negative test: compare must FAIL).
"""

import argparse
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nemotron_ref import (NemotronConfig, NemotronRef, OptimConfig,  # noqa: E402
                          AdamW, torch_adamw, train_step, param_names)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="output .h5 path")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--ffn", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=128, help="padded vocab (rows)")
    ap.add_argument("--seq", type=int, default=16)
    ap.add_argument("--rotary-fraction", type=float, default=0.5)
    ap.add_argument("--rotary-base", type=float, default=10000.0)
    ap.add_argument("--norm-eps", type=float, default=1e-5)
    ap.add_argument("--micro-batch", type=int, default=2)
    ap.add_argument("--grad-accum", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--decay-steps", type=int, default=0)
    ap.add_argument("--decay", default="cosine", choices=["cosine", "linear", "constant"])
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.95)
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--clip-grad", type=float, default=1.0)
    ap.add_argument("--std", type=float, default=0.02, help="init std of 2-D weights")
    ap.add_argument("--norm-std", type=float, default=0.02,
                    help="init std of norm gamma/beta (nonzero so 1+gamma and beta are exercised)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--dtype", default="float64", choices=["float32", "float64"],
                    help="compute dtype (results are stored as float32)")
    ap.add_argument("--own-adamw", action="store_true",
                    help="use nemotron_ref.AdamW instead of torch.optim.AdamW")
    ap.add_argument("--perturb-grad", default=None, metavar="NAME",
                    help="perturb one element of /step1/grads/NAME in the file")
    ap.add_argument("--perturb-rel", type=float, default=1e-3,
                    help="perturbation size relative to max|grad| (default 1e-3)")
    a = ap.parse_args(argv)

    cfg = NemotronConfig(layers=a.layers, hidden=a.hidden, ffn_hidden=a.ffn, heads=a.heads,
                         kv_heads=a.kv_heads, vocab=a.vocab, seq_len=a.seq,
                         rotary_fraction=a.rotary_fraction, rotary_base=a.rotary_base,
                         norm_eps=a.norm_eps).validate()
    oc = OptimConfig(lr=a.lr, min_lr=a.min_lr, warmup=a.warmup, decay_steps=a.decay_steps,
                     steps=a.steps, decay=a.decay, weight_decay=a.weight_decay,
                     beta1=a.beta1, beta2=a.beta2, eps=a.eps, clip_grad=a.clip_grad)
    dtype = torch.float64 if a.dtype == "float64" else torch.float32

    gen = torch.Generator().manual_seed(a.seed)
    model = NemotronRef(cfg, dtype=torch.float32).init_random(a.std, a.norm_std, gen)
    init = {n: p.detach().clone() for n, p in model.named_parameters()}
    model = model.to(dtype)

    gb = a.grad_accum * a.micro_batch
    tokens = torch.randint(0, cfg.vocab, (a.steps, gb, cfg.seq_len + 1),
                           generator=gen, dtype=torch.int64)

    opt = torch_adamw(model, oc) if not a.own_adamw else AdamW(model.named_parameters(), oc)
    losses, gnorms, lrs = [], [], []
    step1 = None
    for s in range(1, a.steps + 1):
        mbs = [tokens[s - 1, m * a.micro_batch:(m + 1) * a.micro_batch] for m in range(a.grad_accum)]
        r = train_step(model, opt, mbs, s, oc, use_torch_opt=not a.own_adamw, keep=(s == 1))
        if s == 1:
            step1 = r
        losses.append(r["loss"])
        gnorms.append(r["grad_norm"])
        lrs.append(r["lr"])
        print(f"step {s}: loss {r['loss']:.6f} grad_norm {r['grad_norm']:.6f} lr {r['lr']:.6g}")

    names = param_names(cfg.layers)
    assert sorted(names) == sorted(n for n, _ in model.named_parameters())
    params = dict(model.named_parameters())
    with h5py.File(a.out, "w") as f:
        for k, v in [("layers", cfg.layers), ("hidden", cfg.hidden), ("ffn_hidden", cfg.ffn_hidden),
                     ("heads", cfg.heads), ("kv_heads", cfg.kv_heads), ("vocab", cfg.vocab),
                     ("seq_len", cfg.seq_len), ("warmup", oc.warmup),
                     ("decay_steps", oc.decay_steps), ("steps", oc.steps),
                     ("micro_batch", a.micro_batch), ("grad_accum", a.grad_accum)]:
            f.attrs[k] = np.int64(v)
        for k, v in [("rotary_fraction", cfg.rotary_fraction), ("rotary_base", cfg.rotary_base),
                     ("norm_eps", cfg.norm_eps), ("lr", oc.lr), ("min_lr", oc.min_lr),
                     ("weight_decay", oc.weight_decay), ("beta1", oc.beta1),
                     ("beta2", oc.beta2), ("eps", oc.eps), ("clip_grad", oc.clip_grad)]:
            f.attrs[k] = np.float64(v)
        f.attrs["decay"] = oc.decay
        for n in names:
            f[f"init/{n}"] = init[n].numpy().astype(np.float32)
            f[f"final/{n}"] = params[n].detach().numpy().astype(np.float32)
            g = step1["grads"][n].numpy().astype(np.float32)
            if a.perturb_grad == n:
                idx = int(torch.randint(0, g.size, (1,), generator=gen))
                flat = g.reshape(-1)
                delta = a.perturb_rel * float(np.abs(g).max())
                flat[idx] += delta
                print(f"perturbed /step1/grads/{n} element {idx} by {delta:.3g} "
                      f"({a.perturb_rel:g} x max|g|)")
            f[f"step1/grads/{n}"] = g
        if a.perturb_grad is not None and a.perturb_grad not in names:
            sys.exit(f"--perturb-grad: no parameter named {a.perturb_grad!r}")
        f["tokens"] = tokens.numpy().astype(np.int32)
        f["step1/logits"] = step1["logits0"].numpy().astype(np.float32)
        f["step1/loss"] = np.array([step1["loss"]], dtype=np.float64)
        f["losses"] = np.array(losses, dtype=np.float64)
        f["grad_norms"] = np.array(gnorms, dtype=np.float64)
        f["lrs"] = np.array(lrs, dtype=np.float64)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
