#!/usr/bin/python3
"""prep_check.py — checks `ntron prep` outputs with h5py, independently of ntron:
  same A.h5 B.h5 ...        every dataset and root attribute identical (byte for byte)
  text CORPUS OUT.h5        byte tokenizer: tokens = the blank-line separated documents + EOD 257
  chat JSONL OUT.h5 SYS USER ASST EOS   loss mask: one run of 1s per assistant turn, each ending
                            with the turn's end token (USER or EOS), all headers/system/user text 0
  preference JSONL OUT.h5   ranges tile the samples, rewards as in the source (NaN if absent)
  reward JSONL OUT.h5       labels equal the source's 5 attributes
Exit 0 if all hold, else prints what differs and exits 1."""
import json, sys
import h5py, numpy as np

def load(p):
    with h5py.File(p, "r") as f:
        return {k: f[k][()] for k in f.keys()}, {k: f.attrs[k] for k in f.attrs.keys()}

def main():
    mode, args = sys.argv[1], sys.argv[2:]
    bad = []
    if mode == "same":
        d0, a0 = load(args[0])
        for p in args[1:]:
            d, a = load(p)
            if sorted(d) != sorted(d0): bad.append(f"{p}: datasets {sorted(d)} vs {sorted(d0)}")
            for k in d0:
                if k in d and (d[k].dtype != d0[k].dtype or d[k].shape != d0[k].shape or d[k].tobytes() != d0[k].tobytes()):
                    bad.append(f"{p}: /{k} differs from {args[0]}")
            for k in a0:
                if k not in a or str(a[k]) != str(a0[k]): bad.append(f"{p}: attribute {k} differs")
    elif mode == "text":
        data = open(args[0], "rb").read().split(b"\n")
        toks, doc = [], []
        lines = [l + b"\n" for l in data[:-1]] + ([data[-1]] if data[-1] else [])
        for l in lines + [b"\n"]:
            if l.strip(b" \t\r\n") == b"":
                if doc: toks += list(b"".join(doc)) + [257]; doc = []
            else: doc.append(l)
        d, a = load(args[1])
        if d["tokens"].tolist() != toks: bad.append("byte tokens differ from the corpus' documents + EOD")
        ends = np.flatnonzero(d["tokens"] == 257) + 1
        if d["doc_offsets"].tolist() != [0] + ends.tolist(): bad.append("doc_offsets are not the EOD positions")
        if a["vocab_size"] != 258: bad.append("vocab_size != 258")
    elif mode == "chat":
        rows = [json.loads(l) for l in open(args[0]) if l.strip()]
        sys_id, user_id, asst_id, eos = map(int, args[2:6])
        d, _ = load(args[1])
        t, m, o = d["tokens"], d["loss_mask"], d["doc_offsets"]
        if len(m) != len(t) or len(o) != len(rows) + 1: bad.append("sizes")
        for i, r in enumerate(rows):
            tt, mm = t[o[i]:o[i + 1]], m[o[i]:o[i + 1]]
            turns = sum(1 for x in r["messages"] if x["role"] == "assistant")
            runs = np.flatnonzero(np.diff(np.concatenate([[0], mm.astype(int), [0]])) == 1)
            ends = np.flatnonzero(np.diff(np.concatenate([[0], mm.astype(int), [0]])) == -1) - 1
            if len(runs) != turns: bad.append(f"sample {i}: {len(runs)} masked runs for {turns} assistant turns")
            for s, e in zip(runs, ends):
                if tt[e] not in (user_id, eos): bad.append(f"sample {i}: masked run ends with {tt[e]}, not an end token")
                if asst_id not in tt[max(0, s - 3):s]: bad.append(f"sample {i}: masked run does not follow {asst_id}")
            if any(mm[tt == sys_id]) or any(mm[tt == asst_id]) or mm[0]: bad.append(f"sample {i}: header masked")
            if tt[0] != 1 or tt[-1] != eos or mm[-1] != 1: bad.append(f"sample {i}: not BOS ... EOS(mask 1)")
    elif mode == "preference":
        rows = [json.loads(l) for l in open(args[0]) if l.strip()]
        d, _ = load(args[1])
        rg, rw, o = d["ranges"], d["rewards"], d["doc_offsets"]
        if rg.shape != (len(rows), 4) or rw.shape != (len(rows), 2): bad.append("shapes")
        for i, r in enumerate(rows):
            if rg[i, 0] != o[i] or rg[i, 3] != o[i + 1] or not (rg[i, 0] < rg[i, 1] < rg[i, 2] < rg[i, 3]):
                bad.append(f"pair {i}: ranges {rg[i]} vs offsets {o[i]}..{o[i+1]}")
            for j, k in enumerate(["chosen_reward", "rejected_reward"]):
                want = r.get(k)
                if (want is None) != bool(np.isnan(rw[i, j])) or (want is not None and abs(rw[i, j] - want) > 1e-6):
                    bad.append(f"pair {i}: {k} {rw[i, j]} vs {want}")
    elif mode == "reward":
        rows = [json.loads(l) for l in open(args[0]) if l.strip()]
        d, _ = load(args[1])
        want = np.array([[r[k] for k in ["helpfulness", "correctness", "coherence", "complexity", "verbosity"]] for r in rows])
        if d["labels"].shape != want.shape or (d["labels"] != want).any(): bad.append("labels differ from the source")
    else:
        sys.exit(f"unknown mode {mode}")
    for b in bad[:20]: print("  " + b)
    sys.exit(1 if bad else 0)

main()
