/* phase.h — the phase seam: a phase is one entry of the registry
 * (phase.c), not a branch.  The generic loop (phase_run.c) does
 * everything phases share — resume or load, run directory, deck echo,
 * ramp, stop and NaN policy, checkpoint cadence, metrics, summary — and
 * calls the entry for what is the phase's own: its deck check, its data
 * source (and, with train.epochs, the step count it implies), how sample k fills a batch row, an optional hook before each
 * step, its loss on the last pipeline stage (which sets its own gradient),
 * its metrics and its summary lines.  How to add one: README, "How to add
 * a phase". */
#ifndef NTRON_PHASE_H
#define NTRON_PHASE_H

#include "train/batch.h"
#include "deck/config.h"
#include "deck/deck.h"

#include <stdint.h>
#include <stdio.h>

struct nt_trainer;
struct nt_step_stats;

#define NT_PHASE_MAX_METRICS 12

typedef struct nt_phase_metric {
    const char *name;      /* key in metrics.jsonl and on the step line */
    double value;
} nt_phase_metric;

typedef struct nt_phase {
    const char *name;      /* run.phase */
    const char *what;      /* one line for `ntron help phases` */
    const char *head;      /* the model.head it trains: "lm" | "reward"; NULL: not built yet */
    /* deck check beyond the common one; report with nt_deck_bad (exit 2) */
    void (*check)(const nt_config *cfg, const nt_deck_info *info);
    /* the data source: opened on every rank before anything is written;
     * describe prints its "data ..." lines (rank 0); close frees it */
    void *(*open)(const nt_config *cfg, const nt_deck_info *info);
    void (*describe)(void *state, FILE *out);
    void (*close)(void *state);
    int with_mask, nlabels_from_cfg;   /* the batch carries a loss mask; labels per row = model.reward_outputs */
    int packs;             /* the phase packs rows when data.pack = true (else the deck check refuses it) */
    /* sample k of the run (k = consumed samples + position in the global
     * batch) into row r of this DP rank's batch */
    void (*fill)(void *state, uint64_t k, nt_batch *b, int r);
    /* optional, after the rows are filled and before the step (e.g. the
     * reference policy's log-probs) */
    void (*before_step)(void *state, struct nt_trainer *tr, nt_batch *b);
    nt_stage_fn loss;      /* on the last stage: returns the micro-batch's loss share, sets the gradient */
    int nacc;              /* accumulators loss adds to (summed over the global batch) */
    /* the step's own metrics from the reduced accumulators (optional) */
    int (*metrics)(void *state, const struct nt_step_stats *st, nt_phase_metric *out, int max);
    /* extra summary lines at the end of the run (rank 0 prints; collective) */
    void (*summary)(void *state, struct nt_trainer *tr, FILE *out);
    /* optional: the run's steps once the data is open (train.epochs); NULL:
     * the phase does not count epochs and the deck check refuses them */
    long (*total_steps)(void *state, const nt_config *cfg);
} nt_phase;

/* whether run.phase NAME is an inference driver (generate, score, sdg: no
 * training plan), and whether it decodes with a KV cache */
int nt_phase_inference(const char *name, int *decodes);

/* The registry entry named cfg->phase; bad input (exit 2, one line) if it
 * is unknown or not built yet. */
const nt_phase *nt_phase_find(const char *name);
/* The deck check of every phase-using command (nt_deck_load calls it):
 * common training checks, then the entry's own; an unbuilt phase is
 * refused here, so `ntron check` and `ntron run` agree. */
void nt_phase_deck_check(const nt_config *cfg, const nt_deck_info *info);
/* `ntron help phases` */
void nt_phase_print_help(FILE *f);
/* Runs cfg->phase: an inference driver's own run (generate, score) or the
 * generic training loop; returns the exit status. */
int nt_phase_dispatch(const nt_config *cfg, const nt_deck_info *info, const char *resolved, const char *sha);
/* The generic training loop (phase_run.c): runs cfg->phase; returns the exit status. */
int nt_phase_run(const nt_config *cfg, const nt_deck_info *info, const char *resolved, const char *sha);

/* the built phases (phase_pretrain.c, phase_rm.c, phase_sft.c) */
extern const nt_phase nt_phase_pretrain;
extern const nt_phase nt_phase_rm;
extern const nt_phase nt_phase_sft;
extern const nt_phase nt_phase_dpo;   /* phase_pref.c */
extern const nt_phase nt_phase_rpo;
/* shared by phases: token cross-entropy normalised by the global batch's loss tokens */
double nt_phase_token_ce_loss(void *state, const nt_stage *s);

#endif
