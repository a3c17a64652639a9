/* phase_rm.c — the reward-model phase (Nemotron-4-340B-Reward): model.head
 * = reward on `ntron prep --format reward` data, one sample per padded
 * row, K attribute scores read at the sample's last token, masked MSE
 * averaged over the global batch's labels; usually started from a
 * pretraining checkpoint, weights only (the loader swaps the LM head for a
 * seeded reward head).  With data.valid, the summary evaluates the trained
 * head on held-out samples (forward-only pass) against the baseline that
 * predicts the training labels' mean, into RUNDIR/heldout.json. */
#include "util/check.h"
#include "util/json.h"
#include "data/data_padded.h"
#include "phases/loss.h"
#include "phases/phase.h"
#include "train/trainer.h"

#include <math.h>
#include <string.h>

typedef struct rm_state {
    nt_padded train, valid;
    int has_valid;
    double *mean;            /* [K] the training labels' mean per attribute */
    char metric_names[7][32];
} rm_state;

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
    rm_state *st = nt_calloc(1, sizeof *st, "reward phase");
    nt_padded_open(&st->train, cfg->blend[0].path, NT_PADDED_REWARD, cfg->seq_len, cfg->vocab, cfg->tokenizer,
                   cfg->reward_outputs, cfg->seed);
    if (cfg->valid[0]) {
        nt_padded_open(&st->valid, cfg->valid, NT_PADDED_REWARD, cfg->seq_len, cfg->vocab, cfg->tokenizer,
                       cfg->reward_outputs, cfg->seed);
        st->has_valid = 1;
    }
    int K = st->train.nlabels;
    st->mean = nt_calloc((size_t)K, sizeof(double), "label means");
    for (uint64_t i = 0; i < st->train.nsamples; i++)
        for (int k = 0; k < K; k++) st->mean[k] += st->train.labels[i * (size_t)K + (size_t)k];
    for (int k = 0; k < K; k++) st->mean[k] /= (double)st->train.nsamples;
    return st;
}

static void rm_describe(void *state, FILE *out)
{
    const rm_state *st = state;
    const nt_padded *d = &st->train;
    fprintf(out, "data    %s: %llu reward samples, %d labels each, padded to %d+1 tokens\n", d->path,
            (unsigned long long)d->nsamples, d->nlabels, d->seq_len);
    if (st->has_valid)
        fprintf(out, "valid   %s: %llu held-out reward samples, evaluated at the end\n", st->valid.path,
                (unsigned long long)st->valid.nsamples);
}

static void rm_close(void *state)
{
    rm_state *st = state;
    nt_padded_close(&st->train);
    if (st->has_valid) nt_padded_close(&st->valid);
    free(st->mean);
    free(st);
}

static void rm_fill(void *state, uint64_t k, nt_batch *b, int r)
{
    rm_state *st = state;
    nt_padded_row row = {.tokens = nt_batch_row(b, r), .labels = b->labels + (size_t)r * b->nlabels};
    nt_padded_get(&st->train, k, 0, &row);
    b->ends[r] = row.end;
}

/* per-attribute metrics for the first RM_NPER attributes: squared errors, then counts */
#define RM_NPER 7
static const char *const helpsteer2[5] = {"helpfulness", "correctness", "coherence", "complexity", "verbosity"};
static const char *const generic[RM_NPER] = {"label0", "label1", "label2", "label3", "label4", "label5", "label6"};

/* MSE per label: weight 1 / (gbs * K); the TP ranks hold the same scores,
 * so only TP rank 0 adds to the per-attribute accumulators */
static double rm_loss(void *state, const nt_stage *s)
{
    (void)state;
    const nt_batch *b = s->batch;
    float weight = (float)(1.0 / ((double)b->gbs * b->nlabels));
    int nper = b->nlabels < RM_NPER ? b->nlabels : RM_NPER;
    return nt_loss_reward_mse(s->model, s->acts, b->ends + s->row0, b->labels + (size_t)s->row0 * b->nlabels, weight,
                              s->model->mc.tp_rank == 0 ? s->acc : NULL, nper);
}

static int rm_metrics(void *state, const nt_step_stats *st, nt_phase_metric *out, int max)
{
    rm_state *rs = state;
    int K = rs->train.nlabels, nper = K < RM_NPER ? K : RM_NPER, n = 0;
    for (int k = 0; k < nper && n < max; k++, n++) {
        snprintf(rs->metric_names[k], sizeof rs->metric_names[k], "mse_%s", K == 5 ? helpsteer2[k] : generic[k]);
        out[n].name = rs->metric_names[k];
        out[n].value = st->acc[nper + k] > 0 ? st->acc[k] / st->acc[nper + k] : NAN;
    }
    return n;
}

/* held-out evaluation on the last stage: acc = {sum sq. error, labels, baseline sum sq. error} (TP rank 0) */
static double rm_eval_stage(void *state, const nt_stage *s)
{
    const rm_state *st = state;
    const nt_batch *b = s->batch;
    int K = b->nlabels;
    float *y = nt_malloc((size_t)s->rows * K * sizeof(float), "held-out scores");
    nt_model_head_scores(s->model, s->acts, b->ends + s->row0, y);
    if (s->model->mc.tp_rank == 0)
        for (int r = 0; r < s->rows; r++)
            for (int k = 0; k < K; k++) {
                double l = b->labels[(size_t)(s->row0 + r) * K + k];
                if (isnan(l)) continue;
                double d = (double)y[(size_t)r * K + k] - l, e = st->mean[k] - l;
                s->acc[0] += d * d;
                s->acc[1] += 1;
                s->acc[2] += e * e;
            }
    free(y);
    return 0.0;
}

static void rm_heldout(rm_state *st, nt_trainer *tr, FILE *out)
{
    nt_modelset *ms = &tr->ms;
    int mbs = ms->micro_batch, DP = ms->grid.DP, K = st->train.nlabels;
    uint64_t n = st->valid.nsamples, per = (uint64_t)mbs * (uint64_t)DP;
    int nmicro = (int)((n + per - 1) / per);
    nt_batch b = {0};
    nt_batch_reserve(&b, nmicro * mbs, ms->seq_len, 0, K);
    /* sample i of the held-out set once each (epoch 0 of its permutation); the rows past n repeat sample 0 unscored */
    for (int mi = 0; mi < nmicro; mi++)
        for (int j = 0; j < mbs; j++) {
            uint64_t i = ((uint64_t)mi * DP + (uint64_t)ms->grid.dp) * (uint64_t)mbs + (uint64_t)j;
            int r = mi * mbs + j;
            nt_padded_row row = {.tokens = nt_batch_row(&b, r), .labels = b.labels + (size_t)r * K};
            nt_padded_get(&st->valid, i < n ? i : 0, 0, &row);
            b.ends[r] = row.end;
            if (i >= n)
                for (int k = 0; k < K; k++) b.labels[(size_t)r * K + k] = NAN;
        }
    b.gbs = (long)(nmicro * per);
    double acc[3] = {0, 0, 0};
    nt_modelset_forward_pass(ms, &b, rm_eval_stage, st, acc);
    nt_comm_allreduce_f64(&ms->grid.world, acc, 3, NT_SUM);
    nt_batch_free(&b);
    double mse = acc[1] > 0 ? acc[0] / acc[1] : NAN, base = acc[1] > 0 ? acc[2] / acc[1] : NAN;
    if (ms->grid.world.rank != 0) return;
    fprintf(out, "held-out  %llu samples (%s): MSE per label %.4f; predicting the training labels' mean %.4f (ratio %.3f)\n",
            (unsigned long long)n, st->valid.path, mse, base, mse / base);
    cJSON *o = nt_json_object();
    nt_json_str(o, "data", st->valid.path);
    nt_json_num(o, "step", (double)tr->step);
    nt_json_num(o, "samples", (double)n);
    nt_json_num(o, "labels", acc[1]);
    nt_json_num(o, "mse", mse);
    nt_json_num(o, "baseline_mse", base);
    nt_json_str(o, "baseline", "per-attribute mean of the training labels");
    char path[2200];
    snprintf(path, sizeof path, "%s/heldout.json", ms->cfg.dir);
    nt_json_save(path, o);
    cJSON_Delete(o);
}

static void rm_summary(void *state, nt_trainer *tr, FILE *out)
{
    rm_state *st = state;
    if (tr->ms.grid.world.rank == 0 && st->train.truncated)
        fprintf(out, "truncated %llu reward samples longer than seq_len (scored at their last kept token; rank 0's count)\n",
                (unsigned long long)st->train.truncated);
    if (st->has_valid) rm_heldout(st, tr, out);
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
    .nacc = 2 * RM_NPER,
    .metrics = rm_metrics,
    .summary = rm_summary,
};
