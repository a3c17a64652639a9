#!/bin/bash
# test_slurm.sh — ntron under a real single-node Slurm (munge + slurmctld +
# slurmd on localhost, started by slurm/local-cluster on a fresh state
# directory and stopped by PID): a one-phase job (the tiny pretraining as an
# 8-rank srun --mpi=pmix job, TP2 x PP2 x DP2), a three-phase chain with
# dependencies (each phase starting from the previous one's checkpoint), a
# failing phase cancelling the rest, a pre-empted job (scancel --signal=USR1
# --batch) that saves, requeues itself and continues with the same losses
# as an uninterrupted run, and submissions refused before anything is
# queued.  Polls scontrol, never sbatch --wait.  First, without the
# daemons: a phase script refuses a deck of another run.phase (--set
# overrides included) before anything runs, and slurm/submit refuses it
# before anything is queued.  The rest skips (77) without Slurm.
. "$(dirname "$0")/lib.sh"
cd "$WORK"

# 0. phase scripts vs run.phase: one line naming the script, the deck and both phases, exit 2, nothing run
export NTRON_HOME=$top_srcdir NTRON_BIN=$NTRON
SD=$top_srcdir/tests/slurm
wrong_phase() {  # name script regex deck [--set ...]: the script is run directly (bash), as sbatch would
    local name=$1 script=$2 re=$3 deck=$4; shift 4
    local out rc
    out=$(SLURM_JOB_ID=0 bash "$top_srcdir/slurm/$script.sbatch" "$deck" "$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && printf '%s\n' "$out" | grep -Eq -- "$re" && [ ! -e runs ]; then
        pass "$script.sbatch refuses $name before anything runs: $(printf '%s' "$out" | sed 's/^\[[^]]*\] //')"
    else fail "$script.sbatch with $name: exit $rc, '$out'$([ -e runs ] && echo ', run directory created')"; fi
}
wrong_phase "a pretrain deck" dpo "slurm/dpo\.sbatch runs run\.phase = dpo, but deck .*/pretrain\.deck has run\.phase = pretrain$" "$SD/pretrain.deck"
wrong_phase "--set run.phase=rm" pretrain "slurm/pretrain\.sbatch runs run\.phase = pretrain, but deck .*/pretrain\.deck --set run\.phase=rm --set model\.head=reward has run\.phase = rm$" \
    "$SD/pretrain.deck" --set run.phase=rm --set model.head=reward
wrong_phase "a pretrain deck" sft-code "slurm/sft-code\.sbatch runs run\.phase = sft, but .* has run\.phase = pretrain$" "$SD/pretrain.deck"
wrong_phase "an rm deck" sdg "slurm/sdg\.sbatch runs run\.phase = generate or sdg, but .* has run\.phase = rm$" "$SD/pretrain.deck" --set run.phase=rm --set model.head=reward
wrong_phase "an sdg deck" dpo "slurm/dpo\.sbatch runs run\.phase = dpo, but .* has run\.phase = sdg$" "$SD/pretrain.deck" \
    --set run.phase=sdg --set sdg.stages=topics --set sdg.templates="$top_srcdir/inputs/sdg/templates" \
    --set sdg.topics_file="$top_srcdir/inputs/sdg/topics.txt"
# a deck the check refuses is refused before the script compares phases
wrong_phase "a deck that fails ntron check" dpo "^ntron: .*pretrain\.deck: sdg\.stages .*is empty" "$SD/pretrain.deck" --set run.phase=sdg
mkdir -p phase; cp "$SD/pretrain.deck" phase/dpo.deck
expect_error "submit: dpo.deck with run.phase = pretrain" 2 "^submit: slurm/dpo\.sbatch runs run\.phase = dpo, but deck phase/dpo\.deck has run\.phase = pretrain$" \
    -- "$top_srcdir/slurm/submit" --dry-run phase/dpo.deck
out=$("$top_srcdir/slurm/submit" --dry-run "$SD/pretrain.deck" "$SD/cpt.deck" 2>&1) && [ "$(printf '%s\n' "$out" | grep -c '^sbatch ')" -eq 2 ] \
    && pass "submit --dry-run: pretrain and cpt decks (run.phase = pretrain) go to pretrain.sbatch and cpt.sbatch" \
    || fail "submit --dry-run of the chain: $out"
if ! command -v slurmctld >/dev/null || ! command -v sbatch >/dev/null; then
    [ "$NT_FAILS" -eq 0 ] || finish
    echo "SKIP: Slurm is not installed (Debian: slurm-wlm munge)"; exit 77
fi
# own state directory and ports, so a developer's running local cluster is left alone
export NTRON_SLURM_DIR=$WORK/slurm-state NTRON_SLURM_PORT=$((17000 + $$ % 500 * 2))
"$top_srcdir/slurm/local-cluster" start > cluster.out 2>&1 || { cat cluster.out; echo "SKIP: local Slurm did not start"; exit 77; }
trap '"$top_srcdir/slurm/local-cluster" stop >/dev/null 2>&1' EXIT
eval "$("$top_srcdir/slurm/local-cluster" env)"
pass "local cluster: $(tail -n1 cluster.out)"
"$NTRON" prep --tokenizer byte "$top_srcdir/inputs/tiny/corpus.txt" -o corpus.h5 >/dev/null

state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
wait_job() {  # id [timeout s] -> final state
    local id=$1 t=${2:-120} s
    for _ in $(seq $((t * 4))); do
        s=$(state "$id")
        case "$s" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) echo "$s"; return ;; esac
        sleep 0.25
    done
    echo "TIMEOUT_WAITING($s)"
}
export NTRON_TASKS_PER_NODE=1

# 1. one phase: the tiny pretraining as an 8-rank srun job
id=$(sbatch --parsable -n 8 "$top_srcdir/slurm/pretrain.sbatch" "$top_srcdir/inputs/tiny/pretrain.deck" \
    --set data.train="$WORK/corpus.h5" --set run.dir="$WORK/run8" --set train.steps=4 --set train.warmup=1 \
    --set parallel.tensor=2 --set parallel.pipeline=2 --set parallel.micro_batch=2 --set run.log_interval=1)
s=$(wait_job "$id")
if [ "$s" = COMPLETED ] && grep -q "world 8 = TP 2 x PP 2 x DP 2" "ntron-pretrain-$id.out" && [ "$(wc -l < run8/metrics.jsonl)" -eq 4 ] \
   && grep -q "^place   PMIx: node 0, local rank 0 of 8" "ntron-pretrain-$id.out" \
   && grep -q "^ntron 0" "run8/slurm-$id.log" && grep -q "^hosts: " "run8/slurm-$id.log" && grep -q "^\[model\]" "run8/slurm-$id.log"; then
    pass "one-phase job $id: 8-rank srun --mpi=pmix pretraining COMPLETED (placement from PMIx), ntron-pretrain-$id.out, version/hosts/deck logged"
else fail "one-phase job $id: $s"; tail -5 "ntron-pretrain-$id.out" 2>/dev/null; fi

# 2. refused before anything is queued
before=$(squeue -h | wc -l)
expect_error "submit: missing deck" 2 'nosuch.deck: no such deck' -- "$top_srcdir/slurm/submit" nosuch.deck
printf '[model]\nlayers = x\n' > bad.deck
expect_error "submit: deck fails ntron check" 2 'bad.deck fails ntron check' -- "$top_srcdir/slurm/submit" bad.deck
expect_error "submit: chain does not connect" 2 'chain does not connect' -- "$top_srcdir/slurm/submit" "$top_srcdir/tests/slurm/broken"
[ "$(squeue -h | wc -l)" -eq "$before" ] && pass "nothing queued by refused submissions" || fail "refused submissions queued jobs"

# 3. three-phase chain: pretrain -> cpt -> cpt-2, each from the previous checkpoint
cp "$top_srcdir"/tests/slurm/*.deck .
out=$("$top_srcdir/slurm/submit" pretrain.deck cpt.deck cpt-2.deck) || fail "chain submission: $out"
read -r -a ids <<< "$(printf '%s\n' "$out" | sed -n 's/^jobs: //p')"
echo "$out" | tail -n1
s3=$(wait_job "${ids[2]}" 240); s1=$(state "${ids[0]}"); s2=$(state "${ids[1]}")
if [ "$s1/$s2/$s3" = COMPLETED/COMPLETED/COMPLETED ] && [ -e ckpt/cpt-2/latest ]; then
    pass "three-phase chain ${ids[*]}: all COMPLETED in order, final checkpoint written"
else fail "three-phase chain ${ids[*]}: $s1/$s2/$s3"; for i in "${ids[@]}"; do tail -3 ntron-*-"$i".out 2>/dev/null; done; fi

# 4. a failing phase cancels the rest: phase 1 reads a missing data file
mkdir -p fail; sed "s#^train = corpus.h5#train = missing.h5#" pretrain.deck > fail/pretrain.deck
cp cpt.deck cpt-2.deck fail/
out=$("$top_srcdir/slurm/submit" fail/pretrain.deck fail/cpt.deck fail/cpt-2.deck) || fail "failing chain submission: $out"
read -r -a ids <<< "$(printf '%s\n' "$out" | sed -n 's/^jobs: //p')"
s1=$(wait_job "${ids[0]}")
s3=$(wait_job "${ids[2]}" 90); s2=$(state "${ids[1]}")   # kill_invalid_depend cancels at the next scheduling pass
if [ "$s1" = FAILED ] && [ "$s2" = CANCELLED ] && [ "$s3" = CANCELLED ]; then
    pass "failing phase ${ids[0]} FAILED, dependants ${ids[1]} ${ids[2]} CANCELLED (none left pending)"
else fail "failing chain: $s1/$s2/$s3"; fi

# 5. ramp-up as separate jobs: stage 0 (gbs 8) on 1 rank, stage 1 (gbs 16) on 2 ranks, resuming
cp "$top_srcdir/tests/slurm/ramp.deck" .
out=$("$top_srcdir/slurm/submit" --ramp ramp.deck 1x1,1x2) || fail "ramp submission: $out"
read -r -a ids <<< "$(printf '%s\n' "$out" | sed -n 's/^jobs: //p')"
s2=$(wait_job "${ids[1]}" 180); s1=$(state "${ids[0]}")
gbs=$("$PYTHON" -c "import json; print(' '.join(str(int(json.loads(l)['global_batch'])) for l in open('runs/ramp/metrics.jsonl')))" 2>/dev/null)
if [ "$s1/$s2" = COMPLETED/COMPLETED ] && [ "$gbs" = "8 8 8 8 8 8 16 16 16 16 16" ] \
   && grep -q "world 2 = TP 1 x PP 1 x DP 2" "ntron-pretrain-${ids[1]}.out"; then
    pass "ramp-up jobs ${ids[*]}: stage 0 on 1 rank, stage 1 on 2 ranks resumed from its checkpoint; global batch $gbs"
else fail "ramp-up jobs ${ids[*]}: $s1/$s2, global batches '$gbs'"; tail -3 "ntron-pretrain-${ids[1]}.out"; fi

# 6. pre-emption: USR1 to the batch script -> ntron saves, exits 3 -> requeue -> resume, same losses
#    (1000 steps of a 20000-step schedule: long enough that the signal always lands mid-run)
# the uninterrupted reference on the same 2 ranks (same reduction order, so bitwise comparable)
mpi 2 "$NTRON" run pretrain.deck --set run.dir="$WORK/ref" --set checkpoint.dir= --set train.steps=20000 --set train.stop_tokens=256000 \
    --set checkpoint.interval=0 < /dev/null > ref.out 2>&1 || fail "reference run failed"
id=$(sbatch --parsable -n 2 "$top_srcdir/slurm/pretrain.sbatch" pretrain.deck --set run.dir="$WORK/pre" \
    --set checkpoint.dir="$WORK/ckpt/pre" --set train.steps=20000 --set train.stop_tokens=256000 --set checkpoint.interval=0)
for _ in $(seq 200); do [ -s pre/metrics.jsonl ] && [ "$(wc -l < pre/metrics.jsonl)" -ge 3 ] && break; sleep 0.1; done
scancel --signal=USR1 --batch "$id"
s=$(wait_job "$id" 240)
restarts=$(scontrol show job "$id" | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')
if [ "$s" = COMPLETED ] && [ "${restarts:-0}" -ge 1 ] && "$PYTHON" - ref/metrics.jsonl pre/metrics.jsonl <<'PY'; then
import json, sys
ref = {int(r["step"]): r["loss"] for r in map(json.loads, open(sys.argv[1]))}
pre = {}
for r in map(json.loads, open(sys.argv[2])):
    pre[int(r["step"])] = r["loss"]          # the requeued job appends; the last value per step wins
assert set(pre) == set(ref), (sorted(pre)[-3:], len(ref))
bad = [s for s in ref if pre[s] != ref[s]]
assert not bad, bad[:5]
print("identical losses for", len(ref), "steps")
PY
    pass "pre-empted job $id saved, requeued ($restarts restart), resumed: losses identical to an uninterrupted run"
else fail "pre-emption: job $id $s, restarts ${restarts:-?}"; tail -5 "ntron-pretrain-$id.out"; fi
finish
