/* rope.c — partial rotary position embedding (Nemotron / GPT-NeoX style,
 * non-interleaved) applied in place to the q and k heads of fused QKV.
 *
 * Only the first `rot` dims of each head rotate; pair (i, i+rot/2), i < rot/2,
 * turns by angle pos * inv_freq_i.  The angle follows Hugging Face
 * NemotronRotaryEmbedding step for step in fp32:
 *   inv_freq_i = 1 / (base ** (float(2i) / rot))        (fp32 pow, fp32 divide)
 *   angle      = float(pos) * inv_freq_i                  (fp32 multiply)
 *   cos, sin   = cosf(angle), sinf(angle)                 (fp32)
 * so at long positions the angle carries the same fp32 rounding PyTorch's has
 * (this is what "fp32 angles" means; a double angle would differ by up to
 * ulp(angle)/2, ~1e-4 rad at pos 4096).
 *   fwd: y_i = x_i cos - x_{i+h} sin ;  y_{i+h} = x_{i+h} cos + x_i sin   (h = rot/2)
 *   bwd: the inverse (transpose) rotation on the gradient.
 * V heads and dims >= rot pass through unchanged.
 * Packed rows (pos != NULL): token (b, t) takes position pos0 + pos[b*T+t],
 * its position inside its own sample, so RoPE restarts at every sample. */
#include <math.h>
#include <stdlib.h>

#include "kernels_cpu.h"

/* cos/sin tables [T, rot/2] for positions pos0 .. pos0+T-1 (a packed row's
 * positions are all < T). */
static float *rope_tables(int T, int rot, float base, int pos0)
{
    int half = rot / 2;
    float *tab = malloc(((size_t)T * half * 2 + (size_t)half) * sizeof(float));
    if (!tab)
        abort();
    float *inv = tab + (size_t)T * half * 2;
    for (int i = 0; i < half; i++) {
        float e = (float)(2 * i) / (float)rot;
        inv[i] = 1.0f / powf(base, e);
    }
    for (int t = 0; t < T; t++) {
        float p = (float)(pos0 + t);
        float *c = tab + (size_t)t * half * 2, *s = c + half;
        for (int i = 0; i < half; i++) {
            float a = p * inv[i];
            c[i] = cosf(a);
            s[i] = sinf(a);
        }
    }
    return tab;
}

/* sign = +1: forward rotation; -1: inverse rotation. */
static void rope_apply(float *qkv, int B, int T, int G, int qpg, int hd, int rot,
                       float base, int pos0, const int32_t *pos, float sign)
{
    int half = rot / 2;
    if (half <= 0 || B <= 0 || T <= 0)
        return;
    float *tab = rope_tables(T, rot, base, pos0);
    size_t W = (size_t)G * (qpg + 2) * hd;
    for (long bt = 0; bt < (long)B * T; bt++) {
        int t = pos ? pos[bt] : (int)(bt % T);
        const float *c = tab + (size_t)t * half * 2, *s = c + half;
        float *row = qkv + (size_t)bt * W;
        for (int g = 0; g < G; g++) {
            /* the qpg query heads and the key head are consecutive */
            for (int j = 0; j <= qpg; j++) {
                float *x = row + ((size_t)g * (qpg + 2) + j) * hd;
                float *x2 = x + half;
                for (int i = 0; i < half; i++) {
                    float a = x[i], b = x2[i], sn = sign * s[i];
                    x[i] = a * c[i] - b * sn;
                    x2[i] = b * c[i] + a * sn;
                }
            }
        }
    }
    free(tab);
}

void cpu_rope_fwd(float *qkv, int B, int T, int G, int qpg, int hd, int rot,
                  float base, int pos0, const int32_t *pos)
{
    rope_apply(qkv, B, T, G, qpg, hd, rot, base, pos0, pos, 1.0f);
}

void cpu_rope_bwd(float *dqkv, int B, int T, int G, int qpg, int hd, int rot,
                  float base, int pos0, const int32_t *pos)
{
    rope_apply(dqkv, B, T, G, qpg, hd, rot, base, pos0, pos, -1.0f);
}
