#!/usr/bin/env python3
"""ckpt_attrs.py -- the root-attribute checksum of postprocess/CHECKPOINT_FORMAT.md,
computed independently of ntron (h5py for the raw attribute bytes, XXH3_64 from
the system's libxxhash through ctypes), and damage to root attributes for the
fault tests.

  sum FILE                 print attrs_xxh3 as computed here and as stored
  check FILE               exit 0 if they are equal
  set FILE NAME VALUE      set an integer/float root attribute (keeps its type)
  setstr FILE NAME VALUE   set a string root attribute (new length)
  stamp FILE               recompute attrs_xxh3 (a forgery that passes the checksum)
"""
import ctypes, ctypes.util, struct, sys
import h5py, numpy as np

_lib = ctypes.CDLL(ctypes.util.find_library("xxhash") or "libxxhash.so.0")
_lib.XXH3_64bits.restype = ctypes.c_uint64
_lib.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]

def raw(f, name):
    a = h5py.h5a.open(f.id, name.encode())
    t = a.get_type()
    n = a.shape
    if isinstance(t, h5py.h5t.TypeStringID):
        assert not t.is_variable_str(), name
        buf = np.zeros(n, dtype="S%d" % t.get_size())
    else:
        buf = np.zeros(n, dtype=a.dtype)
    a.read(buf, mtype=t)
    b = buf.tobytes()
    assert len(b) == t.get_size() * max(1, int(np.prod(n))), name
    return b

def attrs_sum(f):
    msg = b""
    for name in sorted(k for k in f.attrs.keys() if k != "attrs_xxh3"):
        b = raw(f, name)
        msg += name.encode() + b"\0" + struct.pack("<Q", len(b)) + b
    return _lib.XXH3_64bits(msg, len(msg))

def main():
    cmd, path = sys.argv[1], sys.argv[2]
    mode = "r" if cmd in ("sum", "check") else "r+"
    with h5py.File(path, mode) as f:
        if cmd == "sum" or cmd == "check":
            got, want = attrs_sum(f), int(f.attrs.get("attrs_xxh3", -1))
            print("computed %016x stored %016x" % (got, want & (2**64 - 1)))
            sys.exit(0 if got == want else 1)
        elif cmd == "set":
            old = f.attrs[sys.argv[3]]
            f.attrs.modify(sys.argv[3], np.array(sys.argv[4], dtype=np.float64 if old.dtype.kind == "f" else np.int64).astype(old.dtype))
        elif cmd == "setstr":
            v = sys.argv[4].encode() + b"\0"
            del f.attrs[sys.argv[3]]
            f.attrs.create(sys.argv[3], np.array(sys.argv[4].encode(), dtype="S%d" % len(v)))
        elif cmd == "stamp":
            f.attrs.modify("attrs_xxh3", np.uint64(attrs_sum(f)))
        else:
            sys.exit("unknown command " + cmd)

if __name__ == "__main__":
    main()
