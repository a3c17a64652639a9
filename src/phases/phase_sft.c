/* phase_sft.c — supervised fine-tuning (Nemotron-4-340B-Instruct's code and
 * general SFT stages): model.head = lm on `ntron prep --format chat` data,
 * a weighted blend of padded datasets (data.train = path:weight ...), one
 * conversation per row padded with EOD, or with data.pack several per row
 * (data_pack.h: best-fit decreasing over each epoch, positions restarting
 * per conversation, block-diagonal attention; global_batch counts rows);
 * token cross-entropy over the assistant tokens only (the dataset's loss
 * mask), normalised by the global batch's loss tokens.  train.epochs sets
 * the run's length from the data: ceil(epochs * rows of an epoch /
 * global_batch) steps (a blend's epoch: min_i n_i / w_i samples; padded, a
 * row per sample).  Per step it logs
 * the loss tokens and the padding (packing) efficiency; with data.valid the summary
 * evaluates the mean NLL of the held-out assistant tokens and of the other
 * (user, system, template) tokens with a forward-only pass, into
 * RUNDIR/heldout.json. */
#include "util/check.h"
#include "util/json.h"
#include "data/data_pack.h"
#include "data/data_padded.h"
#include "phases/phase.h"
#include "train/trainer.h"

#include <math.h>
#include <string.h>

typedef struct sft_state {
    nt_padded_blend train;
    nt_padded valid;
    int has_valid, seq_len;
    double epochs;
    long gbs;
    uint64_t *len;           /* [cap] real tokens of each batch row (<= seq_len+1) */
    int cap;
    uint8_t *assist;         /* held-out pass: [rows][T+1] the dataset's loss mask */
    int pack;                /* data.pack */
    nt_pack pk;              /* rows -> samples of the run */
    int32_t *stok;           /* one sample read for packing [seq_len+1] */
    uint8_t *smask;
} sft_state;

static void sft_check(const nt_config *c, const nt_deck_info *in)
{
    if (c->n_blend == 0)
        nt_deck_bad(in, "data.train", "phase sft needs chat data (data.train = path:weight ..., ntron prep --format chat)");
    if (c->switch_at > 0) nt_deck_bad(in, "data.switch_at", "phase sft has no blend switch (run a second sft deck)");
}

/* exit 2 unless some sample of d has a loss token: an all-zero /loss_mask trains nothing */
static void require_loss_tokens(const nt_padded *d)
{
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = nt_malloc(CHUNK, "loss mask scan");
    hid_t fs = H5Dget_space(d->mask);
    NT_CHECK_H5(fs);
    int found = 0;
    for (hsize_t at = 0; at < d->ntokens && !found; at += CHUNK) {
        hsize_t n = d->ntokens - at < CHUNK ? d->ntokens - at : CHUNK;
        hid_t ms = H5Screate_simple(1, &n, NULL);
        NT_CHECK_H5(ms);
        NT_CHECK_H5(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, NULL, &n, NULL));
        if (H5Dread(d->mask, H5T_NATIVE_UINT8, ms, fs, H5P_DEFAULT, buf) < 0)
            nt_input_error("%s: cannot read /loss_mask", d->path);
        NT_CHECK_H5(H5Sclose(ms));
        for (hsize_t i = 0; i < n && !found; i++) found = buf[i] != 0;
    }
    NT_CHECK_H5(H5Sclose(fs));
    free(buf);
    if (!found)
        nt_input_error("%s: every loss mask is empty (no assistant tokens to train on: prep it with --format chat "
                       "from conversations with assistant turns)", d->path);
}

/* samples in one epoch of the blend: min over datasets of n_i / w_i, the length at which the
 * dataset with the most weight for its size has been read once (one dataset, or weights in
 * proportion to the sizes: every sample once) */
static uint64_t epoch_samples(const sft_state *st)
{
    double e = INFINITY;
    for (int i = 0; i < st->train.n; i++) {
        double x = (double)st->train.ds[i].nsamples / st->train.w[i];
        if (x < e) e = x;
    }
    uint64_t n = (uint64_t)llround(e);
    return n ? n : 1;
}

static uint64_t sample_length(void *state, uint64_t s)
{
    sft_state *st = state;
    return nt_padded_blend_length(&st->train, s);
}

/* rows of `epochs` epochs: a row per sample, or (packed) the packed rows of the whole epochs
 * plus the fraction of the next one's */
static double epoch_rows(sft_state *st, double epochs)
{
    if (!st->pack) return epochs * (double)epoch_samples(st);
    uint64_t full = (uint64_t)floor(epochs + 1e-12);
    double rows = 0;
    for (uint64_t w = 0; w < full; w++) rows += (double)nt_pack_window_rows(&st->pk, w);
    double frac = epochs - (double)full;
    if (frac > 1e-12) rows += frac * (double)nt_pack_window_rows(&st->pk, full);
    return rows;
}

/* train.epochs: ceil(rows of the epochs / global batch) steps */
static long sft_total_steps(void *state, const nt_config *cfg)
{
    sft_state *st = state;
    double s = ceil(epoch_rows(st, cfg->epochs) / (double)cfg->global_batch - 1e-9);
    return s < 1 ? 1 : (long)s;
}

static void *sft_open(const nt_config *cfg, const nt_deck_info *info)
{
    (void)info;
    sft_state *st = nt_calloc(1, sizeof *st, "sft phase");
    st->seq_len = cfg->seq_len;
    st->epochs = cfg->epochs;
    st->gbs = cfg->global_batch;
    nt_padded_blend_open(&st->train, cfg->blend, cfg->n_blend, NT_PADDED_SFT, cfg->seq_len, cfg->vocab, cfg->tokenizer,
                         0, cfg->seed);
    for (int i = 0; i < st->train.n; i++) require_loss_tokens(&st->train.ds[i]);
    if (cfg->valid[0]) {
        nt_padded_open(&st->valid, cfg->valid, NT_PADDED_SFT, cfg->seq_len, cfg->vocab, cfg->tokenizer, 0, cfg->seed);
        require_loss_tokens(&st->valid);
        st->has_valid = 1;
    }
    if (cfg->pack) {
        st->pack = 1;
        nt_pack_init(&st->pk, (uint64_t)cfg->seq_len + 1, epoch_samples(st), cfg->seed, sample_length, st);
        st->stok = nt_malloc(((size_t)cfg->seq_len + 1) * sizeof *st->stok, "packing sample");
        st->smask = nt_malloc((size_t)cfg->seq_len + 1, "packing sample mask");
    }
    return st;
}

static void sft_describe(void *state, FILE *out)
{
    sft_state *st = state;
    for (int i = 0; i < st->train.n; i++) {
        const nt_padded *d = &st->train.ds[i];
        fprintf(out, "data    %s: %llu conversations, %llu tokens, weight %.4g, %s %d+1 tokens\n", d->path,
                (unsigned long long)d->nsamples, (unsigned long long)d->ntokens, st->train.w[i],
                st->pack ? "packed into rows of" : "one per row padded to", d->seq_len);
    }
    if (st->pack) {
        uint64_t rows = nt_pack_window_rows(&st->pk, 0), E = epoch_samples(st);
        fprintf(out, "pack    best-fit decreasing per epoch: epoch 1 = %llu samples in %llu rows (%.2f per row), "
                "block-diagonal attention, positions restart per sample\n",
                (unsigned long long)E, (unsigned long long)rows, (double)E / (double)rows);
    }
    if (st->epochs > 0) {
        char rows[64] = "";
        if (st->pack) snprintf(rows, sizeof rows, " (%.0f packed rows)", epoch_rows(st, st->epochs));
        fprintf(out, "epochs  run %g epochs of %llu samples%s = %ld steps of global batch %ld\n", st->epochs,
                (unsigned long long)epoch_samples(st), rows,
                sft_total_steps(st, &(nt_config){.epochs = st->epochs, .global_batch = st->gbs}), st->gbs);
    }
    if (st->has_valid)
        fprintf(out, "valid   %s: %llu held-out conversations, evaluated at the end\n", st->valid.path,
                (unsigned long long)st->valid.nsamples);
}

static void sft_close(void *state)
{
    sft_state *st = state;
    nt_padded_blend_close(&st->train);
    if (st->has_valid) nt_padded_close(&st->valid);
    if (st->pack) nt_pack_free(&st->pk);
    free(st->stok);
    free(st->smask);
    free(st->len);
    free(st->assist);
    free(st);
}

/* packed row k of the run into batch row r: its samples one after the other (each cut to the
 * row), the first token of each never a target, positions restarting per sample; the rest
 * EOD padding (no targets, positions of its own) */
static void fill_packed(sft_state *st, uint64_t k, nt_batch *b, int r)
{
    uint64_t n, T = (uint64_t)b->seq_len, cap = T + 1, at = 0;
    const uint64_t *items = nt_pack_row(&st->pk, k, &n);
    uint64_t mine[n ? n : 1];
    memcpy(mine, items, n * sizeof *items);   /* reading samples may repack (blend lengths): keep our copy */
    int32_t *tok = nt_batch_row(b, r), *pos = nt_batch_pos(b, r);
    uint8_t *mask = nt_batch_mask(b, r);
    for (uint64_t i = 0; i < n; i++) {
        nt_padded_row row = {.tokens = st->stok, .mask = st->smask};
        nt_padded_blend_get(&st->train, mine[i], 0, &row);
        uint64_t L = row.length < cap ? row.length : cap;
        NT_CHECK(at + L <= cap, "internal: packed row %llu overflows (%llu + %llu > %llu tokens)",
                 (unsigned long long)k, (unsigned long long)at, (unsigned long long)L, (unsigned long long)cap);
        memcpy(tok + at, row.tokens, L * sizeof *tok);
        memcpy(mask + at, row.mask, L);
        mask[at] = 0;
        for (uint64_t j = at; j < at + L && j < T; j++) pos[j] = (int32_t)(j - at);
        at += L;
    }
    for (uint64_t j = at; j < cap; j++) {
        tok[j] = st->train.ds[0].eod;
        mask[j] = 0;
        if (j < T) pos[j] = (int32_t)(j - at);
    }
    b->packed = 1;
    st->len[r] = at;
}

static void sft_fill(void *state, uint64_t k, nt_batch *b, int r)
{
    sft_state *st = state;
    if (r >= st->cap) {
        st->cap = b->cap_rows > r + 1 ? b->cap_rows : r + 1;
        st->len = realloc(st->len, (size_t)st->cap * sizeof *st->len);
        NT_CHECK(st->len, "out of memory (sft row lengths)");
    }
    if (st->pack) {
        fill_packed(st, k, b, r);
        return;
    }
    nt_padded_row row = {.tokens = nt_batch_row(b, r), .mask = nt_batch_mask(b, r)};
    nt_padded_blend_get(&st->train, k, 0, &row);
    uint64_t cap = (uint64_t)b->seq_len + 1;
    st->len[r] = row.length < cap ? row.length : cap;
}

/* the token cross-entropy of every LM phase; acc = {loss tokens, real tokens, rows} */
static double sft_loss(void *state, const nt_stage *s)
{
    const sft_state *st = state;
    int T = s->acts->T;
    for (int r = 0; r < s->rows; r++) {
        for (int j = 0; j < T; j++) s->acc[0] += s->targets[(size_t)r * T + j] >= 0;
        s->acc[1] += (double)st->len[s->row0 + r];
        s->acc[2] += 1;
    }
    return nt_phase_token_ce_loss(state, s);
}

static int sft_metrics(void *state, const nt_step_stats *st, nt_phase_metric *out, int max)
{
    const sft_state *ss = state;
    if (max < 3) return 0;
    out[0].name = "loss_tokens";
    out[0].value = st->acc[0];
    out[1].name = ss->pack ? "pack_efficiency" : "pad_efficiency";
    out[1].value = st->acc[2] > 0 ? st->acc[1] / (st->acc[2] * (ss->seq_len + 1)) : NAN;
    out[2].name = "real_tokens_per_s";   /* conversation tokens (not padding) per second of the step */
    out[2].value = st->seconds > 0 ? st->acc[1] / st->seconds : NAN;
    return 3;
}

/* held-out pass on the last stage (TP rank 0): acc = {assistant NLL sum, assistant tokens, other NLL sum, other tokens} */
static double sft_eval_stage(void *state, const nt_stage *s)
{
    const sft_state *st = state;
    int T = s->acts->T;
    const float *nll = nt_model_head_nll(s->model, s->acts, s->targets);
    if (s->model->mc.tp_rank != 0) return 0.0;
    for (int r = 0; r < s->rows; r++) {
        const uint8_t *a = st->assist + (size_t)(s->row0 + r) * (size_t)(T + 1);
        for (int j = 0; j < T; j++) {
            size_t i = (size_t)r * T + j;
            if (s->targets[i] < 0) continue;
            int k = a[j + 1] ? 0 : 2;
            s->acc[k] += nll[i];
            s->acc[k + 1] += 1;
        }
    }
    return 0.0;
}

static void write_heldout(const char *dir, const char *data, long step, uint64_t n, const double *acc)
{
    cJSON *o = nt_json_object();
    nt_json_str(o, "data", data);
    nt_json_num(o, "step", (double)step);
    nt_json_num(o, "samples", (double)n);
    nt_json_num(o, "assistant_tokens", acc[1]);
    nt_json_num(o, "assistant_nll", acc[1] > 0 ? acc[0] / acc[1] : 0.0);
    nt_json_num(o, "user_tokens", acc[3]);
    nt_json_num(o, "user_nll", acc[3] > 0 ? acc[2] / acc[3] : 0.0);
    nt_json_str(o, "user", "every other real token: user and system turns, chat template");
    char path[2200];
    snprintf(path, sizeof path, "%s/heldout.json", dir);
    nt_json_save(path, o);
    cJSON_Delete(o);
}

static void sft_heldout(sft_state *st, nt_trainer *tr, FILE *out)
{
    nt_modelset *ms = &tr->ms;
    int mbs = ms->micro_batch, DP = ms->grid.DP, T = ms->seq_len;
    uint64_t n = st->valid.nsamples, per = (uint64_t)mbs * (uint64_t)DP;
    int nmicro = (int)((n + per - 1) / per);
    nt_batch b = {0};
    nt_batch_reserve(&b, nmicro * mbs, T, 1, 0);
    st->assist = realloc(st->assist, (size_t)nmicro * mbs * (size_t)(T + 1));
    NT_CHECK(st->assist, "out of memory (held-out masks)");
    /* held-out sample i once each (epoch 0 of its permutation); every real target scored, the
     * dataset's mask kept aside to split assistant from other tokens; rows past n score nothing */
    for (int mi = 0; mi < nmicro; mi++)
        for (int j = 0; j < mbs; j++) {
            uint64_t i = ((uint64_t)mi * DP + (uint64_t)ms->grid.dp) * (uint64_t)mbs + (uint64_t)j;
            int r = mi * mbs + j;
            uint8_t *a = st->assist + (size_t)r * (size_t)(T + 1), *m = nt_batch_mask(&b, r);
            nt_padded_row row = {.tokens = nt_batch_row(&b, r), .mask = a};
            nt_padded_get(&st->valid, i < n ? i : 0, 0, &row);
            uint64_t real = i < n ? (row.length < (uint64_t)T + 1 ? row.length : (uint64_t)T + 1) : 0;
            for (int t = 0; t <= T; t++) m[t] = t >= 1 && (uint64_t)t < real;
        }
    b.gbs = (long)(nmicro * per);
    double acc[4] = {0, 0, 0, 0};
    nt_modelset_forward_pass(ms, &b, sft_eval_stage, st, acc);
    nt_comm_allreduce_f64(&ms->grid.world, acc, 4, NT_SUM);
    nt_batch_free(&b);
    if (ms->grid.world.rank != 0) return;
    fprintf(out, "held-out  %llu conversations (%s): mean NLL %.4f over %.0f assistant tokens, %.4f over %.0f other "
            "(user/system/template) tokens\n", (unsigned long long)n, st->valid.path, acc[1] > 0 ? acc[0] / acc[1] : 0.0,
            acc[1], acc[3] > 0 ? acc[2] / acc[3] : 0.0, acc[3]);
    write_heldout(ms->cfg.dir, st->valid.path, tr->step, n, acc);
}

static void sft_summary(void *state, nt_trainer *tr, FILE *out)
{
    sft_state *st = state;
    if (tr->ms.grid.world.rank == 0) {
        uint64_t seen = tr->consumed_samples;
        if (st->pack) {
            uint64_t rows = seen;
            seen = nt_pack_samples_before(&st->pk, rows);
            fprintf(out, "packed    %llu rows held %llu samples (%.2f per row)\n", (unsigned long long)rows,
                    (unsigned long long)seen, rows ? (double)seen / (double)rows : 0.0);
        }
        fprintf(out, "samples   %llu seen = %.4g epochs of %llu samples\n", (unsigned long long)seen,
                (double)seen / (double)epoch_samples(st), (unsigned long long)epoch_samples(st));
        if (st->train.n > 1) {
            nt_padded_blend_pick(&st->train, seen, NULL);   /* the counts c_i(seen) */
            for (int i = 0; i < st->train.n; i++)
                fprintf(out, "          %s: %llu samples = %.4g epochs\n", st->train.ds[i].path,
                        (unsigned long long)st->train.count[i],
                        (double)st->train.count[i] / (double)st->train.ds[i].nsamples);
        }
        uint64_t tr_n = nt_padded_blend_truncated(&st->train);
        if (tr_n)
            fprintf(out, "truncated %llu rows read (conversations longer than seq_len+1 tokens, cut; rank 0's count)\n",
                    (unsigned long long)tr_n);
    }
    if (st->has_valid) sft_heldout(st, tr, out);
}

const nt_phase nt_phase_sft = {
    .name = "sft",
    .what = "supervised fine-tuning on chat data (prep --format chat): loss on assistant tokens only, train.epochs",
    .head = "lm",
    .check = sft_check,
    .open = sft_open,
    .describe = sft_describe,
    .close = sft_close,
    .with_mask = 1,
    .packs = 1,
    .fill = sft_fill,
    .loss = sft_loss,
    .nacc = 3,
    .metrics = sft_metrics,
    .summary = sft_summary,
    .total_steps = sft_total_steps,
};
