/* trainer.h — one training step on the TP x PP x DP grid: the pipeline
 * schedule over micro-batches (1F1B or interleaved, point-to-point
 * activations and gradients between stages), the distributed optimizer
 * (ZeRO-1: fp32 gradients reduce-scattered over DP, each DP rank steps its
 * shard of the master weights and Adam moments, parameters all-gathered),
 * global-norm clipping.  Shared by the phase drivers and the tests. */
#ifndef NTRON_TRAINER_H
#define NTRON_TRAINER_H

#include "comm.h"
#include "config.h"
#include "grid.h"
#include "model.h"
#include "placement.h"
#include "schedule.h"

#define NT_MAX_CHUNKS 64

typedef struct nt_acts_pool {
    int n, cap;
    nt_acts *acts;
    int *mb;                 /* micro-batch using each slot, -1 = free */
} nt_acts_pool;

typedef struct nt_trainer {
    nt_config cfg;
    const nt_ops *ops;
    nt_grid grid;
    nt_placement place;                 /* node-local rank, node id (PMIx or MPI) */
    int v;                              /* model chunks on this rank (virtual stages) */
    nt_model chunk[NT_MAX_CHUNKS];
    nt_acts_pool pool[NT_MAX_CHUNKS];
    /* joint flat buffers of all chunks, padded to a multiple of DP */
    size_t nparams, npadded;
    void *params;
    float *master, *grads;
    /* ZeRO-1 shard of this DP rank: [shard_lo, shard_lo + shard_n) */
    size_t shard_lo, shard_n;
    float *adam_m, *adam_v, *grad_shard;
    long opt_step;
    int micro_batch, seq_len;
    long total_steps;
    long step;                          /* steps completed */
    long skipped_steps;                 /* steps whose update a non-finite loss/gradient norm skipped */
    int nonfinite_rank;                 /* last step: lowest rank with a non-finite local loss or gradient (-1: none) */
    uint64_t consumed_samples;
    double consumed_tokens;
    /* time of the last step, seconds: compute, p2p waits, collectives, optimizer */
    double t_fwd, t_bwd, t_p2p, t_coll, t_opt;
    int sched_m;                        /* micro-batches the cached schedule is for */
    nt_action *sched;
    int sched_len;
    /* reward head (model.head = reward): each batch row's scored position and
     * labels, set by the phase driver before every step: ends [rows],
     * labels [rows * reward_outputs] (rows as in the batch) */
    const int *rm_ends;
    const float *rm_labels;
} nt_trainer;

typedef struct nt_step_stats {
    double loss;          /* mean token loss over the global batch (reward head: mean squared error per label) */
    double grad_norm;     /* before clipping */
    double lr;
    long gbs;
    int micro_batches;    /* per DP rank */
    int skipped;          /* loss or grad norm not finite: the optimizer update was not applied */
} nt_step_stats;

void nt_trainer_init(nt_trainer *tr, const nt_config *cfg, const nt_ops *ops, MPI_Comm world);
void nt_trainer_free(nt_trainer *tr);
/* One optimizer step over this rank's share of a global batch of `gbs`
 * sequences: batch holds micro_batches * micro_batch rows of seq_len+1
 * token ids for this DP rank (inputs are [:-1], targets [1:]).  NaN guard:
 * when the loss or the global gradient norm is not finite the optimizer
 * update is not applied (st->skipped = 1; the step and its data still
 * count) and tr->nonfinite_rank names the lowest rank whose own part was
 * not finite.  Blocking transfers are marked for the watchdog (signals.h).
 * Test hook: NTRON_FAULT_NAN=RANK:STEP puts a NaN in that rank's gradient. */
void nt_trainer_step(nt_trainer *tr, const int32_t *batch, long gbs, nt_step_stats *st);
/* micro-batches per DP rank for a global batch; exits with a clear error
 * (naming layouts that would work) if gbs does not divide. */
int nt_trainer_micro_batches(const nt_trainer *tr, long gbs);
/* Full (unsharded) value of a named parameter gathered onto every rank of
 * the world, fp32, in a malloc'd [rows, cols] buffer (rows include this
 * layout's vocabulary padding); NULL if the name is unknown.  Collective
 * over the world.  For tests and checkpoints. */
float *nt_trainer_gather_param(nt_trainer *tr, const char *name, int *rows, int *cols);

#endif
