/* loss.c — token cross-entropy and reward regression on the split heads,
 * and the per-pair preference losses (see loss.h). */
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

static const char *const pref_names[] = {"dpo", "ipo", "rpo_sq", "rpo_bwd_kl", "rpo_fwd_kl"};

int nt_pref_loss_parse(const char *name)
{
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, pref_names[i])) return i;
    return -1;
}

const char *nt_pref_loss_name(nt_pref_loss kind)
{
    return (int)kind >= 0 && (int)kind < 5 ? pref_names[kind] : "?";
}

double nt_log_sigmoid(double x)
{
    return x < 0 ? x - log1p(exp(x)) : -log1p(exp(-x));
}

static double sigmoid(double x)
{
    return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

double nt_loss_preference(nt_pref_loss kind, double beta, double delta, double gap, double *dl_ddelta)
{
    double a = beta * delta, L = 0, g = 0;
    switch (kind) {
    case NT_PREF_DPO:   /* -log sigma(a); dL/da = sigma(a) - 1 */
        L = -nt_log_sigmoid(a);
        g = beta * (sigmoid(a) - 1.0);
        break;
    case NT_PREF_IPO: { /* (delta - 1/(2 beta))^2 */
        double d = delta - 1.0 / (2.0 * beta);
        L = d * d;
        g = 2.0 * d;
        break;
    }
    case NT_PREF_RPO_SQ: /* (a - b)^2 */
        L = (a - gap) * (a - gap);
        g = 2.0 * beta * (a - gap);
        break;
    case NT_PREF_RPO_BWD_KL: { /* KL(sigma(b) || sigma(a)); dL/da = sigma(a) - sigma(b) */
        double lb = nt_log_sigmoid(gap), lbn = nt_log_sigmoid(-gap), la = nt_log_sigmoid(a), lan = nt_log_sigmoid(-a);
        L = exp(lb) * (lb - la) + exp(lbn) * (lbn - lan);
        g = beta * (sigmoid(a) - sigmoid(gap));
        break;
    }
    case NT_PREF_RPO_FWD_KL: { /* KL(sigma(a) || sigma(b)); dL/da = sigma(a) sigma(-a) (a - b) */
        double lb = nt_log_sigmoid(gap), lbn = nt_log_sigmoid(-gap), la = nt_log_sigmoid(a), lan = nt_log_sigmoid(-a);
        L = exp(la) * (la - lb) + exp(lan) * (lan - lbn);
        g = beta * sigmoid(a) * sigmoid(-a) * (a - gap);
        break;
    }
    }
    if (dl_ddelta) *dl_ddelta = g;
    return L;
}
