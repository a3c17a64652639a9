#!/bin/bash
# tests/hf/setup_venv.sh — create (or reuse) the Python virtual environment
# that the Hugging Face interop test (tests/test_hf.sh) runs transformers in.
#
# The venv lives outside the clone, in a cache directory:
#   NTRON_HF_VENV (default ${XDG_CACHE_HOME:-$HOME/.cache}/ntron/hf-venv)
# It is built from /usr/bin/python3 with --system-site-packages (Debian's
# numpy and h5py stay visible) and holds torch and transformers:
#   1. a CPU-only torch wheel from the PyTorch CPU index, if that index answers;
#   2. otherwise PyPI's torch (the CUDA build, ~5 GB with its CUDA libraries),
#      as ENVIRONMENT.md describes.
# A venv that already imports transformers' Nemotron is reused as is.  The
# tokenizer check also wants sentencepiece and protobuf (small; added to a
# reused venv when missing, their absence only skips that check).
# Exit status 0: the venv works (its python is printed on stdout's last line);
# 1: it could not be made (reason on stderr).
set -uo pipefail
TORCH_VERSION=${NTRON_HF_TORCH:-2.4.1}
TRANSFORMERS_VERSION=${NTRON_HF_TRANSFORMERS:-4.44.2}
VENV=${NTRON_HF_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/ntron/hf-venv}
CPU_INDEX=${NTRON_HF_CPU_INDEX:-https://download.pytorch.org/whl/cpu}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

works() {
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - <<'PYEOF' >/dev/null 2>&1
import torch, transformers, safetensors, numpy
from transformers import NemotronConfig, NemotronForCausalLM
v = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2])
assert v >= (2, 1), torch.__version__
cfg = NemotronConfig(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                     num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=8)
m = NemotronForCausalLM._from_config(cfg, attn_implementation="eager")
m(torch.zeros(1, 4, dtype=torch.long))
PYEOF
}

extras() {
    "$VENV/bin/python" -c "import sentencepiece, google.protobuf" >/dev/null 2>&1 ||
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check sentencepiece protobuf >&2 ||
        echo "setup_venv: sentencepiece/protobuf not installed (tokenizer check will skip)" >&2
}

if works; then extras; echo "setup_venv: reusing $VENV" >&2; echo "$VENV/bin/python"; exit 0; fi

mkdir -p "$(dirname "$VENV")" || exit 1
# One builder at a time (two test runs may start together).
exec 9>"$VENV.lock"
flock 9
if works; then extras; echo "setup_venv: reusing $VENV" >&2; echo "$VENV/bin/python"; exit 0; fi
rm -rf "$VENV"
t0=$(date +%s)
"$PY" -m venv --system-site-packages "$VENV" >&2 || { echo "setup_venv: python3 -m venv failed" >&2; exit 1; }
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
if curl -fsS -m 15 -o /dev/null "$CPU_INDEX/torch/" 2>/dev/null; then
    echo "setup_venv: installing torch $TORCH_VERSION from the CPU index $CPU_INDEX" >&2
    "${PIP[@]}" --index-url "$CPU_INDEX" "torch==$TORCH_VERSION" >&2 || echo "setup_venv: the CPU index failed; trying PyPI" >&2
else
    echo "setup_venv: $CPU_INDEX not reachable; using PyPI's torch (CUDA build, several GB)" >&2
fi
# (Debian's torch 1.13 is visible through --system-site-packages: it does not count)
torch_ok() { "$VENV/bin/python" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$TORCH_VERSION' else 1)" >/dev/null 2>&1; }
if ! torch_ok; then
    "${PIP[@]}" "torch==$TORCH_VERSION" >&2 || { echo "setup_venv: pip install torch==$TORCH_VERSION failed" >&2; rm -rf "$VENV"; exit 1; }
fi
"${PIP[@]}" "transformers==$TRANSFORMERS_VERSION" >&2 \
    || { echo "setup_venv: pip install transformers==$TRANSFORMERS_VERSION failed" >&2; rm -rf "$VENV"; exit 1; }
if ! works; then
    echo "setup_venv: the venv in $VENV does not import transformers' NemotronForCausalLM" >&2
    rm -rf "$VENV"; exit 1
fi
extras
echo "setup_venv: venv ready in $VENV after $(( $(date +%s) - t0 )) s" >&2
echo "$VENV/bin/python"
