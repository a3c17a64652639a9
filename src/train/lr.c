/* lr.c — learning-rate schedule.
 *   step <= warmup:   lr * step / warmup
 *   after:            p = min(1, (step - warmup) / D), D = decay_steps or
 *                     (total_steps - warmup);
 *     cosine:   min_lr + (lr - min_lr) * 0.5 * (1 + cos(pi p))
 *     linear:   lr - (lr - min_lr) * p
 *     constant: lr
 */
#include "train/lr.h"

#include <math.h>
#include <string.h>

double nt_lr_at(const nt_config *cfg, long step, long total_steps)
{
    if (cfg->warmup > 0 && step <= cfg->warmup) return cfg->lr * (double)step / (double)cfg->warmup;
    if (strcmp(cfg->decay, "constant") == 0) return cfg->lr;
    long D = cfg->decay_steps > 0 ? cfg->decay_steps : total_steps - cfg->warmup;
    double p = D > 0 ? (double)(step - cfg->warmup) / (double)D : 1.0;
    if (p > 1.0) p = 1.0;
    if (p < 0.0) p = 0.0;
    if (strcmp(cfg->decay, "linear") == 0) return cfg->lr - (cfg->lr - cfg->min_lr) * p;
    return cfg->min_lr + (cfg->lr - cfg->min_lr) * 0.5 * (1.0 + cos(M_PI * p));
}
