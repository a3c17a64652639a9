#!/bin/bash
# test_dpo_slurm.sh — the report's preference chain as Slurm jobs:
#  1. without the daemons: `ntron check` passes inputs/nemotron4-340b/{dpo,
#     rpo1,rpo2,rpo3}.deck; slurm/submit --dry-run chains sft-general -> dpo ->
#     rpo1 -> rpo2 -> rpo3 onto dpo.sbatch and rpo.sbatch; it refuses an
#     iteration whose align.reference is not the previous phase's checkpoints
#  2. on a real single-node Slurm (slurm/local-cluster, own state directory and
#     ports): the tiny chain inputs/tiny/{sft-code,sft-general,dpo,rpo1,rpo2,
#     rpo3}.deck (shortened: fewer samples) submitted by slurm/submit after a
#     tiny pretraining; every job COMPLETED in order, each preference phase
#     started from and referenced the previous phase's checkpoint, its held-out
#     pair numbers written.  Skips (77) this part without Slurm.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
export NTRON_HOME=$top_srcdir NTRON_BIN=$NTRON OPENBLAS_NUM_THREADS=1
P=$top_srcdir/inputs/nemotron4-340b

# ---- 1 ----
for d in dpo rpo1 rpo2 rpo3; do
    out=$("$NTRON" check "$P/$d.deck" 2>&1) && printf '%s\n' "$out" | grep -q "check   PASSED" \
        && pass "ntron check $d.deck: $(printf '%s\n' "$out" | grep -E '^(phase|align)' | head -1)" \
        || fail "ntron check $d.deck: $(printf '%s\n' "$out" | tail -2)"
done
"$PYTHON" - "$P" <<'PY' && pass "340B decks: the report's values (1 epoch, 256 pairs, DPO beta 1e-3 sft 1e-4; RPO rpo_bwd_kl eta 1 lr 3e-7), each iteration from and referencing the previous" \
    || fail "340B preference deck values"
import sys, configparser
P = sys.argv[1]
def deck(n):
    c = configparser.ConfigParser(inline_comment_prefixes=("#",)); c.read(f"{P}/{n}.deck"); return c
prev = {"dpo": "sft-general", "rpo1": "dpo", "rpo2": "rpo1", "rpo3": "rpo2"}
for n, p in prev.items():
    c = deck(n)
    assert c["train"]["epochs"] == "1" and c["train"]["global_batch"] == "512" and c["train"]["decay"] == "constant"
    want = f"runs/nemotron4-340b-{p}/checkpoints"
    assert c["checkpoint"]["load"] == want and c["align"]["reference"] == want, n
    assert c["checkpoint"]["dir"] == f"runs/nemotron4-340b-{n}/checkpoints"
    if n == "dpo":
        assert c["run"]["phase"] == "dpo" and c["align"]["loss"] == "dpo"
        assert 3e-4 <= float(c["align"]["beta"]) <= 3e-3 and 1e-5 <= float(c["align"]["sft_weight"]) <= 1e-3
    else:
        assert c["run"]["phase"] == "rpo" and c["align"]["loss"] == "rpo_bwd_kl" and float(c["align"]["eta"]) == 1
        assert float(c["train"]["lr"]) == 3e-7 and 1e-3 <= float(c["align"]["beta"]) <= 1
PY
out=$("$top_srcdir/slurm/submit" --dry-run "$P/sft-general.deck" "$P/dpo.deck" "$P/rpo1.deck" "$P/rpo2.deck" "$P/rpo3.deck" 2>&1)
[ "$(printf '%s\n' "$out" | grep -c '^sbatch ')" -eq 5 ] && [ "$(printf '%s\n' "$out" | grep -c 'rpo\.sbatch .*rpo[123]\.deck$')" -eq 3 ] \
    && printf '%s\n' "$out" | grep -q 'afterok:DRY0 .*dpo\.sbatch .*dpo\.deck$' \
    && pass "submit --dry-run: sft-general -> dpo -> rpo1 -> rpo2 -> rpo3 chained on dpo.sbatch / rpo.sbatch" \
    || fail "submit --dry-run of the preference chain: $out"
sed 's#^reference = .*#reference = runs/nemotron4-340b-dpo/checkpoints#' "$P/rpo2.deck" > rpo2.deck
expect_error "submit: an iteration referencing another model" 2 "submit: chain: rpo2\.deck references 'runs/nemotron4-340b-dpo/checkpoints' but starts from .*rpo1\.deck's checkpoints" \
    -- "$top_srcdir/slurm/submit" --dry-run "$P/rpo1.deck" rpo2.deck

# ---- 2 ----
if ! command -v slurmctld >/dev/null || ! command -v sbatch >/dev/null; then
    [ "$NT_FAILS" -eq 0 ] || finish
    echo "SKIP: Slurm is not installed (Debian: slurm-wlm munge)"; exit 77
fi
D=runs/tiny-data
mkdir -p $D
"$NTRON" tokenizer train --vocab 512 -o $D/spm "$top_srcdir/inputs/tiny/corpus.txt" "$top_srcdir/inputs/data/tokenizer.txt" >/dev/null 2>&1 \
    || fail "tokenizer train"
"$NTRON" prep --tokenizer $D/spm.model "$top_srcdir/inputs/tiny/corpus.txt" -o $D/corpus-spm.h5 >/dev/null || fail "prep corpus"
# the tiny SFT decks' sets: the first conversations train, the rest are held out (as inputs/tiny/sft.sh splits them)
for spec in "chat_code code 216" "chat chat 50"; do
    set -- $spec
    head -n "$3" "$top_srcdir/inputs/data/$1.jsonl" > $D/$2_train.jsonl
    tail -n +"$(($3 + 1))" "$top_srcdir/inputs/data/$1.jsonl" > $D/$2_valid.jsonl
    for p in train valid; do
        "$NTRON" prep --tokenizer $D/spm.model --format chat $D/$2_$p.jsonl -o $D/$2_$p.h5 >/dev/null || fail "prep $2_$p"
    done
done
"$PYTHON" "$top_srcdir/inputs/tiny/make_pref.py" $D/pref 96 32 || fail "make_pref.py"
for s in train valid; do "$NTRON" prep --tokenizer $D/spm.model --format preference $D/pref_$s.jsonl -o $D/pref_$s.h5 >/dev/null || fail "prep pref_$s"; done
mpi 1 "$NTRON" run "$top_srcdir/inputs/tiny/pretrain.deck" --set run.name=tiny-spm --set model.vocab=512 --set data.tokenizer=$D/spm.model \
    --set data.train=$D/corpus-spm.h5 --set checkpoint.dir=runs/tiny-spm/checkpoints --set train.steps=6 --set train.warmup=1 \
    < /dev/null > pre.out 2>&1 || { fail "tiny pretraining"; tail -3 pre.out; }
# the tiny decks, shortened: SFT on a quarter / a third of an epoch, 96 pairs (6 steps of 16 pairs) per preference phase
sed 's/^epochs = 1$/epochs = 0.25/' "$top_srcdir/inputs/tiny/sft-code.deck" > sft-code.deck
sed 's/^epochs = 3$/epochs = 0.3/' "$top_srcdir/inputs/tiny/sft-general.deck" > sft-general.deck
for d in dpo rpo1 rpo2 rpo3; do cp "$top_srcdir/inputs/tiny/$d.deck" .; done

export NTRON_SLURM_DIR=$WORK/slurm-state NTRON_SLURM_PORT=$((18000 + $$ % 400 * 2))
"$top_srcdir/slurm/local-cluster" start > cluster.out 2>&1 || { cat cluster.out; echo "SKIP: local Slurm did not start"; exit 77; }
trap '"$top_srcdir/slurm/local-cluster" stop >/dev/null 2>&1' EXIT
eval "$("$top_srcdir/slurm/local-cluster" env)"
pass "local cluster: $(tail -n1 cluster.out)"
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
out=$("$top_srcdir/slurm/submit" sft-code.deck sft-general.deck dpo.deck rpo1.deck rpo2.deck rpo3.deck) || fail "chain submission: $out"
read -r -a ids <<< "$(printf '%s\n' "$out" | sed -n 's/^jobs: //p')"
last=$(wait_job "${ids[5]}" 600)
states=""
for i in "${ids[@]}"; do states="$states$(state "$i") "; done
names=(sft-code sft-general dpo rpo1 rpo2 rpo3)
ok=1
[ "$states" = "COMPLETED COMPLETED COMPLETED COMPLETED COMPLETED COMPLETED " ] || ok=0
for n in dpo rpo1 rpo2 rpo3; do [ -e runs/tiny-$n/checkpoints/latest ] && [ -e runs/tiny-$n/heldout.json ] || ok=0; done
prev=(sft-general dpo rpo1 rpo2)
for k in 0 1 2 3; do
    n=${names[$((k + 2))]} id=${ids[$((k + 2))]} p=${prev[$k]}
    f=$(ls ntron-*-"$id".out 2>/dev/null | head -1)
    grep -q "^load    runs/tiny-$p/checkpoints: step 0" "$f" 2>/dev/null && grep -q "^ref     runs/tiny-$p/checkpoints, frozen" "$f" \
        && grep -q "reference log-probs computed (policy's own weights, forward-only)" "$f" || { ok=0; echo "$n: $(grep -E '^(load|ref)' "$f" 2>/dev/null)"; }
done
if [ $ok -eq 1 ]; then
    summary=$("$PYTHON" -c "
import json
for n in ['dpo', 'rpo1', 'rpo2', 'rpo3']:
    h = json.load(open(f'runs/tiny-{n}/heldout.json'))
    print(f\"{n} acc {h['accuracy']:.2f} margin {h['margin']:.3g}\", end='; ')")
    pass "tiny chain ${ids[*]}: sft-code -> sft-general -> dpo -> rpo1 -> rpo2 -> rpo3 COMPLETED in order, each from and referencing the previous checkpoint; held-out $summary"
else
    fail "tiny chain ${ids[*]}: $states(last $last)"
    for i in "${ids[@]}"; do tail -3 ntron-*-"$i".out 2>/dev/null; done
fi
finish
