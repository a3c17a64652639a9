#!/usr/bin/env python3
"""ntron against Hugging Face transformers' NemotronForCausalLM itself
(run with the venv of tests/hf/setup_venv.sh; tests/test_hf.sh).

  compare_hf.py CASES [--tol 1e-5]
      CASES: one case a line, "NAME DIR TOKENS.i32 B T NTRON_LOGITS.f32
      NTRON_LOSS EXPECT" (EXPECT pass, or fail for a negative control).
      Each DIR is loaded with from_pretrained (local directory, fp32, eager
      attention), runs the B x T tokens, and its logits (max |ntron - HF| /
      max |HF|) and loss (labels = input_ids: mean next-token cross-entropy;
      |ntron - HF| / |HF|) are compared with ntron's.  fp32 on both sides
      and the same weights: what is left is summation order (a few ulp per
      dot product of at most a few hundred terms, through a few layers),
      two orders of magnitude below the 1e-5 tolerance.
      Prints "PASS: ..." / "FAIL: ..." per case; exit 1 if any failed.

  compare_hf.py make SPECS
      SPECS: one model a line, "DIR layers hidden ffn heads kv vocab rot
      dtype max_shard_size seed": a random NemotronConfig model built by
      transformers (_from_config, eager attention), weights N(0, 0.05)
      (vectors N(0, 0.1)) rounded to bf16 values (and without fp16
      subnormals), saved with save_pretrained (safetensors, shards of at
      most max_shard_size) in dtype float32, bfloat16 or float16.
"""

import argparse
import sys

import numpy as np
import torch
from transformers import NemotronForCausalLM


def check(name, d, tokens, B, T, nt_logits, nt_loss, tol):
    model = NemotronForCausalLM.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="eager")
    model.eval()
    cfg = model.config
    ids = torch.from_numpy(np.fromfile(tokens, dtype="<i4").reshape(B, T).astype(np.int64))
    with torch.no_grad():
        out = model(input_ids=ids, labels=ids)
    hf = out.logits.float().numpy()
    nt = np.fromfile(nt_logits, dtype="<f4")
    if nt.size != hf.size:
        return False, "%s: ntron logits have %d values, HF %s" % (name, nt.size, hf.shape)
    nt = nt.reshape(hf.shape)
    err = float(np.abs(nt - hf).max() / np.abs(hf).max())
    lerr = abs(nt_loss - float(out.loss)) / abs(float(out.loss))
    rot = int(cfg.head_dim * cfg.partial_rotary_factor)
    msg = ("%s: layers %d hidden %d heads %d kv %d head_dim %d rot %d vocab %d: logits max|d|/max|hf| = %.3g "
           "(max|hf| %.4g), loss ntron %.8f HF %.8f rel %.3g (tol %g)"
           % (name, cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads,
              cfg.head_dim, rot, cfg.vocab_size, err, float(np.abs(hf).max()), nt_loss, float(out.loss), lerr, tol))
    return err <= tol and lerr <= tol, msg


def make(specs):
    from transformers import NemotronConfig
    for line in open(specs):
        f = line.split()
        if not f:
            continue
        d, L, H, F, A, G, V = f[0], *map(int, f[1:7])
        rot, dtype, shard, seed = float(f[7]), f[8], f[9], int(f[10])
        torch.manual_seed(seed)
        cfg = NemotronConfig(vocab_size=V, hidden_size=H, intermediate_size=F, num_hidden_layers=L,
                             num_attention_heads=A, num_key_value_heads=G, max_position_embeddings=64,
                             partial_rotary_factor=rot, bos_token_id=1, eos_token_id=2)
        model = NemotronForCausalLM._from_config(cfg, attn_implementation="eager", torch_dtype=torch.float32)
        with torch.no_grad():
            for _, p in model.named_parameters():
                x = torch.randn(p.shape) * (0.1 if p.dim() == 1 else 0.05)
                x = x.to(torch.bfloat16).float()
                x[x.abs() < 2.0 ** -14] = 0
                p.copy_(x)
        model.to({"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype])
        model.save_pretrained(d, safe_serialization=True, max_shard_size=shard)
        print("made %s: %d parameters, %s, shards of at most %s" % (d, sum(p.numel() for p in model.parameters()), dtype, shard))
    return 0


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "make":
        return make(sys.argv[2])
    p = argparse.ArgumentParser()
    p.add_argument("cases")
    p.add_argument("--tol", type=float, default=1e-5)
    a = p.parse_args()
    torch.manual_seed(0)
    bad = 0
    for line in open(a.cases):
        f = line.split()
        if not f:
            continue
        name, d, tokens, B, T, logits, loss, expect = f
        ok, msg = check(name, d, tokens, int(B), int(T), logits, float(loss), a.tol)
        if expect == "fail":
            print("%s: %s (negative control: must differ)" % ("PASS" if not ok else "FAIL", msg))
            bad += ok
        else:
            print("%s: %s" % ("PASS" if ok else "FAIL", msg))
            bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
