/* attention.c — causal GQA self-attention on fused QKV (forward and backward),
 * softmax(q k^T / sqrt(hd) + causal mask) v, query head h = g*qpg + j reading
 * KV group g, as Hugging Face NemotronAttention (eager, fp32).
 *
 * Flash-style, blocked over queries: for each (batch, KV group) the group's K
 * and V are gathered into contiguous [T, hd] buffers; for each block of QB
 * query rows, the rows of all qpg query heads of the group are stacked
 * (row j*nb + r = head j, query t0 + r: they read the same keys, so GQA
 * turns qpg small GEMMs into one qpg times taller), the scores
 * S = Q_blk K[0:t1]^T (t1 = end of block, so only the diagonal block wastes
 * masked work) are one cblas_sgemm, the softmax runs row by row, and P V is
 * a second sgemm.  Only a qpg*QB x T block of scores ever exists.  The
 * forward saves lse = max + log(sum exp) per row;
 * the backward recomputes P = exp(S - lse) block by block and forms
 *   dP = dO V^T, dS = P (dP - D), D_t = dO_t . O_t,
 *   dQ = scale dS K, dK += scale dS^T Q, dV += P^T dO
 * with sgemm on the same stacked rows (dK/dV sum over the group's query
 * heads and the block's queries in one GEMM).  The (batch, group) pairs are
 * independent: they are split over the kernel thread pool (parallel.c),
 * each chunk with buffers of its own and single-threaded GEMMs, bitwise the
 * serial loop.
 *
 * Packed rows (pos != NULL): query t of row b sees keys [t - pos[b,t], t]
 * only (its own sample).  A block's scores then cover keys [lo, t1), lo the
 * block's earliest sample start, and the keys of a row's earlier samples
 * are masked like the future ones; with pos == NULL lo = 0 and every
 * operation is the unpacked one (bitwise). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_cpu.h"

#define QB 64 /* query rows per block */

static float *xmalloc(size_t nfloat)
{
    float *p = malloc((nfloat ? nfloat : 1) * sizeof(float));
    if (!p)
        abort();
    return p;
}

/* dst[t, :] = src[t*stride + :hd] for t < T */
static void gather(float *dst, const float *src, size_t stride, int T, int hd)
{
    for (int t = 0; t < T; t++)
        memcpy(dst + (size_t)t * hd, src + (size_t)t * stride, (size_t)hd * sizeof(float));
}

static void scatter(float *dst, size_t stride, const float *src, int T, int hd)
{
    for (int t = 0; t < T; t++)
        memcpy(dst + (size_t)t * stride, src + (size_t)t * hd, (size_t)hd * sizeof(float));
}

/* first key query t of row b may see */
static inline int key_start(const int32_t *pos, int b, int T, int t)
{
    return pos ? t - pos[(size_t)b * T + t] : 0;
}

/* earliest key start of the queries [t0, t1) of row b */
static int block_lo(const int32_t *pos, int b, int T, int t0, int t1)
{
    int lo = t0;
    for (int t = t0; t < t1; t++) {
        int s = key_start(pos, b, T, t);
        lo = s < lo ? s : lo;
    }
    return lo;
}

/* the arguments of one call, shared by the pool's chunks of (batch, group) pairs */
typedef struct attn_args {
    float *out, *lse, *dqkv;
    const float *qkv, *dout, *cout, *clse;
    int B, T, G, qpg, hd;
    const int32_t *pos;
} attn_args;

/* forward of the (batch, KV group) pairs [bg0, bg1) */
static void fwd_pairs(void *ctx, size_t bg0, size_t bg1)
{
    const attn_args *a = ctx;
    float *out = a->out, *lse = a->lse;
    const float *qkv = a->qkv;
    const int T = a->T, G = a->G, qpg = a->qpg, hd = a->hd;
    const int32_t *pos = a->pos;
    const size_t W = (size_t)G * (qpg + 2) * hd; /* qkv row width */
    const size_t Wo = (size_t)G * qpg * hd;      /* out row width */
    const int H = G * qpg;
    const float scale = (float)(1.0 / sqrt((double)hd));
    const int qb = T < QB ? T : QB;
    const size_t R = (size_t)qpg * qb;           /* stacked rows of a block */

    float *K = xmalloc((size_t)T * hd), *V = xmalloc((size_t)T * hd);
    float *Q = xmalloc(R * hd), *O = xmalloc(R * hd), *S = xmalloc(R * T);
    for (int bg = (int)bg0; bg < (int)bg1; bg++) {
        int b = bg / G, g = bg % G;
        const float *base = qkv + (size_t)b * T * W + (size_t)g * (qpg + 2) * hd;
        gather(K, base + (size_t)qpg * hd, W, T, hd);
        gather(V, base + (size_t)(qpg + 1) * hd, W, T, hd);
        for (int t0 = 0; t0 < T; t0 += qb) {
            int nb = T - t0 < qb ? T - t0 : qb, t1 = t0 + nb, rows = qpg * nb;
            int lo = block_lo(pos, b, T, t0, t1), w = t1 - lo;
            for (int j = 0; j < qpg; j++)
                gather(Q + (size_t)j * nb * hd, base + (size_t)t0 * W + (size_t)j * hd, W, nb, hd);
            /* S[rows, w] = scale * Q_blk K[lo:t1]^T */
            cpu_matmul(S, Q, K + (size_t)lo * hd, rows, w, hd, 0, 1, scale, 0.0f);
            for (int i = 0; i < rows; i++) {
                int j = i / nb, t = t0 + i % nb, c0 = key_start(pos, b, T, t) - lo, c1 = t - lo;
                float *s = S + (size_t)i * w;
                float mx = s[c0];
                for (int c = c0 + 1; c <= c1; c++)
                    mx = s[c] > mx ? s[c] : mx;
                cpu_exp_shift(s + c0, s + c0, c1 - c0 + 1, mx);
                double sum = 0.0;
                for (int c = c0; c <= c1; c++)
                    sum += s[c];
                float inv = (float)(1.0 / sum);
                for (int c = c0; c <= c1; c++)
                    s[c] *= inv;
                for (int c = 0; c < c0; c++)
                    s[c] = 0.0f;
                for (int c = c1 + 1; c < w; c++)
                    s[c] = 0.0f;
                lse[((size_t)b * H + (size_t)g * qpg + j) * T + t] = (float)((double)mx + log(sum));
            }
            /* O[rows, hd] = P[rows, w] V[lo:t1] */
            cpu_matmul(O, S, V + (size_t)lo * hd, rows, hd, w, 0, 0, 1.0f, 0.0f);
            for (int j = 0; j < qpg; j++)
                scatter(out + ((size_t)b * T + t0) * Wo + (size_t)(g * qpg + j) * hd, Wo, O + (size_t)j * nb * hd, nb, hd);
        }
    }
    free(K);
    free(V);
    free(Q);
    free(O);
    free(S);
}

/* the (batch, group) pairs are independent: split over the kernel pool when
 * its chunks' GEMMs run single-threaded (cpu_gemm_pool); the same bits as
 * the serial loop */
static void over_pairs(cpu_par_fn fn, attn_args *a)
{
    size_t n = (size_t)a->B * a->G;
    if (cpu_gemm_pool())
        cpu_parallel_for(n, 1, fn, a);
    else
        fn(a, 0, n);
}

void cpu_attention_fwd(float *out, float *lse, const float *qkv, int B, int T,
                       int G, int qpg, int hd, const int32_t *pos)
{
    if (B <= 0 || T <= 0 || G <= 0 || qpg <= 0 || hd <= 0)
        return;
    attn_args a = {.out = out, .lse = lse, .qkv = qkv, .B = B, .T = T, .G = G, .qpg = qpg, .hd = hd, .pos = pos};
    over_pairs(fwd_pairs, &a);
}

/* backward of the (batch, KV group) pairs [bg0, bg1) */
static void bwd_pairs(void *ctx, size_t bg0, size_t bg1)
{
    const attn_args *a = ctx;
    float *dqkv = a->dqkv;
    const float *dout = a->dout, *out = a->cout, *lse = a->clse, *qkv = a->qkv;
    const int T = a->T, G = a->G, qpg = a->qpg, hd = a->hd;
    const int32_t *pos = a->pos;
    const size_t W = (size_t)G * (qpg + 2) * hd;
    const size_t Wo = (size_t)G * qpg * hd;
    const int H = G * qpg;
    const float scale = (float)(1.0 / sqrt((double)hd));
    const int qb = T < QB ? T : QB;
    const size_t Th = (size_t)T * hd, R = (size_t)qpg * qb;

    float *buf = xmalloc(4 * Th + 3 * R * hd + 2 * R * (size_t)T + R);
    float *K = buf, *V = K + Th, *dK = V + Th, *dV = dK + Th;
    float *Q = dV + Th, *dO = Q + R * hd, *dQ = dO + R * hd;
    float *P = dQ + R * hd, *dS = P + R * (size_t)T, *D = dS + R * (size_t)T;
    for (int bg = (int)bg0; bg < (int)bg1; bg++) {
        int b = bg / G, g = bg % G;
        size_t goff = (size_t)g * (qpg + 2) * hd;
        const float *base = qkv + (size_t)b * T * W + goff;
        float *dbase = dqkv + (size_t)b * T * W + goff;
        gather(K, base + (size_t)qpg * hd, W, T, hd);
        gather(V, base + (size_t)(qpg + 1) * hd, W, T, hd);
        memset(dK, 0, Th * sizeof(float));
        memset(dV, 0, Th * sizeof(float));
        for (int t0 = 0; t0 < T; t0 += qb) {
            int nb = T - t0 < qb ? T - t0 : qb, t1 = t0 + nb, rows = qpg * nb;
            int lo = block_lo(pos, b, T, t0, t1), w = t1 - lo;
            for (int j = 0; j < qpg; j++) {
                size_t h = (size_t)g * qpg + j;
                gather(Q + (size_t)j * nb * hd, base + (size_t)t0 * W + (size_t)j * hd, W, nb, hd);
                gather(dO + (size_t)j * nb * hd, dout + ((size_t)b * T + t0) * Wo + h * hd, Wo, nb, hd);
                const float *ob = out + ((size_t)b * T + t0) * Wo + h * hd;
                for (int r = 0; r < nb; r++) {
                    const float *o = ob + (size_t)r * Wo, *d = dO + ((size_t)j * nb + r) * hd;
                    double acc = 0.0;
                    for (int e = 0; e < hd; e++)
                        acc += (double)o[e] * d[e];
                    D[j * nb + r] = (float)acc;
                }
            }
            const float *Kl = K + (size_t)lo * hd, *Vl = V + (size_t)lo * hd;
            cpu_matmul(P, Q, Kl, rows, w, hd, 0, 1, scale, 0.0f);   /* S */
            cpu_matmul(dS, dO, Vl, rows, w, hd, 0, 1, 1.0f, 0.0f);  /* dP */
            for (int i = 0; i < rows; i++) {
                int j = i / nb, t = t0 + i % nb, c0 = key_start(pos, b, T, t) - lo, c1 = t - lo;
                float *p = P + (size_t)i * w, *ds = dS + (size_t)i * w;
                float l = lse[((size_t)b * H + (size_t)g * qpg + j) * T + t], Dt = D[i];
                cpu_exp_shift(p + c0, p + c0, c1 - c0 + 1, l);
                for (int c = c0; c <= c1; c++)
                    ds[c] = p[c] * (ds[c] - Dt);
                for (int c = 0; c < c0; c++) {
                    p[c] = 0.0f;
                    ds[c] = 0.0f;
                }
                for (int c = c1 + 1; c < w; c++) {
                    p[c] = 0.0f;
                    ds[c] = 0.0f;
                }
            }
            /* dV[lo:t1] += P^T dO_blk ; dK[lo:t1] += scale dS^T Q_blk (over the stacked heads) */
            cpu_matmul(dV + (size_t)lo * hd, P, dO, w, hd, rows, 1, 0, 1.0f, 1.0f);
            cpu_matmul(dK + (size_t)lo * hd, dS, Q, w, hd, rows, 1, 0, scale, 1.0f);
            /* dQ_blk = scale dS K[lo:t1] */
            cpu_matmul(dQ, dS, Kl, rows, hd, w, 0, 0, scale, 0.0f);
            for (int j = 0; j < qpg; j++)
                scatter(dbase + (size_t)t0 * W + (size_t)j * hd, W, dQ + (size_t)j * nb * hd, nb, hd);
        }
        scatter(dbase + (size_t)qpg * hd, W, dK, T, hd);
        scatter(dbase + (size_t)(qpg + 1) * hd, W, dV, T, hd);
    }
    free(buf);
}

void cpu_attention_bwd(float *dqkv, const float *dout, const float *out,
                       const float *lse, const float *qkv, int B, int T, int G,
                       int qpg, int hd, const int32_t *pos)
{
    if (B <= 0 || T <= 0 || G <= 0 || qpg <= 0 || hd <= 0)
        return;
    attn_args a = {.dqkv = dqkv, .dout = dout, .cout = out, .clse = lse, .qkv = qkv, .B = B, .T = T, .G = G,
                   .qpg = qpg, .hd = hd, .pos = pos};
    over_pairs(bwd_pairs, &a);
}
