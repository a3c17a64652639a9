#!/usr/bin/python3
"""Check a state file written by ntron's C test program against the PyTorch reference.

This file owns the comparison of ntron (C) with the independent PyTorch
reference tests/reference/nemotron_ref.py.  Usage:

    tests/compare_reference.py FILE.h5 [--double] [--verbose]

It builds NemotronRef from the file's root attributes and /init, then checks
(one "PASS: ..." / "FAIL: ..." line per check; exit status 1 if any fails,
2 if the file cannot be read):

  a. step 1: logits of the first micro-batch vs /step1/logits; loss (mean over
     all tokens of the global batch) vs /step1/loss; every gradient,
     accumulated over all micro-batches, before clipping, vs /step1/grads/<name>.
  b. `steps` optimizer steps on /tokens with gradient accumulation, AdamW,
     LR schedule and global-norm clipping: each step's loss, pre-clip grad
     norm and lr vs /losses, /grad_norms, /lrs; final parameters vs /final/<name>.

A file with /positions and /loss_mask (ref_dump --sft) is the SFT form:
packed rows (positions restarting per sample) and the loss over the masked
targets divided by their count in the global batch; the reference then runs
the same rows with its own packed attention mask and ignore_index loss.

Error measures: tensors use max|a-b| / max|b| (a = reference, b = file);
scalars use |a-b| / |b| (absolute when b == 0).  See TOL below.
--double runs the reference in float64 (the truth the fp32 C code approximates).
"""

import argparse
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
from nemotron_ref import (NemotronConfig, NemotronRef, OptimConfig, AdamW,  # noqa: E402
                          train_step, param_names)

# Tolerances.
TOL = {
    "logits": 1e-5,      # max-abs/max
    "loss": 1e-5,        # relative
    "grad": 1e-5,        # max-abs/max, per tensor
    "step_loss": 1e-5,   # relative
    "grad_norm": 1e-5,   # relative
    "lr": 1e-6,          # relative
    # Final parameters after `steps` AdamW steps: max-abs/max <= 1e-4.  Looser
    # than the per-step checks because Adam normalises each update to ~lr in
    # size, m_hat / (sqrt(v_hat) + eps): for an element whose gradient is tiny
    # (near zero, e.g. a rarely-hit embedding row or a padded-vocab lm_head
    # row) the fp32 rounding noise in that gradient is a large *relative*
    # error, and Adam turns it into a difference of order lr per step, not
    # order lr * (noise / |g|).  Over 10 steps this amplifies ~1e-7 relative
    # fp32 differences into ~1e-5..1e-4 relative parameter differences.  If
    # this check fails, the diagnostic line says whether the worst elements
    # are ones with near-zero gradient; do not loosen further without that.
    "final": 1e-4,
}
NEAR_ZERO = 1e-3   # 0 < |grad| below this times the tensor's median non-zero |grad| counts as near zero


class Checker:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def report(self, what, err, tol, extra=""):
        ok = bool(np.isfinite(err)) and err <= tol
        tag = "PASS" if ok else "FAIL"
        print(f"{tag}: {what} (err={err:.3e}, tol={tol:.0e}){extra}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def fail(self, what):
        print(f"FAIL: {what}", flush=True)
        self.failed += 1


def tensor_err(a, b):
    """max|a-b| / max|b| (absolute if b is all zero)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    if a.size == 0:
        return 0.0
    d = float(np.abs(a - b).max())
    m = float(np.abs(b).max())
    return d / m if m > 0 else d


def scalar_err(a, b):
    a, b = float(a), float(b)
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)


def attr(f, k):
    v = f.attrs[k]
    if isinstance(v, np.ndarray):
        v = v.reshape(-1)[0]
    if isinstance(v, (bytes, np.bytes_)):
        v = v.decode()
    if hasattr(v, "item"):
        v = v.item()
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", help="state file written by ntron's C test program (HDF5)")
    ap.add_argument("--double", action="store_true",
                    help="run the reference in float64 instead of float32")
    ap.add_argument("--verbose", action="store_true", help="print reference values too")
    a = ap.parse_args(argv)

    torch.manual_seed(0)
    dtype = torch.float64 if a.double else torch.float32
    try:
        f = h5py.File(a.file, "r")
    except OSError as e:
        print(f"FAIL: cannot open {a.file}: {e}")
        return 2

    with f:
        attrs = {k: attr(f, k) for k in f.attrs.keys()}
        need = ["layers", "hidden", "ffn_hidden", "heads", "kv_heads", "vocab", "seq_len",
                "rotary_fraction", "rotary_base", "norm_eps", "lr", "min_lr", "warmup",
                "decay_steps", "steps", "weight_decay", "beta1", "beta2", "eps",
                "clip_grad", "micro_batch", "grad_accum", "decay"]
        missing = [k for k in need if k not in attrs]
        if missing:
            print(f"FAIL: root attributes missing: {', '.join(missing)}")
            return 2
        cfg = NemotronConfig.from_mapping(attrs).validate()
        oc = OptimConfig.from_mapping(attrs)
        mb, ga, steps = int(attrs["micro_batch"]), int(attrs["grad_accum"]), int(attrs["steps"])
        print(f"config: layers={cfg.layers} hidden={cfg.hidden} ffn={cfg.ffn_hidden} "
              f"heads={cfg.heads} kv_heads={cfg.kv_heads} vocab={cfg.vocab} seq={cfg.seq_len} "
              f"rot={cfg.rot_dim}/{cfg.head_dim} base={cfg.rotary_base:g} eps={cfg.norm_eps:g}")
        print(f"optim: lr={oc.lr:g} min_lr={oc.min_lr:g} warmup={oc.warmup} "
              f"decay={oc.decay} decay_steps={oc.decay_steps} steps={steps} wd={oc.weight_decay:g} "
              f"betas=({oc.beta1:g},{oc.beta2:g}) eps={oc.eps:g} clip={oc.clip_grad:g} "
              f"micro_batch={mb} grad_accum={ga}")
        print(f"reference dtype: {'float64' if a.double else 'float32'}; "
              "tensor error = max|ref-c| / max|c|, scalar error = |ref-c| / |c|")

        ck = Checker()
        names = param_names(cfg.layers)
        model = NemotronRef(cfg, dtype=dtype)
        params = dict(model.named_parameters())
        with torch.no_grad():
            for n in names:
                key = f"init/{n}"
                if key not in f:
                    ck.fail(f"/init/{n} missing from file")
                    return 1
                arr = f[key][()]
                if tuple(arr.shape) != tuple(params[n].shape):
                    ck.fail(f"/init/{n} shape {arr.shape} != expected {tuple(params[n].shape)}")
                    return 1
                params[n].copy_(torch.from_numpy(np.asarray(arr, dtype=np.float32)).to(dtype))
        extra_init = sorted(set(f["init"].keys()) - set(names)) if "init" in f else []
        if extra_init:
            ck.fail(f"/init has unexpected tensors: {', '.join(extra_init)}")

        tokens = torch.from_numpy(np.asarray(f["tokens"][()], dtype=np.int64))
        exp_shape = (steps, ga * mb, cfg.seq_len + 1)
        if tuple(tokens.shape) != exp_shape:
            ck.fail(f"/tokens shape {tuple(tokens.shape)} != {exp_shape}")
            return 1
        if int(tokens.min()) < 0 or int(tokens.max()) >= cfg.vocab:
            ck.fail(f"/tokens out of range [0, {cfg.vocab})")
            return 1

        sft = "positions" in f and "loss_mask" in f
        if sft:
            positions = torch.from_numpy(np.asarray(f["positions"][()], dtype=np.int64))
            lmask = torch.from_numpy(np.asarray(f["loss_mask"][()], dtype=np.uint8)).bool()
            if tuple(positions.shape) != (steps, ga * mb, cfg.seq_len) or tuple(lmask.shape) != exp_shape:
                ck.fail(f"/positions {tuple(positions.shape)} or /loss_mask {tuple(lmask.shape)} of the wrong shape")
                return 1
            nseg = int((positions == 0).sum())
            print(f"sft form: packed rows ({nseg / (steps * ga * mb):.1f} samples per row), "
                  f"{int(lmask[:, :, 1:].sum())} loss tokens over {steps} steps")

        opt = AdamW(model.named_parameters(), oc)
        losses = np.asarray(f["losses"][()], dtype=np.float64).reshape(-1)
        gnorms = np.asarray(f["grad_norms"][()], dtype=np.float64).reshape(-1)
        lrs = np.asarray(f["lrs"][()], dtype=np.float64).reshape(-1)
        for nm, arr in (("losses", losses), ("grad_norms", gnorms), ("lrs", lrs)):
            if arr.shape[0] != steps:
                ck.fail(f"/{nm} has {arr.shape[0]} entries, expected {steps}")
                return 1

        # For the final-param diagnostic: per element, the smallest |pre-clip grad|
        # over all steps relative to that step's median |grad| in the tensor, and
        # the step where it occurred.  Adam's first steps turn a near-zero
        # gradient's rounding noise into an O(lr) difference.
        gmin = {n: torch.full(p.shape, float("inf"), dtype=torch.float64) for n, p in params.items()}
        gstep = {n: torch.zeros(p.shape, dtype=torch.int64) for n, p in params.items()}

        for s in range(1, steps + 1):
            mbs = [tokens[s - 1, m * mb:(m + 1) * mb] for m in range(ga)]
            if sft:
                r = train_step(model, opt, mbs, s, oc, keep=True,
                               positions=[positions[s - 1, m * mb:(m + 1) * mb] for m in range(ga)],
                               masks=[lmask[s - 1, m * mb:(m + 1) * mb] for m in range(ga)])
            else:
                r = train_step(model, opt, mbs, s, oc, keep=True)
            for n in names:
                g = r["grads"][n].double().abs()
                # median over the non-zero gradients: an exactly-zero gradient (an
                # unused embedding row) has no rounding noise and counts as large
                nz = g[g > 0]
                med = float(nz.median()) if nz.numel() else 0.0
                ratio = torch.where(g > 0, g / med if med > 0 else g, torch.full_like(g, float("inf")))
                smaller = ratio < gmin[n]
                gmin[n] = torch.where(smaller, ratio, gmin[n])
                gstep[n] = torch.where(smaller, torch.full_like(gstep[n], s), gstep[n])
            if s == 1:
                # ---- a. step 1: logits, loss, gradients
                ref_logits = r["logits0"].double().numpy()
                c_logits = f["step1/logits"][()]
                nv = cfg.vocab_valid or cfg.vocab
                ref_logits, c_logits = ref_logits[..., :nv], c_logits[..., :nv]
                ck.report(f"step 1 logits of micro-batch 0, shape {tuple(c_logits.shape)}",
                          tensor_err(ref_logits, c_logits), TOL["logits"])
                c_loss = float(np.asarray(f["step1/loss"][()]).reshape(-1)[0])
                ck.report(f"step 1 loss vs /step1/loss (ref {r['loss']:.9f}, c {c_loss:.9f})",
                          scalar_err(r["loss"], c_loss), TOL["loss"])
                for n in names:
                    key = f"step1/grads/{n}"
                    if key not in f:
                        ck.fail(f"{key} missing from file")
                        continue
                    c_g = f[key][()]
                    ref_g = r["grads"][n].double().numpy()
                    ck.report(f"step 1 grad {n} {tuple(ref_g.shape)}",
                              tensor_err(ref_g, c_g), TOL["grad"])
            # ---- b. per-step loss, grad norm, lr
            ck.report(f"step {s} loss vs /losses (ref {r['loss']:.9f}, c {losses[s-1]:.9f})",
                      scalar_err(r["loss"], losses[s - 1]), TOL["step_loss"])
            ck.report(f"step {s} grad norm pre-clip (ref {r['grad_norm']:.9g}, c {gnorms[s-1]:.9g})",
                      scalar_err(r["grad_norm"], gnorms[s - 1]), TOL["grad_norm"])
            ck.report(f"step {s} lr (ref {r['lr']:.9g}, c {lrs[s-1]:.9g})",
                      scalar_err(r["lr"], lrs[s - 1]), TOL["lr"])

        # ---- b. final parameters
        for n in names:
            key = f"final/{n}"
            if key not in f:
                ck.fail(f"/{key} missing from file")
                continue
            c_p = np.asarray(f[key][()], dtype=np.float64)
            ref_p = params[n].detach().double().numpy()
            if ref_p.shape != c_p.shape:
                ck.fail(f"final param {n}: shape {c_p.shape} != {ref_p.shape}")
                continue
            # Elements whose gradient was near zero (|g| < NEAR_ZERO x the tensor's
            # median) at some step are compared separately: there |g| ~ eps and the
            # relative rounding of g decides Adam's normalised update (~lr in size),
            # so both sides legitimately differ by up to ~lr per step.  Every other
            # element must agree to TOL["final"]; the near-zero ones to the Adam bound.
            scale = float(np.abs(c_p).max()) or 1.0
            d = np.abs(ref_p - c_p)
            small = gmin[n].numpy().reshape(d.shape) < NEAR_ZERO
            err = float(d[~small].max() / scale) if (~small).any() else 0.0
            ok = ck.report(f"final param {n} after {steps} steps {tuple(ref_p.shape)}"
                           f"{f' ({int(small.sum())} near-zero-gradient elements apart)' if small.any() else ''}",
                           err, TOL["final"])
            if small.any():
                bound = 2.0 * oc.lr * steps
                ck.report(f"final param {n}: {int(small.sum())} near-zero-gradient elements within the "
                          f"Adam step bound 2*lr*steps (abs)", float(d[small].max()) / bound, 1.0)
            if not ok:
                diagnose_final(n, ref_p, c_p, gmin[n].numpy(), gstep[n].numpy())
        print(f"{'FAIL' if ck.failed else 'PASS'}: {ck.passed} checks passed, "
              f"{ck.failed} failed ({a.file})")
        return 1 if ck.failed else 0


def diagnose_final(name, ref_p, c_p, gmin, gstep):
    """Say whether the final-param mismatch sits on elements with near-zero gradient.

    gmin: per element, min over steps of |grad| / median|grad of that tensor at that step|;
    gstep: the step where that minimum occurred.
    """
    scale = float(np.abs(c_p).max()) or 1.0
    d = (np.abs(ref_p - c_p) / scale).reshape(-1)
    gflat, sflat = gmin.reshape(-1), gstep.reshape(-1)
    for i in np.argsort(d)[::-1][:5]:
        print(f"  diag {name}: element {np.unravel_index(i, c_p.shape)} err={d[i]:.3e} "
              f"ref={ref_p.reshape(-1)[i]:.8g} c={c_p.reshape(-1)[i]:.8g} "
              f"min|grad|/median={gflat[i]:.2e} at step {sflat[i]}")
    small = gflat < NEAR_ZERO
    rest = d[~small]
    rest_err = float(rest.max()) if rest.size else 0.0
    print(f"  diag {name}: {int(small.sum())} of {d.size} elements had a near-zero gradient at some "
          f"step (|g| < {NEAR_ZERO:.0e} x median); error over the others = {rest_err:.3e}")
    if rest_err <= TOL["final"]:
        print(f"  diag {name}: the mismatch is confined to near-zero-gradient elements "
              f"(Adam amplification of rounding noise) -- report it, do not loosen the tolerance")
    else:
        print(f"  diag {name}: elements with ordinary gradients also mismatch -- a real difference")


if __name__ == "__main__":
    sys.exit(main())
