/* model_decode.c — generation forward of a model chunk over its KV cache
 * (see model_decode.h).  TP as the training forward without sequence
 * parallelism: all-reduce after the embedding and the two row-parallel
 * GEMMs. */
#include "model/model_decode.h"
#include "util/check.h"

#include <math.h>
#include <string.h>

#define AT(base, idx, width) ((void *)((char *)(base) + (size_t)(idx) * (size_t)(width) * eb))

void nt_decode_acts_create(nt_decode_acts *d, const nt_model *m, int rows, int out_rows)
{
    const nt_ops *o = m->ops;
    const nt_model_config *mc = &m->mc;
    size_t N = (size_t)rows, H = mc->hidden, eb = o->act_bytes;
    memset(d, 0, sizeof *d);
    d->cap = rows;
    d->x = o->alloc(N * H * eb, "decode residual");
    d->xmid = o->alloc(N * H * eb, "decode residual mid");
    d->ln = o->alloc(N * H * eb, "decode norm");
    d->tmp = o->alloc(N * H * eb, "decode scratch");
    d->qkv = o->alloc(N * mc->qkv_local * eb, "decode qkv");
    d->att = o->alloc(N * mc->attn_local * eb, "decode attention");
    d->up = o->alloc(N * mc->ffn_local * eb, "decode mlp");
    size_t Ns = N > (size_t)out_rows ? N : (size_t)out_rows;
    d->mean = o->alloc(Ns * sizeof(float), "decode mean");
    d->rstd = o->alloc(Ns * sizeof(float), "decode rstd");
    d->lse = o->alloc(N * mc->groups_local * mc->qpg * sizeof(float), "decode lse");
    d->tokens = o->alloc(N * sizeof(int32_t), "decode tokens");
    d->slot = o->alloc(N * sizeof(int32_t), "decode slots");
    d->pos = o->alloc(N * sizeof(int32_t), "decode positions");
    d->len = o->alloc(N * sizeof(int32_t), "decode lengths");
    if (m->has_head && mc->head == NT_HEAD_LM) {
        d->cap_out = out_rows;
        d->hx = o->alloc((size_t)out_rows * H * eb, "decode head rows");
        d->lnf = o->alloc((size_t)out_rows * H * eb, "decode final norm");
        d->logits = o->alloc((size_t)out_rows * mc->vocab_local * eb, "decode logits");
    }
}

void nt_decode_acts_free(nt_decode_acts *d, const nt_model *m)
{
    const nt_ops *o = m->ops;
    void *bufs[] = {d->x, d->xmid, d->ln, d->tmp, d->qkv, d->att, d->up, d->mean, d->rstd, d->lse,
                    d->tokens, d->slot, d->pos, d->len, d->hx, d->lnf, d->logits};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]) o->free(bufs[i]);
    memset(d, 0, sizeof *d);
}

static void tp_sum(const nt_model *m, void *buf, size_t n)
{
    if (m->tp_comm && m->tp_comm->size > 1)
        nt_comm_allreduce(m->tp_comm, buf, n, nt_dtype_of_act(m->ops->act_bytes), NT_SUM);
}

void nt_model_decode(nt_model *m, nt_kvcache *kv, nt_decode_acts *d, int B, int T, const int32_t *tokens,
                     const int *slot, const int *pos)
{
    const nt_ops *o = m->ops;
    const nt_model_config *mc = &m->mc;
    size_t eb = o->act_bytes;
    int N = B * T, H = mc->hidden, hd = mc->head_dim, G = mc->groups_local, qpg = mc->qpg;
    size_t NH = (size_t)N * H, W = (size_t)mc->qkv_local;
    NT_CHECK(N <= d->cap, "internal: decode of %d rows, buffers hold %d", N, d->cap);
    NT_CHECK(B <= kv->slots || kv->layers == 0, "internal: decode of %d sequences, cache has %d slots", B, kv->slots);
    int32_t *hs = nt_malloc(3 * (size_t)(B > 0 ? B : 1) * sizeof(int32_t), "decode indices");
    for (int b = 0; b < B; b++) {
        NT_CHECK(T == 1 || pos[b] == 0, "internal: a prefill must start at position 0");
        NT_CHECK(pos[b] + T <= kv->Tmax || kv->layers == 0, "internal: position %d beyond the cache (%d)", pos[b] + T,
                 kv->Tmax);
        hs[b] = slot[b];
        hs[B + b] = pos[b];
        hs[2 * B + b] = pos[b] + 1;
    }
    o->tokens_upload(d->slot, hs, (size_t)B);
    o->tokens_upload(d->pos, hs + B, (size_t)B);
    o->tokens_upload(d->len, hs + 2 * B, (size_t)B);
    free(hs);
    if (m->has_embedding) {
        o->tokens_upload(d->tokens, tokens, (size_t)N);
        o->embedding_fwd(d->x, d->tokens, m->emb, N, mc->vocab_lo, mc->vocab_local, H);
        tp_sum(m, d->x, NH);
    }
    for (int l = 0; l < m->nlayers; l++) {
        const nt_layer_view *P = &m->layer[l];
        o->layernorm_fwd(d->ln, d->mean, d->rstd, d->x, P->ln1_g, P->ln1_b, N, H, mc->norm_eps);
        o->matmul(d->qkv, d->ln, P->qkv, N, mc->qkv_local, H, 0, 1, 1.0f, 0.0f);
        if (T > 1) {
            o->rope_fwd(d->qkv, B, T, G, qpg, hd, mc->rot, mc->rope_base, 0, NULL);
            o->kv_append(kv->k[l], kv->v[l], d->qkv, d->slot, d->pos, B, T, G, qpg, hd, kv->Tmax);
            o->attention_fwd(d->att, d->lse, d->qkv, B, T, G, qpg, hd, NULL);
        } else {
            for (int b = 0; b < B; b++)
                o->rope_fwd(AT(d->qkv, b, W), 1, 1, G, qpg, hd, mc->rot, mc->rope_base, pos[b], NULL);
            o->kv_append(kv->k[l], kv->v[l], d->qkv, d->slot, d->pos, B, 1, G, qpg, hd, kv->Tmax);
            o->attention_decode(d->att, d->qkv, kv->k[l], kv->v[l], d->slot, d->len, B, G, qpg, hd, kv->Tmax);
        }
        o->matmul(d->tmp, d->att, P->out, N, H, mc->attn_local, 0, 1, 1.0f, 0.0f);
        tp_sum(m, d->tmp, NH);
        o->copy(d->xmid, d->tmp, NH * eb);
        o->add(d->xmid, d->x, NH);
        o->layernorm_fwd(d->ln, d->mean, d->rstd, d->xmid, P->ln2_g, P->ln2_b, N, H, mc->norm_eps);
        o->matmul(d->up, d->ln, P->up, N, mc->ffn_local, H, 0, 1, 1.0f, 0.0f);
        o->sqrelu_fwd(d->up, d->up, (size_t)N * mc->ffn_local);
        o->matmul(d->tmp, d->up, P->down, N, H, mc->ffn_local, 0, 1, 1.0f, 0.0f);
        tp_sum(m, d->tmp, NH);
        o->copy(d->x, d->tmp, NH * eb);
        o->add(d->x, d->xmid, NH);
    }
}

void nt_model_decode_logits(nt_model *m, nt_decode_acts *d, int n, const int *rows)
{
    const nt_ops *o = m->ops;
    const nt_model_config *mc = &m->mc;
    size_t eb = o->act_bytes;
    int H = mc->hidden;
    NT_CHECK(m->has_head && mc->head == NT_HEAD_LM, "internal: decode logits need the LM head's chunk");
    NT_CHECK(n <= d->cap_out, "internal: logits of %d rows, buffers hold %d", n, d->cap_out);
    for (int i = 0; i < n; i++) o->copy(AT(d->hx, i, H), AT(d->x, rows[i], H), (size_t)H * eb);
    o->layernorm_fwd(d->lnf, d->mean, d->rstd, d->hx, m->lnf_g, m->lnf_b, n, H, mc->norm_eps);
    o->matmul(d->logits, d->lnf, m->lm_head, n, mc->vocab_local, H, 0, 1, 1.0f, 0.0f);
    int first_pad = mc->vocab - mc->vocab_lo;
    if (first_pad < mc->vocab_local) o->mask_cols(d->logits, n, mc->vocab_local, first_pad, -INFINITY);
}
