#!/usr/bin/python3
"""compare_layouts.py BASE.h5 OTHER.h5 ... — layout equivalence check.

Each file is a tests/ref_dump state from the same deck under a different
TP x PP x v x DP (x SP) layout.  Against the first (single-rank) file every
other must give, for every step, the same loss and pre-clip grad norm
(relative difference <= 1e-5: only the order of fp32 sums differs), and the
same final parameters: per tensor max|a-b| / max|b| <= 1e-4 over all
elements but at most max(1, 0.1%) of them, and every element within the
Adam step bound 2*lr*steps (an element whose gradient is ~eps can flip the sign of
Adam's normalised update on rounding alone; see compare_reference.py).
Prints one PASS/FAIL line per file and exits 1 if any failed."""
import sys

import h5py
import numpy as np

TOL_STEP, TOL_PARAM, FRAC = 1e-5, 1e-4, 1e-3


def main(files):
    base = h5py.File(files[0], "r")
    lr, steps = float(base.attrs["lr"]), int(base.attrs["steps"])
    bl, bn = base["losses"][()], base["grad_norms"][()]
    failed = 0
    for fn in files[1:]:
        with h5py.File(fn, "r") as f:
            lay = f.attrs["layout"]
            lay = lay.decode() if isinstance(lay, bytes) else lay
            msgs = []
            dl = float(np.max(np.abs(f["losses"][()] - bl) / np.abs(bl)))
            dn = float(np.max(np.abs(f["grad_norms"][()] - bn) / np.abs(bn)))
            if dl > TOL_STEP: msgs.append(f"loss rel {dl:.2e}")
            if dn > TOL_STEP: msgs.append(f"grad norm rel {dn:.2e}")
            worst, nout = 0.0, 0
            for name, ds in base["final"].items():
                a, b = f["final"][name][()], ds[()]
                if a.shape != b.shape:
                    msgs.append(f"{name} shape {a.shape} != {b.shape}")
                    continue
                d = np.abs(a - b)
                scale = float(np.abs(b).max()) or 1.0
                rel = d / scale
                k = int((rel > TOL_PARAM).sum())
                if k > max(1.0, FRAC * d.size) or float(d.max()) > 2 * lr * steps:
                    msgs.append(f"{name}: {k} of {d.size} elements beyond {TOL_PARAM:g}, max abs {d.max():.2e}")
                nout += k
                worst = max(worst, float(np.sort(rel.ravel())[-1 - min(k, rel.size - 1)]) if k else float(rel.max()))
            verdict = "FAIL" if msgs else "PASS"
            failed += bool(msgs)
            print(f"{verdict}: {lay:<22} {steps} steps: loss rel {dl:.1e}, grad norm rel {dn:.1e}, "
                  f"final params rel {worst:.1e} ({nout} elements beyond {TOL_PARAM:g})"
                  + ("; " + "; ".join(msgs) if msgs else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
