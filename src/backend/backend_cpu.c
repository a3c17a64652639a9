/* backend_cpu.c — the CPU backend: fills nt_ops with the fp32 kernels of
 * kernels/cpu.  Activations, weights and master weights are all fp32, so
 * working parameters alias the master copy (params_are_master = 1).
 */
#include "backend/backend.h"
#include "util/check.h"
#include "kernels_cpu.h"

#include <string.h>
#include <time.h>

static void *cpu_alloc(size_t bytes, const char *what) { return nt_calloc(1, bytes ? bytes : 1, what); }
static void cpu_free(void *p) { free(p); }
static void cpu_zero(void *p, size_t bytes) { memset(p, 0, bytes); }
static void cpu_copy(void *d, const void *s, size_t bytes) { memmove(d, s, bytes); }
static void cpu_to_act(void *d, const float *h, size_t n) { memmove(d, h, n * sizeof(float)); }
static void cpu_from_act(float *h, const void *s, size_t n) { memmove(h, s, n * sizeof(float)); }
static void cpu_to_f32(float *d, const float *h, size_t n) { memmove(d, h, n * sizeof(float)); }
static void cpu_from_f32(float *h, const float *s, size_t n) { memmove(h, s, n * sizeof(float)); }
static void cpu_sync(void) {}
/* op timing: the host's monotonic clock (every CPU op has finished on return) */
static struct timespec time_t0;
static void cpu_time_start(void) { clock_gettime(CLOCK_MONOTONIC, &time_t0); }
static double cpu_time_stop(void)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - time_t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - time_t0.tv_nsec) * 1e-6;
}

static void b_matmul(void *C, const void *A, const void *B, int M, int N, int K,
                     int ta, int tb, float alpha, float beta)
{
    cpu_matmul(C, A, B, M, N, K, ta, tb, alpha, beta);
}
static void b_matmul_wgrad(float *C, const void *A, const void *B, int M, int N, int K,
                           int ta, int tb)
{
    cpu_matmul(C, A, B, M, N, K, ta, tb, 1.0f, 1.0f);
}
static void b_emb_fwd(void *out, const int32_t *tok, const void *table, int n, int lo, int rows, int C)
{
    cpu_embedding_fwd(out, tok, table, n, lo, rows, C);
}
static void b_emb_bwd(float *dt, const int32_t *tok, const void *dout, int n, int lo, int rows, int C)
{
    cpu_embedding_bwd(dt, tok, dout, n, lo, rows, C);
}
static void b_ln_fwd(void *out, float *mean, float *rstd, const void *in, const void *g,
                     const void *b, int n, int C, float eps)
{
    cpu_layernorm1p_fwd(out, mean, rstd, in, g, b, n, C, eps);
}
static void b_ln_bwd(void *din, float *dg, float *db, const void *dout, const void *in,
                     const float *mean, const float *rstd, const void *g, int n, int C)
{
    cpu_layernorm1p_bwd(din, dg, db, dout, in, mean, rstd, g, n, C);
}
static void b_rope_fwd(void *qkv, int B, int T, int G, int qpg, int hd, int rot, float base, int pos0,
                       const int32_t *pos)
{
    cpu_rope_fwd(qkv, B, T, G, qpg, hd, rot, base, pos0, pos);
}
static void b_rope_bwd(void *d, int B, int T, int G, int qpg, int hd, int rot, float base, int pos0,
                       const int32_t *pos)
{
    cpu_rope_bwd(d, B, T, G, qpg, hd, rot, base, pos0, pos);
}
static void b_attn_fwd(void *out, float *lse, const void *qkv, int B, int T, int G, int qpg, int hd,
                       const int32_t *pos)
{
    cpu_attention_fwd(out, lse, qkv, B, T, G, qpg, hd, pos);
}
static void b_attn_bwd(void *dqkv, const void *dout, const void *out, const float *lse,
                       const void *qkv, int B, int T, int G, int qpg, int hd, const int32_t *pos)
{
    cpu_attention_bwd(dqkv, dout, out, lse, qkv, B, T, G, qpg, hd, pos);
}
static void b_sq_fwd(void *out, const void *in, size_t n) { cpu_sqrelu_fwd(out, in, n); }
static void b_sq_bwd(void *din, const void *dout, const void *in, size_t n) { cpu_sqrelu_bwd(din, dout, in, n); }
static void b_add(void *y, const void *x, size_t n) { cpu_add(y, x, n); }
static void b_mask_cols(void *x, int n, int V, int c0, float value) { cpu_mask_cols(x, n, V, c0, value); }
static void b_ce_rowmax(float *rm, const void *logits, int n, int V) { cpu_ce_rowmax(rm, logits, n, V); }
static void b_ce_sumexp(float *se, float *tgt, const void *logits, const float *rm,
                        const int32_t *t, int lo, int n, int V)
{
    cpu_ce_sumexp(se, tgt, logits, rm, t, lo, n, V);
}
/* the two steps as they are: bitwise the same as calling them in turn */
static void b_ce_stats(float *rm, float *se, float *tgt, const void *logits, const int32_t *t, int lo, int n, int V)
{
    cpu_ce_rowmax(rm, logits, n, V);
    cpu_ce_sumexp(se, tgt, logits, rm, t, lo, n, V);
}
static void b_ce_bwd(void *dl, const void *logits, const float *rm, const float *se,
                     const int32_t *t, const float *dloss, int lo, int n, int V)
{
    cpu_ce_bwd(dl, logits, rm, se, t, dloss, lo, n, V);
}
static double b_sumsq_ranges(const float *x, const size_t *off, const size_t *len, int k)
{
    double ss = 0.0;
    for (int j = 0; j < k; j++)
        ss += cpu_sumsq(x + off[j], len[j]);
    return ss;
}
static void b_adamw(float *master, void *param, float *m, float *v, const float *g, size_t n,
                    float lr, float b1, float b2, float eps, float wd, float gs, int step)
{
    cpu_adamw(master, m, v, g, n, lr, b1, b2, eps, wd, gs, step);
    if (param != (void *)master) memcpy(param, master, n * sizeof(float));
}
static int32_t *b_tokens_upload(int32_t *dev, const int32_t *host, size_t n)
{
    memmove(dev, host, n * sizeof(int32_t));
    return dev;
}

static void b_kv_append(void *kc, void *vc, const void *qkv, const int32_t *slot, const int32_t *pos, int B, int T,
                        int G, int qpg, int hd, int Tmax)
{
    cpu_kv_append(kc, vc, qkv, slot, pos, B, T, G, qpg, hd, Tmax);
}
static void b_attn_decode(void *out, const void *qkv, const void *kc, const void *vc, const int32_t *slot,
                          const int32_t *len, int B, int G, int qpg, int hd, int Tmax)
{
    cpu_attention_decode(out, qkv, kc, vc, slot, len, B, G, qpg, hd, Tmax);
}

static const nt_ops cpu_ops = {
    .name = "cpu-fp32",
    .host_resident = 1,
    .act_bytes = sizeof(float),
    .params_are_master = 1,
    .alloc = cpu_alloc, .free = cpu_free, .zero = cpu_zero, .copy = cpu_copy,
    .to_act = cpu_to_act, .from_act = cpu_from_act, .to_f32 = cpu_to_f32,
    .from_f32 = cpu_from_f32, .sync = cpu_sync,
    .time_start = cpu_time_start, .time_stop = cpu_time_stop,
    .matmul = b_matmul, .matmul_wgrad = b_matmul_wgrad,
    .embedding_fwd = b_emb_fwd, .embedding_bwd = b_emb_bwd,
    .layernorm_fwd = b_ln_fwd, .layernorm_bwd = b_ln_bwd,
    .rope_fwd = b_rope_fwd, .rope_bwd = b_rope_bwd,
    .attention_fwd = b_attn_fwd, .attention_bwd = b_attn_bwd,
    .sqrelu_fwd = b_sq_fwd, .sqrelu_bwd = b_sq_bwd, .add = b_add, .mask_cols = b_mask_cols,
    .ce_rowmax = b_ce_rowmax, .ce_sumexp = b_ce_sumexp, .ce_stats = b_ce_stats, .ce_loss = cpu_ce_loss,
    .ce_bwd = b_ce_bwd,
    .scale_f32 = cpu_scale, .sumsq_ranges = b_sumsq_ranges, .adamw = b_adamw,
    .tokens_upload = b_tokens_upload,
    .kv_append = b_kv_append, .attention_decode = b_attn_decode,
};

const nt_ops *nt_backend_cpu(void) { return &cpu_ops; }
