/* profile.c — the per-op profile (profile.h): a copy of a backend's ops
 * table whose members call the backend's own through and, while the
 * profile is on, time each call with the backend's time_start/time_stop
 * (which wait for the op) into one row per op.  Off, a member costs one
 * branch.  One base table per process (the trainer's backend). */
#include "backend/profile.h"
#include "util/check.h"

#include <stdlib.h>
#include <string.h>

enum {
    OP_MATMUL, OP_MATMUL_WGRAD, OP_ATTN_FWD, OP_ATTN_BWD, OP_ATTN_DECODE,
    OP_EMB_FWD, OP_EMB_BWD, OP_LN_FWD, OP_LN_BWD, OP_ROPE_FWD, OP_ROPE_BWD, OP_SQ_FWD, OP_SQ_BWD,
    OP_ADD, OP_MASK_COLS, OP_CE_ROWMAX, OP_CE_SUMEXP, OP_CE_STATS, OP_CE_LOSS, OP_CE_BWD, OP_SCALE, OP_SUMSQ,
    OP_ADAMW, OP_KV_APPEND, OP_ZERO, OP_COPY,
    OP_TO_ACT, OP_FROM_ACT, OP_TO_F32, OP_FROM_F32, OP_TOKENS_UPLOAD, OP_N
};

static nt_prof_row rows[OP_N] = {
    [OP_MATMUL] = {"matmul", NT_PROF_GEMM, 0, 0},
    [OP_MATMUL_WGRAD] = {"matmul_wgrad", NT_PROF_GEMM, 0, 0},
    [OP_ATTN_FWD] = {"attention_fwd", NT_PROF_ATTENTION, 0, 0},
    [OP_ATTN_BWD] = {"attention_bwd", NT_PROF_ATTENTION, 0, 0},
    [OP_ATTN_DECODE] = {"attention_decode", NT_PROF_ATTENTION, 0, 0},
    [OP_EMB_FWD] = {"embedding_fwd", NT_PROF_OTHER, 0, 0},
    [OP_EMB_BWD] = {"embedding_bwd", NT_PROF_OTHER, 0, 0},
    [OP_LN_FWD] = {"layernorm_fwd", NT_PROF_OTHER, 0, 0},
    [OP_LN_BWD] = {"layernorm_bwd", NT_PROF_OTHER, 0, 0},
    [OP_ROPE_FWD] = {"rope_fwd", NT_PROF_OTHER, 0, 0},
    [OP_ROPE_BWD] = {"rope_bwd", NT_PROF_OTHER, 0, 0},
    [OP_SQ_FWD] = {"sqrelu_fwd", NT_PROF_OTHER, 0, 0},
    [OP_SQ_BWD] = {"sqrelu_bwd", NT_PROF_OTHER, 0, 0},
    [OP_ADD] = {"add", NT_PROF_OTHER, 0, 0},
    [OP_MASK_COLS] = {"mask_cols", NT_PROF_OTHER, 0, 0},
    [OP_CE_ROWMAX] = {"ce_rowmax", NT_PROF_OTHER, 0, 0},
    [OP_CE_SUMEXP] = {"ce_sumexp", NT_PROF_OTHER, 0, 0},
    [OP_CE_STATS] = {"ce_stats", NT_PROF_OTHER, 0, 0},
    [OP_CE_LOSS] = {"ce_loss", NT_PROF_OTHER, 0, 0},
    [OP_CE_BWD] = {"ce_bwd", NT_PROF_OTHER, 0, 0},
    [OP_SCALE] = {"scale_f32", NT_PROF_OTHER, 0, 0},
    [OP_SUMSQ] = {"sumsq_ranges", NT_PROF_OTHER, 0, 0},
    [OP_ADAMW] = {"adamw", NT_PROF_OTHER, 0, 0},
    [OP_KV_APPEND] = {"kv_append", NT_PROF_OTHER, 0, 0},
    [OP_ZERO] = {"zero", NT_PROF_OTHER, 0, 0},
    [OP_COPY] = {"copy", NT_PROF_OTHER, 0, 0},
    [OP_TO_ACT] = {"to_act", NT_PROF_HOST, 0, 0},
    [OP_FROM_ACT] = {"from_act", NT_PROF_HOST, 0, 0},
    [OP_TO_F32] = {"to_f32", NT_PROF_HOST, 0, 0},
    [OP_FROM_F32] = {"from_f32", NT_PROF_HOST, 0, 0},
    [OP_TOKENS_UPLOAD] = {"tokens_upload", NT_PROF_HOST, 0, 0},
};

static const nt_ops *base;
static nt_ops wrapped;
static int on;

#define TIMED(op, call)                                                                                      \
    do {                                                                                                     \
        if (!on) {                                                                                           \
            call;                                                                                            \
            break;                                                                                           \
        }                                                                                                    \
        base->time_start();                                                                                  \
        call;                                                                                                \
        rows[op].ms += base->time_stop();                                                                    \
        rows[op].calls++;                                                                                    \
    } while (0)

static void p_zero(void *p, size_t bytes) { TIMED(OP_ZERO, base->zero(p, bytes)); }
static void p_copy(void *d, const void *s, size_t bytes) { TIMED(OP_COPY, base->copy(d, s, bytes)); }
static void p_to_act(void *d, const float *h, size_t n) { TIMED(OP_TO_ACT, base->to_act(d, h, n)); }
static void p_from_act(float *h, const void *s, size_t n) { TIMED(OP_FROM_ACT, base->from_act(h, s, n)); }
static void p_to_f32(float *d, const float *h, size_t n) { TIMED(OP_TO_F32, base->to_f32(d, h, n)); }
static void p_from_f32(float *h, const float *s, size_t n) { TIMED(OP_FROM_F32, base->from_f32(h, s, n)); }
static void p_matmul(void *C, const void *A, const void *B, int M, int N, int K, int ta, int tb, float alpha,
                     float beta)
{
    TIMED(OP_MATMUL, base->matmul(C, A, B, M, N, K, ta, tb, alpha, beta));
}
static void p_matmul_wgrad(float *C, const void *A, const void *B, int M, int N, int K, int ta, int tb)
{
    TIMED(OP_MATMUL_WGRAD, base->matmul_wgrad(C, A, B, M, N, K, ta, tb));
}
static void p_emb_fwd(void *out, const int32_t *tok, const void *table, int n, int lo, int rows_, int C)
{
    TIMED(OP_EMB_FWD, base->embedding_fwd(out, tok, table, n, lo, rows_, C));
}
static void p_emb_bwd(float *dt, const int32_t *tok, const void *dout, int n, int lo, int rows_, int C)
{
    TIMED(OP_EMB_BWD, base->embedding_bwd(dt, tok, dout, n, lo, rows_, C));
}
static void p_ln_fwd(void *out, float *mean, float *rstd, const void *in, const void *g, const void *b, int n, int C,
                     float eps)
{
    TIMED(OP_LN_FWD, base->layernorm_fwd(out, mean, rstd, in, g, b, n, C, eps));
}
static void p_ln_bwd(void *din, float *dg, float *db, const void *dout, const void *in, const float *mean,
                     const float *rstd, const void *g, int n, int C)
{
    TIMED(OP_LN_BWD, base->layernorm_bwd(din, dg, db, dout, in, mean, rstd, g, n, C));
}
static void p_rope_fwd(void *qkv, int B, int T, int G, int qpg, int hd, int rot, float rbase, int pos0,
                       const int32_t *pos)
{
    TIMED(OP_ROPE_FWD, base->rope_fwd(qkv, B, T, G, qpg, hd, rot, rbase, pos0, pos));
}
static void p_rope_bwd(void *d, int B, int T, int G, int qpg, int hd, int rot, float rbase, int pos0,
                       const int32_t *pos)
{
    TIMED(OP_ROPE_BWD, base->rope_bwd(d, B, T, G, qpg, hd, rot, rbase, pos0, pos));
}
static void p_attn_fwd(void *out, float *lse, const void *qkv, int B, int T, int G, int qpg, int hd,
                       const int32_t *pos)
{
    TIMED(OP_ATTN_FWD, base->attention_fwd(out, lse, qkv, B, T, G, qpg, hd, pos));
}
static void p_attn_bwd(void *dqkv, const void *dout, const void *out, const float *lse, const void *qkv, int B, int T,
                       int G, int qpg, int hd, const int32_t *pos)
{
    TIMED(OP_ATTN_BWD, base->attention_bwd(dqkv, dout, out, lse, qkv, B, T, G, qpg, hd, pos));
}
static void p_sq_fwd(void *out, const void *in, size_t n) { TIMED(OP_SQ_FWD, base->sqrelu_fwd(out, in, n)); }
static void p_sq_bwd(void *din, const void *dout, const void *in, size_t n)
{
    TIMED(OP_SQ_BWD, base->sqrelu_bwd(din, dout, in, n));
}
static void p_add(void *y, const void *x, size_t n) { TIMED(OP_ADD, base->add(y, x, n)); }
static void p_mask_cols(void *x, int n, int V, int c0, float v) { TIMED(OP_MASK_COLS, base->mask_cols(x, n, V, c0, v)); }
static void p_ce_rowmax(float *rm, const void *logits, int n, int V) { TIMED(OP_CE_ROWMAX, base->ce_rowmax(rm, logits, n, V)); }
static void p_ce_sumexp(float *se, float *tgt, const void *logits, const float *rm, const int32_t *t, int lo, int n,
                        int V)
{
    TIMED(OP_CE_SUMEXP, base->ce_sumexp(se, tgt, logits, rm, t, lo, n, V));
}
static void p_ce_stats(float *rm, float *se, float *tgt, const void *logits, const int32_t *t, int lo, int n,
                       int V)
{
    TIMED(OP_CE_STATS, base->ce_stats(rm, se, tgt, logits, t, lo, n, V));
}
static void p_ce_loss(float *loss, const float *rm, const float *se, const float *tgt, int n)
{
    TIMED(OP_CE_LOSS, base->ce_loss(loss, rm, se, tgt, n));
}
static void p_ce_bwd(void *dl, const void *logits, const float *rm, const float *se, const int32_t *t,
                     const float *dloss, int lo, int n, int V)
{
    TIMED(OP_CE_BWD, base->ce_bwd(dl, logits, rm, se, t, dloss, lo, n, V));
}
static void p_scale(float *x, float s, size_t n) { TIMED(OP_SCALE, base->scale_f32(x, s, n)); }
static double p_sumsq(const float *x, const size_t *off, const size_t *len, int k)
{
    double r = 0;
    TIMED(OP_SUMSQ, r = base->sumsq_ranges(x, off, len, k));
    return r;
}
static void p_adamw(float *master, void *param, float *m, float *v, const float *g, size_t n, float lr, float b1,
                    float b2, float eps, float wd, float gs, int step)
{
    TIMED(OP_ADAMW, base->adamw(master, param, m, v, g, n, lr, b1, b2, eps, wd, gs, step));
}
static int32_t *p_tokens_upload(int32_t *dev, const int32_t *host, size_t n)
{
    int32_t *r = NULL;
    TIMED(OP_TOKENS_UPLOAD, r = base->tokens_upload(dev, host, n));
    return r;
}
static void p_kv_append(void *kc, void *vc, const void *qkv, const int32_t *slot, const int32_t *pos, int B, int T,
                        int G, int qpg, int hd, int Tmax)
{
    TIMED(OP_KV_APPEND, base->kv_append(kc, vc, qkv, slot, pos, B, T, G, qpg, hd, Tmax));
}
static void p_attn_decode(void *out, const void *qkv, const void *kc, const void *vc, const int32_t *slot,
                          const int32_t *len, int B, int G, int qpg, int hd, int Tmax)
{
    TIMED(OP_ATTN_DECODE, base->attention_decode(out, qkv, kc, vc, slot, len, B, G, qpg, hd, Tmax));
}

const nt_ops *nt_profile_ops(const nt_ops *ops)
{
    if (base == ops) return &wrapped;
    NT_CHECK(!base, "internal: the profile wraps backend %s already, asked for %s", base ? base->name : "",
             ops->name);
    NT_CHECK(ops->time_start && ops->time_stop, "internal: backend %s has no op timer", ops->name);
    base = ops;
    wrapped = *ops; /* name, dtype, flags, alloc/free/sync/mem_stats/timer pass through */
    wrapped.zero = p_zero;
    wrapped.copy = p_copy;
    wrapped.to_act = p_to_act;
    wrapped.from_act = p_from_act;
    wrapped.to_f32 = p_to_f32;
    wrapped.from_f32 = p_from_f32;
    wrapped.matmul = p_matmul;
    wrapped.matmul_wgrad = p_matmul_wgrad;
    wrapped.embedding_fwd = p_emb_fwd;
    wrapped.embedding_bwd = p_emb_bwd;
    wrapped.layernorm_fwd = p_ln_fwd;
    wrapped.layernorm_bwd = p_ln_bwd;
    wrapped.rope_fwd = p_rope_fwd;
    wrapped.rope_bwd = p_rope_bwd;
    wrapped.attention_fwd = p_attn_fwd;
    wrapped.attention_bwd = p_attn_bwd;
    wrapped.sqrelu_fwd = p_sq_fwd;
    wrapped.sqrelu_bwd = p_sq_bwd;
    wrapped.add = p_add;
    wrapped.mask_cols = p_mask_cols;
    wrapped.ce_rowmax = p_ce_rowmax;
    wrapped.ce_sumexp = p_ce_sumexp;
    wrapped.ce_stats = p_ce_stats;
    wrapped.ce_loss = p_ce_loss;
    wrapped.ce_bwd = p_ce_bwd;
    wrapped.scale_f32 = p_scale;
    wrapped.sumsq_ranges = p_sumsq;
    wrapped.adamw = p_adamw;
    wrapped.tokens_upload = p_tokens_upload;
    wrapped.kv_append = p_kv_append;
    wrapped.attention_decode = p_attn_decode;
    return &wrapped;
}

void nt_profile(int on_)
{
    if (on_ && !on)
        for (int i = 0; i < OP_N; i++) rows[i].calls = 0, rows[i].ms = 0;
    on = on_;
}

static int by_ms(const void *a, const void *b)
{
    const nt_prof_row *x = a, *y = b;
    return x->ms < y->ms ? 1 : x->ms > y->ms ? -1 : strcmp(x->op, y->op);
}

int nt_profile_rows(nt_prof_row *out, int max, double cls[NT_PROF_NCLASS])
{
    nt_prof_row all[OP_N];
    int n = 0;
    if (cls)
        for (int c = 0; c < NT_PROF_NCLASS; c++) cls[c] = 0;
    for (int i = 0; i < OP_N; i++) {
        if (!rows[i].calls) continue;
        all[n++] = rows[i];
        if (cls) cls[rows[i].cls] += rows[i].ms;
    }
    qsort(all, (size_t)n, sizeof all[0], by_ms);
    if (n > max) n = max;
    memcpy(out, all, (size_t)n * sizeof all[0]);
    return n;
}

const char *nt_profile_class_name(int cls)
{
    static const char *names[NT_PROF_NCLASS] = {"GEMM", "attention", "other", "host copy"};
    return cls >= 0 && cls < NT_PROF_NCLASS ? names[cls] : "?";
}
