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

#endif
