#!/usr/bin/python3
"""PyTorch peer of `ntron generate`'s throughput (a benchmark, not a test).

Owns the PyTorch side of the generation benchmark (postprocess/bench_generate.sh):
the repository's reference model (tests/reference/nemotron_ref.py, fp32,
random weights of the given shape) with a KV cache written here on top of
its modules, run the way ntron's decoder runs: each prompt prefilled alone
(one forward over its tokens, keys and values kept), then decode steps of
one token for every sequence of the batch together (greedy), the cache
attended with query length 1.  Prints one JSON object per batch size:

  {"batch": B, "prompt": P, "new_tokens": N, "prefill_tokens_per_s": ...,
   "decode_tokens_per_s": ..., "threads": ..., <shape>}

Example:  postprocess/bench_generate_torch.py --threads 2 --batches 1,8,64
"""

import argparse
import json
import math
import os
import sys
import time

REF_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "reference")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=384)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=1536)
    ap.add_argument("--vocab", type=int, default=384, help="padded vocabulary rows")
    ap.add_argument("--prompt", type=int, default=64, help="prompt tokens")
    ap.add_argument("--new-tokens", type=int, default=64, help="tokens generated per sequence")
    ap.add_argument("--batches", default="1,8,64")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[k] = str(a.threads)
    import torch
    sys.path.insert(0, REF_DIR)
    from nemotron_ref import NemotronRef, rope_cos_sin, apply_partial_rope

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = dict(layers=a.layers, hidden=a.hidden, ffn_hidden=a.ffn, heads=a.heads, kv_heads=a.kv_heads,
               vocab=a.vocab, seq_len=a.prompt + a.new_tokens)
    model = NemotronRef(cfg).init_random(std=0.02).eval()
    c = model.cfg
    G, qpg, hd = c.kv_heads, c.q_per_group, c.head_dim
    Tmax = a.prompt + a.new_tokens
    cos_all, sin_all = rope_cos_sin(Tmax, c.rot_dim, c.rotary_base)

    def layer_step(layer, x, pos, kc, vc, slots):
        """x [B, T, H] new tokens at positions pos..pos+T-1 (same for the batch), caches [S, G, Tmax, hd]."""
        B, T, _ = x.shape
        h = layer.input_norm(x)
        qkv = layer.attn.qkv(h).view(B, T, G, qpg + 2, hd)
        q = qkv[:, :, :, :qpg, :].reshape(B, T, G * qpg, hd).transpose(1, 2)
        k = qkv[:, :, :, qpg, :].transpose(1, 2)
        v = qkv[:, :, :, qpg + 1, :].transpose(1, 2)
        cos, sin = cos_all[pos:pos + T], sin_all[pos:pos + T]
        q = apply_partial_rope(q, cos, sin)
        k = apply_partial_rope(k, cos, sin)
        kc[slots, :, pos:pos + T] = k
        vc[slots, :, pos:pos + T] = v
        K = kc[slots, :, :pos + T].repeat_interleave(qpg, dim=1)
        V = vc[slots, :, :pos + T].repeat_interleave(qpg, dim=1)
        s = torch.matmul(q, K.transpose(-1, -2)) / math.sqrt(hd)
        if T > 1:
            s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        o = torch.matmul(torch.softmax(s, dim=-1), V).transpose(1, 2).reshape(B, T, G * qpg * hd)
        x = x + layer.attn.out(o)
        return x + layer.mlp(layer.post_attn_norm(x))

    def step(tokens, pos, caches, slots):
        x = model.embedding(tokens)
        for layer, (kc, vc) in zip(model.layers, caches):
            x = layer_step(layer, x, pos, kc, vc, slots)
        return model.lm_head(model.final_norm(x[:, -1]))

    for B in [int(b) for b in a.batches.split(",")]:
        caches = [(torch.zeros(B, G, Tmax, hd), torch.zeros(B, G, Tmax, hd)) for _ in range(c.layers)]
        prompts = torch.randint(0, 256, (B, a.prompt))
        with torch.no_grad():
            step(prompts[:1], 0, caches, torch.tensor([0]))   # warm-up
            t0 = time.perf_counter()
            nxt = []
            for b in range(B):
                nxt.append(step(prompts[b:b + 1], 0, caches, torch.tensor([b])).argmax(-1))
            t1 = time.perf_counter()
            tok = torch.cat(nxt).view(B, 1)
            slots = torch.arange(B)
            for i in range(a.new_tokens - 1):
                tok = step(tok, a.prompt + i, caches, slots).argmax(-1).view(B, 1)
            t2 = time.perf_counter()
        print(json.dumps({"batch": B, "prompt": a.prompt, "new_tokens": a.new_tokens,
                          "prefill_tokens_per_s": B * a.prompt / (t1 - t0),
                          "decode_tokens_per_s": B * (a.new_tokens - 1) / (t2 - t1),
                          "threads": a.threads, "torch": torch.__version__, "layers": c.layers, "hidden": c.hidden,
                          "heads": c.heads, "kv_heads": c.kv_heads, "ffn": c.ffn_hidden, "vocab": c.vocab}), flush=True)


if __name__ == "__main__":
    main()
