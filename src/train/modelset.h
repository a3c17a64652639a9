/* modelset.h — a model set: the model of one job on the TP x PP x DP grid
 * (the pipeline chunks of this rank, their joint flat parameters, fp32
 * master weights and, when it trains, fp32 gradients) and the pipeline
 * passes that run it over a batch.
 *
 * A trainable set (trainer.h adds the optimizer) runs the training pass:
 * the 1F1B / interleaved schedule of schedule.c over the micro-batches,
 * activations and gradients point-to-point between stages.  A frozen set
 * (a reference policy, a generator, a scorer) has no gradients, no
 * backward scratch and keeps one layer's intermediates (its forward is the
 * training forward, so it gives the same numbers), and runs the
 * forward-only pass.  Both call a phase's stage function on the last
 * pipeline stage for every micro-batch.
 *
 * Pipeline: chunk c of pipeline rank p is virtual stage s = c*P + p and
 * owns layers [s*Lc, (s+1)*Lc).  Stage s receives its input from stage s-1
 * (rank (s-1) mod P) and sends its output to stage s+1; gradients flow back
 * the same way.  Tagged (parallel.p2p): sends are non-blocking on host
 * copies, receives block, over MPI.  Grouped: the lockstep rounds of
 * schedule.h, one grouped exchange per round (NCCL on device buffers when
 * every rank has a GPU of its own, else MPI).  The flat buffer is
 * padded to a multiple of DP: DP rank d owns [shard_lo, shard_lo+shard_n)
 * (its ZeRO-1 shard, and its share of checkpoint I/O). */
#ifndef NTRON_MODELSET_H
#define NTRON_MODELSET_H

#include "train/batch.h"
#include "parallel/comm.h"
#include "deck/config.h"
#include "parallel/grid.h"
#include "model/model.h"
#include "parallel/placement.h"
#include "parallel/schedule.h"

#define NT_MAX_CHUNKS 64

typedef struct nt_acts_pool {
    int n, cap;
    nt_acts *acts;
    int *mb;                 /* micro-batch using each slot, -1 = free */
} nt_acts_pool;

/* an output of this rank kept until the round that sends it */
typedef struct nt_stash {
    char kind;              /* 'F' | 'B' (schedule.h nt_xfer); 0: free */
    int chunk, mb;
    void *buf;              /* act dtype, bytes capacity */
    size_t bytes, n;
} nt_stash;

typedef struct nt_modelset {
    nt_config cfg;
    const nt_ops *ops;
    nt_grid grid;
    nt_placement place;                 /* node-local rank, node id (PMIx or MPI) */
    int trainable;                      /* gradients and backward scratch exist */
    int v;                              /* model chunks on this rank (virtual stages) */
    nt_model chunk[NT_MAX_CHUNKS];
    nt_acts_pool pool[NT_MAX_CHUNKS];
    size_t nparams, npadded;            /* joint flat buffers of all chunks, padded to a multiple of DP */
    void *params;                       /* act dtype */
    float *master;                      /* fp32 (== params on host backends); NULL: frozen on a bf16 backend */
    float *grads;                       /* fp32; NULL: frozen */
    size_t shard_lo, shard_n;           /* this DP rank's range of the flat buffers */
    int micro_batch, seq_len;
    double t_fwd, t_bwd, t_p2p;         /* seconds of the last pass: compute and p2p waits */
    /* set by the gradient reduction (train/grad_reduce.h): called during a
     * training pass with each range [lo, hi) of ms->grads that has become
     * final (the last backward of its chunk has written it); NULL: none */
    void (*grads_final)(void *ctx, size_t lo, size_t hi);
    void *grads_final_ctx;
    int sched_m;                        /* micro-batches the cached schedule is for */
    nt_action *sched;
    int sched_len;
    /* grouped point-to-point (parallel.p2p): this rank's lockstep rounds and
     * the outputs waiting for theirs */
    int p2p_grouped;
    nt_round *rounds;
    int nrounds, rounds_m, rounds_train;
    int rounds_held;                    /* nt_schedule_rounds_held of them */
    nt_stash *stash;
    int nstash, capstash;
    int stash_live, stash_peak; /* outputs held now / at most in this pass */
} nt_modelset;

/* Collective over world: grid, placement, chunks, flat buffers, parameters
 * initialised from run.seed (layout-independent).  trainable = 0: frozen. */
void nt_modelset_init(nt_modelset *ms, const nt_config *cfg, const nt_ops *ops, MPI_Comm world, int trainable);
void nt_modelset_free(nt_modelset *ms);
/* micro-batches per DP rank for a global batch; exits with a clear error
 * (naming layouts that would work) if gbs does not divide. */
int nt_modelset_micro_batches(const nt_modelset *ms, long gbs);
/* What this rank holds for the set: bytes of parameters (act dtype + a
 * separate fp32 master), bytes of gradients, and the number of activation
 * sets in the pools (one per in-flight micro-batch and chunk). */
void nt_modelset_bytes(const nt_modelset *ms, double *params, double *grads, int *act_sets);

/* Training pass over this DP rank's rows of b (micro_batches(b->gbs) x
 * micro_batch rows): forward, loss (fn on the last stage, which sets the
 * head's gradient) and backward of every micro-batch in the schedule's
 * order; gradients accumulate into ms->grads (zeroed first), and the last
 * backward of each chunk reports its ranges to ms->grads_final as they
 * become final.  Returns the
 * sum of fn's values on this rank (0 off the last stage). */
double nt_modelset_train_pass(nt_modelset *ms, nt_batch *b, nt_stage_fn fn, void *state, double *acc);
/* Forward-only pass (any set; no backward, no gradient memory touched):
 * every micro-batch through every stage in order, fn on the last stage.
 * Returns the sum of fn's values on this rank. */
double nt_modelset_forward_pass(nt_modelset *ms, nt_batch *b, nt_stage_fn fn, void *state, double *acc);
/* A stage function for the forward-only pass: per-token log-probs of the
 * targets into logp [rows*T] (state; NaN where there is no target) and
 * per-row sums into b->seq_logp, on the last stage's ranks. */
double nt_stage_logprobs(void *logp, const nt_stage *s);

/* Full (unsharded) value of a named parameter gathered onto every rank of
 * the world, fp32, in a malloc'd [rows, cols] buffer (rows include this
 * layout's vocabulary padding); NULL if the name is unknown.  Collective
 * over the world.  For tests and checkpoints. */
float *nt_modelset_gather_param(nt_modelset *ms, const char *name, int *rows, int *cols);

#endif
