/* batch.h — the batch contract between a phase and the trainer: this DP
 * rank's rows of one global batch, and everything a loss may need about
 * them.  Row r is micro-batch r / micro_batch, position r % micro_batch;
 * which sample a row holds is the phase's fill callback's business (one
 * mapping, in phase_run.c).  A phase uses the fields it needs; the trainer
 * reads tokens and loss_mask to build inputs and targets. */
#ifndef NTRON_BATCH_H
#define NTRON_BATCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct nt_batch {
    int rows, seq_len;           /* rows of this DP rank; T (a row holds T+1 tokens) */
    int cap_rows, nlabels;       /* allocated rows; labels per row */
    long gbs;                    /* sequences in the global batch */
    double loss_tokens;          /* loss tokens in the whole global batch (all DP ranks) */
    int32_t *tokens;             /* [rows][T+1]: inputs [:-1], targets [1:] */
    uint8_t *loss_mask;          /* [rows][T+1] or NULL: token j is a target iff mask[j] (j >= 1); NULL = every token */
    int *ends;                   /* [rows]: last real input position of the sample (reward head) */
    float *labels;               /* [rows][nlabels] (reward labels; preference: r*) */
    int *partner;                /* [rows]: the other row of a preference pair (-1: none) */
    double *seq_logp;            /* [rows]: sum of log-probs over the row's targets (filled on the last stage) */
    double *ref_logp;            /* [rows]: the same under the reference policy */
    int32_t *pos;                /* [rows][T]: packed rows, each input position's place inside its own sample */
    int packed;                  /* the fill wrote pos (data.pack): RoPE restarts and attention stays inside samples */
} nt_batch;

/* Ensure room for rows rows of T+1 tokens (with_mask: a loss mask too;
 * nlabels: labels per row).  Contents are not preserved. */
/* What a loss sees on the last pipeline stage, for one micro-batch. */
struct nt_model;
struct nt_acts;
typedef struct nt_stage {
    struct nt_model *model;      /* the last chunk (has_head) */
    struct nt_acts *acts;        /* its activations: the forward has run */
    nt_batch *batch;
    int mb, row0, rows;          /* micro-batch index, its first batch row, rows in it */
    const int32_t *targets;      /* [rows*T] target ids, -1 where the loss mask is 0 */
    double *acc;                 /* the phase's accumulators, summed over the global batch after the step */
} nt_stage;
/* A phase's loss on the last stage: returns this micro-batch's share of the
 * global loss and sets the head's gradient (training passes), or only reads
 * the head (forward-only passes). */
typedef double (*nt_stage_fn)(void *state, const nt_stage *s);

void nt_batch_reserve(nt_batch *b, int rows, int seq_len, int with_mask, int nlabels);
void nt_batch_free(nt_batch *b);
static inline int32_t *nt_batch_row(const nt_batch *b, int r) { return b->tokens + (size_t)r * (size_t)(b->seq_len + 1); }
static inline int32_t *nt_batch_pos(const nt_batch *b, int r) { return b->pos + (size_t)r * (size_t)b->seq_len; }
static inline uint8_t *nt_batch_mask(const nt_batch *b, int r)
{
    return b->loss_mask ? b->loss_mask + (size_t)r * (size_t)(b->seq_len + 1) : NULL;
}

#endif
