/* trainer.h — one training step: gradient accumulation over micro-batches,
 * data-parallel gradient reduction, clipping, AdamW.  Shared by the phase
 * drivers (pretrain now; SFT/RM/DPO/RPO reuse it with their own losses) and
 * by the reference test. */
#ifndef NTRON_TRAINER_H
#define NTRON_TRAINER_H

#include "comm.h"
#include "config.h"
#include "model.h"
#include "optim.h"

typedef struct nt_trainer {
    nt_config cfg;
    const nt_ops *ops;
    nt_comm world, tp, dp;
    nt_model model;
    nt_acts acts;
    nt_optim opt;
    int micro_batch, seq_len;
    long total_steps;
    long step;                    /* steps completed */
    uint64_t consumed_samples;
    double consumed_tokens;
    double t_fwd, t_bwd, t_opt;   /* seconds in the last step */
} nt_trainer;

typedef struct nt_step_stats {
    double loss;          /* mean token loss over the global batch */
    double grad_norm;     /* before clipping */
    double lr;
    long gbs;
    int micro_batches;    /* per DP rank */
} nt_step_stats;

void nt_trainer_init(nt_trainer *tr, const nt_config *cfg, const nt_ops *ops, MPI_Comm world);
void nt_trainer_free(nt_trainer *tr);
/* One optimizer step over this rank's share of a global batch of `gbs`
 * sequences: batch holds micro_batches * micro_batch rows of seq_len+1
 * token ids (inputs are [:-1], targets [1:]). */
void nt_trainer_step(nt_trainer *tr, const int32_t *batch, long gbs, nt_step_stats *st);
/* micro-batches per DP rank for a global batch; exits with a clear error
 * (naming layouts that would work) if gbs does not divide. */
int nt_trainer_micro_batches(const nt_trainer *tr, long gbs);

#endif
