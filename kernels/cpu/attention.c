/* attention.c — causal GQA self-attention on fused QKV (forward and backward),
 * softmax(q k^T / sqrt(hd) + causal mask) v, query head h = g*qpg + j reading
 * KV group g, as Hugging Face NemotronAttention (eager, fp32).
 *
 * Flash-style, blocked over queries: for each (batch, KV group) the group's K
 * and V are gathered into contiguous [T, hd] buffers; for each query head and
 * block of QB query rows, the scores S = Q_blk K[0:t1]^T (t1 = end of block,
 * so only the diagonal block wastes masked work) are one cblas_sgemm, the
 * softmax runs row by row, and P V is a second sgemm.  Only a QB x T block of
 * scores ever exists.  The forward saves lse = max + log(sum exp) per row;
 * the backward recomputes P = exp(S - lse) block by block and forms
 *   dP = dO V^T, dS = P (dP - D), D_t = dO_t . O_t,
 *   dQ = scale dS K, dK += scale dS^T Q, dV += P^T dO
 * with sgemm, accumulating dK/dV over the group's query heads; the
 * (batch, group) pairs run in order, their buffers allocated once per call.
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

void cpu_attention_fwd(float *out, float *lse, const float *qkv, int B, int T,
                       int G, int qpg, int hd, const int32_t *pos)
{
    if (B <= 0 || T <= 0 || G <= 0 || qpg <= 0 || hd <= 0)
        return;
    const size_t W = (size_t)G * (qpg + 2) * hd; /* qkv row width */
    const size_t Wo = (size_t)G * qpg * hd;      /* out row width */
    const int H = G * qpg;
    const float scale = (float)(1.0 / sqrt((double)hd));
    const int qb = T < QB ? T : QB;

    {
        float *K = xmalloc((size_t)T * hd), *V = xmalloc((size_t)T * hd);
        float *Q = xmalloc((size_t)T * hd), *O = xmalloc((size_t)qb * hd);
        float *S = xmalloc((size_t)qb * T);
        for (int bg = 0; bg < B * G; bg++) {
            int b = bg / G, g = bg % G;
            const float *base = qkv + (size_t)b * T * W + (size_t)g * (qpg + 2) * hd;
            gather(K, base + (size_t)qpg * hd, W, T, hd);
            gather(V, base + (size_t)(qpg + 1) * hd, W, T, hd);
            for (int j = 0; j < qpg; j++) {
                int h = g * qpg + j;
                float *lrow = lse + ((size_t)b * H + h) * T;
                gather(Q, base + (size_t)j * hd, W, T, hd);
                for (int t0 = 0; t0 < T; t0 += qb) {
                    int nb = T - t0 < qb ? T - t0 : qb, t1 = t0 + nb;
                    int lo = block_lo(pos, b, T, t0, t1), w = t1 - lo;
                    /* S[nb, w] = scale * Q[t0:t1] K[lo:t1]^T */
                    cpu_matmul(S, Q + (size_t)t0 * hd, K + (size_t)lo * hd, nb, w, hd, 0, 1, scale, 0.0f);
                    for (int r = 0; r < nb; r++) {
                        int t = t0 + r, c0 = key_start(pos, b, T, t) - lo, c1 = t - lo;
                        float *s = S + (size_t)r * w;
                        float mx = s[c0];
                        for (int c = c0 + 1; c <= c1; c++)
                            mx = s[c] > mx ? s[c] : mx;
                        double sum = 0.0;
                        for (int c = c0; c <= c1; c++) {
                            float e = expf(s[c] - mx);
                            s[c] = e;
                            sum += e;
                        }
                        float inv = (float)(1.0 / sum);
                        for (int c = c0; c <= c1; c++)
                            s[c] *= inv;
                        for (int c = 0; c < c0; c++)
                            s[c] = 0.0f;
                        for (int c = c1 + 1; c < w; c++)
                            s[c] = 0.0f;
                        lrow[t] = (float)((double)mx + log(sum));
                    }
                    /* O[nb, hd] = P[nb, w] V[lo:t1] */
                    cpu_matmul(O, S, V + (size_t)lo * hd, nb, hd, w, 0, 0, 1.0f, 0.0f);
                    scatter(out + ((size_t)b * T + t0) * Wo + (size_t)h * hd, Wo, O, nb, hd);
                }
            }
        }
        free(K);
        free(V);
        free(Q);
        free(O);
        free(S);
    }
}

void cpu_attention_bwd(float *dqkv, const float *dout, const float *out,
                       const float *lse, const float *qkv, int B, int T, int G,
                       int qpg, int hd, const int32_t *pos)
{
    if (B <= 0 || T <= 0 || G <= 0 || qpg <= 0 || hd <= 0)
        return;
    const size_t W = (size_t)G * (qpg + 2) * hd;
    const size_t Wo = (size_t)G * qpg * hd;
    const int H = G * qpg;
    const float scale = (float)(1.0 / sqrt((double)hd));
    const int qb = T < QB ? T : QB;
    const size_t Th = (size_t)T * hd;

    {
        float *buf = xmalloc(7 * Th + 2 * (size_t)qb * T + (size_t)T);
        float *K = buf, *V = K + Th, *Q = V + Th, *dO = Q + Th, *dQ = dO + Th;
        float *dK = dQ + Th, *dV = dK + Th, *P = dV + Th, *dS = P + (size_t)qb * T;
        float *D = dS + (size_t)qb * T;
        for (int bg = 0; bg < B * G; bg++) {
            int b = bg / G, g = bg % G;
            size_t goff = (size_t)g * (qpg + 2) * hd;
            const float *base = qkv + (size_t)b * T * W + goff;
            float *dbase = dqkv + (size_t)b * T * W + goff;
            gather(K, base + (size_t)qpg * hd, W, T, hd);
            gather(V, base + (size_t)(qpg + 1) * hd, W, T, hd);
            memset(dK, 0, Th * sizeof(float));
            memset(dV, 0, Th * sizeof(float));
            for (int j = 0; j < qpg; j++) {
                int h = g * qpg + j;
                const float *lrow = lse + ((size_t)b * H + h) * T;
                const float *ob = out + (size_t)b * T * Wo + (size_t)h * hd;
                gather(Q, base + (size_t)j * hd, W, T, hd);
                gather(dO, dout + (size_t)b * T * Wo + (size_t)h * hd, Wo, T, hd);
                for (int t = 0; t < T; t++) {
                    const float *o = ob + (size_t)t * Wo, *d = dO + (size_t)t * hd;
                    double acc = 0.0;
                    for (int e = 0; e < hd; e++)
                        acc += (double)o[e] * d[e];
                    D[t] = (float)acc;
                }
                for (int t0 = 0; t0 < T; t0 += qb) {
                    int nb = T - t0 < qb ? T - t0 : qb, t1 = t0 + nb;
                    int lo = block_lo(pos, b, T, t0, t1), w = t1 - lo;
                    const float *Qb = Q + (size_t)t0 * hd, *dOb = dO + (size_t)t0 * hd;
                    const float *Kl = K + (size_t)lo * hd, *Vl = V + (size_t)lo * hd;
                    cpu_matmul(P, Qb, Kl, nb, w, hd, 0, 1, scale, 0.0f);   /* S */
                    cpu_matmul(dS, dOb, Vl, nb, w, hd, 0, 1, 1.0f, 0.0f);  /* dP */
                    for (int r = 0; r < nb; r++) {
                        int t = t0 + r, c0 = key_start(pos, b, T, t) - lo, c1 = t - lo;
                        float *p = P + (size_t)r * w, *ds = dS + (size_t)r * w;
                        float l = lrow[t], Dt = D[t];
                        for (int c = c0; c <= c1; c++) {
                            float pc = expf(p[c] - l);
                            p[c] = pc;
                            ds[c] = pc * (ds[c] - Dt);
                        }
                        for (int c = 0; c < c0; c++) {
                            p[c] = 0.0f;
                            ds[c] = 0.0f;
                        }
                        for (int c = c1 + 1; c < w; c++) {
                            p[c] = 0.0f;
                            ds[c] = 0.0f;
                        }
                    }
                    /* dV[lo:t1] += P^T dO_blk ; dK[lo:t1] += scale dS^T Q_blk */
                    cpu_matmul(dV + (size_t)lo * hd, P, dOb, w, hd, nb, 1, 0, 1.0f, 1.0f);
                    cpu_matmul(dK + (size_t)lo * hd, dS, Qb, w, hd, nb, 1, 0, scale, 1.0f);
                    /* dQ_blk = scale dS K[lo:t1] */
                    cpu_matmul(dQ + (size_t)t0 * hd, dS, Kl, nb, hd, w, 0, 0, scale, 0.0f);
                }
                scatter(dbase + (size_t)j * hd, W, dQ, T, hd);
            }
            scatter(dbase + (size_t)qpg * hd, W, dK, T, hd);
            scatter(dbase + (size_t)(qpg + 1) * hd, W, dV, T, hd);
        }
        free(buf);
    }
}
