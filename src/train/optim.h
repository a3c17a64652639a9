/* optim.h — the optimizer of a trainable model set: ZeRO-1 over DP (fp32
 * gradients reduce-scattered by grad_reduce.h, in buckets overlapped with
 * the backward when parallel.overlap_grad_reduce is on; each DP rank steps
 * its shard of the master weights with AdamW; parameters all-gathered, with
 * the overlap in slices started as AdamW finishes them), the global
 * gradient norm (TP-replicated tensors counted once) and the clipping
 * coefficient.  The Adam moments cover only this rank's shard
 * [ms->shard_lo, +shard_n). */
#ifndef NTRON_OPTIM_H
#define NTRON_OPTIM_H

#include "train/grad_reduce.h"
#include "train/modelset.h"

typedef struct nt_optimizer {
    nt_modelset *ms;
    float *adam_m, *adam_v;  /* [shard_n] */
    float *grad_shard;       /* [shard_n]; == ms->grads with one DP rank */
    long step;               /* optimizer steps applied */
    nt_grad_reduce gr;       /* the DP gradient reduction into grad_shard */
    double t_gather;         /* last step: seconds waiting for the parameter all-gather */
} nt_optimizer;

void nt_optimizer_init(nt_optimizer *opt, nt_modelset *ms);
void nt_optimizer_free(nt_optimizer *opt);
/* before the training pass: arms the gradient reduction (its overlap with
 * the backward); nan_fault: the NTRON_FAULT_NAN hook hits this rank now */
void nt_optimizer_begin_pass(nt_optimizer *opt, int nan_fault);
/* after it: the rest of the reduce-scatter of the model set's gradients
 * over DP into the shard, and the wait for all of it (opt->gr.t_wait) */
void nt_optimizer_reduce_grads(nt_optimizer *opt);
/* sum of squares of the gradient shard (TP-replicated tensors on TP rank 0 only) */
double nt_optimizer_shard_sumsq(const nt_optimizer *opt);
/* one AdamW step of the shard with gradients scaled by scale (clipping),
 * then the all-gather of the master (and working) weights over DP */
void nt_optimizer_apply(nt_optimizer *opt, double lr, double scale, double *t_opt, double *t_coll);

/* clip coefficient: min(1, clip / (norm + 1e-6)); 1 when clip <= 0
 * (Megatron / torch.nn.utils.clip_grad_norm_ semantics) */
double nt_optim_clip_coef(double norm, double clip);

#endif
