#!/bin/bash
# test_reference.sh — ntron against the independent PyTorch implementation
# (tests/reference/nemotron_ref.py): step-1 logits, loss and every gradient
# (max-abs error / max-abs value <= 1e-5), then 10 optimizer steps of
# losses, grad norms and learning rates (relative <= 1e-5) and the final
# parameters (<= 1e-4); then the same in the SFT form (ref_dump --sft):
# packed rows with positions restarting per sample (block-diagonal
# attention) and a loss mask, the loss normalised by the global batch's
# loss tokens.  Skips (77) when torch or h5py is missing.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
if ! "$PYTHON" -c "import torch, h5py, numpy" 2>/dev/null; then
    echo "SKIP: $PYTHON has no torch/h5py/numpy (Debian: python3-torch python3-h5py)"; exit 77
fi
DUMP=${NTRON_BUILDDIR:-$(dirname "$NTRON")/..}/tests/ref_dump
"$DUMP" "$top_srcdir/tests/decks/ref.deck" state.h5 > dump.out 2>&1 || { cat dump.out; fail "ref_dump failed"; finish; }
"$PYTHON" "$top_srcdir/tests/compare_reference.py" state.h5 && pass "ntron matches the PyTorch reference" \
    || fail "ntron differs from the PyTorch reference"
"$DUMP" "$top_srcdir/tests/decks/ref.deck" sft.h5 --sft > sft.out 2>&1 || { cat sft.out; fail "ref_dump --sft failed"; finish; }
"$PYTHON" "$top_srcdir/tests/compare_reference.py" sft.h5 > sft.cmp 2>&1 \
    && pass "SFT form (packed rows, loss mask) matches the PyTorch reference: $(grep -E '^sft form|checks passed' sft.cmp | tr '\n' ' ')" \
    || { cat sft.cmp; fail "SFT form differs from the PyTorch reference"; }
finish
