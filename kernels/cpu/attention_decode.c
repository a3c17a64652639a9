/* attention_decode.c — cached-KV attention for generation: the key/value
 * cache append and the attention of one new query token per sequence over
 * that sequence's cached keys (query length 1, no mask needed: every cached
 * position precedes the query).
 *
 * Cache layout (DESIGN.md "Generation"): K and V each [slots, G, Tmax, hd];
 * sequence b of a step lives in cache slot slot[b].  Queries, keys and
 * values are read straight from the fused QKV rows (grouped per KV group,
 * kernels_cpu.h), after RoPE.  fp32 throughout; the softmax in double as
 * the training attention accumulates its row sums. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_cpu.h"

void cpu_kv_append(float *kc, float *vc, const float *qkv, const int32_t *slot, const int32_t *pos, int B,
                   int T, int G, int qpg, int hd, int Tmax)
{
    const size_t W = (size_t)G * (qpg + 2) * hd;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *row = qkv + ((size_t)b * T + t) * W;
            int p = pos[b] + t;
            for (int g = 0; g < G; g++) {
                size_t dst = (((size_t)slot[b] * G + g) * Tmax + p) * hd;
                memcpy(kc + dst, row + ((size_t)g * (qpg + 2) + qpg) * hd, (size_t)hd * sizeof(float));
                memcpy(vc + dst, row + ((size_t)g * (qpg + 2) + qpg + 1) * hd, (size_t)hd * sizeof(float));
            }
        }
}

void cpu_attention_decode(float *out, const float *qkv, const float *kc, const float *vc, const int32_t *slot,
                          const int32_t *len, int B, int G, int qpg, int hd, int Tmax)
{
    const size_t W = (size_t)G * (qpg + 2) * hd, Wo = (size_t)G * qpg * hd;
    const float scale = (float)(1.0 / sqrt((double)hd));
    float *s = malloc((size_t)(Tmax > 0 ? Tmax : 1) * sizeof(float)); /* one row of scores */
    if (!s) abort();
    for (int b = 0; b < B; b++) {
        int n = len[b];
        for (int g = 0; g < G; g++) {
            const float *K = kc + ((size_t)slot[b] * G + g) * Tmax * hd;
            const float *V = vc + ((size_t)slot[b] * G + g) * Tmax * hd;
            for (int j = 0; j < qpg; j++) {
                const float *q = qkv + (size_t)b * W + ((size_t)g * (qpg + 2) + j) * hd;
                float *o = out + (size_t)b * Wo + ((size_t)g * qpg + j) * hd;
                memset(o, 0, (size_t)hd * sizeof(float));
                if (n <= 0) continue;
                float mx = -INFINITY;
                for (int t = 0; t < n; t++) {
                    float d = 0.0f;
                    for (int c = 0; c < hd; c++) d += q[c] * K[(size_t)t * hd + c];
                    s[t] = d * scale;
                    mx = s[t] > mx ? s[t] : mx;
                }
                double sum = 0.0;
                for (int t = 0; t < n; t++) {
                    s[t] = expf(s[t] - mx);
                    sum += s[t];
                }
                float inv = (float)(1.0 / sum);
                for (int t = 0; t < n; t++) {
                    float p = s[t] * inv;
                    const float *v = V + (size_t)t * hd;
                    for (int c = 0; c < hd; c++) o[c] += p * v[c];
                }
            }
        }
    }
    free(s);
}
