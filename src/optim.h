/* optim.h — optimizer helpers shared by the trainer: the gradient-clipping
 * coefficient.  (AdamW itself is a backend op; the trainer applies it to
 * its ZeRO-1 shard, per tensor so that weight decay skips norms.) */
#ifndef NTRON_OPTIM_H
#define NTRON_OPTIM_H

/* clip coefficient: min(1, clip / (norm + 1e-6)); 1 when clip <= 0
 * (Megatron / torch.nn.utils.clip_grad_norm_ semantics) */
double nt_optim_clip_coef(double norm, double clip);

#endif
