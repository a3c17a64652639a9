# slurm/lib.sh — what every phase's sbatch script does, sourced by them
# (and by slurm/submit): load the site settings and modules, refuse a deck
# whose resolved run.phase (--set overrides included) is not the script's,
# log the ntron version, hosts, date and the resolved deck into the run
# directory, launch `srun --mpi=pmix ntron run DECK`, forward the
# pre-emption warning (SIGUSR1/SIGTERM) to ntron, and requeue the job when
# ntron exits with its save-and-requeue status (3).
# shellcheck shell=bash
NTRON_HOME=${NTRON_HOME:-${SLURM_SUBMIT_DIR:-$PWD}}
# shellcheck source=/dev/null
. "$NTRON_HOME/slurm/site.env"

nt_log() { echo "[ntron-slurm $(date -u +%FT%TZ)] $*"; }

# nt_resolved_key TEXT SECTION KEY: the value of [SECTION] KEY in a resolved
# deck (the text `ntron check` prints)
nt_resolved_key() {
    printf '%s\n' "$1" | awk -v s="[$2]" -v k="$3" '$0 == s {in_s = 1; next} /^\[/ {in_s = 0}
        in_s && $1 == k { sub(/^[^=]*= ?/, ""); print; exit }'
}

# nt_script_phases SCRIPT: the run.phase values slurm/SCRIPT.sbatch runs
# (bench: any, it only times the deck's model)
nt_script_phases() {
    case "$1" in
        pretrain|cpt) echo pretrain ;;
        sft-code|sft-general) echo sft ;;
        sdg) echo "generate sdg" ;;
        bench) echo any ;;
        *) echo "$1" ;;   # rm, dpo, rpo
    esac
}

# nt_phase_mismatch SCRIPT DECK PHASE: nothing (status 0) when
# slurm/SCRIPT.sbatch runs a deck of run.phase PHASE, else the reason, one line (status 1)
nt_phase_mismatch() {
    local want p
    want=$(nt_script_phases "$1")
    [ "$want" = any ] && return 0
    for p in $want; do [ "$p" = "$3" ] && return 0; done
    echo "slurm/$1.sbatch runs run.phase = ${want// / or }, but deck $2 has run.phase = ${3:-(none)}"
    return 1
}

# nt_run PHASE DECK [--set section.key=value ...]   (NTRON_COMMAND=bench runs `ntron bench`)
nt_run() {
    local phase=$1 deck=$2; shift 2
    [ -f "$deck" ] || { nt_log "deck not found: $deck"; exit 2; }
    if [ -n "$NTRON_MODULES" ] && command -v module >/dev/null 2>&1; then
        # shellcheck disable=SC2086
        module load $NTRON_MODULES
    fi
    [ -x "$NTRON_BIN" ] || { nt_log "ntron binary not found: $NTRON_BIN (set NTRON_BIN in slurm/site.env)"; exit 2; }
    local resolved rundir
    resolved=$("$NTRON_BIN" check "$deck" "$@") || { nt_log "deck $deck fails ntron check"; exit 2; }
    local why
    why=$(nt_phase_mismatch "$phase" "$deck${*:+ $*}" "$(nt_resolved_key "$resolved" run phase)") || { nt_log "$why" >&2; exit 2; }
    rundir=$(printf '%s\n' "$resolved" | sed -n 's/^dir = //p' | head -n1)
    mkdir -p "$rundir"
    {
        nt_log "phase $phase, job ${SLURM_JOB_ID:-?} (${SLURM_JOB_NAME:-?}), restart ${SLURM_RESTART_COUNT:-0}"
        "$NTRON_BIN" --version
        echo "hosts: $(scontrol show hostnames "${SLURM_JOB_NODELIST:-$(hostname)}" 2>/dev/null | tr '\n' ' ')"
        echo "tasks: ${SLURM_NTASKS:-?} on ${SLURM_JOB_NUM_NODES:-?} nodes; date: $(date -u)"
        echo "deck: $deck $*"
        printf '%s\n' "$resolved"
    } >> "$rundir/slurm-${SLURM_JOB_ID:-local}.log"
    nt_log "logging to $rundir/slurm-${SLURM_JOB_ID:-local}.log"

    local pid rc signaled=0
    # the step runs in the background so that the warning signal reaches this trap at once
    trap 'signaled=1; nt_log "pre-emption signal: forwarding SIGUSR1 to ntron"; kill -USR1 "$pid" 2>/dev/null || true' USR1 TERM
    # shellcheck disable=SC2086
    srun --mpi=pmix $NTRON_CONTAINER $NTRON_SRUN_FLAGS "$NTRON_BIN" "${NTRON_COMMAND:-run}" "$deck" "$@" &
    pid=$!
    while :; do
        rc=0
        wait "$pid" || rc=$?
        kill -0 "$pid" 2>/dev/null || break   # wait returned because of the trap: keep waiting
    done
    trap - USR1 TERM
    if [ "$rc" -eq 3 ]; then
        nt_log "ntron saved a checkpoint and asks to be requeued (signal seen: $signaled)"
        scontrol requeue "$SLURM_JOB_ID"
        exit 0
    fi
    nt_log "ntron exited with status $rc"
    exit "$rc"
}
