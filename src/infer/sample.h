/* sample.h — next-token sampling for generation, vocab-parallel.
 *
 * Modes: greedy (temperature 0), temperature, top-k, top-p (nucleus),
 * combined in Hugging Face's order (temperature, then top-k, then top-p
 * over the top-k set renormalised).  Randomness is counter-based: the
 * draw for a row is keyed by (seed, prompt index, sample index, step)
 * (nt_sample_key) and the noise of vocabulary id i is a function of that
 * key and i only, so a prompt's output does not depend on the batch it
 * shares, the order of the prompts, the rank count or the TP/PP layout.
 *
 * Vocab-parallel: each TP rank passes its shard of the logits (global ids
 * vocab_lo .. vocab_lo+V-1); ranks exchange per-row statistics (max,
 * sums, their top-k candidates, the winner), never the vocabulary.  The
 * sample is the Gumbel-max choice argmax_i z_i + G_i (G_i Gumbel noise of
 * id i, z = logits / temperature) over the kept set, which draws exactly
 * from the truncated, tempered softmax.  The top-k set is ordered by
 * (value desc, id asc); the top-p set is the tokens with z >= t*, t* the
 * largest value whose tail mass is >= top_p (found by bisection over the
 * float order, an all-reduce of one sum per row per step of it): tokens
 * tied at the threshold are all kept. */
#ifndef NTRON_SAMPLE_H
#define NTRON_SAMPLE_H

#include "parallel/comm.h"

#include <stdint.h>

typedef struct nt_sampling {
    double temperature;   /* 0: greedy */
    int top_k;            /* 0: off */
    double top_p;         /* 1: off; (0, 1] */
} nt_sampling;

uint64_t nt_sample_key(uint64_t seed, uint64_t prompt, uint64_t sample, uint64_t step);
/* n rows of logits [n, V] (host fp32, this rank's shard; -inf = padding),
 * keys[n]: tok[n] the sampled global ids, logp[n] (optional) their
 * log-probability under the model's untempered, untruncated softmax.
 * Collective over tp (every rank gets the same tok and logp). */
void nt_sample(const nt_sampling *sp, const float *logits, int n, int V, int vocab_lo, const nt_comm *tp,
               const uint64_t *keys, int32_t *tok, float *logp);

#endif
