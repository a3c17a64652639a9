#!/usr/bin/python3
"""PyTorch reference of ntron's preference losses (phases dpo and rpo).

The loss variants follow NeMo-Aligner's DPO model (`preference_loss` =
dpo | ipo | rpo_sq | rpo_bwd_kl | rpo_fwd_kl), written here from their
formulas (DESIGN.md, "Alignment phases"), with autograd for every gradient:

  S(y)  = sum (or mean, average_log_probs) over the response tokens of
          log pi(y_t) - log pi_ref(y_t)      (prompt tokens are masked)
  delta = S(chosen) - S(rejected),  a = beta * delta,
  b     = eta * (r*_chosen - r*_rejected)
  dpo        -logsigmoid(a)
  ipo        (delta - 1/(2 beta))^2
  rpo_sq     (a - b)^2
  rpo_bwd_kl sigma(b) (log sigma(b) - log sigma(a)) + sigma(-b) (log sigma(-b) - log sigma(-a))
  rpo_fwd_kl sigma(a) (log sigma(a) - log sigma(b)) + sigma(-a) (log sigma(-a) - log sigma(-b))
  total = mean over pairs of preference_weight * L + sft_weight * (-log pi(chosen response))

`pref_loss.py STATE.h5` checks a state file of tests/pref_dump (ntron's
phase entry and trainer on a tiny model) against it: the reference
log-probs ntron put in every batch against a frozen copy of the initial
model (the reference policy of the dump), the step-1 loss and every
gradient, the loss of every step, the gradients of the last step from
ntron's own parameters before it (the policy has left the reference
there), and the final parameters after AdamW.  Tolerances: max|ref - c| /
max|c| <= 1e-5 for gradients and the per-row log-probs, |ref - c| / |c|
<= 1e-5 for losses (2e-5 for grad norms), <= 1e-4 for the final parameters
except elements whose gradient was ever near zero (< 1e-3 x the tensor's
median): there float32 rounding decides the sign of Adam's normalised
step, so they are held to the Adam bound 2 * lr * steps instead (the rule
of tests/compare_reference.py).  The reference runs in float64.  Exit 0 when
all pass.  `pref_loss.py --selftest` checks the closed-form gradients of
the losses against autograd.
"""

import copy
import math
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nemotron_ref import (NemotronConfig, NemotronRef, OptimConfig, AdamW,  # noqa: E402
                          clip_grads, grad_norm, lr_at, param_names)

LOSSES = ("dpo", "ipo", "rpo_sq", "rpo_bwd_kl", "rpo_fwd_kl")


def preference_loss(kind, beta, delta, gap):
    """Per-pair loss tensor of delta [P] and gap [P] (eta already applied)."""
    a = beta * delta
    ls = F.logsigmoid
    if kind == "dpo":
        return -ls(a)
    if kind == "ipo":
        return (delta - 1.0 / (2.0 * beta)) ** 2
    if kind == "rpo_sq":
        return (a - gap) ** 2
    if kind == "rpo_bwd_kl":
        return (torch.exp(ls(gap)) * (ls(gap) - ls(a))
                + torch.exp(ls(-gap)) * (ls(-gap) - ls(-a)))
    if kind == "rpo_fwd_kl":
        return (torch.exp(ls(a)) * (ls(a) - ls(gap))
                + torch.exp(ls(-a)) * (ls(-a) - ls(-gap)))
    raise ValueError(kind)


def seq_logps(model, tokens, mask):
    """Per-row sums of log pi(target) over masked targets, and the counts."""
    logits = model(tokens[:, :-1])
    lp = torch.log_softmax(logits, dim=-1).gather(-1, tokens[:, 1:, None]).squeeze(-1)
    valid = mask[:, 1:] != 0
    return (lp * valid).sum(-1), valid.sum(-1).to(lp.dtype)


def total_loss(model, ref_lp, tokens, mask, gaps, o):
    lp, cnt = seq_logps(model, tokens, mask)
    n = cnt if o["avg"] else torch.ones_like(cnt)
    S = (lp - ref_lp) / n
    sc, sr = S[0::2], S[1::2]
    L = preference_loss(o["loss"], o["beta"], sc - sr, gaps)
    sft = -(lp / n)[0::2]
    return (o["wpref"] * L + o["wsft"] * sft).mean()


def rel(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    m = np.abs(b).max()
    d = np.abs(a - b).max()
    return d / m if m > 0 else d


def attr(f, k):
    v = f.attrs[k]
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode()
    if hasattr(v, "item"):
        v = v.item()
    return v.decode() if isinstance(v, bytes) else v


def pair_rewards(path):
    """chosen-sequence token tuple -> (r*_chosen, r*_rejected) of the data file's pairs."""
    with h5py.File(path, "r") as d:
        toks = d["tokens"][()]
        rng = d["ranges"][()]
        rw = d["rewards"][()] if "rewards" in d else np.full((len(rng), 2), np.nan)
    out = {}
    for i, (p, c, r, e) in enumerate(rng):
        out[tuple(toks[p:r].tolist())] = (float(rw[i, 0]), float(rw[i, 1]))
    return out


def check(path):
    dt = torch.float64
    fails = []

    def report(what, err, tol):
        ok = err <= tol
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {err:.3e} (tol {tol:g})")
        if not ok:
            fails.append(what)

    with h5py.File(path, "r") as f:
        A = {k: attr(f, k) for k in f.attrs}
        cfg = NemotronConfig.from_mapping(A).validate()
        oc = OptimConfig.from_mapping(A)
        o = {"loss": A["loss"], "beta": A["beta"], "eta": A["eta"], "wsft": A["sft_weight"],
             "wpref": A["preference_weight"], "avg": bool(A["average_log_probs"])}
        steps = int(A["steps"])
        print(f"{A['phase']}: loss {o['loss']} beta {o['beta']:g} eta {o['eta']:g} sft_weight {o['wsft']:g} "
              f"preference_weight {o['wpref']:g} average_log_probs {o['avg']}; {steps} steps, "
              f"global batch {int(A['global_batch'])} sequences, lr {oc.lr:g}")
        names = param_names(cfg.layers)
        model = NemotronRef(cfg, dtype=dt)
        P = dict(model.named_parameters())
        with torch.no_grad():
            for n in names:
                P[n].copy_(torch.from_numpy(f["init/" + n][()].astype(np.float64)))
        ref_model = copy.deepcopy(model).requires_grad_(False)
        rewards = pair_rewards(A["data"])
        opt = AdamW(model.named_parameters(), oc)
        losses = f["losses"][()]
        worst = {"ref": 0.0, "loss": 0.0, "gnorm": 0.0}
        gmin = {n: torch.full(P[n].shape, float("inf"), dtype=dt) for n in names}
        for s in range(1, steps + 1):
            g = f[f"batch/{s}"]
            tok = torch.from_numpy(g["tokens"][()].astype(np.int64))
            msk = torch.from_numpy(g["mask"][()])
            c_ref = g["ref_logp"][()]
            with torch.no_grad():
                ref_lp, _ = seq_logps(ref_model, tok, msk)
            worst["ref"] = max(worst["ref"], rel(c_ref, ref_lp.numpy()))
            gaps = []
            for p in range(tok.shape[0] // 2):
                m = msk[2 * p].numpy()
                end = int(np.nonzero(m)[0].max()) + 1
                rc, rr = rewards[tuple(tok[2 * p, :end].tolist())]
                gaps.append(o["eta"] * (rc - rr))
            gaps = torch.tensor(gaps, dtype=dt)
            for p_ in model.parameters():
                p_.grad = None
            loss = total_loss(model, ref_lp, tok, msk, gaps, o)
            loss.backward()
            gn = grad_norm(list(model.parameters()))
            for n in names:
                ga = P[n].grad.detach().abs()
                nz = ga[ga > 0]
                med = float(nz.median()) if nz.numel() else 0.0
                ratio = torch.where(ga > 0, ga / med if med > 0 else ga, torch.full_like(ga, float("inf")))
                gmin[n] = torch.minimum(gmin[n], ratio)
            worst["loss"] = max(worst["loss"], abs(float(loss) - losses[s - 1, 0]) / abs(losses[s - 1, 0]))
            worst["gnorm"] = max(worst["gnorm"], abs(gn - losses[s - 1, 1]) / abs(losses[s - 1, 1]))
            if s == 1:
                report("step-1 loss", abs(float(loss) - losses[0, 0]) / abs(losses[0, 0]), 1e-5)
                e = max(rel(f["step1/grads/" + n][()], P[n].grad.numpy()) for n in names)
                report(f"step-1 gradients, worst of {len(names)} tensors", e, 1e-5)
            if s == steps:
                # the last step from ntron's own parameters: delta != 0 there
                last = copy.deepcopy(model)
                L = dict(last.named_parameters())
                with torch.no_grad():
                    for n in names:
                        L[n].copy_(torch.from_numpy(f["last/params/" + n][()].astype(np.float64)))
                for p_ in last.parameters():
                    p_.grad = None
                ll = total_loss(last, ref_lp, tok, msk, gaps, o)
                ll.backward()
                report(f"step-{s} loss from ntron's parameters", abs(float(ll) - losses[s - 1, 0]) / abs(losses[s - 1, 0]), 1e-5)
                e = max(rel(f["last/grads/" + n][()], L[n].grad.numpy()) for n in names)
                report(f"step-{s} gradients from ntron's parameters, worst of {len(names)} tensors", e, 1e-5)
            clip_grads(list(model.parameters()), gn, oc.clip_grad)
            opt.step(lr_at(s, oc))
        report(f"reference log-probs in every batch (frozen initial model), {steps} steps", worst["ref"], 1e-5)
        report(f"losses of {steps} steps", worst["loss"], 1e-5)
        # 2e-5: a grad norm is an fp32 sum over ~1e5 squared entries (rounding ~sqrt(n) x 6e-8),
        # relative to a norm that shrinks as the steps fit the pairs; measured 1.1e-5 (rpo_sq, AMD EPYC)
        report(f"grad norms of {steps} steps", worst["gnorm"], 2e-5)
        e, eb, nsmall = 0.0, 0.0, 0
        for n in names:
            c = f["final/" + n][()].astype(np.float64)
            d = np.abs(P[n].detach().numpy() - c)
            small = gmin[n].numpy() < 1e-3
            nsmall += int(small.sum())
            if (~small).any():
                e = max(e, float(d[~small].max()) / (float(np.abs(c).max()) or 1.0))
            if small.any():
                eb = max(eb, float(d[small].max()) / (2.0 * oc.lr * steps))
        report(f"final parameters ({nsmall} near-zero-gradient elements apart)", e, 1e-4)
        report("final parameters: near-zero-gradient elements within 2*lr*steps", eb, 1.0)
        print(f"losses: ntron {losses[0, 0]:.6f} -> {losses[-1, 0]:.6f}")
    return 0 if not fails else 1


def selftest():
    """Closed-form dL/d(delta) of every loss (ntron's loss.c) against autograd."""
    torch.manual_seed(0)
    d = (torch.randn(64, dtype=torch.float64) * 3).requires_grad_()
    gap = torch.randn(64, dtype=torch.float64) * 2
    beta = 0.7
    sg = torch.sigmoid
    for k in LOSSES:
        L = preference_loss(k, beta, d, gap).sum()
        (g,) = torch.autograd.grad(L, d)
        a = beta * d.detach()
        closed = {"dpo": beta * (sg(a) - 1), "ipo": 2 * (d.detach() - 1 / (2 * beta)),
                  "rpo_sq": 2 * beta * (a - gap), "rpo_bwd_kl": beta * (sg(a) - sg(gap)),
                  "rpo_fwd_kl": beta * sg(a) * sg(-a) * (a - gap)}[k]
        e = float((g - closed).abs().max())
        print(f"{'ok  ' if e < 1e-12 else 'FAIL'} {k}: closed-form gradient vs autograd {e:.2e}")
        if e >= 1e-12:
            return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--selftest":
        sys.exit(selftest())
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(check(sys.argv[1]))
