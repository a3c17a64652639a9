/* trainer.h — one training step: a trainable model set (modelset.h), its
 * optimizer (optim.h) and the run's counters.  The step runs the training
 * pass with the phase's loss on the last stage, sums the loss and the
 * phase's accumulators over PP and DP, reduce-scatters the gradients
 * (grad_reduce.h: with parallel.overlap_grad_reduce started in the pass),
 * takes the global norm, clips, guards against non-finite values and
 * applies AdamW.  Shared by the phase loop, bench and the tests. */
#ifndef NTRON_TRAINER_H
#define NTRON_TRAINER_H

#include "train/batch.h"
#include "train/modelset.h"
#include "train/optim.h"

#define NT_MAX_ACC 16

typedef struct nt_trainer {
    nt_modelset ms;
    nt_optimizer opt;
    long total_steps;
    long step;                          /* steps completed */
    long skipped_steps;                 /* steps whose update a non-finite loss/gradient norm skipped */
    int nonfinite_rank;                 /* last step: lowest rank with a non-finite local loss or gradient (-1: none) */
    uint64_t consumed_samples;
    double consumed_tokens;
    /* time of the last step, seconds: compute, p2p waits, collectives, optimizer */
    double t_fwd, t_bwd, t_p2p, t_coll, t_opt;
    /* of t_coll: the wait for the DP gradient reduction after the backward (its exposed part)
     * and for the parameter all-gather */
    double t_dp_wait, t_dp_gather;
} nt_trainer;

typedef struct nt_step_stats {
    double loss;          /* the phase's loss over the global batch */
    double acc[NT_MAX_ACC];   /* the phase's accumulators summed over the global batch */
    double grad_norm;     /* before clipping */
    double lr;
    long gbs;
    int micro_batches;    /* per DP rank */
    int skipped;          /* loss or grad norm not finite: the optimizer update was not applied */
    double seconds;       /* wall time of the step (set by the phase loop, for the phase's metrics) */
} nt_step_stats;

void nt_trainer_init(nt_trainer *tr, const nt_config *cfg, const nt_ops *ops, MPI_Comm world);
void nt_trainer_free(nt_trainer *tr);
/* One optimizer step over this DP rank's rows of the global batch b
 * (b->gbs sequences; micro_batches x micro_batch rows).  loss is the
 * phase's stage function, state its state, nacc its accumulators.  NaN
 * guard: when the loss or the global gradient norm is not finite the
 * optimizer update is not applied (st->skipped = 1; the step and its data
 * still count) and tr->nonfinite_rank names the lowest rank whose own part
 * was not finite.  Test hook: NTRON_FAULT_NAN=RANK:STEP puts a NaN in that
 * rank's gradient. */
void nt_trainer_step(nt_trainer *tr, nt_batch *b, nt_stage_fn loss, void *state, int nacc, nt_step_stats *st);
/* micro-batches per DP rank for a global batch (exits naming layouts that work if it does not divide) */
static inline int nt_trainer_micro_batches(const nt_trainer *tr, long gbs) { return nt_modelset_micro_batches(&tr->ms, gbs); }

#endif
