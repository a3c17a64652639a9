#!/usr/bin/python3
"""Independent PyTorch reference of the Nemotron-4 model, optimizer and schedule.

This file owns the plain-torch reference that ntron's C trainer is checked
against (tests/compare_reference.py, tests/reference/make_fake_state.py,
postprocess/bench_cpu_torch.py import it).  It follows the semantics of
Hugging Face transformers' NemotronForCausalLM, written from its description
(no transformers import, no copied code):

  * LayerNorm1P: F.layer_norm(x, (H,), 1 + gamma, beta, eps), gamma stored
    zero-centred, beta kept.
  * Fused QKV (no bias), rows grouped per KV group g = 0..G-1 as
    [qpg query heads | k head | v head], each head hd = H / heads rows.
  * Partial RoPE on the first rot = int(hd * rotary_fraction) dims of q and k
    (non-interleaved: dim i pairs with i + rot/2), fp32 angles; v not rotated.
  * Causal softmax attention, scale 1/sqrt(hd); query head h = g*qpg + j reads
    KV group g.  Output projection [H, heads*hd], no bias.
  * MLP down(relu(up(x))**2), no gate, no bias.
  * Pre-norm residual blocks, final LayerNorm1P, untied lm_head [Vpad, H].
  * Cross-entropy over all Vpad logits (padded rows included).

Packed rows (SFT with data.pack) follow Hugging Face's position_ids
convention: forward(tokens, positions) takes each token's position inside
its own sample (restarting at 0 where a sample starts); RoPE uses those
positions, and the attention mask is causal AND same-sample, the samples
being the runs between position resets (segment id = cumulative count of
position 0).  The SFT loss is the token cross-entropy over the targets
whose loss mask is set, divided by the number of such targets in the whole
global batch (train_step's masks).

Parameter names are ntron's (see PARAM_SUFFIXES / param_names()).

Also here: the learning-rate schedule (lr_at), global-norm gradient clipping
(grad_norm / clip_grads) and an explicit AdamW (PyTorch decoupled semantics)
with weight decay on 2-D weights only, matching ntron's optimizer.

Only stdlib + torch are used.
"""

import math
from dataclasses import dataclass, fields

import torch
import torch.nn as nn
import torch.nn.functional as F


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------

@dataclass
class NemotronConfig:
    layers: int = 2
    hidden: int = 64
    ffn_hidden: int = 256
    heads: int = 4
    kv_heads: int = 2
    vocab: int = 128          # already padded: embedding / lm_head rows
    vocab_valid: int = 0      # real vocabulary; logits of ids >= vocab_valid are -inf (0: all valid)
    seq_len: int = 16
    rotary_fraction: float = 0.5
    rotary_base: float = 10000.0
    norm_eps: float = 1e-5

    @classmethod
    def from_mapping(cls, m):
        """Build from a dict-like (e.g. HDF5 root attrs); extra keys ignored."""
        kw = {}
        for f in fields(cls):
            if f.name in m:
                v = m[f.name]
                if hasattr(v, "item"):
                    v = v.item()
                kw[f.name] = f.type(v) if f.type in (int, float) else v
        return cls(**kw)

    @property
    def head_dim(self):
        return self.hidden // self.heads

    @property
    def q_per_group(self):
        return self.heads // self.kv_heads

    @property
    def rot_dim(self):
        return int(self.head_dim * self.rotary_fraction)

    def validate(self):
        if self.hidden % self.heads:
            raise ValueError("hidden must be divisible by heads")
        if self.heads % self.kv_heads:
            raise ValueError("heads must be divisible by kv_heads")
        if self.rot_dim % 2:
            raise ValueError("rotary dims int(head_dim*rotary_fraction) must be even")
        return self


def _as_config(cfg):
    if isinstance(cfg, NemotronConfig):
        return cfg.validate()
    if isinstance(cfg, dict):
        return NemotronConfig.from_mapping(cfg).validate()
    return NemotronConfig.from_mapping(vars(cfg)).validate()


# --------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------

class LayerNorm1P(nn.Module):
    """LayerNorm with zero-centred gamma: y = norm(x) * (1 + weight) + bias."""

    def __init__(self, hidden, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(hidden))
        self.bias = nn.Parameter(torch.zeros(hidden))

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), 1.0 + self.weight, self.bias, self.eps)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_cos_sin(seq_len, rot, base, device=None, positions=None):
    """cos, sin of shape [T, rot] (positions None: 0..T-1) or [B, 1, T, rot] for
    per-token positions [B, T], computed in fp32 (HF semantics)."""
    inv_freq = 1.0 / (base ** (torch.arange(0, rot, 2, device=device).float() / rot))
    if positions is None:
        t = torch.arange(seq_len, device=device).float()
        freqs = torch.outer(t, inv_freq)              # [T, rot/2]
    else:
        freqs = positions.float()[..., None] * inv_freq   # [B, T, rot/2]
        freqs = freqs[:, None]                             # [B, 1, T, rot/2]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def packed_attention_mask(positions):
    """[B, 1, T, T] True where query t may NOT see key s: the future, or another
    sample (samples = runs between position resets)."""
    B, T = positions.shape
    seg = torch.cumsum((positions == 0).long(), dim=1)          # [B, T]
    other = seg[:, :, None] != seg[:, None, :]
    future = torch.ones(T, T, dtype=torch.bool, device=positions.device).triu(1)
    return (other | future)[:, None]


def apply_partial_rope(x, cos, sin):
    """x: [B, nh, T, hd]; rotate the first rot dims, pass the rest through."""
    rot = cos.shape[-1]
    xr, xp = x[..., :rot], x[..., rot:]
    c = cos.to(x.dtype)
    s = sin.to(x.dtype)
    xr = xr * c + rotate_half(xr) * s
    return torch.cat((xr, xp), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        hd = cfg.head_dim
        qkv_rows = cfg.kv_heads * (cfg.q_per_group + 2) * hd
        self.qkv = nn.Linear(cfg.hidden, qkv_rows, bias=False)
        self.out = nn.Linear(cfg.heads * hd, cfg.hidden, bias=False)

    def forward(self, x, cos, sin, mask=None):
        cfg = self.cfg
        B, T, _ = x.shape
        G, qpg, hd = cfg.kv_heads, cfg.q_per_group, cfg.head_dim
        qkv = self.qkv(x).view(B, T, G, qpg + 2, hd)
        q = qkv[:, :, :, :qpg, :].reshape(B, T, G * qpg, hd)    # head h = g*qpg + j
        k = qkv[:, :, :, qpg, :]                                 # [B, T, G, hd]
        v = qkv[:, :, :, qpg + 1, :]
        q = q.transpose(1, 2)                                    # [B, heads, T, hd]
        k = k.transpose(1, 2)                                    # [B, G, T, hd]
        v = v.transpose(1, 2)
        q = apply_partial_rope(q, cos, sin)
        k = apply_partial_rope(k, cos, sin)
        # repeat each KV group for its qpg query heads (group g -> heads g*qpg..g*qpg+qpg-1)
        k = k.repeat_interleave(qpg, dim=1)
        v = v.repeat_interleave(qpg, dim=1)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)
        if mask is None:
            mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        scores = scores.masked_fill(mask, float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        o = torch.matmul(probs, v)                               # [B, heads, T, hd]
        o = o.transpose(1, 2).reshape(B, T, cfg.heads * hd)
        return self.out(o)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.up = nn.Linear(cfg.hidden, cfg.ffn_hidden, bias=False)
        self.down = nn.Linear(cfg.ffn_hidden, cfg.hidden, bias=False)

    def forward(self, x):
        return self.down(torch.relu(self.up(x)) ** 2)


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_norm = LayerNorm1P(cfg.hidden, cfg.norm_eps)
        self.attn = Attention(cfg)
        self.post_attn_norm = LayerNorm1P(cfg.hidden, cfg.norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, mask=None):
        x = x + self.attn(self.input_norm(x), cos, sin, mask)
        x = x + self.mlp(self.post_attn_norm(x))
        return x


class NemotronRef(nn.Module):
    """Nemotron-4 decoder in plain torch.  forward(tokens[B,T]) -> logits[B,T,Vpad]."""

    def __init__(self, cfg, dtype=torch.float32):
        super().__init__()
        cfg = _as_config(cfg)
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab, cfg.hidden)
        self.layers = nn.ModuleList([Layer(cfg) for _ in range(cfg.layers)])
        self.final_norm = LayerNorm1P(cfg.hidden, cfg.norm_eps)
        self.lm_head = nn.Linear(cfg.hidden, cfg.vocab, bias=False)
        self.to(dtype)

    def init_random(self, std=0.02, norm_std=0.0, generator=None):
        """Normal(0, std) for 2-D weights; norms get Normal(0, norm_std) (0 -> zeros)."""
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.dim() == 2:
                    std_ = std
                else:
                    std_ = norm_std
                if std_ > 0:
                    p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64) * std_)
                else:
                    p.zero_()
        return self

    def forward(self, tokens, positions=None):
        """positions [B, T] or None: packed rows (see the module docstring)."""
        B, T = tokens.shape
        x = self.embedding(tokens)
        cos, sin = rope_cos_sin(T, self.cfg.rot_dim, self.cfg.rotary_base, device=tokens.device,
                                positions=positions)
        mask = None if positions is None else packed_attention_mask(positions)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        x = self.final_norm(x)
        logits = self.lm_head(x)
        nv = self.cfg.vocab_valid
        if 0 < nv < self.cfg.vocab:
            # padded vocabulary ids take no probability (as ntron masks them)
            logits = logits.masked_fill(
                torch.arange(self.cfg.vocab, device=logits.device) >= nv, float("-inf"))
        return logits

    def loss_sum(self, tokens, targets, positions=None, mask=None):
        """(sum of token cross-entropies over the targets, logits); mask [B, T]
        (bool) keeps only the targets where it is True."""
        logits = self.forward(tokens, positions)
        tgt = targets.reshape(-1).long()
        if mask is not None:
            tgt = torch.where(mask.reshape(-1), tgt, torch.full_like(tgt, -100))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt,
                               reduction="sum", ignore_index=-100)
        return loss, logits


def param_names(layers):
    """ntron's parameter names, in ntron's order."""
    names = ["embedding.weight"]
    for i in range(layers):
        p = f"layers.{i}."
        names += [p + "input_norm.weight", p + "input_norm.bias",
                  p + "attn.qkv.weight", p + "attn.out.weight",
                  p + "post_attn_norm.weight", p + "post_attn_norm.bias",
                  p + "mlp.up.weight", p + "mlp.down.weight"]
    names += ["final_norm.weight", "final_norm.bias", "lm_head.weight"]
    return names


def is_decayed(name, p):
    """Weight decay applies to 2-D weights only (embedding, qkv, out, up, down, lm_head)."""
    return p.dim() == 2


# --------------------------------------------------------------------------
# optimizer pieces (ntron semantics)
# --------------------------------------------------------------------------

@dataclass
class OptimConfig:
    lr: float = 3e-4
    min_lr: float = 3e-5
    warmup: int = 0
    decay_steps: int = 0      # 0 -> steps - warmup
    steps: int = 10
    decay: str = "cosine"     # cosine | linear | constant
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    clip_grad: float = 1.0

    @classmethod
    def from_mapping(cls, m):
        kw = {}
        for f in fields(cls):
            if f.name in m:
                v = m[f.name]
                if isinstance(v, bytes):
                    v = v.decode()
                if hasattr(v, "item"):
                    v = v.item()
                if isinstance(v, bytes):
                    v = v.decode()
                kw[f.name] = f.type(v) if f.type in (int, float, str) else v
        return cls(**kw)


def lr_at(s, oc):
    """Learning rate used by optimizer step s (s = 1, 2, ...)."""
    if oc.warmup > 0 and s <= oc.warmup:
        return oc.lr * s / oc.warmup
    if oc.decay == "constant":
        return oc.lr
    decay_steps = oc.decay_steps if oc.decay_steps > 0 else oc.steps - oc.warmup
    p = 1.0 if decay_steps <= 0 else min(1.0, (s - oc.warmup) / decay_steps)
    if oc.decay == "cosine":
        return oc.min_lr + 0.5 * (oc.lr - oc.min_lr) * (1.0 + math.cos(math.pi * p))
    if oc.decay == "linear":
        return oc.lr - (oc.lr - oc.min_lr) * p
    raise ValueError(f"unknown decay {oc.decay!r}")


def grad_norm(params):
    """Global L2 norm of all gradients (accumulated in float64), as a Python float."""
    total = 0.0
    for p in params:
        if p.grad is not None:
            total += float(p.grad.detach().double().pow(2).sum())
    return math.sqrt(total)


def clip_grads(params, total, clip_grad):
    """coef = clip/(total+1e-6); scale grads when coef < 1.  Returns coef applied (or 1)."""
    if clip_grad <= 0:
        return 1.0
    coef = clip_grad / (total + 1e-6)
    if coef < 1.0:
        for p in params:
            if p.grad is not None:
                p.grad.mul_(coef)
        return coef
    return 1.0


class AdamW:
    """Decoupled AdamW, PyTorch semantics, written out explicitly.

    p *= 1 - lr*wd  (decayed params only)
    m = b1*m + (1-b1)*g ; v = b2*v + (1-b2)*g^2
    p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
    """

    def __init__(self, named_params, oc):
        self.oc = oc
        self.items = [(n, p, is_decayed(n, p)) for n, p in named_params]
        self.m = {n: torch.zeros_like(p) for n, p, _ in self.items}
        self.v = {n: torch.zeros_like(p) for n, p, _ in self.items}
        self.t = 0

    @torch.no_grad()
    def step(self, lr):
        oc = self.oc
        self.t += 1
        bc1 = 1.0 - oc.beta1 ** self.t
        bc2 = 1.0 - oc.beta2 ** self.t
        for n, p, decayed in self.items:
            g = p.grad
            if g is None:
                continue
            if decayed and oc.weight_decay != 0:
                p.mul_(1.0 - lr * oc.weight_decay)
            m, v = self.m[n], self.v[n]
            m.mul_(oc.beta1).add_(g, alpha=1.0 - oc.beta1)
            v.mul_(oc.beta2).addcmul_(g, g, value=1.0 - oc.beta2)
            denom = (v.sqrt() / math.sqrt(bc2)).add_(oc.eps)
            p.addcdiv_(m, denom, value=-lr / bc1)


def torch_adamw(model, oc):
    """The same optimizer via torch.optim.AdamW with two param groups (decay / no decay)."""
    dec = [p for n, p in model.named_parameters() if is_decayed(n, p)]
    nod = [p for n, p in model.named_parameters() if not is_decayed(n, p)]
    return torch.optim.AdamW(
        [{"params": dec, "weight_decay": oc.weight_decay},
         {"params": nod, "weight_decay": 0.0}],
        lr=oc.lr, betas=(oc.beta1, oc.beta2), eps=oc.eps)


def train_step(model, opt, micro_batches, s, oc, use_torch_opt=False, keep=False,
               positions=None, masks=None):
    """One optimizer step with gradient accumulation.

    micro_batches: list of int tensors [mb, T+1].  Loss = mean over all tokens of
    the global batch (each micro-batch's CE sum divided by the global token count).
    SFT: masks (list of bool [mb, T+1], token j a target iff masks[j], j >= 1)
    restrict the loss to those targets and the count to them over the whole
    global batch; positions (list of [mb, T]) make the rows packed.
    Returns dict(loss, grad_norm, lr); with keep=True also logits0 (first
    micro-batch logits) and grads (accumulated, before clipping), detached copies.
    """
    params = [p for p in model.parameters()]
    for p in params:
        p.grad = None
    if masks is None:
        ntok = sum(mb[:, 1:].numel() for mb in micro_batches)
    else:
        ntok = sum(int(m[:, 1:].sum()) for m in masks)
    loss_total = 0.0
    logits0 = None
    for i, mb in enumerate(micro_batches):
        loss, logits = model.loss_sum(mb[:, :-1], mb[:, 1:],
                                      None if positions is None else positions[i],
                                      None if masks is None else masks[i][:, 1:])
        (loss / ntok).backward()
        loss_total += float(loss.detach().double())
        if i == 0 and keep:
            logits0 = logits.detach()
        del logits
    gn = grad_norm(params)
    grads = ({n: p.grad.detach().clone() for n, p in model.named_parameters()}
             if keep else None)
    clip_grads(params, gn, oc.clip_grad)
    lr = lr_at(s, oc)
    if use_torch_opt:
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
    else:
        opt.step(lr)
    return {"loss": loss_total / ntok, "grad_norm": gn, "lr": lr,
            "logits0": logits0, "grads": grads}


# --------------------------------------------------------------------------
# self-test: `tests/reference/nemotron_ref.py` (float64, a few seconds)
# --------------------------------------------------------------------------

def _naive_logits(model, tokens):
    """Element-by-element restatement of the model (loops over batch, head, position)."""
    cfg, P = model.cfg, dict(model.named_parameters())
    hd, qpg, rot, T = cfg.head_dim, cfg.q_per_group, cfg.rot_dim, tokens.shape[1]

    def ln(x, w, b):
        mu = x.mean(-1, keepdim=True)
        var = ((x - mu) ** 2).mean(-1, keepdim=True)
        return (x - mu) / torch.sqrt(var + cfg.norm_eps) * (1 + w) + b

    def rope(vec, t):   # pairs (i, i + rot/2), fp32 angle as in HF
        out = vec.clone()
        for i in range(rot // 2):
            inv = 1.0 / (torch.tensor(cfg.rotary_base, dtype=torch.float32)
                         ** (torch.tensor(2.0 * i, dtype=torch.float32) / rot))
            ang = torch.tensor(float(t), dtype=torch.float32) * inv
            c, s = float(torch.cos(ang)), float(torch.sin(ang))
            a, b = vec[i], vec[i + rot // 2]
            out[i], out[i + rot // 2] = a * c - b * s, b * c + a * s
        return out

    x = P["embedding.weight"][tokens]
    for l in range(cfg.layers):
        p = f"layers.{l}."
        h = ln(x, P[p + "input_norm.weight"], P[p + "input_norm.bias"])
        W = P[p + "attn.qkv.weight"]
        o = torch.zeros(x.shape[0], T, cfg.heads * hd, dtype=x.dtype)
        for bb in range(x.shape[0]):
            for head in range(cfg.heads):
                g, j = divmod(head, qpg)
                r0 = g * (qpg + 2) * hd
                Wq, Wk = W[r0 + j * hd:r0 + (j + 1) * hd], W[r0 + qpg * hd:r0 + (qpg + 1) * hd]
                Wv = W[r0 + (qpg + 1) * hd:r0 + (qpg + 2) * hd]
                q = [rope(Wq @ h[bb, t], t) for t in range(T)]
                k = [rope(Wk @ h[bb, t], t) for t in range(T)]
                v = [Wv @ h[bb, t] for t in range(T)]
                for t in range(T):
                    sc = torch.stack([q[t] @ k[u] for u in range(t + 1)]) / math.sqrt(hd)
                    pr = torch.exp(sc - sc.max())
                    pr = pr / pr.sum()
                    o[bb, t, head * hd:(head + 1) * hd] = sum(pr[u] * v[u] for u in range(t + 1))
        x = x + o @ P[p + "attn.out.weight"].T
        h = ln(x, P[p + "post_attn_norm.weight"], P[p + "post_attn_norm.bias"])
        x = x + torch.clamp(h @ P[p + "mlp.up.weight"].T, min=0) ** 2 @ P[p + "mlp.down.weight"].T
    x = ln(x, P["final_norm.weight"], P["final_norm.bias"])
    return x @ P["lm_head.weight"].T


def _selftest():
    torch.manual_seed(0)
    ok = True
    for hidden, heads, kv, frac in [(48, 6, 2, 0.5), (48, 6, 6, 1.0), (32, 4, 1, 0.25)]:
        cfg = NemotronConfig(layers=2, hidden=hidden, ffn_hidden=80, heads=heads, kv_heads=kv,
                             vocab=40, seq_len=6, rotary_fraction=frac, rotary_base=500.0)
        m = NemotronRef(cfg, dtype=torch.float64).init_random(0.1, 0.3)
        tok = torch.randint(0, cfg.vocab, (2, cfg.seq_len))
        with torch.no_grad():
            err = float((m(tok) - _naive_logits(m, tok)).abs().max())
        print(f"{'PASS' if err < 1e-12 else 'FAIL'}: model vs naive loops "
              f"(H={hidden} heads={heads} kv={kv} rot={frac}) max|diff|={err:.1e}")
        ok &= err < 1e-12
    # packed rows: each sample's logits equal that sample alone
    cfg = NemotronConfig(layers=2, hidden=32, ffn_hidden=48, heads=4, kv_heads=2, vocab=40, seq_len=12)
    m = NemotronRef(cfg, dtype=torch.float64).init_random(0.1, 0.3)
    lens = [5, 1, 6]
    tok = torch.randint(0, cfg.vocab, (1, 12))
    pos = torch.cat([torch.arange(n) for n in lens])[None]
    with torch.no_grad():
        full = m(tok, pos)
        err, at = 0.0, 0
        for n in lens:
            err = max(err, float((full[0, at:at + n] - m(tok[:, at:at + n])[0]).abs().max()))
            at += n
    print(f"{'PASS' if err < 1e-12 else 'FAIL'}: packed row == each sample alone, max|diff|={err:.1e}")
    ok &= err < 1e-12
    # explicit AdamW vs torch.optim.AdamW (two groups), with schedule and clipping
    cfg = NemotronConfig(layers=1, hidden=32, ffn_hidden=64, heads=4, kv_heads=2, vocab=32, seq_len=8)
    oc = OptimConfig(lr=1e-2, min_lr=1e-3, warmup=2, steps=6, clip_grad=0.5)
    m1 = NemotronRef(cfg, dtype=torch.float64).init_random(0.1, 0.1)
    m2 = NemotronRef(cfg, dtype=torch.float64)
    m2.load_state_dict(m1.state_dict())
    o1, o2 = AdamW(m1.named_parameters(), oc), torch_adamw(m2, oc)
    for s in range(1, oc.steps + 1):
        mb = [torch.randint(0, cfg.vocab, (2, cfg.seq_len + 1))]
        train_step(m1, o1, mb, s, oc)
        train_step(m2, o2, mb, s, oc, use_torch_opt=True)
    err = max(float((a - b).abs().max()) for a, b in zip(m1.parameters(), m2.parameters()))
    print(f"{'PASS' if err < 1e-12 else 'FAIL'}: AdamW vs torch.optim.AdamW, 6 steps max|diff|={err:.1e}")
    ok &= err < 1e-12
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(_selftest())
