/* grad_reduce.h — the data-parallel gradient reduction of a trainable
 * model set (ZeRO-1: DP rank d receives the sum over DP of its shard
 * [shard_lo, +shard_n) of the flat fp32 gradients), and what must happen to
 * a gradient before it is reduced: the TP sum of the norm weights under
 * sequence parallelism, and the NTRON_FAULT_NAN test hook.
 *
 * The flat buffer is cut into buckets: contiguous ranges of at most
 * parallel.bucket_mb MB, never crossing a shard boundary (so each bucket
 * has one owner), cut from the end, where the backward starts.  Each bucket
 * is reduced to its owner by nt_async_reduce (parallel/comm_async.h): the
 * sum of every element is formed in one fixed order, (((g[o+1] + g[o+2]) +
 * ...) + g[o]) over the DP ranks from the owner's successor, whatever the
 * bucket size and whenever the bucket starts.  parallel.overlap_grad_reduce
 * = true starts a bucket during the backward as soon as the last backward
 * of the pass (the last micro-batch of each chunk) has written all its
 * elements (ms->grads_final), advances the transfers at every layer, and
 * waits after the backward for what is left; false starts every bucket
 * after the backward (buckets of 2^30 elements: one per shard).  The two
 * give bitwise the same shard.
 *
 * The CUDA backend's gradients are device memory: there the reduction is
 * the comm layer's synchronous reduce-scatter after the backward (NCCL or
 * host-staged), with or without the key; `how` says so. */
#ifndef NTRON_GRAD_REDUCE_H
#define NTRON_GRAD_REDUCE_H

#include "parallel/comm_async.h"
#include "train/modelset.h"

typedef struct nt_grad_bucket {
    size_t lo, hi;       /* elements of the flat buffer */
    size_t left;         /* elements not yet final in this pass */
    int launched;
} nt_grad_bucket;

typedef struct nt_grad_tensor {
    size_t lo, hi;       /* elements of the flat buffer */
    int sp_sum;          /* a norm weight under sequence parallelism: summed over TP first */
    int done;            /* final in this pass */
} nt_grad_tensor;

typedef struct nt_grad_reduce {
    nt_modelset *ms;
    float *shard;                /* the result [shard_n] (== ms->grads with one DP rank) */
    int host;                    /* gradients in host memory: the fixed-order reduction */
    int overlap;                 /* buckets start during the backward */
    size_t bucket_elems;         /* parallel.bucket_mb in fp32 elements (also the all-gather slices) */
    int nbuckets, ntensors;
    nt_grad_bucket *bucket;      /* ascending */
    nt_grad_tensor *tensor;      /* every tensor of every chunk, ascending */
    nt_async async;              /* on the DP communicator (host, DP > 1) */
    int nan_fault;               /* this pass: a NaN into grads[0] once it is final */
    int started_in_backward;     /* buckets started before nt_grad_reduce_finish this pass */
    double t_wait;               /* last pass: seconds waiting for the reduction after the backward */
    char how[320];               /* one line for the echo */
} nt_grad_reduce;

/* Collective over the model set's DP group (duplicates its communicator).
 * Installs ms->grads_final when the overlap runs. */
void nt_grad_reduce_init(nt_grad_reduce *gr, nt_modelset *ms, float *shard);
void nt_grad_reduce_free(nt_grad_reduce *gr);
/* before the training pass; nan_fault: NTRON_FAULT_NAN hits this rank and step */
void nt_grad_reduce_begin(nt_grad_reduce *gr, int nan_fault);
/* after it: the tensors not yet final (all, without overlap) are made so,
 * the remaining buckets started, and every bucket waited for (t_wait).
 * Collective over DP (and TP under sequence parallelism). */
void nt_grad_reduce_finish(nt_grad_reduce *gr);

#endif
