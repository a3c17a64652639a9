/* kvcache.h — the key/value cache of generation: per local layer of a
 * model chunk and per TP shard (the KV groups this rank owns), K and V
 * each [slots, G_local, Tmax, head_dim] in the backend's activation dtype
 * (fp32 on the CPU, bf16 on CUDA).  A slot holds one sequence; a sequence
 * that finishes frees its slot for the next prompt (DESIGN.md
 * "Generation, scoring and synthetic data"). */
#ifndef NTRON_KVCACHE_H
#define NTRON_KVCACHE_H

#include "model/model.h"

typedef struct nt_kvcache {
    const nt_ops *ops;
    int layers, slots, Tmax, G, hd;
    void **k, **v;          /* [layers] device buffers */
} nt_kvcache;

void nt_kvcache_create(nt_kvcache *kv, const nt_model *m, int slots, int Tmax);
void nt_kvcache_free(nt_kvcache *kv);
/* bytes this rank holds for the cache */
double nt_kvcache_bytes(const nt_kvcache *kv);

#endif
