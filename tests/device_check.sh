#!/bin/bash
# tests/device_check.sh — the GPU check, one call on any node with an
# NVIDIA Hopper GPU: runs the CUDA kernel tests against the CPU references
# (every kernel forward and backward at several shapes, bf16 tolerances)
# and the fused-attention timings, times PyTorch's SDPA on the same shapes
# in the same run, runs the CUDA backend (a step against the CPU backend,
# several ranks, `ntron run`, `ntron bench` MFU, the 340B one-layer memory
# slice) and writes a results table.
#   tests/device_check.sh [OUTDIR]      (default: $OUT, else device-results)
# Uses build-cuda-test/test_cuda_kernels when present (built on a machine
# with nvcc by kernels/cuda/build_test.sh, static cudart/OpenBLAS), else
# builds it here.  Exit status: 0 when every kernel check passed.
set -uo pipefail
cd "$(dirname "$0")/.."
# the python that has torch, h5py and numpy (a node's `python3` on PATH)
export PYTHON=${PYTHON:-$(command -v python3)}
dest=${1:-${OUT:-device-results}}
# everything is written to a work folder; DEST gets results.md and
# logs.tar.gz (a device call brings back only a few files)
out=${NT_DEVICE_WORK:-$(mktemp -d /tmp/ntron-device.XXXXXX)}
mkdir -p "$dest" "$out"
pack() { cp "$out/results.md" "$dest/" 2>/dev/null
         tar czf "$dest/logs.tar.gz" -C "$out" --exclude='*.h5' --exclude='checkpoints' . 2>/dev/null; }
trap pack EXIT
{ date -u +"%F %T UTC"; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; } 2>&1 | tee "$out/gpu.txt"
rc=0
# binaries and libraries packed by tests/device_bundle.sh (.carry.tar.gz)
if [ -f .carry.tar.gz ] && [ .carry.tar.gz -nt .carry/.unpacked ]; then
    rm -rf .carry && mkdir -p .carry && tar xzf .carry.tar.gz -C .carry && touch .carry/.unpacked
fi
if [ "${NT_SKIP_KERNELS:-0}" != 1 ]; then
    bin=build-cuda-test/test_cuda_kernels
    [ -x "$bin" ] || [ ! -x .carry/test_cuda_kernels ] || bin=.carry/test_cuda_kernels
    [ -x "$bin" ] || kernels/cuda/build_test.sh build-cuda-test > "$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
    NT_TEST_WGMMA=skip timeout ${NT_KERNELS_TIMEOUT:-240} "$bin" > "$out/kernels.log" 2>&1; rc=$?
    grep -E '^(FAIL|SKIP)' "$out/kernels.log" | head -40
    echo "kernel checks: $(grep -c '^PASS' "$out/kernels.log") passed, $(grep -c '^FAIL' "$out/kernels.log") failed (exit $rc)"
    grep '^TIME' "$out/kernels.log"
    # the warpgroup-MMA (sm_90a) kernels in a process of their own: untried
    # code that faults cannot take the results above down with it
    NT_TEST_WGMMA=only timeout ${NT_WGMMA_TIMEOUT:-150} "$bin" > "$out/kernels-wgmma.log" 2>&1; wrc=$?
    grep -E '^(FAIL|SKIP|INFO)' "$out/kernels-wgmma.log" | head -40
    echo "wgmma kernel checks: $(grep -c '^PASS' "$out/kernels-wgmma.log") passed, $(grep -c '^FAIL' "$out/kernels-wgmma.log") failed (exit $wrc)"
    [ $wrc -ne 0 ] && tail -3 "$out/kernels-wgmma.log" && rc=$wrc
    grep '^TIME' "$out/kernels-wgmma.log"
    # PyTorch's SDPA on the same shapes, same card, same run
    # (hd 192: 12 heads in 2 groups; hd 128: 16 heads in 2 groups, as tests/test_cuda_kernels.cu times)
    timeout 120 "$PYTHON" postprocess/bench_attention_torch.py > "$out/attention_torch.jsonl" 2> "$out/attention_torch.err" \
        || echo "torch SDPA benchmark failed: $(tail -2 "$out/attention_torch.err")"
    timeout 90 "$PYTHON" postprocess/bench_attention_torch.py --hd 128 --heads 16 --kv-heads 2 >> "$out/attention_torch.jsonl" \
        2>> "$out/attention_torch.err" || echo "torch SDPA benchmark (hd 128) failed: $(tail -2 "$out/attention_torch.err")"
    pack
fi
# the CUDA backend: a whole step against the CPU backend, then one-GPU throughput
# (binaries and libraries packed by tests/device_bundle.sh into .carry/, or
# into .carry.tar.gz, unpacked here)
if [ -x .carry/test_cuda_step ]; then
    cublas=$("$PYTHON" -c "import nvidia.cublas, os; print(os.path.dirname(nvidia.cublas.__file__) + '/lib')" 2>/dev/null || true)
    export LD_LIBRARY_PATH=$PWD/.carry/lib:/usr/local/cuda/lib64:${cublas}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    timeout 120 .carry/test_cuda_step > "$out/step.log" 2>&1; src=$?
    grep -E '^(FAIL|SKIP|device)|CUDA backend' "$out/step.log"; tail -3 "$out/step.log"
    [ $src -ne 0 ] && rc=$src
    for L in ${NT_BENCH_LAYERS:-24}; do
        timeout 240 .carry/test_cuda_step --bench "$L" > "$out/bench_$L.log" 2>&1 || tail -5 "$out/bench_$L.log"
        grep -E '^(BENCH|bench step)' "$out/bench_$L.log"
    done
fi
# the CUDA backend on several ranks (TP2, TP2+SP, PP2, DP2, TP2xPP2 against one
# rank; NCCL or host-staged): needs ntron, ref_dump and an mpirun — the
# Open MPI runtime packed into .carry/ompi, else the machine's own
if [ -x .carry/ref_dump ] && [ -x .carry/ntron ]; then
    if [ -d .carry/ompi ]; then
        # the packed runtime, always: ntron's libmpi must meet its own
        # components (a node's own Open MPI of another version breaks it)
        o=$PWD/.carry/ompi/usr; px=$o/lib/x86_64-linux-gnu/pmix2
        export OPAL_PREFIX=$o PATH=$o/bin:$PATH
        export LD_LIBRARY_PATH=$o/lib/x86_64-linux-gnu:$o/lib/x86_64-linux-gnu/openmpi/lib:$PWD/.carry/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
        export OMPI_MCA_mca_base_component_show_load_errors=0 PMIX_MCA_mca_base_component_show_load_errors=0 PMIX_MCA_pcompress_base_silence_warning=1
        export PMIX_PREFIX=$px PMIX_INSTALL_PREFIX=$px PMIX_MCA_mca_base_component_path=$px/lib/pmix
    fi
    nccl=$("$PYTHON" -c "import nvidia.nccl, os; print(os.path.dirname(nvidia.nccl.__file__) + '/lib')" 2>/dev/null || true)
    export LD_LIBRARY_PATH=$PWD/.carry/lib:/usr/local/cuda/lib64${nccl:+:$nccl}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    # NCCL collectives on device buffers (one rank: through the device path)
    if [ -x .carry/test_comm_nccl ]; then
        timeout 120 .carry/test_comm_nccl > "$out/nccl.log" 2>&1; nrc=$?
        grep -E '^(PASS|FAIL|SKIP)' "$out/nccl.log" || tail -3 "$out/nccl.log"
        [ $nrc -ne 0 ] && [ $nrc -ne 77 ] && rc=$nrc
    fi
    if [ "${NT_SKIP_LAYOUTS:-0}" = 1 ]; then
        echo "test_cuda_layouts: not run (NT_SKIP_LAYOUTS=1)"
    elif command -v mpirun > /dev/null; then
        mkdir -p .carry/tests
        ln -sf ../ref_dump .carry/tests/ref_dump
        NTRON=$PWD/.carry/ntron NTRON_BUILDDIR=$PWD/.carry top_srcdir=$PWD NT_MPI_TIMEOUT=240 \
            timeout ${NT_LAYOUTS_TIMEOUT:-300} tests/test_cuda_layouts.sh > "$out/layouts.log" 2>&1; lrc=$?
        grep -E '^(PASS|FAIL|SKIP)|GPU\(s\)' "$out/layouts.log"; tail -2 "$out/layouts.log"
        [ $lrc -ne 0 ] && [ $lrc -ne 77 ] && rc=$lrc
        pack
    else
        echo "test_cuda_layouts: not run (no mpirun here and none packed in .carry/ompi)"
    fi
fi
# ntron itself on the GPU (one rank): the tiny pretraining through `ntron run`
# on CUDA against the CPU backend (loss per step, bf16 tolerance 3e-2 rel);
# `ntron bench` of inputs/gpu/bench-24l.deck (tokens/s, MFU, GEMM / attention /
# other split, peak GPU memory); the 340B one-layer slice (inputs/gpu/
# slice-340b.deck): measured peak GPU memory against `ntron plan` of the same
# deck, whose model predicts the 340B deck's TP8 x PP12 memory.
# pack: SFT real tokens/s packed vs padded (postprocess/bench_sft_pack.sh,
# seq_len 4096, CUDA backend).
# NT_DEVICE_NTRON="run bench slice pack" picks the parts (all by default).
if [ -x .carry/ntron ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    N=$PWD/.carry/ntron
    parts=${NT_DEVICE_NTRON:-run bench slice pack}
    one() { if command -v mpirun > /dev/null; then mpirun -np 1 "$@"; else "$@"; fi; }
    if [[ " $parts " == *" run "* ]]; then
        "$N" prep --tokenizer byte inputs/tiny/corpus.txt -o "$out/corpus.h5" > /dev/null
        for be in cpu cuda; do
            timeout 240 env OPENBLAS_NUM_THREADS=8 "$N" run inputs/tiny/pretrain.deck --set run.backend=$be \
                --set data.train="$out/corpus.h5" --set train.steps=20 --set run.log_interval=1 \
                --set run.dir="$out/tiny-$be" > "$out/tiny-$be.log" 2>&1 || { echo "ntron run ($be) failed:"; tail -3 "$out/tiny-$be.log"; rc=1; }
        done
        grep -E '^(layout|memory)|GPU (held|used)' "$out/tiny-cuda.log" | head -3
        "$PYTHON" - "$out/tiny-cpu/metrics.jsonl" "$out/tiny-cuda/metrics.jsonl" <<'CMP' || rc=1
import json, sys
a, b = ([json.loads(l)["loss"] for l in open(p)] for p in sys.argv[1:3])
worst = max(abs(x - y) / abs(x) for x, y in zip(a, b))
print(f"ntron run tiny: CUDA vs CPU loss over {len(a)} steps: worst rel {worst:.3g} (tolerance 3e-2): {'PASSED' if worst <= 3e-2 and len(a) == len(b) == 20 else 'FAILED'}")
sys.exit(0 if worst <= 3e-2 and len(a) == len(b) == 20 else 1)
CMP
        pack
    fi
    if [[ " $parts " == *" bench "* ]]; then
        timeout 300 "$N" bench inputs/gpu/bench-24l.deck --warmup 2 --steps 5 --reference same \
            --json "$out/bench-24l.json" > "$out/bench-24l.log" 2>&1 || { tail -5 "$out/bench-24l.log"; rc=1; }
        grep -E '^(TRAIN|check|split|memory|ops|attn)' "$out/bench-24l.log"
        # the same with the warpgroup-MMA attention (sm_90a builds)
        NTRON_ATTN=wgmma timeout 200 "$N" bench inputs/gpu/bench-24l.deck --warmup 2 --steps 5 --reference same \
            --json "$out/bench-24l-wgmma.json" > "$out/bench-24l-wgmma.log" 2>&1 || { tail -5 "$out/bench-24l-wgmma.log"; rc=1; }
        echo "with NTRON_ATTN=wgmma:"
        grep -E '^(TRAIN|check|split|attn)|wgmma' "$out/bench-24l-wgmma.log"
        pack
    fi
    if [[ " $parts " == *" slice "* ]]; then
        "$N" plan inputs/gpu/slice-340b.deck --json "$out/slice-plan.json" > "$out/slice-plan.log" 2>&1
        timeout 300 "$N" bench inputs/gpu/slice-340b.deck --warmup 1 --steps 2 --reference same \
            --json "$out/slice.json" > "$out/slice.log" 2>&1 || { tail -5 "$out/slice.log"; rc=1; }
        "$PYTHON" - "$out/slice-plan.json" "$out/slice.json" <<'CMP'
import json, sys
try:
    p = json.load(open(sys.argv[1]))["stages"][0]; m = json.load(open(sys.argv[2]))
except (OSError, ValueError, KeyError) as e:
    sys.exit(f"340B one-layer slice: no result ({e})")
held, used = m.get("gpu_held_peak_mb", 0) / 1024, m.get("gpu_used_peak_mb", 0) / 1024
print(f"340B one-layer slice: predicted {p['mem_total'] / 2**30:.2f} GiB (plan), measured {held:.2f} GiB held by ntron, "
      f"{used:.2f} GiB in use on the device; ratio held/predicted {held * 2**30 / p['mem_total']:.3f}")
CMP
    fi
    if [[ " $parts " == *" pack "* ]]; then
        NTRON=$N timeout 240 postprocess/bench_sft_pack.sh - "$out/sftpack" 4096 12 cuda > "$out/sftpack.log" 2>&1 \
            || { echo "SFT packing benchmark failed:"; tail -3 "$out/sftpack.log"; }
        grep -E '^(lengths|padded|packed|SFT)' "$out/sftpack.log"
    fi
fi
"$PYTHON" - "$out" <<'PY' | tee "$out/results.md"
import json, re, sys, os
out = sys.argv[1]
ours = {}
klogs = [os.path.join(out, f) for f in ("kernels.log", "kernels-wgmma.log")]
for line in (l for k in klogs if os.path.exists(k) for l in open(k)):
    m = re.match(r"TIME: attention_(fwd|fwd\+bwd)\[(\w+)\] B=(\d+) T=(\d+) heads=(\d+) G=\d+ hd=(\d+): ([\d.]+) ms", line)
    if m:
        ours[(m.group(1), m.group(2), int(m.group(6)), int(m.group(5)), int(m.group(3)))] = float(m.group(7))
gpu = open(os.path.join(out, "gpu.txt")).read().split("\n")[1]
try:
    rows = [json.loads(l) for l in open(os.path.join(out, "attention_torch.jsonl")) if l.startswith("{")]
except OSError:
    rows = []
sdpa = {(r["hd"], r["heads"], r["B"]): r for r in rows if "B" in r}
fmt = lambda x: f"{x:.3f}" if x else "-"
ratio = lambda a, b: f"{a / b:.2f}" if a and b else "-"
for hd, heads in ((192, 12), (128, 16)):
    print(f"fused causal attention, T=4096, hd={hd}, {heads} q heads / 2 KV groups, bf16 — {gpu}")
    print("| B | ntron kernels | ntron fwd ms | SDPA fwd ms | fwd ratio (SDPA/ntron time) | ntron fwd+bwd ms | SDPA fwd+bwd ms | fwd+bwd ratio | ntron fwd TFLOP/s | ntron fwd+bwd TFLOP/s (3.5x) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for B in sorted({k[4] for k in ours if k[2:4] == (hd, heads)} | {k[2] for k in sdpa if k[:2] == (hd, heads)}):
        r = sdpa.get((hd, heads, B), {})
        f = 4.0 * B * heads * 4096 * 4096 * hd / 2
        # mma: the mma.sync kernels; wgmma: the warpgroup-MMA kernels (NTRON_ATTN=wgmma)
        for impl in ("mma", "wgmma"):
            tf, tb = ours.get(("fwd", impl, hd, heads, B)), ours.get(("fwd+bwd", impl, hd, heads, B))
            if tf or tb:
                sf, sb = r.get("fwd_ms"), r.get("fwdbwd_ms")
                print(f"| {B} | {impl} | {fmt(tf)} | {fmt(sf)} | {ratio(sf, tf)} | {fmt(tb)} | {fmt(sb)} | "
                      f"{ratio(sb, tb)} | {f / tf / 1e9 if tf else 0:.1f} | {3.5 * f / tb / 1e9 if tb else 0:.1f} |")
    print()
# the memory-bound kernels (test_cuda_kernels' bandwidth section) against the card's HBM bandwidth
# (datasheets: H100 SXM 3.35 TB/s, H200 4.8 TB/s; other cards: no fraction)
peak = 4800.0 if "H200" in gpu else 3350.0 if "H100" in gpu else 0.0
bw = [m.groups() for m in (re.match(r"TIME: (\S+) (.*): ([\d.]+) ms, (\d+) GB/s", l)
                           for l in open(klogs[0])) if m] if os.path.exists(klogs[0]) else []
if bw:
    print(f"memory-bound kernels at the bench deck's shapes — {gpu}")
    print("| kernel | shape | ms | GB/s | of HBM peak |")
    print("|---|---|---|---|---|")
    for k, sh, ms, gbs in bw:
        print(f"| {k} | {sh} | {ms} | {gbs} | {f'{float(gbs) / peak:.0%}' if peak else '-'} |")
    print()
PY
exit $rc
