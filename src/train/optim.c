/* optim.c — ZeRO-1 AdamW over a model set and the clipping coefficient
 * (see optim.h). */
#include "train/optim.h"
#include "util/check.h"
#include "util/sys.h"
#include "util/signals.h"

#include <stdio.h>


void nt_optimizer_init(nt_optimizer *opt, nt_modelset *ms)
{
    const nt_ops *o = ms->ops;
    NT_CHECK(ms->trainable, "internal: an optimizer needs a trainable model set");
    opt->ms = ms;
    opt->step = 0;
    opt->adam_m = o->alloc(ms->shard_n * sizeof(float), "Adam first moment (shard)");
    opt->adam_v = o->alloc(ms->shard_n * sizeof(float), "Adam second moment (shard)");
    /* one DP rank: the shard is the whole gradient buffer (no copy) */
    opt->grad_shard = ms->grid.DP == 1 ? ms->grads : o->alloc(ms->shard_n * sizeof(float), "gradient shard");
    o->zero(opt->adam_m, ms->shard_n * sizeof(float));
    o->zero(opt->adam_v, ms->shard_n * sizeof(float));
    nt_grad_reduce_init(&opt->gr, ms, opt->grad_shard);
}

void nt_optimizer_free(nt_optimizer *opt)
{
    const nt_ops *o = opt->ms->ops;
    nt_grad_reduce_free(&opt->gr);
    o->free(opt->adam_m);
    o->free(opt->adam_v);
    if (opt->grad_shard != opt->ms->grads) o->free(opt->grad_shard);
    opt->adam_m = opt->adam_v = opt->grad_shard = NULL;
}

void nt_optimizer_begin_pass(nt_optimizer *opt, int nan_fault) { nt_grad_reduce_begin(&opt->gr, nan_fault); }

void nt_optimizer_reduce_grads(nt_optimizer *opt) { nt_grad_reduce_finish(&opt->gr); }

/* the shard's part of every tensor this rank counts, in tensor order, as ranges of grad_shard */
double nt_optimizer_shard_sumsq(const nt_optimizer *opt)
{
    const nt_modelset *ms = opt->ms;
    int cap = 0, k = 0;
    for (int c = 0; c < ms->v; c++)
        cap += ms->chunk[c].ntensors;
    size_t *off = nt_malloc(2 * (size_t)(cap ? cap : 1) * sizeof(size_t), "gradient-norm ranges"), *len = off + cap;
    size_t lo = ms->shard_lo, hi = ms->shard_lo + ms->shard_n, base = 0;
    for (int c = 0; c < ms->v; c++) {
        const nt_model *m = &ms->chunk[c];
        for (int i = 0; i < m->ntensors; i++) {
            const nt_tensor_info *t = &m->tensors[i];
            size_t a = base + t->offset, b = a + t->numel;
            if (b <= lo || a >= hi) continue;
            if (t->split == NT_SPLIT_NONE && ms->grid.tp != 0) continue;
            size_t x = a > lo ? a : lo, y = b < hi ? b : hi;
            off[k] = x - lo;
            len[k++] = y - x;
        }
        base += m->nparams;
    }
    double ss = ms->ops->sumsq_ranges(opt->grad_shard, off, len, k);
    free(off);
    return ss;
}

/* AdamW on shard elements [lo + x0, lo + x1) (flat indices), tensor by tensor */
static void adamw_range(nt_optimizer *opt, size_t x0, size_t x1, double lr, double scale)
{
    nt_modelset *ms = opt->ms;
    const nt_config *cfg = &ms->cfg;
    const nt_ops *o = ms->ops;
    size_t lo = ms->shard_lo, from = lo + x0, to = lo + x1, base = 0, eb = o->act_bytes;
    for (int c = 0; c < ms->v; c++) {
        nt_model *m = &ms->chunk[c];
        for (int i = 0; i < m->ntensors; i++) {
            const nt_tensor_info *t = &m->tensors[i];
            size_t a = base + t->offset, b = a + t->numel;
            if (b <= from || a >= to) continue;
            size_t x = a > from ? a : from, y = b < to ? b : to;
            float wd = t->decay ? (float)cfg->weight_decay : 0.0f;
            o->adamw(ms->master + x, (char *)ms->params + x * eb, opt->adam_m + (x - lo), opt->adam_v + (x - lo),
                     opt->grad_shard + (x - lo), y - x, (float)lr, (float)cfg->beta1, (float)cfg->beta2,
                     (float)cfg->eps, wd, (float)scale, (int)opt->step);
        }
        base += m->nparams;
    }
}

void nt_optimizer_apply(nt_optimizer *opt, double lr, double scale, double *t_opt, double *t_coll)
{
    nt_modelset *ms = opt->ms;
    const nt_ops *o = ms->ops;
    nt_grid *g = &ms->grid;
    size_t sn = ms->shard_n;
    double t0 = nt_now();
    opt->step++;
    opt->t_gather = 0;
    if (opt->gr.overlap) {
        /* slice by slice of the shard: AdamW, then that slice's all-gather on every rank
         * (host memory, params == master) while the next slice is stepped */
        size_t k = opt->gr.bucket_elems < sn ? opt->gr.bucket_elems : sn;
        int nslices = 0;
        for (size_t x0 = 0; x0 < sn; x0 += k, nslices++) {
            size_t x1 = sn - x0 < k ? sn : x0 + k;
            adamw_range(opt, x0, x1, lr, scale);
            nt_async_allgather_slice(&opt->gr.async, ms->master, x0, x1 - x0, sn, nslices % (opt->gr.async.tag_ub + 1));
            nt_async_test(&opt->gr.async);
        }
        *t_opt = nt_now() - t0;
        char what[160];
        snprintf(what, sizeof what, "all-gather (f32, %zu elements per rank)", sn);   /* as the comm layer's */
        t0 = nt_now();
        nt_async_wait(&opt->gr.async, what);
        opt->t_gather = nt_now() - t0;
        *t_coll += opt->t_gather;
        return;
    }
    adamw_range(opt, 0, sn, lr, scale);
    o->sync();
    *t_opt = nt_now() - t0;
    t0 = nt_now();
    if (g->DP > 1) nt_comm_allgather_f32(&g->dp_comm, ms->master + ms->shard_lo, ms->master, ms->shard_n);
    /* separate working weights (bf16): AdamW rounded only this shard's */
    if (g->DP > 1 && !o->params_are_master)
        nt_comm_allgather(&g->dp_comm, (char *)ms->params + ms->shard_lo * o->act_bytes, ms->params, ms->shard_n,
                          nt_dtype_of_act(o->act_bytes));
    opt->t_gather = nt_now() - t0;
    *t_coll += opt->t_gather;
}

double nt_optim_clip_coef(double norm, double clip)
{
    if (clip <= 0.0) return 1.0;
    double c = clip / (norm + 1e-6);
    return c < 1.0 ? c : 1.0;
}
