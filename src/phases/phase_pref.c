/* phase_pref.c — preference tuning (Nemotron-4-340B-Instruct's DPO and its
 * three RPO iterations): run.phase = dpo | rpo, model.head = lm, on one
 * `ntron prep --format preference` dataset.  Pair p of the run is
 * sequences 2p (prompt + chosen) and 2p+1 (prompt + rejected), so with an
 * even micro_batch and global_batch (both count sequences, 2 per pair) a
 * pair's two rows always share a micro-batch on one DP rank.  The loss
 * (loss.c's preference losses, [align] keys) sees per-sequence log-probs
 * summed (or averaged) over the response tokens only — the prompt is
 * masked — from the head's vocab-parallel NLL on the last stage, and sets
 * its own gradient through the head's per-token coefficients.  The
 * reference policy is frozen: its log-probs come from the same forward
 * code, either precomputed once into RUNDIR/reference_logps.h5
 * (pref_reference.c; reused on resume) or online from a second, frozen
 * model set.  With data.valid the summary scores the held-out pairs
 * (accuracy, margins, their correlation with eta * reward gap) into
 * RUNDIR/heldout.json. */
#include "ckpt/ckpt.h"
#include "phases/loss.h"
#include "phases/phase.h"
#include "phases/pref_reference.h"
#include "train/trainer.h"
#include "util/check.h"
#include "util/json.h"
#include "util/sys.h"

#include <math.h>
#include <mpi.h>
#include <string.h>

enum { A_PAIRS, A_PREF, A_SFT, A_CORRECT, A_RCHOSEN, A_RREJECTED, A_TARGET, A_REFGAP, A_N };

typedef struct pref_state {
    int rpo, avg, online, resumed, rank0;
    nt_pref_loss loss;
    double beta, eta, wsft, wpref;
    long gbs;
    double epochs;
    nt_padded train, valid;
    int has_valid;
    char ref_ckpt[NT_PATH_MAX];  /* the reference checkpoint ("": run.seed's initial weights) */
    int ref_is_start;            /* the reference is the weights the policy starts from */
    char id[65], file[NT_PATH_MAX + 64];
    int have;                    /* rank 0: the file held this identity */
    uint64_t n[2];               /* pairs: train, valid */
    double *ref[2];              /* [n,2] reference log-prob sums per pair (online: valid only) */
    int ready;
    nt_modelset ref_ms;          /* online: the frozen reference */
    double t_ref_ms;             /* this step's reference log-probs: ms (online: its forward pass; precomputed: the lookup) */
    uint64_t *row_pair;          /* [cap] the pair index of each batch row */
    int cap;
} pref_state;

static nt_pref_loss effective_loss(const nt_config *c)
{
    int rpo = !strcmp(c->phase, "rpo");
    if (!strcmp(c->align_loss, "auto")) return rpo ? NT_PREF_RPO_BWD_KL : NT_PREF_DPO;
    return (nt_pref_loss)nt_pref_loss_parse(c->align_loss);
}

static int loss_needs_rewards(nt_pref_loss l)
{
    return l == NT_PREF_RPO_SQ || l == NT_PREF_RPO_BWD_KL || l == NT_PREF_RPO_FWD_KL;
}

static void pref_check(const nt_config *c, const nt_deck_info *in)
{
    int rpo = !strcmp(c->phase, "rpo");
    if (c->n_blend != 1)
        nt_deck_bad(in, "data.train", "phase %s reads one preference dataset (ntron prep --format preference), %d given",
                    c->phase, c->n_blend);
    if (c->switch_at > 0) nt_deck_bad(in, "data.switch_at", "phase %s has no blend switch", c->phase);
    if (c->n_ramp > 0) nt_deck_bad(in, "train.ramp", "phase %s takes a constant train.global_batch", c->phase);
    if (c->micro_batch % 2)
        nt_deck_bad(in, "parallel.micro_batch", "%d is odd: phase %s counts sequences, 2 per pair (chosen, rejected), "
                    "and a pair shares a micro-batch", c->micro_batch, c->phase);
    if (c->global_batch % 2)
        nt_deck_bad(in, "train.global_batch", "%ld is odd: phase %s counts sequences, 2 per pair (256 pairs = 512)",
                    c->global_batch, c->phase);
    nt_pref_loss l = effective_loss(c);
    if (rpo && !loss_needs_rewards(l))
        nt_deck_bad(in, "align.loss", "%s is not a reward-aware loss: phase rpo takes rpo_sq | rpo_bwd_kl | rpo_fwd_kl "
                    "(run.phase = dpo for dpo and ipo)", c->align_loss);
    if (!rpo && loss_needs_rewards(l))
        nt_deck_bad(in, "align.loss", "%s is a reward-aware loss: set run.phase = rpo (phase dpo takes dpo | ipo)",
                    c->align_loss);
    if (c->align_pref_weight == 0 && c->align_sft_weight == 0)
        nt_deck_bad(in, "align.preference_weight", "0 with align.sft_weight = 0: nothing to train");
    if (c->ckpt_load[0] && c->ckpt_load_optimizer)
        nt_deck_bad(in, "checkpoint.load_optimizer", "phase %s starts from the weights of checkpoint.load only: set "
                    "checkpoint.load_optimizer = false", c->phase);
}

/* exit 2 naming the first pair longer than a sequence, or (rpo losses) the rewards that are missing or NaN */
static void check_pairs(const nt_padded *d, int T, int need_rewards, nt_pref_loss l)
{
    for (uint64_t i = 0; i < d->nsamples; i++) {
        const uint64_t *r = d->ranges + 4 * i;
        uint64_t p = r[1] - r[0], c = r[2] - r[1], j = r[3] - r[2], m = c > j ? c : j;
        if (p + m > (uint64_t)T + 1)
            nt_input_error("%s: pair %llu is longer than model.seq_len = %d: prompt %llu + %s %llu tokens > %d (a pair is "
                           "never cut: raise seq_len or drop the pair)", d->path, (unsigned long long)i, T,
                           (unsigned long long)p, c >= j ? "chosen" : "rejected", (unsigned long long)m, T + 1);
    }
    if (!need_rewards) return;
    if (!d->rewards)
        nt_input_error("%s: no /rewards: align.loss = %s needs chosen_reward and rejected_reward in every pair "
                       "(prep --format preference from JSON lines with both fields)", d->path, nt_pref_loss_name(l));
    uint64_t bad = 0, first = 0;
    for (uint64_t i = 0; i < d->nsamples; i++)
        if (!isfinite(d->rewards[2 * i]) || !isfinite(d->rewards[2 * i + 1])) {
            if (!bad) first = i;
            bad++;
        }
    if (bad == d->nsamples)
        nt_input_error("%s: no pair has chosen_reward and rejected_reward: align.loss = %s needs both in every pair "
                       "(prep --format preference from JSON lines with both fields)", d->path, nt_pref_loss_name(l));
    if (bad)
        nt_input_error("%s: %llu of %llu pairs have a NaN or missing chosen_reward/rejected_reward (first: pair %llu): "
                       "align.loss = %s needs both; refused, not skipped (filter those pairs out before prep)", d->path,
                       (unsigned long long)bad, (unsigned long long)d->nsamples, (unsigned long long)first,
                       nt_pref_loss_name(l));
}

static void *pref_open(const nt_config *cfg, const nt_deck_info *info)
{
    (void)info;
    pref_state *st = nt_calloc(1, sizeof *st, "preference phase");
    int rank = 0;
    NT_CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    st->rank0 = rank == 0;
    st->rpo = !strcmp(cfg->phase, "rpo");
    st->loss = effective_loss(cfg);
    st->beta = cfg->align_beta;
    st->eta = cfg->align_eta;
    st->wsft = cfg->align_sft_weight;
    st->wpref = cfg->align_pref_weight;
    st->avg = cfg->align_average_log_probs;
    st->online = !strcmp(cfg->align_reference_mode, "online");
    st->gbs = cfg->global_batch;
    st->epochs = cfg->epochs;
    int need = loss_needs_rewards(st->loss);
    nt_padded_open(&st->train, cfg->blend[0].path, NT_PADDED_PREFERENCE, cfg->seq_len, cfg->vocab, cfg->tokenizer, 1,
                   cfg->seed);
    check_pairs(&st->train, cfg->seq_len, need, st->loss);
    st->n[0] = st->train.nsamples;
    if (cfg->valid[0]) {
        nt_padded_open(&st->valid, cfg->valid, NT_PADDED_PREFERENCE, cfg->seq_len, cfg->vocab, cfg->tokenizer, 1,
                       cfg->seed);
        check_pairs(&st->valid, cfg->seq_len, need, st->loss);
        st->has_valid = 1;
        st->n[1] = st->valid.nsamples;
    }
    /* the reference: align.reference, else the checkpoint the phase starts from */
    snprintf(st->ref_ckpt, sizeof st->ref_ckpt, "%s", cfg->align_reference[0] ? cfg->align_reference : cfg->ckpt_load);
    st->ref_is_start = !cfg->align_reference[0] || !strcmp(cfg->align_reference, cfg->ckpt_load);
    char latest[256];
    st->resumed = cfg->ckpt_dir[0] && nt_ckpt_latest(cfg->ckpt_dir, latest, sizeof latest);
    snprintf(st->file, sizeof st->file, "%s/%s", cfg->dir, NT_PREF_REF_FILE);
    /* rank 0 checks the reference and any earlier file before anything is written */
    if (st->rank0) {
        nt_pref_ref_identity(cfg, st->ref_ckpt, st->id);
        if (!st->online) st->have = nt_pref_ref_load(st->file, st->id, st->n, st->ref);
    }
    return st;
}

static long pref_total_steps(void *state, const nt_config *cfg)
{
    const pref_state *st = state;
    double s = ceil(cfg->epochs * 2.0 * (double)st->n[0] / (double)cfg->global_batch - 1e-9);
    return s < 1 ? 1 : (long)s;
}

static void pref_describe(void *state, FILE *out)
{
    pref_state *st = state;
    fprintf(out, "data    %s: %llu preference pairs (%s), 2 sequences per pair, padded to %d+1 tokens\n",
            st->train.path, (unsigned long long)st->n[0], st->train.rewards ? "with rewards r*" : "no rewards",
            st->train.seq_len);
    fprintf(out, "align   loss %s, beta %.6g, eta %.6g, preference_weight %.6g, sft_weight %.6g, "
            "average_log_probs %s\n", nt_pref_loss_name(st->loss), st->beta, st->eta, st->wpref, st->wsft,
            st->avg ? "true" : "false");
    fprintf(out, "ref     %s, frozen, %s%s\n", st->ref_ckpt[0] ? st->ref_ckpt : "run.seed's initial weights",
            st->online ? "online (a second model set)" : "precomputed into ",
            st->online ? "" : st->file);
    if (!st->online)
        fprintf(out, "ref     identity %.16s...: %s\n", st->id,
                st->have ? "reused from the file" : "computed before the first step");
    if (st->epochs > 0)
        fprintf(out, "epochs  run %g epochs of %llu pairs = %ld steps of global batch %ld (%ld pairs)\n", st->epochs,
                (unsigned long long)st->n[0],
                pref_total_steps(st, &(nt_config){.epochs = st->epochs, .global_batch = st->gbs}), st->gbs, st->gbs / 2);
    if (st->has_valid)
        fprintf(out, "valid   %s: %llu held-out pairs, evaluated at the end\n", st->valid.path,
                (unsigned long long)st->n[1]);
}

static void pref_close(void *state)
{
    pref_state *st = state;
    nt_padded_close(&st->train);
    if (st->has_valid) nt_padded_close(&st->valid);
    if (st->online && st->ready) nt_modelset_free(&st->ref_ms);
    free(st->ref[0]);
    free(st->ref[1]);
    free(st->row_pair);
    free(st);
}

static void pref_fill(void *state, uint64_t k, nt_batch *b, int r)
{
    pref_state *st = state;
    NT_CHECK((int)(k % 2) == r % 2, "internal: sequence %llu of the run in batch row %d splits a pair",
             (unsigned long long)k, r);
    if (r >= st->cap) {
        st->cap = b->cap_rows > r + 1 ? b->cap_rows : r + 1;
        st->row_pair = realloc(st->row_pair, (size_t)st->cap * sizeof *st->row_pair);
        NT_CHECK(st->row_pair, "out of memory (preference rows)");
    }
    nt_padded_row row = {.tokens = nt_batch_row(b, r), .mask = nt_batch_mask(b, r)};
    nt_padded_get(&st->train, k / 2, (int)(k % 2), &row);
    st->row_pair[r] = nt_padded_index(&st->train, k / 2, NULL);
    b->partner[r] = r ^ 1;
}

/* the frozen reference set: the trainer's config and backend, weights of ref_ckpt (or run.seed's) */
static void ref_set_init(nt_modelset *ms, const pref_state *st, nt_trainer *tr)
{
    nt_modelset_init(ms, &tr->ms.cfg, tr->ms.ops, MPI_COMM_WORLD, 0);
    if (st->ref_ckpt[0]) {
        nt_ckpt_counters cnt;
        nt_ckpt_load(ms, NULL, st->ref_ckpt, &cnt);
    }
}

/* first step: the reference log-probs (file, online set, or one forward-only pass) */
static void prepare(pref_state *st, nt_trainer *tr)
{
    const nt_comm *w = &tr->ms.grid.world;
    double t0 = nt_now();
    nt_comm_bcast_i32(w, &st->have, 1, 0);
    const char *how;
    if (st->have) {
        for (int s = 0; s < 2; s++) {
            if (!st->n[s]) continue;
            if (!st->rank0) st->ref[s] = nt_malloc(st->n[s] * 2 * sizeof(double), "reference log-probs");
            nt_comm_bcast_f64(w, st->ref[s], st->n[s] * 2, 0);
        }
        how = "read from";
    } else if (st->online) {
        ref_set_init(&st->ref_ms, st, tr);
        if (st->n[1]) {
            st->ref[1] = nt_malloc(st->n[1] * 2 * sizeof(double), "reference log-probs");
            nt_pref_ref_compute(&st->ref_ms, &st->valid, st->ref[1]);
        }
        how = "online set ready";
    } else {
        /* the trainer holds the reference weights exactly when it starts from them, fresh */
        int own = st->ref_is_start && !st->resumed && tr->step == 0;
        nt_modelset tmp, *use = &tr->ms;
        if (!own) { ref_set_init(&tmp, st, tr); use = &tmp; }
        nt_padded *d[2] = {&st->train, &st->valid};
        for (int s = 0; s < 2; s++) {
            if (!st->n[s]) continue;
            st->ref[s] = nt_malloc(st->n[s] * 2 * sizeof(double), "reference log-probs");
            nt_pref_ref_compute(use, d[s], st->ref[s]);
        }
        if (!own) nt_modelset_free(&tmp);
        if (st->rank0) nt_pref_ref_save(st->file, st->id, st->n, st->ref);
        nt_comm_barrier(w);
        how = own ? "computed (policy's own weights, forward-only) into" : "computed (frozen reference set) into";
    }
    st->ready = 1;
    if (st->rank0) {
        printf("ref     %llu + %llu pairs: reference log-probs %s %s in %.2f s\n", (unsigned long long)st->n[0],
               (unsigned long long)st->n[1], how, st->online && !st->have ? "" : st->file, nt_now() - t0);
        fflush(stdout);
    }
}

static void pref_before_step(void *state, nt_trainer *tr, nt_batch *b)
{
    pref_state *st = state;
    if (!st->ready) prepare(st, tr);
    double t0 = nt_now();
    if (st->online) {
        /* same grid as the trainer: its last stage's ranks are the loss's */
        nt_modelset_forward_pass(&st->ref_ms, b, nt_stage_logprobs, NULL, NULL);
        for (int r = 0; r < b->rows; r++) b->ref_logp[r] = b->seq_logp[r];
    } else {
        for (int r = 0; r < b->rows; r++) b->ref_logp[r] = st->ref[0][st->row_pair[r] * 2 + (uint64_t)(r % 2)];
    }
    st->t_ref_ms = (nt_now() - t0) * 1e3;
}

/* the loss on the last stage: per pair w * (wpref * L(delta, gap) + wsft * NLL(chosen)), w = 1 / pairs of
 * the global batch; its gradient through the head's per-token coefficients dL/d(nll) = -dL/d(log pi) */
static double pref_loss(void *state, const nt_stage *s)
{
    pref_state *st = state;
    nt_batch *b = s->batch;
    int T = s->acts->T, R = s->rows;
    const float *nll = nt_model_head_nll(s->model, s->acts, s->targets);
    double *lp = nt_calloc((size_t)2 * R, sizeof(double), "sequence log-probs"), *cnt = lp + R;
    for (int r = 0; r < R; r++)
        for (int j = 0; j < T; j++) {
            size_t i = (size_t)r * T + j;
            if (s->targets[i] < 0) continue;
            lp[r] -= (double)nll[i];
            cnt[r] += 1;
        }
    float *coef = nt_calloc((size_t)R * T, sizeof(float), "preference coefficients");
    double w = 2.0 / (double)b->gbs, loss = 0.0;
    for (int r = 0; r + 1 < R; r += 2) {
        int c = s->row0 + r, l = c + 1;
        double nc = st->avg && cnt[r] > 0 ? cnt[r] : 1, nr = st->avg && cnt[r + 1] > 0 ? cnt[r + 1] : 1;
        double Sc = (lp[r] - b->ref_logp[c]) / nc, Sr = (lp[r + 1] - b->ref_logp[l]) / nr;
        double gap = 0;
        if (loss_needs_rewards(st->loss) || st->train.rewards) {
            const float *rw = st->train.rewards;
            gap = rw ? st->eta * ((double)rw[st->row_pair[c] * 2] - (double)rw[st->row_pair[l] * 2 + 1]) : 0;
        }
        double dL, Lp = nt_loss_preference(st->loss, st->beta, Sc - Sr, gap, &dL);
        double sft = -lp[r] / nc;
        loss += w * (st->wpref * Lp + st->wsft * sft);
        double dc = (w * st->wpref * dL - w * st->wsft) / nc, dr = -w * st->wpref * dL / nr;
        for (int j = 0; j < T; j++) {
            size_t ic = (size_t)r * T + j, ir = (size_t)(r + 1) * T + j;
            if (s->targets[ic] >= 0) coef[ic] = (float)-dc;
            if (s->targets[ir] >= 0) coef[ir] = (float)-dr;
        }
        double *a = s->acc;
        a[A_PAIRS] += 1;
        a[A_PREF] += Lp;
        a[A_SFT] += sft;
        a[A_CORRECT] += Sc > Sr;
        a[A_RCHOSEN] += st->beta * Sc;
        a[A_RREJECTED] += st->beta * Sr;
        a[A_TARGET] += 1.0 / (1.0 + exp(-gap));
        a[A_REFGAP] += fabs(lp[r] - b->ref_logp[c]) + fabs(lp[r + 1] - b->ref_logp[l]);
    }
    nt_model_head_nll_backward(s->model, s->acts, coef);
    free(coef);
    free(lp);
    return loss;
}

static int pref_metrics(void *state, const nt_step_stats *st, nt_phase_metric *out, int max)
{
    const pref_state *ps = state;
    const double *a = st->acc;
    double n = a[A_PAIRS] > 0 ? a[A_PAIRS] : NAN;
    nt_phase_metric m[] = {
        {"pref_loss", a[A_PREF] / n}, {"sft_loss", a[A_SFT] / n}, {"accuracy", a[A_CORRECT] / n},
        {"reward_chosen", a[A_RCHOSEN] / n}, {"reward_rejected", a[A_RREJECTED] / n},
        {"margin", (a[A_RCHOSEN] - a[A_RREJECTED]) / n}, {"ref_gap", a[A_REFGAP] / (2 * n)},
        {"ms_reference", ps->t_ref_ms}, {"rpo_target", a[A_TARGET] / n}};
    int k = (int)(sizeof m / sizeof m[0]) - (ps->rpo ? 0 : 1);
    if (k > max) k = max;
    memcpy(out, m, (size_t)k * sizeof *out);
    return k;
}

/* held-out pairs: the policy's log-probs by the same forward-only pass, against the reference's */
static void pref_heldout(pref_state *st, nt_trainer *tr, FILE *out)
{
    uint64_t n = st->n[1];
    double *pol = nt_malloc(n * 2 * sizeof(double), "held-out log-probs");
    nt_pref_ref_compute(&tr->ms, &st->valid, pol);
    if (!st->rank0) { free(pol); return; }
    const float *rw = st->valid.rewards;
    double acc = 0, m = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, fit = 0, tgt = 0, kl = 0;
    for (uint64_t i = 0; i < n; i++) {
        const uint64_t *r = st->valid.ranges + 4 * i;
        double nc = st->avg ? (double)(r[2] - r[1]) : 1, nr = st->avg ? (double)(r[3] - r[2]) : 1;
        double Sc = (pol[2 * i] - st->ref[1][2 * i]) / nc, Sr = (pol[2 * i + 1] - st->ref[1][2 * i + 1]) / nr;
        double x = st->beta * (Sc - Sr), y = rw ? st->eta * ((double)rw[2 * i] - (double)rw[2 * i + 1]) : 0;
        acc += Sc > Sr;
        m += x;
        sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
        fit += (x - y) * (x - y);
        tgt += 1.0 / (1.0 + exp(-y));
        kl += 1.0 / (1.0 + exp(-x));
    }
    double N = (double)n, cov = sxy / N - sx / N * sy / N, vx = sxx / N - sx / N * sx / N, vy = syy / N - sy / N * sy / N;
    double corr = rw && vx > 0 && vy > 0 ? cov / sqrt(vx * vy) : NAN, slope = rw && vy > 0 ? cov / vy : NAN;
    fprintf(out, "held-out  %llu pairs (%s): accuracy %.4f (S_chosen > S_rejected), mean margin beta*delta %.5g, "
            "mean sigma(margin) %.4f", (unsigned long long)n, st->valid.path, acc / N, m / N, kl / N);
    if (rw) fprintf(out, ", corr(margin, eta*reward gap) %.4f, slope %.4g, rms(margin - eta*gap) %.4g, mean target "
                    "sigma(eta*gap) %.4f", corr, slope, sqrt(fit / N), tgt / N);
    fprintf(out, "\n");
    cJSON *o = nt_json_object();
    nt_json_str(o, "data", st->valid.path);
    nt_json_num(o, "step", (double)tr->step);
    nt_json_num(o, "pairs", N);
    nt_json_str(o, "loss", nt_pref_loss_name(st->loss));
    nt_json_num(o, "accuracy", acc / N);
    nt_json_num(o, "margin", m / N);
    nt_json_num(o, "mean_sigmoid_margin", kl / N);
    if (rw) {
        nt_json_num(o, "corr_margin_reward_gap", corr);
        nt_json_num(o, "slope_margin_on_reward_gap", slope);
        nt_json_num(o, "rms_margin_minus_gap", sqrt(fit / N));
        nt_json_num(o, "mean_target", tgt / N);
    }
    nt_json_str(o, "note", "margin = beta*(S_chosen - S_rejected), S = log pi - log pi_ref of the response; "
                "at the start (policy = reference) every margin is 0");
    char path[2200];
    snprintf(path, sizeof path, "%s/heldout.json", tr->ms.cfg.dir);
    nt_json_save(path, o);
    cJSON_Delete(o);
    free(pol);
}

static void pref_summary(void *state, nt_trainer *tr, FILE *out)
{
    pref_state *st = state;
    if (st->rank0)
        fprintf(out, "pairs     %llu seen = %.4g epochs of %llu pairs\n", (unsigned long long)(tr->consumed_samples / 2),
                (double)tr->consumed_samples / 2.0 / (double)st->n[0], (unsigned long long)st->n[0]);
    if (st->has_valid && st->ready) pref_heldout(st, tr, out);
}

const nt_phase nt_phase_dpo = {
    .name = "dpo",
    .what = "direct preference optimisation with an SFT term on preference pairs (prep --format preference), [align]",
    .head = "lm",
    .check = pref_check,
    .open = pref_open,
    .describe = pref_describe,
    .close = pref_close,
    .with_mask = 1,
    .fill = pref_fill,
    .before_step = pref_before_step,
    .loss = pref_loss,
    .nacc = A_N,
    .metrics = pref_metrics,
    .summary = pref_summary,
    .total_steps = pref_total_steps,
};

const nt_phase nt_phase_rpo = {
    .name = "rpo",
    .what = "reward-aware preference optimisation (the report's RPO): pairs with rewards r*, [align]",
    .head = "lm",
    .check = pref_check,
    .open = pref_open,
    .describe = pref_describe,
    .close = pref_close,
    .with_mask = 1,
    .fill = pref_fill,
    .before_step = pref_before_step,
    .loss = pref_loss,
    .nacc = A_N,
    .metrics = pref_metrics,
    .summary = pref_summary,
    .total_steps = pref_total_steps,
};
