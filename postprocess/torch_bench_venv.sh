#!/bin/bash
# postprocess/torch_bench_venv.sh — a virtual environment with the newest
# torch that installs here (PyPI's wheel; the CPU-only index is tried
# first) and numpy, for postprocess/bench_cpu_vs_torch.sh: prints the
# interpreter, to be given as PYTHON.  A benchmark's tool, never a
# dependency of ntron.  VENV (default ~/.cache/ntron/torch-bench-venv).
# Debian's python3-torch (1.13) is years old and slower than current
# releases, so comparing against it flatters ntron.
# Usage: postprocess/torch_bench_venv.sh [BASE_PYTHON]   (the venv's base
# interpreter, default python3)
set -euo pipefail
VENV=${VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/ntron/torch-bench-venv}
[ -x "$VENV/bin/python" ] || "${1:-python3}" -m venv "$VENV"
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    "$VENV/bin/pip" install -q torch numpy --index-url https://download.pytorch.org/whl/cpu 2>/dev/null || {
        echo "torch_bench_venv: CPU-only wheel index not reachable; installing from PyPI" >&2
        "$VENV/bin/pip" install -q torch numpy >&2
    }
fi
"$VENV/bin/python" -c "import torch; print('torch', torch.__version__)" >&2
echo "$VENV/bin/python"
