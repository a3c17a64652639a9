/* batch.c — allocation of the phase/trainer batch (see batch.h). */
#include "train/batch.h"
#include "util/check.h"

#include <math.h>
#include <string.h>

void nt_batch_reserve(nt_batch *b, int rows, int seq_len, int with_mask, int nlabels)
{
    int grow = rows > b->cap_rows || seq_len != b->seq_len || nlabels != b->nlabels || !with_mask != !b->loss_mask;
    if (grow) {
        nt_batch_free(b);
        size_t R = (size_t)rows, W = (size_t)seq_len + 1;
        b->tokens = nt_malloc(R * W * sizeof(int32_t), "batch tokens");
        if (with_mask) b->loss_mask = nt_malloc(R * W, "batch loss mask");
        b->ends = nt_malloc(R * sizeof(int), "batch sample ends");
        b->labels = nlabels ? nt_malloc(R * (size_t)nlabels * sizeof(float), "batch labels") : NULL;
        b->partner = nt_malloc(R * sizeof(int), "batch pair partners");
        b->seq_logp = nt_malloc(R * sizeof(double), "batch sequence log-probs");
        b->ref_logp = nt_malloc(R * sizeof(double), "batch reference log-probs");
        b->pos = nt_malloc(R * (size_t)seq_len * sizeof(int32_t), "batch packed positions");
        b->cap_rows = rows;
    }
    b->rows = rows;
    b->seq_len = seq_len;
    b->nlabels = nlabels;
    b->packed = 0;
    for (int r = 0; r < rows; r++) {
        b->ends[r] = seq_len - 1;
        b->partner[r] = -1;
        b->seq_logp[r] = b->ref_logp[r] = NAN;
    }
}

void nt_batch_free(nt_batch *b)
{
    free(b->tokens);
    free(b->loss_mask);
    free(b->ends);
    free(b->labels);
    free(b->partner);
    free(b->seq_logp);
    free(b->ref_logp);
    free(b->pos);
    memset(b, 0, sizeof *b);
}
