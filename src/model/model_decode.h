/* model_decode.h — a model chunk's forward for generation: new tokens of
 * several sequences through the chunk's layers against their KV cache
 * (infer/kvcache.h), and the LM head on chosen rows.
 *
 * The same ops as the training forward (model.c), without sequence
 * parallelism (a decode step has one row per sequence): prefill runs the
 * training attention over whole prompts (every sequence starting at
 * position 0) and stores their keys and values; a decode step (one token
 * per sequence, each at its own absolute position) rotates with RoPE at
 * that position, appends to the cache and attends over it with the
 * cached-KV kernel. */
#ifndef NTRON_MODEL_DECODE_H
#define NTRON_MODEL_DECODE_H

#include "model/model.h"
#include "infer/kvcache.h"

typedef struct nt_decode_acts {
    int cap;                              /* rows (B*T) the buffers hold */
    void *x, *ln, *qkv, *att, *tmp, *up, *xmid;
    float *mean, *rstd, *lse;
    int32_t *tokens, *slot, *pos, *len;   /* backend int32 arrays */
    int cap_out;                          /* rows of the head buffers */
    void *hx, *lnf, *logits;              /* head: gathered rows, final norm, [rows, vocab_local] logits */
} nt_decode_acts;

void nt_decode_acts_create(nt_decode_acts *d, const nt_model *m, int rows, int out_rows);
void nt_decode_acts_free(nt_decode_acts *d, const nt_model *m);

/* B sequences with T new tokens each (rows b*T+t), sequence b in cache
 * slot slot[b] starting at position pos[b]; T > 1 is a prefill and needs
 * every pos[b] = 0.  Input: tokens (has_embedding) or the previous
 * stage's output in d->x [B*T, H]; output in d->x. */
void nt_model_decode(nt_model *m, nt_kvcache *kv, nt_decode_acts *d, int B, int T, const int32_t *tokens,
                     const int *slot, const int *pos);
/* Final norm + LM head (has_head) of the rows rows[0..n) of d->x into
 * d->logits [n, vocab_local] (this rank's vocabulary shard, padded ids
 * -inf). */
void nt_model_decode_logits(nt_model *m, nt_decode_acts *d, int n, const int *rows);

#endif
