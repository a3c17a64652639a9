#!/usr/bin/python3
"""Hugging Face NemotronForCausalLM directories for ntron's interop tests,
with numpy only (no torch, no transformers): the tests of `ntron ckpt
import-hf` / `export-hf` that need no reference implementation run
everywhere (tests/test_hf_interop.sh); tests/test_hf.sh loads the same
directories with transformers itself, which also checks this writer.

  hf_files.py make DIR --layers L --hidden H --ffn F --heads A --kv G --vocab V
              [--seq S] [--rot R] [--dtype f32|bf16|f16] [--seed N] [--shards K]
              [--bf16-exact]
      config.json + model.safetensors (or K shards + index).  Weights are
      N(0, 0.05), norm weights (zero-centred) and biases N(0, 0.1).
      --bf16-exact rounds every value to bf16 first (ntron's /model keeps
      bf16, so a fp32 model of bf16 values runs identically in both).
  hf_files.py same A B        the tensors of HF dirs A and B are bit-identical
                              (names, dtypes, shapes, bytes); exit 1 if not
  hf_files.py edit FILE.safetensors --drop NAME | --shape NAME R C |
              --dtype NAME F64 | --offsets NAME B E | --add NAME R C
      rewrite one tensor's header entry / data (bad-input tests)
  hf_files.py tokens FILE B T V SEED       B*T random int32 token ids < V
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

ESZ = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8}


def to_bf16_bits(x):
    """float32 array -> uint16 bf16 bits, round to nearest even."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def bf16_bits_to_f32(b):
    return (b.astype(np.uint32) << 16).view(np.float32)


def read_st(path):
    """-> (header dict without __metadata__, data bytes, metadata)"""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    meta = h.pop("__metadata__", None)
    return h, raw[8 + n:], meta


def write_st(path, tensors, meta=None):
    """tensors: list of (name, dtype str, shape list, bytes)"""
    header, off, blobs = {}, 0, []
    if meta is not None:
        header["__metadata__"] = meta
    for name, dt, shape, data in tensors:
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(data)]}
        off += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def hf_names(a):
    hd = a.hidden // a.heads
    out = [("model.embed_tokens.weight", (a.vocab, a.hidden))]
    for l in range(a.layers):
        p = "model.layers.%d." % l
        out += [(p + "input_layernorm.weight", (a.hidden,)), (p + "input_layernorm.bias", (a.hidden,)),
                (p + "self_attn.q_proj.weight", (a.heads * hd, a.hidden)),
                (p + "self_attn.k_proj.weight", (a.kv * hd, a.hidden)),
                (p + "self_attn.v_proj.weight", (a.kv * hd, a.hidden)),
                (p + "self_attn.o_proj.weight", (a.hidden, a.heads * hd)),
                (p + "post_attention_layernorm.weight", (a.hidden,)),
                (p + "post_attention_layernorm.bias", (a.hidden,)),
                (p + "mlp.up_proj.weight", (a.ffn, a.hidden)), (p + "mlp.down_proj.weight", (a.hidden, a.ffn))]
    out += [("model.norm.weight", (a.hidden,)), ("model.norm.bias", (a.hidden,)), ("lm_head.weight", (a.vocab, a.hidden))]
    return out


def cmd_make(a):
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.dir, exist_ok=True)
    cfg = {"architectures": ["NemotronForCausalLM"], "model_type": "nemotron", "vocab_size": a.vocab,
           "hidden_size": a.hidden, "intermediate_size": a.ffn, "num_hidden_layers": a.layers,
           "num_attention_heads": a.heads, "num_key_value_heads": a.kv, "head_dim": a.hidden // a.heads,
           "max_position_embeddings": a.seq, "partial_rotary_factor": a.rot, "rope_theta": 10000.0,
           "norm_eps": 1e-5, "hidden_act": "relu2", "initializer_range": 0.02, "attention_bias": False,
           "mlp_bias": False, "attention_dropout": 0.0, "tie_word_embeddings": False, "rope_scaling": None,
           "bos_token_id": 1, "eos_token_id": 2,
           "torch_dtype": {"f32": "float32", "bf16": "bfloat16", "f16": "float16"}[a.dtype]}
    with open(os.path.join(a.dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    tensors = []
    for name, shape in hf_names(a):
        std = 0.1 if len(shape) == 1 else 0.05
        x = (rng.standard_normal(shape) * std).astype(np.float32)
        if a.bf16_exact or a.dtype == "f16":
            x = bf16_bits_to_f32(to_bf16_bits(x)).reshape(shape)
        if a.dtype == "f16":   # bf16 values that are also exact in fp16: no fp16 subnormals
            x[np.abs(x) < 2.0 ** -14] = 0
        if a.dtype == "f32":
            tensors.append((name, "F32", shape, x.astype("<f4").tobytes()))
        elif a.dtype == "f16":
            tensors.append((name, "F16", shape, x.astype("<f2").tobytes()))
        else:
            tensors.append((name, "BF16", shape, to_bf16_bits(x).astype("<u2").tobytes()))
    if a.shards <= 1:
        write_st(os.path.join(a.dir, "model.safetensors"), tensors, {"format": "pt"})
        return
    per = -(-len(tensors) // a.shards)
    wm, total = {}, 0
    for s in range(a.shards):
        part = tensors[s * per:(s + 1) * per]
        fn = "model-%05d-of-%05d.safetensors" % (s + 1, a.shards)
        write_st(os.path.join(a.dir, fn), part, {"format": "pt"})
        for t in part:
            wm[t[0]] = fn
            total += len(t[3])
    with open(os.path.join(a.dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": wm}, f, indent=2)


def load_dir(d):
    """{name: (dtype, shape, bytes)} over a HF dir's safetensors files"""
    idx = os.path.join(d, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) else ["model.safetensors"]
    out = {}
    for fn in files:
        h, data, _ = read_st(os.path.join(d, fn))
        for name, e in h.items():
            b, en = e["data_offsets"]
            out[name] = (e["dtype"], tuple(e["shape"]), data[b:en])
    return out


def cmd_same(a):
    x, y = load_dir(a.a), load_dir(a.b)
    bad = []
    if set(x) != set(y):
        bad.append("names differ: only in A %s, only in B %s" % (sorted(set(x) - set(y))[:5], sorted(set(y) - set(x))[:5]))
    for n in sorted(set(x) & set(y)):
        if x[n][:2] != y[n][:2]:
            bad.append("%s: %s %s vs %s %s" % (n, x[n][0], x[n][1], y[n][0], y[n][1]))
        elif x[n][2] != y[n][2]:
            nd = sum(1 for i in range(0, len(x[n][2]), ESZ[x[n][0]]) if x[n][2][i:i + ESZ[x[n][0]]] != y[n][2][i:i + ESZ[x[n][0]]])
            bad.append("%s: %d of %d elements differ" % (n, nd, len(x[n][2]) // ESZ[x[n][0]]))
    if bad:
        print("\n".join(bad[:10]))
        return 1
    nbytes = sum(len(v[2]) for v in x.values())
    print("same: %d tensors, %d bytes, dtypes %s" % (len(x), nbytes, sorted(set(v[0] for v in x.values()))))
    return 0


def cmd_edit(a):
    h, data, meta = read_st(a.file)
    items = sorted(h.items(), key=lambda kv: kv[1]["data_offsets"][0])
    tensors = [(n, e["dtype"], e["shape"], data[e["data_offsets"][0]:e["data_offsets"][1]]) for n, e in items]
    if a.offsets:   # keep the data, rewrite one entry's offsets: a header that lies
        name, b, e = a.offsets[0], int(a.offsets[1]), int(a.offsets[2])
        write_st(a.file, tensors, meta)
        h, data, meta = read_st(a.file)
        h[name]["data_offsets"] = [b, e]
        if meta is not None:
            h["__metadata__"] = meta
        text = json.dumps(h, separators=(",", ":")).encode()
        with open(a.file, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + data)
        return 0
    out = []
    for n, dt, shape, d in tensors:
        if a.drop == n:
            continue
        if a.shape and a.shape[0] == n:
            shape = [int(a.shape[1]), int(a.shape[2])]
            d = bytes(ESZ[dt] * shape[0] * shape[1])
        if a.dtype and a.dtype[0] == n:
            vals = np.frombuffer(d, dtype={"F32": "<f4", "F16": "<f2"}.get(dt, "<u2"))
            dt = a.dtype[1]
            d = vals.astype("<f8" if dt == "F64" else "<i8").tobytes()
        out.append((n, dt, shape, d))
    if a.add:
        out.append((a.add[0], "F32", [int(a.add[1])] + ([int(a.add[2])] if int(a.add[2]) > 1 else []),
                    bytes(4 * int(a.add[1]) * int(a.add[2]))))
    write_st(a.file, out, meta)
    return 0


def cmd_tokens(a):
    rng = np.random.default_rng(a.seed)
    rng.integers(0, a.V, size=(a.B, a.T), dtype=np.int32).astype("<i4").tofile(a.file)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("dir")
    for k in ("layers", "hidden", "ffn", "heads", "kv", "vocab"):
        m.add_argument("--" + k, type=int, required=True)
    m.add_argument("--seq", type=int, default=64)
    m.add_argument("--rot", type=float, default=0.5)
    m.add_argument("--dtype", choices=["f32", "bf16", "f16"], default="f32")
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--shards", type=int, default=1)
    m.add_argument("--bf16-exact", action="store_true")
    s = sub.add_parser("same")
    s.add_argument("a")
    s.add_argument("b")
    e = sub.add_parser("edit")
    e.add_argument("file")
    e.add_argument("--drop")
    e.add_argument("--shape", nargs=3)
    e.add_argument("--dtype", nargs=2)
    e.add_argument("--offsets", nargs=3)
    e.add_argument("--add", nargs=3)
    t = sub.add_parser("tokens")
    t.add_argument("file")
    for k in ("B", "T", "V", "seed"):
        t.add_argument(k, type=int)
    a = p.parse_args()
    return {"make": cmd_make, "same": cmd_same, "edit": cmd_edit, "tokens": cmd_tokens}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
