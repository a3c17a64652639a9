/* loss.c — token cross-entropy and reward regression on the split heads
 * (see loss.h). */
#include "phases/loss.h"
#include "util/check.h"

#include <math.h>
#include <string.h>

double nt_loss_token_ce(nt_model *m, nt_acts *a, const int32_t *targets, float weight)
{
    int N = a->N;
    const float *nll = nt_model_head_nll(m, a, targets);
    double sum = 0.0;
    float *coef = nt_malloc((size_t)N * sizeof(float), "token loss coefficients");
    for (int i = 0; i < N; i++) {
        int valid = targets[i] >= 0;
        coef[i] = valid ? weight : 0.0f;
        if (valid) sum += (double)nll[i] * weight;
    }
    nt_model_head_nll_backward(m, a, coef);
    free(coef);
    return sum;
}

double nt_loss_reward_mse(nt_model *m, nt_acts *a, const int *ends, const float *labels, float weight,
                          double *per_label, int nper)
{
    int B = a->B, K = m->mc.reward_outputs;
    float *y = nt_malloc((size_t)B * K * sizeof(float), "reward scores");
    float *dy = nt_calloc((size_t)B * K, sizeof(float), "reward score gradient");
    nt_model_head_scores(m, a, ends, y);
    double sum = 0.0;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < K; k++) {
            float l = labels[(size_t)b * K + k];
            if (isnan(l)) continue;
            float d = y[(size_t)b * K + k] - l;
            sum += (double)weight * (double)d * (double)d;
            dy[(size_t)b * K + k] = 2.0f * weight * d;
            if (per_label && k < nper) {
                per_label[k] += (double)d * (double)d;
                per_label[nper + k] += 1.0;
            }
        }
    nt_model_head_scores_backward(m, a, ends, dy);
    free(y);
    free(dy);
    return sum;
}
