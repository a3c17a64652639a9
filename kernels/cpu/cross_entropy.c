/* cross_entropy.c — vocab-parallel softmax cross-entropy in the four steps of
 * Megatron's vocab-parallel CE, so a TP group can all-reduce between them
 * (MAX of rowmax, SUM of sumexp and tgt) and no rank holds full-vocabulary
 * logits:  cpu_ce_rowmax, cpu_ce_sumexp (+ target logit if the target is in
 * this shard, else 0), cpu_ce_loss = log(sumexp) + rowmax - tgt, cpu_ce_bwd
 * (softmax - onehot, scaled by dloss; may run in place on the logits).
 * Sums of exponentials are accumulated in double. */
#include <math.h>
#include <stdlib.h>

#include "kernels_cpu.h"

void cpu_ce_rowmax(float *rowmax, const float *logits, int n, int V)
{
    for (int i = 0; i < n; i++) {
        const float *l = logits + (size_t)i * V;
        float m = -INFINITY;
        for (int j = 0; j < V; j++)
            m = l[j] > m ? l[j] : m;
        rowmax[i] = m;
    }
}

void cpu_ce_sumexp(float *sumexp, float *tgt, const float *logits, const float *rowmax,
                   const int32_t *targets, int vocab_lo, int n, int V)
{
    float *e = malloc((size_t)(V > 0 ? V : 1) * sizeof(float));
    if (!e)
        abort();
    for (int i = 0; i < n; i++) {
        const float *l = logits + (size_t)i * V;
        float m = rowmax[i];
        cpu_exp_shift(e, l, V, m);
        double s = 0.0;
        for (int j = 0; j < V; j++)
            s += e[j];
        sumexp[i] = (float)s;
        long t = (long)targets[i] - vocab_lo;
        tgt[i] = (t >= 0 && t < V) ? l[t] : 0.0f;
    }
    free(e);
}

void cpu_ce_loss(float *loss, const float *rowmax, const float *sumexp, const float *tgt, int n)
{
    for (int i = 0; i < n; i++)
        loss[i] = (float)(log((double)sumexp[i]) + (double)rowmax[i] - (double)tgt[i]);
}

void cpu_ce_bwd(float *dlogits, const float *logits, const float *rowmax, const float *sumexp,
                const int32_t *targets, const float *dloss, int vocab_lo, int n, int V)
{
    /* dlogits may alias logits: each element is read before it is written. */
    for (int i = 0; i < n; i++) {
        const float *l = logits + (size_t)i * V;
        float *d = dlogits + (size_t)i * V;
        float m = rowmax[i], inv = (float)(1.0 / (double)sumexp[i]), g = dloss[i];
        cpu_exp_shift(d, l, V, m);
        for (int j = 0; j < V; j++)
            d[j] = g * (d[j] * inv);
        long t = (long)targets[i] - vocab_lo;
        if (t >= 0 && t < V)
            d[t] -= g;
    }
}
