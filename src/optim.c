/* optim.c — AdamW (decoupled weight decay; no decay on norm weights and
 * biases) and gradient-norm clipping over the flat buffers. */
#include "optim.h"

#include <math.h>

void nt_optim_create(nt_optim *o, const nt_model *m)
{
    const nt_ops *ops = m->ops;
    o->m = ops->alloc(m->nparams * sizeof(float), "Adam first moment");
    o->v = ops->alloc(m->nparams * sizeof(float), "Adam second moment");
    ops->zero(o->m, m->nparams * sizeof(float));
    ops->zero(o->v, m->nparams * sizeof(float));
    o->step = 0;
}

void nt_optim_destroy(nt_optim *o, const nt_model *m)
{
    m->ops->free(o->m);
    m->ops->free(o->v);
    o->m = o->v = NULL;
}

double nt_optim_grad_norm(const nt_model *m, const nt_comm *norm_comm)
{
    double ss = 0.0;
    int tp_rank = m->tp_comm ? m->tp_comm->rank : 0;
    for (int i = 0; i < m->ntensors; i++) {
        const nt_tensor_info *t = &m->tensors[i];
        if (t->split == NT_SPLIT_NONE && tp_rank != 0 && m->mc.tp > 1) continue;
        ss += m->ops->sumsq_f32(m->grads + t->offset, t->numel);
    }
    if (norm_comm) nt_comm_allreduce_f64(norm_comm, &ss, 1, NT_SUM);
    return sqrt(ss);
}

double nt_optim_clip_coef(double norm, double clip)
{
    if (clip <= 0.0) return 1.0;
    double c = clip / (norm + 1e-6);
    return c < 1.0 ? c : 1.0;
}

void nt_optim_step(nt_optim *o, nt_model *m, const nt_config *cfg, double lr, double grad_scale)
{
    o->step++;
    size_t eb = m->ops->act_bytes;
    for (int i = 0; i < m->ntensors; i++) {
        const nt_tensor_info *t = &m->tensors[i];
        float wd = t->decay ? (float)cfg->weight_decay : 0.0f;
        m->ops->adamw(m->master + t->offset, (char *)m->params + t->offset * eb,
                      o->m + t->offset, o->v + t->offset, m->grads + t->offset, t->numel,
                      (float)lr, (float)cfg->beta1, (float)cfg->beta2, (float)cfg->eps, wd,
                      (float)grad_scale, (int)o->step);
    }
}
