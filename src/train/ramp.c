/* ramp.c — batch-size ramp-up (DESIGN.md "Batch-size ramp-up"). */
#include "train/ramp.h"

int nt_ramp_stage_at(const nt_config *cfg, double tokens)
{
    int s = 0;
    for (int i = 0; i < cfg->n_ramp; i++)
        if (tokens >= cfg->ramp_stages[i].tokens) s = i;
    return s;
}

long nt_ramp_gbs(const nt_config *cfg, double tokens)
{
    if (cfg->n_ramp == 0) return cfg->global_batch;
    return cfg->ramp_stages[nt_ramp_stage_at(cfg, tokens)].gbs;
}

long nt_ramp_total_steps(const nt_config *cfg)
{
    if (cfg->steps > 0) return cfg->steps;
    double consumed = 0.0;
    long steps = 0;
    while (consumed < cfg->tokens) {
        consumed += (double)nt_ramp_gbs(cfg, consumed) * cfg->seq_len;
        steps++;
    }
    return steps;
}
