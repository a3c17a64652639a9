/* phase_rm.c — the reward-model phase (Nemotron-4-340B-Reward): model.head
 * = reward on `ntron prep --format reward` data, one sample per padded
 * row, K attribute scores read at the sample's last token, masked MSE
 * averaged over the global batch's labels; usually started from a
 * pretraining checkpoint, weights only (the loader swaps the LM head for a
 * seeded reward head). */
#include "check.h"
#include "data_reward.h"
#include "loss.h"
#include "phase.h"
#include "trainer.h"

static void rm_check(const nt_config *c, const nt_deck_info *in)
{
    if (c->n_blend != 1)
        nt_deck_bad(in, "data.train", "phase rm reads one reward dataset (ntron prep --format reward), %d given",
                    c->n_blend);
    if (c->switch_at > 0) nt_deck_bad(in, "data.switch_at", "phase rm has no blend switch");
}

static void *rm_open(const nt_config *cfg, const nt_deck_info *info)
{
    (void)info;
    nt_reward_dataset *d = nt_calloc(1, sizeof *d, "reward dataset");
    nt_reward_open(d, cfg->blend[0].path, cfg->seq_len, cfg->reward_outputs, cfg->vocab, cfg->seed);
    nt_reward_check_tokenizer(d, cfg->tokenizer);
    return d;
}

static void rm_describe(void *state, FILE *out)
{
    const nt_reward_dataset *d = state;
    fprintf(out, "data    %s: %llu reward samples, %d labels each, padded to %d+1 tokens\n", d->path,
            (unsigned long long)d->nsamples, d->nlabels, d->seq_len);
}

static void rm_close(void *state)
{
    nt_reward_close(state);
    free(state);
}

static void rm_fill(void *state, uint64_t k, nt_batch *b, int r)
{
    nt_reward_sample(state, k, nt_batch_row(b, r), &b->ends[r], b->labels + (size_t)r * b->nlabels);
}

/* MSE per label: weight 1 / (gbs * K) */
static double rm_loss(void *state, const nt_stage *s)
{
    (void)state;
    const nt_batch *b = s->batch;
    float weight = (float)(1.0 / ((double)b->gbs * b->nlabels));
    return nt_loss_reward_mse(s->model, s->acts, b->ends + s->row0, b->labels + (size_t)s->row0 * b->nlabels, weight);
}

static void rm_summary(void *state, nt_trainer *tr, FILE *out)
{
    const nt_reward_dataset *d = state;
    if (tr->ms.grid.world.rank == 0 && d->truncated)
        fprintf(out, "truncated %llu reward samples longer than seq_len (scored at their last kept token; rank 0's count)\n",
                (unsigned long long)d->truncated);
}

const nt_phase nt_phase_rm = {
    .name = "rm",
    .what = "reward model: regression head on the last token, HelpSteer2 attributes (prep --format reward)",
    .head = "reward",
    .check = rm_check,
    .open = rm_open,
    .describe = rm_describe,
    .close = rm_close,
    .nlabels_from_cfg = 1,
    .fill = rm_fill,
    .loss = rm_loss,
    .summary = rm_summary,
};
