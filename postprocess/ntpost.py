"""ntpost.py — shared helpers of the postprocess tools: read metrics.jsonl
(one JSON object per logged step, written by src/util/metrics.c; the last row of
a step wins, so a resumed run reads as one run), checkpoint root
attributes (HDF5, when checkpoints exist), bench JSON files, and write
Markdown / CSV tables.  Not a command."""
import csv
import json
import os
import sys


def die(msg, status=2):
    print("%s: %s" % (os.path.basename(sys.argv[0]), msg), file=sys.stderr)
    sys.exit(status)


def metrics_path(p):
    """a run directory or a metrics.jsonl file"""
    if os.path.isdir(p):
        p = os.path.join(p, "metrics.jsonl")
    if not os.path.isfile(p):
        die("%s: no such metrics file (give a run directory or its metrics.jsonl)" % p)
    return p


def read_metrics(p):
    """The rows of a run's metrics.jsonl (a run directory or the file), one per
    step, in step order.  A resumed run appends: the steps after its
    checkpoint are logged again, and the last row logged for a step is the one
    that counts (the earlier ones belong to the attempt that was lost).  Every
    tool that reads metrics.jsonl reads it through this function."""
    p = metrics_path(p)
    by_step = {}
    with open(p) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except ValueError as e:
                die("%s:%d: not a JSON object (%s)" % (p, n, e))
            if not isinstance(r, dict):
                die("%s:%d: not a JSON object" % (p, n))
            for k in ("step", "loss"):
                if k not in r:
                    die("%s:%d: the row has no '%s' field" % (p, n, k))
            by_step[r["step"]] = r
    if not by_step:
        die("%s: no metrics rows" % p)
    return [by_step[s] for s in sorted(by_step)]


def read_ckpt_attrs(path):
    """root attributes of an HDF5 checkpoint (iteration, consumed tokens, deck, ...)"""
    import h5py
    if os.path.isdir(path):
        cands = [os.path.join(path, f) for f in sorted(os.listdir(path)) if f.endswith(".h5")]
        if not cands:
            die("%s: no .h5 file in this checkpoint directory" % path)
        path = cands[0]
    with h5py.File(path, "r") as f:
        out = {}
        for k, v in f.attrs.items():
            if hasattr(v, "tolist"):
                v = v.tolist()
            if isinstance(v, bytes):
                v = v.decode("utf-8", "replace")
            out[k] = v
        return out


def write_table(rows, header, md_path=None, csv_path=None, out=sys.stdout):
    """rows: lists of cells (already formatted strings or numbers)"""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    text = "\n".join(lines) + "\n"
    out.write(text)
    if md_path:
        with open(md_path, "w") as f:
            f.write(text)
    if csv_path:
        with open(csv_path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt
