/* score.c — `ntron score DECK` (and run.phase = score): the reward model
 * as judge.  Each JSON line holds a "prompt" (messages or a string) and a
 * "response"; the conversation is rendered as `ntron prep --format reward`
 * renders a training sample (prompt template, response, "\n", EOS) and
 * the reward head's K attribute scores are read at its last token, as in
 * training.  The output carries the input's fields and adds "scores" (the
 * K values, named by the HelpSteer2 attributes when K = 5) and "reward" =
 * sum of score.weights x scores.  With --logprobs (score.logprobs = true)
 * an LM checkpoint gives instead the per-token log-probs of the response
 * tokens ("logprobs", "logprob_sum"): what evaluation and a DPO reference
 * need.
 *
 * The forward is the frozen model set's forward-only pipeline pass (the
 * training forward), score.batch conversations per pass on each
 * data-parallel rank, which takes lines i with i mod DP = its rank.  A
 * conversation longer than model.seq_len is refused on its own line
 * ("error"); malformed lines stop the job before anything is written. */
#include "infer/infer.h"
#include "backend/backend.h"
#include "prep/prep_format.h"
#include "util/check.h"
#include "util/json.h"
#include "util/sys.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OUTPUTS 64

/* score.weights: exactly n numbers */
static int parse_weights(const char *text, int n, double *w, char *why, size_t wn)
{
    const char *p = text;
    int k = 0;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        char *end;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v)) { snprintf(why, wn, "'%s' is not a list of numbers", text); return -1; }
        if (k < n) w[k] = v;
        k++;
        p = end;
    }
    if (k != n) {
        snprintf(why, wn, "%d weights for model.reward_outputs = %d scores", k, n);
        return -1;
    }
    return 0;
}

void nt_score_deck_check(const nt_config *c, const nt_deck_info *in)
{
    const char *want = c->score_logprobs ? "lm" : "reward";
    if (strcmp(c->head, want) != 0)
        nt_deck_bad(in, "model.head", "score%s needs model.head = %s (%s), not %s", c->score_logprobs ? " --logprobs" : "",
                    want, c->score_logprobs ? "an LM checkpoint's log-probs" : "a reward-model checkpoint", c->head);
    if (!c->score_input[0]) nt_deck_bad(in, "score.input", "is empty: name the JSON-lines conversations to score");
    if (!c->score_output[0]) nt_deck_bad(in, "score.output", "is empty: name the output file");
    if (!c->ckpt_load[0]) nt_deck_bad(in, "checkpoint.load", "is empty: score needs a checkpoint");
    if (!c->tokenizer[0]) nt_deck_bad(in, "data.tokenizer", "is empty: score needs the tokenizer ('byte' or a .model)");
    if (c->reward_outputs > MAX_OUTPUTS)
        nt_deck_bad(in, "model.reward_outputs", "%d is above the %d scores score handles", c->reward_outputs, MAX_OUTPUTS);
    double w[MAX_OUTPUTS];
    char why[256];
    if (!c->score_logprobs && parse_weights(c->score_weights, c->reward_outputs, w, why, sizeof why))
        nt_deck_bad(in, "score.weights", "%s", why);
}

typedef struct score_item {
    nt_u32vec ids;
    size_t resp0;             /* first response token */
    char refused[256];
} score_item;

typedef struct stage_out {
    int K, T, logprobs;
    float *scores;            /* [rows, K] */
    float *logp;              /* [rows, T] */
} stage_out;

static double stage_fn(void *state, const nt_stage *s)
{
    stage_out *o = state;
    if (o->logprobs) return nt_stage_logprobs(o->logp, s);
    nt_model_head_scores(s->model, s->acts, s->batch->ends + s->row0, o->scores + (size_t)s->row0 * o->K);
    return 0.0;
}

struct nt_scorer {
    nt_config cfg;
    nt_tokenizer tok;
    int loaded;
    nt_modelset ms;
    const nt_lines *in;
    score_item *items;
    int nitems;
    double w[MAX_OUTPUTS];
    long ntokens;             /* real tokens scored by this rank */
};

nt_scorer *nt_scorer_create(const nt_config *cfg)
{
    nt_comm world;
    nt_comm_from_mpi(&world, MPI_COMM_WORLD, "world");
    nt_scorer *sc = nt_calloc(1, sizeof *sc, "scorer");
    sc->cfg = *cfg;
    nt_catch ct;
    if (NT_TRY(&ct)) {
        nt_tokenizer_open(&sc->tok, cfg->tokenizer);
        nt_catch_end(&ct);
    }
    nt_comm_agree(&world, ct.status ? ct.status : NT_EXIT_INPUT, ct.msg);
    char err[2048] = "";
    if (!cfg->score_logprobs) parse_weights(cfg->score_weights, cfg->reward_outputs, sc->w, err, sizeof err);
    if (!err[0] && sc->tok.vocab > cfg->vocab)
        snprintf(err, sizeof err, "data.tokenizer %s has %d ids, more than model.vocab = %d", cfg->tokenizer,
                 sc->tok.vocab, cfg->vocab);
    nt_comm_agree(&world, NT_EXIT_INPUT, err);
    return sc;
}

static void scorer_free_items(nt_scorer *sc)
{
    for (int i = 0; i < sc->nitems; i++) free(sc->items[i].ids.v);
    free(sc->items);
    sc->items = NULL;
    sc->nitems = 0;
    sc->in = NULL;
}

int nt_scorer_render(nt_scorer *sc, const nt_lines *in, const char *label, char *err, size_t errlen)
{
    int T = sc->cfg.seq_len;
    scorer_free_items(sc);
    sc->in = in;
    sc->nitems = in->n;
    sc->items = nt_calloc((size_t)(in->n ? in->n : 1), sizeof *sc->items, "conversations");
    for (int i = 0; i < in->n; i++) {
        char why[512];
        const char *resp;
        const cJSON *prompt = nt_json_field(in->obj[i], "prompt", why, sizeof why);
        int rc = prompt ? 0 : -1;
        if (!rc && nt_json_get_string(in->obj[i], "response", &resp, why, sizeof why) <= 0) rc = -1;
        if (!rc) rc = nt_prep_render_scored(&sc->tok, prompt, resp, &sc->items[i].ids, &sc->items[i].resp0, why, sizeof why);
        if (rc) {
            snprintf(err, errlen, "%s:%d: %s", label, in->lineno ? in->lineno[i] : i + 1, why);
            return -1;
        }
        if ((int)sc->items[i].ids.n > T)
            snprintf(sc->items[i].refused, sizeof sc->items[i].refused,
                     "conversation of %zu tokens is longer than the context model.seq_len = %d", sc->items[i].ids.n, T);
    }
    return 0;
}

void nt_scorer_load(nt_scorer *sc, const nt_deck_info *info)
{
    const nt_ops *ops = nt_backend_select(&sc->cfg, info);
    nt_config mc = sc->cfg;
    mc.micro_batch = sc->cfg.score_batch;
    nt_infer_load(&sc->ms, &mc, ops);
    sc->loaded = 1;
}

const nt_grid *nt_scorer_grid(const nt_scorer *sc) { return &sc->ms.grid; }
const nt_modelset *nt_scorer_modelset(const nt_scorer *sc) { return &sc->ms; }
long nt_scorer_tokens(const nt_scorer *sc) { return sc->ntokens; }

void nt_scorer_run(nt_scorer *sc, nt_records *rec)
{
    NT_CHECK(sc->loaded && sc->in, "internal: nt_scorer_run before nt_scorer_load and nt_scorer_render");
    const nt_config *cfg = &sc->cfg;
    const nt_lines *in = sc->in;
    score_item *items = sc->items;
    int lp_mode = cfg->score_logprobs, K = cfg->reward_outputs, T = cfg->seq_len;
    nt_modelset *ms = &sc->ms;
    nt_grid *g = &ms->grid;
    int B = cfg->score_batch, DP = g->DP;
    int *mine = nt_malloc((size_t)(in->n ? in->n : 1) * sizeof(int), "local items"), nmine = 0;
    for (int i = g->dp; i < in->n; i += DP)
        if (!items[i].refused[0]) mine[nmine++] = i;
    nt_batch b = {0};
    nt_batch_reserve(&b, B, T, lp_mode, 0);
    stage_out so = {K, T, lp_mode, nt_calloc((size_t)B * K, sizeof(float), "scores"),
                    nt_calloc((size_t)B * T, sizeof(float), "log-probs")};
    float *all_scores = nt_calloc((size_t)(in->n ? in->n : 1) * K, sizeof(float), "scores");
    float **all_lp = nt_calloc((size_t)(in->n ? in->n : 1), sizeof(float *), "log-probs");
    for (int k0 = 0; k0 < nmine; k0 += B) {
        for (int r = 0; r < B; r++) {
            int i = mine[k0 + r < nmine ? k0 + r : k0];   /* a short last batch repeats its first row */
            const score_item *it = &items[i];
            int L = (int)it->ids.n;
            int32_t *row = nt_batch_row(&b, r);
            for (int t = 0; t <= T; t++) row[t] = t < L ? (int32_t)it->ids.v[t] : (int32_t)sc->tok.eod;
            b.ends[r] = L - 1;
            if (lp_mode) {
                uint8_t *m = nt_batch_mask(&b, r);
                for (int t = 0; t <= T; t++) m[t] = t >= (int)it->resp0 && t < L;
            }
            if (k0 + r < nmine) sc->ntokens += L;
        }
        nt_modelset_forward_pass(ms, &b, stage_fn, &so, NULL);
        /* the last stage's results to every stage (the writer is pipeline rank 0) */
        if (g->PP > 1) {
            if (lp_mode) nt_comm_bcast(&g->pp_comm, so.logp, (size_t)B * T * sizeof(float), g->PP - 1);
            else nt_comm_bcast(&g->pp_comm, so.scores, (size_t)B * K * sizeof(float), g->PP - 1);
        }
        for (int r = 0; r < B && k0 + r < nmine; r++) {
            int i = mine[k0 + r];
            if (!lp_mode) { memcpy(all_scores + (size_t)i * K, so.scores + (size_t)r * K, (size_t)K * sizeof(float)); continue; }
            int L = (int)items[i].ids.n, n0 = (int)items[i].resp0;
            all_lp[i] = nt_malloc((size_t)(L > n0 ? L - n0 : 1) * sizeof(float), "log-probs");
            /* token t is predicted at input position t - 1 */
            for (int t = n0; t < L; t++) all_lp[i][t - n0] = so.logp[(size_t)r * T + (t - 1)];
        }
    }
    static const char *const names[5] = {"helpfulness", "correctness", "coherence", "complexity", "verbosity"};
    for (int i = g->dp; i < in->n; i += DP) {
        cJSON *o = cJSON_Duplicate(in->obj[i], 1);
        NT_CHECK(o, "out of memory for an output record");
        const score_item *it = &items[i];
        cJSON_DeleteItemFromObjectCaseSensitive(o, "line_index");
        nt_json_num(o, "line_index", i);
        nt_json_num(o, "tokens", (double)it->ids.n);
        if (it->refused[0]) nt_json_str(o, "error", it->refused);
        else if (lp_mode) {
            int n = (int)(it->ids.n - it->resp0);
            cJSON *a = nt_json_array();
            double sum = 0;
            for (int t = 0; t < n; t++) { nt_json_push(a, cJSON_CreateNumber(all_lp[i][t])); sum += all_lp[i][t]; }
            nt_json_num(o, "response_tokens", n);
            nt_json_add(o, "logprobs", a);
            nt_json_num(o, "logprob_sum", sum);
        } else {
            const float *s = all_scores + (size_t)i * K;
            cJSON *scs = K == 5 ? nt_json_object() : nt_json_array();
            double rw = 0;
            for (int k = 0; k < K; k++) {
                rw += sc->w[k] * s[k];
                if (K == 5) nt_json_num(scs, names[k], s[k]);
                else nt_json_push(scs, cJSON_CreateNumber(s[k]));
            }
            nt_json_add(o, "scores", scs);
            nt_json_num(o, "reward", rw);
        }
        char *txt = cJSON_PrintUnformatted(o);
        NT_CHECK(txt, "out of memory printing an output record");
        cJSON_Delete(o);
        nt_records_push(rec, txt);
    }
    for (int i = 0; i < in->n; i++) free(all_lp[i]);
    free(all_lp); free(all_scores); free(mine); free(so.scores); free(so.logp);
    nt_batch_free(&b);
}

void nt_scorer_free(nt_scorer *sc)
{
    if (!sc) return;
    scorer_free_items(sc);
    if (sc->loaded) nt_modelset_free(&sc->ms);
    nt_tokenizer_close(&sc->tok);
    free(sc);
}

int nt_score_run(const nt_config *cfg, const nt_deck_info *info)
{
    nt_comm world;
    nt_comm_from_mpi(&world, MPI_COMM_WORLD, "world");
    nt_infer_echo(cfg, info, "score");
    nt_scorer *sc = nt_scorer_create(cfg);
    int lp_mode = cfg->score_logprobs;
    char err[2048] = "";
    nt_lines in = {0};
    nt_lines_read(&in, cfg->score_input, "score.input", err, sizeof err);
    if (!err[0]) nt_scorer_render(sc, &in, cfg->score_input, err, sizeof err);
    if (!err[0]) nt_infer_check_output(cfg->score_output, "score.output", cfg->score_input, err, sizeof err);
    if (!err[0] && world.rank == 0)
        nt_infer_check_head(cfg->ckpt_load, lp_mode ? "lm" : "reward", lp_mode ? "score --logprobs" : "score", err,
                            sizeof err);
    nt_comm_agree(&world, NT_EXIT_INPUT, err);
    nt_scorer_load(sc, info);
    const nt_grid *g = &sc->ms.grid;
    if (world.rank == 0) {
        printf("score %d conversations from %s: %s, batch %d per DP rank, TP %d x PP %d x DP %d\n", in.n,
               cfg->ckpt_load, lp_mode ? "per-token log-probs (LM head)" : "reward head", cfg->score_batch, g->TP,
               g->PP, g->DP);
        fflush(stdout);
    }
    double t0 = nt_now();
    nt_records rec = {0};
    nt_scorer_run(sc, &rec);
    double dt = nt_now() - t0;
    nt_infer_write(&sc->ms, &rec, in.n, 1, cfg->score_output);
    double st[2] = {g->tp == 0 && g->pp == 0 ? (double)sc->ntokens : 0, dt};
    nt_comm_allreduce_f64(&world, st, 2, NT_MAX);
    if (world.rank == 0)
        printf("score done: %s, %d records in %.2f s (%.0f tokens on the busiest DP rank)\n", cfg->score_output, in.n,
               st[1], st[0]);
    nt_records_free(&rec);
    nt_scorer_free(sc);
    nt_lines_free(&in);
    return 0;
}

int nt_score_main(int argc, char **argv) { return nt_infer_cmd("score", argc, argv, 1); }
