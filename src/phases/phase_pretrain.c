/* phase_pretrain.c — the pretraining phase (and continued pretraining: a
 * pretrain deck with checkpoint.load and a new blend or data.switch_at):
 * windows of seq_len+1 tokens from the weighted blend of data.train, token
 * cross-entropy on every target, normalised by the global batch's tokens. */
#include "util/check.h"
#include "data/data_blend.h"
#include "phases/loss.h"
#include "phases/phase.h"

static void pretrain_check(const nt_config *c, const nt_deck_info *in)
{
    if (c->n_blend == 0)
        nt_deck_bad(in, "data.train", "phase pretrain needs training data (data.train = path:weight ...)");
    if (c->valid[0])
        nt_deck_bad(in, "data.valid", "phase pretrain does not evaluate held-out data in this version (phases rm and sft do)");
}

static void *pretrain_open(const nt_config *cfg, const nt_deck_info *info)
{
    nt_blend *b = nt_calloc(1, sizeof *b, "pretraining blend");
    nt_blend_open(b, cfg, info);
    return b;
}

static void pretrain_describe(void *state, FILE *out)
{
    const nt_blend *b = state;
    for (int i = 0; i < b->n; i++)
        fprintf(out, "data    %s: %llu tokens, %llu documents, %llu samples of %d+1 tokens\n", b->ds[i].path,
                (unsigned long long)b->ds[i].ntokens, (unsigned long long)b->ds[i].ndocs,
                (unsigned long long)b->ds[i].nsamples, b->ds[i].seq_len);
}

static void pretrain_close(void *state)
{
    nt_blend_close(state);
    free(state);
}

static void pretrain_fill(void *state, uint64_t k, nt_batch *b, int r)
{
    nt_blend_sample(state, k, nt_batch_row(b, r));
}

/* Token cross-entropy over the targets the mask keeps, weight 1 / (loss
 * tokens of the global batch): the same loss and gradient under any layout
 * and micro-batch split.  Pretraining: every target, gbs * seq_len. */
double nt_phase_token_ce_loss(void *state, const nt_stage *s)
{
    (void)state;
    float weight = (float)(1.0 / s->batch->loss_tokens);
    return nt_loss_token_ce(s->model, s->acts, s->targets, weight);
}

const nt_phase nt_phase_pretrain = {
    .name = "pretrain",
    .what = "pretraining / continued pretraining on token blends (data.train, data.switch_blend)",
    .head = "lm",
    .check = pretrain_check,
    .open = pretrain_open,
    .describe = pretrain_describe,
    .close = pretrain_close,
    .fill = pretrain_fill,
    .loss = nt_phase_token_ce_loss,
};
