/* grad_reduce.c — the bucketed, fixed-order data-parallel gradient
 * reduction and its overlap with the backward (see grad_reduce.h). */
#include "train/grad_reduce.h"
#include "backend/backend.h"
#include "util/check.h"
#include "util/sys.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* one piece of nt_async_reduce stays below INT_MAX elements */
#define MAX_BUCKET_ELEMS ((size_t)1 << 30)

static void build_tensors(nt_grad_reduce *gr)
{
    nt_modelset *ms = gr->ms;
    int sp = ms->grid.TP > 1 && ms->cfg.sequence_parallel, n = 0;
    for (int c = 0; c < ms->v; c++) n += ms->chunk[c].ntensors;
    gr->tensor = nt_calloc((size_t)(n > 0 ? n : 1), sizeof *gr->tensor, "gradient tensor list");
    size_t base = 0;
    for (int c = 0; c < ms->v; c++) {
        const nt_model *m = &ms->chunk[c];
        for (int i = 0; i < m->ntensors; i++) {
            const nt_tensor_info *t = &m->tensors[i];
            nt_grad_tensor *g = &gr->tensor[gr->ntensors++];
            g->lo = base + t->offset;
            g->hi = g->lo + t->numel;
            /* sequence parallel: the norm weights saw only this rank's rows */
            g->sp_sum = sp && t->split == NT_SPLIT_NONE && t->full_cols == 1;
        }
        base += m->nparams;
    }
}

/* contiguous buckets of at most `elems`, cut from the end, never across a shard boundary */
static void build_buckets(nt_grad_reduce *gr, size_t elems)
{
    nt_modelset *ms = gr->ms;
    size_t sn = ms->shard_n, n = 0;
    for (size_t hi = ms->npadded; hi > 0;) {
        size_t sb = (hi - 1) / sn * sn, lo = hi > elems ? hi - elems : 0;
        hi = lo > sb ? lo : sb;
        n++;
    }
    gr->bucket = nt_calloc(n ? n : 1, sizeof *gr->bucket, "gradient buckets");
    gr->nbuckets = (int)n;
    size_t k = n;
    for (size_t hi = ms->npadded; hi > 0;) {
        size_t sb = (hi - 1) / sn * sn, lo = hi > elems ? hi - elems : 0;
        if (lo < sb) lo = sb;
        gr->bucket[--k] = (nt_grad_bucket){.lo = lo, .hi = hi};
        hi = lo;
    }
}

void nt_grad_reduce_init(nt_grad_reduce *gr, nt_modelset *ms, float *shard)
{
    memset(gr, 0, sizeof *gr);
    gr->ms = ms;
    gr->shard = shard;
    const nt_config *cfg = &ms->cfg;
    int DP = ms->grid.DP;
    gr->host = !nt_backend_is_cuda(ms->ops);
    gr->overlap = gr->host && DP > 1 && cfg->overlap_grad_reduce;
    NT_CHECK(!gr->overlap || ms->ops->params_are_master, "internal: the overlapped all-gather needs params == master");
    double want = floor(cfg->bucket_mb * 1048576.0 / sizeof(float));
    gr->bucket_elems = want < 1 ? 1 : want > (double)MAX_BUCKET_ELEMS ? MAX_BUCKET_ELEMS : (size_t)want;
    build_tensors(gr);
    build_buckets(gr, gr->overlap ? gr->bucket_elems : MAX_BUCKET_ELEMS);
    if (gr->host && DP > 1) {
        nt_async_init(&gr->async, &ms->grid.dp_comm);
        if (gr->nbuckets - 1 > gr->async.tag_ub)
            nt_input_error("parallel.bucket_mb = %g cuts the gradients into %d buckets, more than the %d message tags "
                           "MPI offers: raise it", cfg->bucket_mb, gr->nbuckets, gr->async.tag_ub + 1);
    }
    if (DP == 1)
        snprintf(gr->how, sizeof gr->how, "none (DP 1)");
    else if (gr->overlap)
        snprintf(gr->how, sizeof gr->how,
                 "fixed-order ring reduce-scatter in %d buckets of <= %g MB, each started in the backward once its "
                 "gradients are final (parallel.overlap_grad_reduce = true); parameter all-gather in slices of "
                 "<= %g MB overlapped with AdamW", gr->nbuckets, cfg->bucket_mb, cfg->bucket_mb);
    else if (gr->host)
        snprintf(gr->how, sizeof gr->how,
                 "fixed-order ring reduce-scatter after the backward (parallel.overlap_grad_reduce = false); one "
                 "parameter all-gather after AdamW");
    else /* the deck check and backend selection refuse overlap_grad_reduce with the CUDA backend */
        snprintf(gr->how, sizeof gr->how, "synchronous reduce-scatter after the backward (the device path of parallel.comm)");
}

void nt_grad_reduce_free(nt_grad_reduce *gr)
{
    if (gr->ms && gr->ms->grads_final_ctx == gr) {
        gr->ms->grads_final = NULL;
        gr->ms->grads_final_ctx = NULL;
    }
    if (gr->host && gr->ms && gr->ms->grid.DP > 1) nt_async_free(&gr->async);
    free(gr->bucket);
    free(gr->tensor);
    memset(gr, 0, sizeof *gr);
}

static void launch(nt_grad_reduce *gr, int b)
{
    nt_grad_bucket *k = &gr->bucket[b];
    nt_modelset *ms = gr->ms;
    int owner = (int)(k->lo / ms->shard_n);
    float *dst = owner == ms->grid.dp ? gr->shard + (k->lo - ms->shard_lo) : NULL;
    nt_async_reduce(&gr->async, ms->grads + k->lo, dst, k->hi - k->lo, owner, b);
    k->launched = 1;
}

/* tensor i is final: TP sum under SP, the NaN hook, then its buckets' counts */
static void tensor_final(nt_grad_reduce *gr, int i, int start)
{
    nt_grad_tensor *t = &gr->tensor[i];
    nt_modelset *ms = gr->ms;
    if (t->done) return;
    t->done = 1;
    if (t->sp_sum) nt_comm_allreduce_f32(&ms->grid.tp_comm, ms->grads + t->lo, t->hi - t->lo, NT_SUM);
    if (gr->nan_fault && t->lo == 0) {
        float bad = NAN;
        ms->ops->to_f32(ms->grads, &bad, 1);
    }
    /* the first bucket ending after t->lo, then on while they begin before t->hi */
    int lo = 0, hi = gr->nbuckets;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (gr->bucket[mid].hi <= t->lo) lo = mid + 1;
        else hi = mid;
    }
    for (int b = lo; b < gr->nbuckets && gr->bucket[b].lo < t->hi; b++) {
        nt_grad_bucket *k = &gr->bucket[b];
        size_t x = t->lo > k->lo ? t->lo : k->lo, y = t->hi < k->hi ? t->hi : k->hi;
        k->left -= y - x;
        if (start && k->left == 0 && !k->launched) {
            launch(gr, b);
            gr->started_in_backward++;
        }
    }
}

/* ms->grads_final: elements [lo, hi) are final (whole tensors) */
static void on_final(void *ctx, size_t lo, size_t hi)
{
    nt_grad_reduce *gr = ctx;
    int a = 0, b = gr->ntensors;
    while (a < b) {
        int mid = (a + b) / 2;
        if (gr->tensor[mid].lo < lo) a = mid + 1;
        else b = mid;
    }
    for (int i = a; i < gr->ntensors && gr->tensor[i].lo < hi; i++) tensor_final(gr, i, 1);
    nt_async_test(&gr->async);
}

void nt_grad_reduce_begin(nt_grad_reduce *gr, int nan_fault)
{
    nt_modelset *ms = gr->ms;
    gr->nan_fault = nan_fault;
    gr->started_in_backward = 0;
    for (int i = 0; i < gr->ntensors; i++) gr->tensor[i].done = 0;
    for (int b = 0; b < gr->nbuckets; b++) {
        nt_grad_bucket *k = &gr->bucket[b];
        size_t real = k->hi < ms->nparams ? k->hi : ms->nparams;   /* the padding is never written */
        k->left = real > k->lo ? real - k->lo : 0;
        k->launched = 0;
    }
    ms->grads_final = gr->overlap ? on_final : NULL;
    ms->grads_final_ctx = gr->overlap ? gr : NULL;
}

void nt_grad_reduce_finish(nt_grad_reduce *gr)
{
    nt_modelset *ms = gr->ms;
    nt_grid *g = &ms->grid;
    ms->grads_final = NULL;
    ms->grads_final_ctx = NULL;
    for (int i = 0; i < gr->ntensors; i++) tensor_final(gr, i, 0);
    gr->t_wait = 0;
    if (g->DP == 1) return;
    double t0;
    if (!gr->host) {
        t0 = nt_now();
        nt_comm_reduce_scatter_f32(&g->dp_comm, ms->grads, gr->shard, ms->npadded);
        gr->t_wait = nt_now() - t0;
        return;
    }
    /* what the backward did not start, from the end (the order is free: the sums do not depend on it) */
    for (int b = gr->nbuckets - 1; b >= 0; b--)
        if (!gr->bucket[b].launched) launch(gr, b);
    char what[160];   /* named as the comm layer's reduce-scatter (what the watchdog and its tests look for) */
    snprintf(what, sizeof what, "reduce-scatter (sum, f32, %zu elements)", ms->npadded);
    t0 = nt_now();
    nt_async_wait(&gr->async, what);
    gr->t_wait = nt_now() - t0;
}
