#!/bin/bash
# test_cuda_emu_backend.sh — the CUDA backend, its comm paths and its GPU
# tests run without a GPU: ntron is configured a second time, in a scratch
# directory, with --with-cuda=emulator (the kernels as host C++ on the fiber
# emulator, kernels/cuda/emu/cuda_emu.h; the CUDA runtime, cuBLASLt and NCCL
# that the C side calls from kernels/cuda/emu/*.c: device memory as recorded
# host allocations, cuBLASLt on CBLAS, NCCL over MPI), and then:
#   - with no emulated GPU the build behaves as a CPU one (run.backend = auto
#     takes the CPU; run.backend = cuda is refused, exit 2);
#   - tests/test_cuda_step: a whole training step and 5 AdamW steps of the CUDA
#     backend against the CPU backend (its own tolerances);
#   - tests/test_comm_nccl on 1, 2 and 4 ranks with a GPU each (every NCCL
#     collective the comm layer uses, exact values), and its skip when two
#     ranks share a GPU (NCCL's rule, which the emulator enforces);
#   - ntron run, checkpoint and generate with run.backend = cuda: losses
#     within 2e-2 relative of the CPU backend's (test_cuda_step's loss
#     tolerance: bf16 activations), sampling and the KV-cache decode kernels
#     on device memory;
#   - ntron bench --comm on TP2 x DP2 with a GPU per rank: device buffers
#     through NCCL, data check PASSED;
#   - tests/test_cuda_layouts.sh (TP2, TP2+SP, PP2, DP2, TP2 x PP2 against one
#     rank; p2p grouped and tagged bitwise equal) on 4 emulated GPUs (NCCL,
#     grouped rounds on device buffers) and on 1 (ranks share it: host
#     staging), with NT_LAYOUT_STEPS=4 steps instead of 10 (an emulated step
#     is slow).
# The emulator is synchronous, so this checks what runs, on which buffers and
# through which path, not the timing or stream overlap of a real GPU.
# Skips (77) without g++, or when the source tree is configured in place (a
# second, out-of-tree configure is then refused).
. "$(dirname "$0")/lib.sh"
cd "$WORK"
command -v "${CXX:-g++}" > /dev/null || { echo "SKIP: g++ not found (the emulator build needs it)"; exit 77; }
[ -f "$top_srcdir/config.status" ] && { echo "SKIP: $top_srcdir is configured in place; a second build needs a clean source tree"; exit 77; }
B=$WORK/build
mkdir -p "$B"
( cd "$B" && "$top_srcdir/configure" --with-cuda=emulator > configure.out 2>&1 \
  && make -j"$(nproc)" src/ntron tests/test_cuda_step tests/test_comm_nccl tests/ref_dump > make.out 2>&1 ) \
    && pass "emulator build (configure --with-cuda=emulator)" || { fail "emulator build"; tail -20 "$B"/configure.out "$B"/make.out; finish; }
N=$B/src/ntron
export OPENBLAS_NUM_THREADS=1
unset NTRON_EMU_GPUS

# ---- no emulated GPU: a CPU build in all but name
"$N" --version > v0.out 2>&1
grep -q '^build:.*CUDA: host emulator' v0.out && grep -q '^devices: no GPU found' v0.out \
    && pass "--version without NTRON_EMU_GPUS: $(grep '^devices:' v0.out)" || { fail "--version"; cat v0.out; }
NTRON_EMU_GPUS=2 "$N" --version 2>&1 | grep -q '^devices: 2 GPUs: \[0\] ntron host emulator' \
    && pass "NTRON_EMU_GPUS=2: two emulated GPUs" || fail "NTRON_EMU_GPUS=2 not seen"
"$N" prep --tokenizer byte "$top_srcdir/inputs/tiny/corpus.txt" -o corpus.h5 > prep.out 2>&1 || { fail "prep"; finish; }
DECK=$top_srcdir/inputs/tiny/pretrain.deck
C=(--set data.train=$WORK/corpus.h5 --set model.layers=2 --set model.seq_len=32 --set parallel.micro_batch=2
   --set train.global_batch=4 --set train.steps=4 --set train.warmup=1 --set run.log_interval=1)
mpi 1 "$N" run "$DECK" "${C[@]}" --set run.dir=$WORK/auto < /dev/null > auto.out 2>&1
[ $? -eq 0 ] && grep -q '^backend auto: cpu' auto.out && pass "run.backend = auto without an emulated GPU: the CPU" \
    || { fail "auto without a GPU"; tail -3 auto.out; }
expect_error "run.backend = cuda without an emulated GPU" 2 "run.backend = cuda: no GPU found" -- \
    mpi 1 "$N" run "$DECK" "${C[@]}" --set run.backend=cuda --set run.dir=$WORK/nogpu

# ---- the CUDA backend against the CPU backend on one step (tests/test_cuda_step.c)
NTRON_EMU_GPUS=1 timeout 600 "$B/tests/test_cuda_step" > step.out 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q 'CUDA backend vs CPU backend, 0 failed' step.out \
    && pass "test_cuda_step: $(grep -c '^PASS' step.out) checks against the CPU backend" \
    || { fail "test_cuda_step (exit $rc)"; grep -E '^FAIL|ntron:' step.out | head; }

# ---- NCCL collectives on device buffers (tests/test_comm_nccl.c)
for n in 1 2 4; do
    NTRON_EMU_GPUS=4 mpi "$n" "$B/tests/test_comm_nccl" > nccl$n.out 2>&1; rc=$?
    [ $rc -eq 0 ] && pass "test_comm_nccl, $n rank(s): $(grep '^PASS' nccl$n.out | tail -1)" \
        || { fail "test_comm_nccl on $n ranks (exit $rc)"; grep -E 'FAIL|ntron:' nccl$n.out | head; }
done
NTRON_EMU_GPUS=1 mpi 2 "$B/tests/test_comm_nccl" > nccl_shared.out 2>&1; rc=$?
[ $rc -eq 77 ] && pass "test_comm_nccl, 2 ranks on one GPU: skipped (NCCL refuses a shared GPU)" \
    || { fail "test_comm_nccl on a shared GPU: exit $rc, want 77"; tail -3 nccl_shared.out; }

# ---- ntron run / checkpoint / generate on the CUDA backend
NTRON_EMU_GPUS=1 mpi 1 "$N" run "$DECK" "${C[@]}" --set run.backend=cuda --set run.dir=$WORK/gpu \
    --set checkpoint.interval=4 --set checkpoint.dir=$WORK/ck < /dev/null > gpu.out 2>&1; rc=$?
mpi 1 "$N" run "$DECK" "${C[@]}" --set run.backend=cpu --set run.dir=$WORK/cpu < /dev/null > cpu.out 2>&1 || fail "CPU run"
if [ $rc -eq 0 ] && grep -q 'backend cuda-bf16' gpu.out; then
    if "$PYTHON" - gpu/metrics.jsonl cpu/metrics.jsonl > cmp.out <<'PY'; then pass "run, backend cuda: $(cat cmp.out)"; else fail "run, backend cuda: $(cat cmp.out)"; fi
import json, sys
g, c = ([json.loads(l)["loss"] for l in open(p) if l.strip()] for p in sys.argv[1:3])
rel = max(abs(a - b) / abs(b) for a, b in zip(g, c))
print(f"{len(g)} steps, losses within {rel:.1e} relative of the CPU backend's (tol 2e-2)")
sys.exit(0 if len(g) == len(c) == 4 and rel <= 2e-2 else 1)
PY
else
    fail "run, backend cuda (exit $rc)"; tail -5 gpu.out
fi
printf '{"id": "a", "prompt": "the "}\n{"id": "b", "prompt": "a"}\n' > prompts.jsonl
NTRON_EMU_GPUS=1 mpi 1 "$N" generate "$DECK" "${C[@]}" --set run.backend=cuda --set checkpoint.load=$WORK/ck \
    --set checkpoint.dir= --set data.tokenizer=byte --set generate.input=$WORK/prompts.jsonl \
    --set generate.output=$WORK/gen.jsonl --set generate.max_new_tokens=8 --set generate.temperature=0.8 \
    --set generate.top_k=20 --set generate.n=2 < /dev/null > gen.out 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(grep -c . gen.jsonl 2>/dev/null)" -eq 4 ] && pass "generate, backend cuda: 2 prompts x 2 samples" \
    || { fail "generate, backend cuda (exit $rc)"; tail -5 gen.out; }

# ---- bench --comm: device buffers through NCCL
NTRON_EMU_GPUS=4 mpi 4 "$N" bench "$DECK" --comm --set run.backend=cuda --set parallel.tensor=2 --max-bytes 16384 \
    --iters 2 > comm.out 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q 'device buffers, NCCL' comm.out && grep -q 'data check: 0 wrong elements: PASSED' comm.out \
    && pass "bench --comm, TP2 x DP2 on 4 GPUs: device buffers, NCCL, data check PASSED" \
    || { fail "bench --comm on emulated GPUs (exit $rc)"; tail -5 comm.out; }

# ---- the multi-rank CUDA layouts (tests/test_cuda_layouts.sh) on both comm paths
for g in 4 1; do
    mkdir -p "lay$g"
    (cd "lay$g" && NTRON=$N NTRON_BUILDDIR=$B NTRON_EMU_GPUS=$g NT_LAYOUT_STEPS=4 \
        bash "$top_srcdir/tests/test_cuda_layouts.sh") > "lay$g.out" 2>&1; rc=$?
    [ $rc -eq 0 ] && pass "test_cuda_layouts.sh on $g emulated GPU(s): $(grep -c '^PASS' "lay$g.out") checks ($(grep -m1 '^comm:\|^PASS: tp2: comm' "lay$g.out" | sed 's/^PASS: tp2: //'))" \
        || { fail "test_cuda_layouts.sh on $g emulated GPU(s) (exit $rc)"; grep -E '^FAIL' "lay$g.out" | head; }
done
finish
