/* optim.h — AdamW over the model's flat fp32 buffers, global-norm gradient
 * clipping.  (ZeRO-1 sharding over data parallelism builds on these
 * per-range updates.) */
#ifndef NTRON_OPTIM_H
#define NTRON_OPTIM_H

#include "comm.h"
#include "config.h"
#include "model.h"

typedef struct nt_optim {
    float *m, *v;        /* fp32 Adam moments, same layout as the gradients */
    long step;           /* optimizer steps taken */
} nt_optim;

void nt_optim_create(nt_optim *o, const nt_model *m);
void nt_optim_destroy(nt_optim *o, const nt_model *m);
/* Global L2 norm of the gradients; tensors replicated across TP (norms)
 * are counted on TP rank 0 only; summed over `norm_comm` (model-parallel
 * group, or world). */
double nt_optim_grad_norm(const nt_model *m, const nt_comm *norm_comm);
/* clip coefficient: min(1, clip / (norm + 1e-6)); 1 when clip <= 0 */
double nt_optim_clip_coef(double norm, double clip);
/* One AdamW step with learning rate lr on all parameters; grads are
 * multiplied by grad_scale first (clipping). */
void nt_optim_step(nt_optim *o, nt_model *m, const nt_config *cfg, double lr, double grad_scale);

#endif
