/* lr.h — learning-rate schedule: linear warm-up then cosine/linear/constant
 * decay to min_lr. */
#ifndef NTRON_LR_H
#define NTRON_LR_H
#include "deck/config.h"
/* LR for optimizer step `step` (1-based) of a run of `total_steps`. */
double nt_lr_at(const nt_config *cfg, long step, long total_steps);
#endif
