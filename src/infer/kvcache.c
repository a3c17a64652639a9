/* kvcache.c — allocation of the generation KV cache (see kvcache.h). */
#include "infer/kvcache.h"
#include "util/check.h"

#include <string.h>

void nt_kvcache_create(nt_kvcache *kv, const nt_model *m, int slots, int Tmax)
{
    memset(kv, 0, sizeof *kv);
    kv->ops = m->ops;
    kv->layers = m->nlayers;
    kv->slots = slots;
    kv->Tmax = Tmax;
    kv->G = m->mc.groups_local;
    kv->hd = m->mc.head_dim;
    int L = kv->layers > 0 ? kv->layers : 1;
    kv->k = nt_calloc((size_t)L, sizeof *kv->k, "kv cache table");
    kv->v = nt_calloc((size_t)L, sizeof *kv->v, "kv cache table");
    size_t bytes = (size_t)slots * kv->G * (size_t)Tmax * kv->hd * m->ops->act_bytes;
    for (int l = 0; l < kv->layers; l++) {
        kv->k[l] = m->ops->alloc(bytes, "kv cache (keys)");
        kv->v[l] = m->ops->alloc(bytes, "kv cache (values)");
        m->ops->zero(kv->k[l], bytes);
        m->ops->zero(kv->v[l], bytes);
    }
}

void nt_kvcache_free(nt_kvcache *kv)
{
    for (int l = 0; l < kv->layers; l++) {
        kv->ops->free(kv->k[l]);
        kv->ops->free(kv->v[l]);
    }
    free(kv->k);
    free(kv->v);
    memset(kv, 0, sizeof *kv);
}

double nt_kvcache_bytes(const nt_kvcache *kv)
{
    return 2.0 * kv->layers * (double)kv->slots * kv->G * (double)kv->Tmax * kv->hd * (double)kv->ops->act_bytes;
}
