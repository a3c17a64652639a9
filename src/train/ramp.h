/* ramp.h — batch-size ramp-up: the global batch (sequences) as a function
 * of consumed tokens, and the number of steps a token budget takes. */
#ifndef NTRON_RAMP_H
#define NTRON_RAMP_H
#include "deck/config.h"
/* global batch for a run that has consumed `tokens` tokens */
long nt_ramp_gbs(const nt_config *cfg, double tokens);
/* index of the active ramp stage (0 without a ramp) */
int nt_ramp_stage_at(const nt_config *cfg, double tokens);
/* steps the run takes: cfg->steps, or enough steps to consume cfg->tokens */
long nt_ramp_total_steps(const nt_config *cfg);
#endif
