#!/usr/bin/env python3
"""ckpt_compare.py — checks for tests/test_ckpt*.sh.

  losses A.jsonl B.jsonl FROM TO TOL   steps FROM..TO of two metrics.jsonl:
                                       loss and grad_norm equal (TOL 0: bitwise,
                                       else max relative difference <= TOL)
  same CKPT_A CKPT_B [GROUP...]        the same datasets in both (none missing, none
                                       extra), each bitwise equal: under each GROUP,
                                       or in the whole file when none is named
  h5set FILE PATH KIND                 damage a copy: KIND = delete | float64 | flip
                                       | add (a new float32 [4] dataset PATH)
"""
import json, sys
import h5py, numpy as np

def rows(p):
    return {int(r["step"]): r for r in map(json.loads, open(p))}

def losses(a, b, lo, hi, tol):
    A, B = rows(a), rows(b)
    worst = 0.0
    for s in range(int(lo), int(hi) + 1):
        for k in ("loss", "grad_norm"):
            x, y = A[s][k], B[s][k]
            if float(tol) == 0.0:
                if x != y:
                    sys.exit(f"step {s} {k}: {x!r} != {y!r}")
            else:
                d = abs(x - y) / max(abs(x), 1e-30)
                worst = max(worst, d)
                if d > float(tol):
                    sys.exit(f"step {s} {k}: {x!r} vs {y!r}: rel {d:.3g} > {tol}")
    print(f"steps {lo}..{hi}: max rel diff {worst:.3g}")

def datasets(f, group):
    """{path: dataset} of every dataset under group ('' = the whole file)"""
    out = {}
    root = f[group] if group else f
    root.visititems(lambda name, obj: out.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return out

def same(a, b, groups):
    """A and B hold the same datasets (none missing from B, none extra in B)
    under each group, or in the whole file when no group is named, and each
    pair is bitwise equal (shape, dtype and values)"""
    fa, fb = h5py.File(a, "r"), h5py.File(b, "r")
    n = 0
    for g in groups or [""]:
        for f, p in ((fa, a), (fb, b)):
            if g and g not in f:
                sys.exit(f"{p}: no group /{g}")
        da, db = datasets(fa, g), datasets(fb, g)
        where = f"/{g}/" if g else "/"
        only_a, only_b = sorted(set(da) - set(db)), sorted(set(db) - set(da))
        if only_a:
            sys.exit(f"{len(only_a)} dataset(s) only in A ({a}): {', '.join(where + x for x in only_a[:5])}")
        if only_b:
            sys.exit(f"{len(only_b)} dataset(s) only in B ({b}): {', '.join(where + x for x in only_b[:5])}")
        for name in sorted(da):
            x, y = da[name], db[name]
            if x.shape != y.shape or x.dtype != y.dtype or not np.array_equal(x[...], y[...]):
                sys.exit(f"{where}{name} differs")
            n += 1
    print(f"{n} datasets bitwise equal")

def h5set(path, dset, kind):
    f = h5py.File(path, "r+")
    if kind == "delete":
        del f[dset]
    elif kind == "float64":
        d = f[dset][...].astype(np.float64)
        attrs = dict(f[dset].attrs)
        del f[dset]
        f[dset] = d
        for k, v in attrs.items():
            f[dset].attrs[k] = v
    elif kind == "add":
        f.create_dataset(dset, data=np.zeros(4, np.float32))
    elif kind == "flip":
        off = f[dset].id.get_offset()
        f.close()
        with open(path, "r+b") as fh:
            fh.seek(off + 6)
            b = fh.read(1)
            fh.seek(off + 6)
            fh.write(bytes([b[0] ^ 0x40]))
        return
    f.close()

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "losses": losses(*sys.argv[2:7])
    elif cmd == "same": same(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif cmd == "h5set": h5set(*sys.argv[2:5])
    else: sys.exit("unknown command " + cmd)
