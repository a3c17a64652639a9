/* loss.h — the losses the phases compute on the last pipeline stage, on
 * top of the model's split heads (model.h): each sets its own gradient
 * through the head's backward half (per-token coefficients for the LM
 * head, per-sequence score gradients for the reward head) and returns its
 * weighted sum over this micro-batch (identical on every TP rank). */
#ifndef NTRON_LOSS_H
#define NTRON_LOSS_H

#include "model/model.h"

/* Token cross-entropy: weight * sum over rows with a target (targets[i]
 * >= 0) of -log p(target).  weight = 1 / (loss tokens of the global
 * batch) makes every layout and micro-batch split give the same loss. */
double nt_loss_token_ce(nt_model *m, nt_acts *a, const int32_t *targets, float weight);
/* Reward regression: weight * sum over sequences b and attributes k of
 * (score[b,k] - labels[b,k])^2 at row ends[b]; a NaN label is not scored.
 * per_label (NULL: not wanted): adds the unweighted squared errors of
 * attributes k < nper to per_label[k] and their label counts to
 * per_label[nper + k]. */
double nt_loss_reward_mse(nt_model *m, nt_acts *a, const int *ends, const float *labels, float weight,
                          double *per_label, int nper);

/* Preference losses of one pair (NeMo-Aligner's preference_loss options;
 * formulas in DESIGN.md "Alignment phases"): delta = S(chosen) -
 * S(rejected), S = log pi - log pi_ref of the response (summed or
 * averaged), gap = eta * (r*_chosen - r*_rejected).  Returns the pair's
 * loss and sets *dl_ddelta = dLoss/d(delta).  Stable for |beta*delta| and
 * |gap| up to the float range (log-sigmoids, no exp overflow). */
typedef enum { NT_PREF_DPO = 0, NT_PREF_IPO, NT_PREF_RPO_SQ, NT_PREF_RPO_BWD_KL, NT_PREF_RPO_FWD_KL } nt_pref_loss;
double nt_loss_preference(nt_pref_loss kind, double beta, double delta, double gap, double *dl_ddelta);
/* "dpo" ... "rpo_fwd_kl" -> kind; -1 if unknown */
int nt_pref_loss_parse(const char *name);
const char *nt_pref_loss_name(nt_pref_loss kind);
/* log sigmoid(x) without overflow */
double nt_log_sigmoid(double x);

#endif
