/* generate.c — `ntron generate DECK` (and run.phase = generate): responses
 * to JSON-lines prompts from a checkpoint, n samples per prompt.
 *
 * Every rank reads and renders the whole prompt file (so a bad line is
 * found by all and reported once, before anything is written); data-
 * parallel rank d takes prompts i with i mod DP = d.  Each DP group runs
 * the decoder (decode.h) over up to generate.batch sequences at a time:
 * a job (prompt i, sample j) takes a free KV-cache slot, is prefilled with
 * the training attention (the jobs admitted together in one B x T
 * forward, padded to the longest), and then decodes one token per step
 * together with the other active jobs; a finished job leaves its slot to
 * the next.
 * Token `step` of job (i, j) is drawn by sample.c from the stream keyed
 * (run.seed, prompt key, j, step), the prompt key being a hash of the
 * line's "id" field (its JSON text) or, without one, of the prompt's
 * tokens, so a response does not depend on the batch, the prompt order,
 * the rank count or the layout (identical prompts without ids get the
 * same samples).  Stops: EOS ("eos"), a chat
 * control token, i.e. the template's end of turn <extra_id_1>
 * ("end_of_turn"), a stop string ("stop", the text cut before it),
 * max_new_tokens or the end of the context ("length"); a prompt that does
 * not leave room for one new token is refused ("refused", with the
 * reason) and the others go on. */
#include "infer/infer.h"
#include "infer/decode.h"
#include "infer/sample.h"
#include "backend/backend.h"
#include "cli/cli_flags.h"
#include "prep/prep_format.h"
#include "util/check.h"
#include "util/json.h"
#include "util/sys.h"

#include <math.h>
#include <string.h>
#include <xxhash.h>

/* ---- deck --------------------------------------------------------------- */

/* generate.stop: a JSON array of non-empty strings ("" = none); returns the
 * parsed array (NULL for none) or -1 through *bad with the reason */
static cJSON *parse_stops(const char *text, char *why, size_t n, int *bad)
{
    *bad = 0;
    if (!text[0]) return NULL;
    cJSON *a = nt_json_parse(text, strlen(text), why, n);
    if (!a) { *bad = 1; return NULL; }
    if (!cJSON_IsArray(a)) { snprintf(why, n, "expected a JSON array of strings, e.g. [\"###\"]"); *bad = 1; }
    for (int i = 0; !*bad && i < cJSON_GetArraySize(a); i++) {
        const cJSON *s = cJSON_GetArrayItem(a, i);
        if (!cJSON_IsString(s) || !s->valuestring[0]) {
            snprintf(why, n, "item %d is not a non-empty string", i + 1);
            *bad = 1;
        }
    }
    if (*bad) { cJSON_Delete(a); return NULL; }
    return a;
}

void nt_generate_deck_check(const nt_config *c, const nt_deck_info *in)
{
    if (strcmp(c->head, "lm") != 0)
        nt_deck_bad(in, "model.head", "generate needs a language model: model.head = lm, not %s", c->head);
    if (!c->gen_input[0]) nt_deck_bad(in, "generate.input", "is empty: name the JSON-lines prompt file");
    if (!c->gen_output[0]) nt_deck_bad(in, "generate.output", "is empty: name the output file");
    if (!c->ckpt_load[0]) nt_deck_bad(in, "checkpoint.load", "is empty: generate needs a checkpoint");
    if (!c->tokenizer[0]) nt_deck_bad(in, "data.tokenizer", "is empty: generate needs the tokenizer ('byte' or a .model)");
    if (c->gen_max_new_tokens >= c->seq_len)
        nt_deck_bad(in, "generate.max_new_tokens", "%d is beyond the context: model.seq_len = %d leaves at most %d new tokens",
                    c->gen_max_new_tokens, c->seq_len, c->seq_len - 1);
    char why[512];
    int bad;
    cJSON *s = parse_stops(c->gen_stop, why, sizeof why, &bad);
    if (bad) nt_deck_bad(in, "generate.stop", "%s", why);
    cJSON_Delete(s);
}

/* ---- jobs and sequences ------------------------------------------------ */

typedef struct gen_item {
    nt_u32vec ids;              /* rendered prompt */
    int chat;                   /* rendered with the chat template */
    uint64_t key;               /* the prompt's random stream: its "id", else its tokens (not its place in the file) */
    char refused[256];          /* non-empty: why the prompt is not generated */
} gen_item;

typedef struct gen_seq {
    int job, item, sample, slot, len, step;
    int32_t next;               /* sampled, not yet in the cache */
    nt_u32vec resp;
    float *lp;
    int nlp, caplp;
} gen_seq;

struct nt_gen {
    nt_config cfg_own;          /* the deck's values (sampling, model, checkpoint) */
    const nt_config *cfg;       /* = &cfg_own */
    nt_tokenizer tok;
    int loaded;                 /* the model set and decoder exist */
    const nt_lines *in;         /* the prompts of nt_gen_render (not owned) */
    gen_item *items;
    int nitems;
    cJSON *stops;
    nt_sampling sp;
    nt_modelset ms;
    nt_decoder dec;
    char **out;                 /* [local jobs] finished records */
    int *job_item;              /* [local jobs] global item index */
    float *host;                /* logits on the host [rows, vocab_local] */
    long prompt_tokens;         /* real (unpadded) tokens prefilled */
};
typedef struct nt_gen gen;

static void set(cJSON *o, const char *key, cJSON *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    nt_json_add(o, key, v);
}

static char *record(gen *g, int item, int sample, const char *text, const uint32_t *ids, int ntok, const char *reason,
                    const char *error, const float *lp, int nlp)
{
    cJSON *o = cJSON_Duplicate(g->in->obj[item], 1);
    NT_CHECK(o, "out of memory for an output record");
    set(o, "prompt_index", cJSON_CreateNumber(item));
    set(o, "sample", cJSON_CreateNumber(sample));
    set(o, "response", cJSON_CreateString(text));
    set(o, "prompt_tokens", cJSON_CreateNumber((double)g->items[item].ids.n));
    set(o, "response_tokens", cJSON_CreateNumber(ntok));
    cJSON *ri = nt_json_array();   /* the generated token ids (a stop string cuts the text only) */
    for (int k = 0; k < ntok; k++) nt_json_push(ri, cJSON_CreateNumber(ids[k]));
    set(o, "response_ids", ri);
    set(o, "finish_reason", cJSON_CreateString(reason));
    if (error) set(o, "error", cJSON_CreateString(error));
    if (g->cfg->gen_logprobs && !error) {
        cJSON *a = nt_json_array();
        for (int k = 0; k < nlp; k++) nt_json_push(a, cJSON_CreateNumber(lp[k]));
        set(o, "logprobs", a);
    }
    char *s = cJSON_PrintUnformatted(o);
    NT_CHECK(s, "out of memory printing an output record");
    cJSON_Delete(o);
    return s;
}

/* the response text, cut before the first stop string; 1 if one was found */
static int response_text(gen *g, const gen_seq *q, char **text)
{
    *text = nt_tokenizer_decode(&g->tok, q->resp.v, q->resp.n);
    int cut = -1;
    for (int i = 0; g->stops && i < cJSON_GetArraySize(g->stops); i++) {
        const char *hit = strstr(*text, cJSON_GetArrayItem(g->stops, i)->valuestring);
        if (hit && (cut < 0 || hit - *text < cut)) cut = (int)(hit - *text);
    }
    if (cut >= 0) (*text)[cut] = 0;
    return cut >= 0;
}

/* token `t` (log-prob lp) sampled for q: 1 if q is finished (its record written) */
static int take_token(gen *g, gen_seq *q, int32_t t, float lp)
{
    const nt_tokenizer *k = &g->tok;
    const char *reason = NULL;
    if (t == k->eod) reason = "eos";
    else if (t == k->user_id || t == k->asst_id || t == k->sys_id) reason = "end_of_turn";
    else {
        nt_u32vec_push(&q->resp, (uint32_t)t);
        if (q->nlp == q->caplp) {
            q->caplp = q->caplp ? 2 * q->caplp : 64;
            q->lp = realloc(q->lp, (size_t)q->caplp * sizeof *q->lp);
            NT_CHECK(q->lp, "out of memory for log-probs");
        }
        q->lp[q->nlp++] = lp;
    }
    char *text = NULL;
    int stopped = 0;
    if (g->stops) stopped = response_text(g, q, &text);   /* a stop string may end in any token */
    if (!reason && stopped) reason = "stop";
    if (!reason && (int)q->resp.n >= g->cfg->gen_max_new_tokens) reason = "length";
    if (!reason && (int)(g->items[q->item].ids.n + q->resp.n) >= g->cfg->seq_len) reason = "length";
    if (!reason) { free(text); return 0; }
    if (!text) response_text(g, q, &text);
    /* the template ends an assistant turn with "\n" before its end token: not part of the response */
    size_t tl = strlen(text);
    if (g->items[q->item].chat && (!strcmp(reason, "eos") || !strcmp(reason, "end_of_turn")) && tl && text[tl - 1] == '\n')
        text[tl - 1] = 0;
    g->out[q->job] = record(g, q->item, q->sample, text, q->resp.v, (int)q->resp.n, reason, NULL, q->lp, q->nlp);
    free(text);
    return 1;
}

/* sample the rows of the step's logits (last stage), share with the other stages */
static void sample_rows(gen *g, const void *logits, int n, gen_seq **qs, int32_t *tok, float *lp)
{
    nt_modelset *ms = &g->ms;
    if (logits) {
        const nt_model *m = nt_decoder_head(&g->dec);
        int V = m->mc.vocab_local;
        ms->ops->from_act(g->host, logits, (size_t)n * V);
        uint64_t *keys = nt_malloc((size_t)n * sizeof(uint64_t), "sampling keys");
        for (int i = 0; i < n; i++)
            keys[i] = nt_sample_key(g->cfg->seed, g->items[qs[i]->item].key, (uint64_t)qs[i]->sample, (uint64_t)qs[i]->step);
        nt_sample(&g->sp, g->host, n, V, m->mc.vocab_lo, &ms->grid.tp_comm, keys, tok, lp);
        free(keys);
    }
    if (ms->grid.PP > 1) {
        nt_comm_bcast(&ms->grid.pp_comm, tok, (size_t)n * sizeof *tok, ms->grid.PP - 1);
        nt_comm_bcast(&ms->grid.pp_comm, lp, (size_t)n * sizeof *lp, ms->grid.PP - 1);
    }
}

static void seq_free(gen_seq *q)
{
    free(q->resp.v);
    free(q->lp);
    memset(q, 0, sizeof *q);
}

/* the generation loop of this DP rank over its jobs */
static void run_jobs(gen *g, int njobs, int n)
{
    const nt_config *c = g->cfg;
    int S = c->gen_batch;
    gen_seq *act = nt_calloc((size_t)S, sizeof *act, "active sequences");
    gen_seq **qs = nt_calloc((size_t)S, sizeof *qs, "step sequences");
    int *free_slots = nt_malloc((size_t)S * sizeof(int), "free slots"), nfree = S, nact = 0, next = 0;
    for (int s = 0; s < S; s++) free_slots[s] = S - 1 - s;
    int32_t *tok = nt_malloc((size_t)S * sizeof(int32_t), "step tokens");
    float *lp = nt_malloc((size_t)S * sizeof(float), "step log-probs");
    int *slot = nt_malloc((size_t)S * sizeof(int), "step slots"), *pos = nt_malloc((size_t)S * sizeof(int), "step positions");
    int *rows = nt_malloc((size_t)(S > 1 ? S : 1) * sizeof(int), "step rows");
    for (int i = 0; i < S; i++) rows[i] = i;
    while (next < njobs || nact > 0) {
        /* admit new jobs into free slots: prefill a group of prompts together (the
         * training attention over B x T, shorter prompts padded at the end: their
         * padding is causal-masked from their own rows and its cache entries are
         * overwritten by their decode steps before anything attends to them),
         * then sample each prompt's first token from the logits of its last row */
        while (nfree > 0 && next < njobs) {
            int k = 0, T = 0;
            while (k < nfree && next < njobs) {
                int job = next, item = g->job_item[job], sample = job % n;
                const gen_item *it = &g->items[item];
                if (it->refused[0]) {
                    g->out[job] = record(g, item, sample, "", NULL, 0, "refused", it->refused, NULL, 0);
                    next++;
                    continue;
                }
                int p = (int)it->ids.n, nt = p > T ? p : T;
                if (k > 0 && (k + 1) * nt > g->dec.max_rows) break;
                gen_seq *q = &act[nact + k];
                memset(q, 0, sizeof *q);
                q->job = job; q->item = item; q->sample = sample; q->slot = free_slots[nfree - 1 - k];
                q->len = p;
                g->prompt_tokens += p;
                k++;
                T = nt;
                next++;
            }
            if (k == 0) break;
            nfree -= k;
            int32_t *ptok = nt_malloc((size_t)k * T * sizeof(int32_t), "prefill tokens");
            int *pslot = nt_malloc((size_t)k * sizeof(int), "prefill slots");
            int *ppos = nt_calloc((size_t)k, sizeof(int), "prefill positions");
            int *last = nt_malloc((size_t)k * sizeof(int), "prefill rows");
            for (int b = 0; b < k; b++) {
                gen_seq *q = &act[nact + b];
                const gen_item *it = &g->items[q->item];
                for (int t = 0; t < T; t++) ptok[(size_t)b * T + t] = t < q->len ? (int32_t)it->ids.v[t] : (int32_t)g->tok.eod;
                pslot[b] = q->slot;
                last[b] = b * T + q->len - 1;
                qs[b] = q;
            }
            const void *lg = nt_decoder_step(&g->dec, k, T, ptok, pslot, ppos, k, last);
            sample_rows(g, lg, k, qs, tok, lp);
            free(ptok); free(pslot); free(ppos); free(last);
            int keep = nact;
            for (int b = 0; b < k; b++) {
                gen_seq *q = &act[nact + b];
                if (take_token(g, q, tok[b], lp[b])) { free_slots[nfree++] = q->slot; seq_free(q); continue; }
                q->next = tok[b];
                if (keep != nact + b) { act[keep] = *q; memset(q, 0, sizeof *q); }
                keep++;
            }
            nact = keep;
        }
        if (nact == 0) continue;
        /* one decode step for every active sequence */
        for (int i = 0; i < nact; i++) {
            gen_seq *q = &act[i];
            tok[i] = q->next; slot[i] = q->slot; pos[i] = q->len; qs[i] = q;
            q->step++;
        }
        const void *lg = nt_decoder_step(&g->dec, nact, 1, tok, slot, pos, nact, rows);
        sample_rows(g, lg, nact, qs, tok, lp);
        int keep = 0;
        for (int i = 0; i < nact; i++) {
            gen_seq *q = &act[i];
            q->len++;
            if (take_token(g, q, tok[i], lp[i])) { free_slots[nfree++] = q->slot; seq_free(q); continue; }
            q->next = tok[i];
            if (keep != i) { act[keep] = *q; memset(q, 0, sizeof *q); }
            keep++;
        }
        nact = keep;
    }
    free(act); free(qs); free(free_slots); free(tok); free(lp); free(slot); free(pos); free(rows);
}

/* ---- the generator (infer.h: nt_gen_*) ------------------------------------ */

nt_gen *nt_gen_create(const nt_config *cfg)
{
    nt_comm world;
    nt_comm_from_mpi(&world, MPI_COMM_WORLD, "world");
    gen *g = nt_calloc(1, sizeof *g, "generator");
    g->cfg_own = *cfg;
    g->cfg = &g->cfg_own;
    /* bad input, found alike by every rank, reported once */
    nt_catch ct;
    if (NT_TRY(&ct)) {
        nt_tokenizer_open(&g->tok, cfg->tokenizer);
        nt_catch_end(&ct);
    }
    nt_comm_agree(&world, ct.status ? ct.status : NT_EXIT_INPUT, ct.msg);
    char err[2048] = "";
    if (g->tok.vocab > cfg->vocab)
        snprintf(err, sizeof err, "data.tokenizer %s has %d ids, more than model.vocab = %d", cfg->tokenizer, g->tok.vocab,
                 cfg->vocab);
    nt_comm_agree(&world, NT_EXIT_INPUT, err);
    int bad;
    g->stops = parse_stops(cfg->gen_stop, err, sizeof err, &bad);   /* checked by the deck check */
    g->sp = (nt_sampling){cfg->gen_temperature, cfg->gen_top_k, cfg->gen_top_p};
    return g;
}

const nt_tokenizer *nt_gen_tokenizer(const nt_gen *g) { return &g->tok; }

void nt_gen_set_temperature(nt_gen *g, double t) { g->sp.temperature = t; }

static void free_items(gen *g)
{
    for (int i = 0; i < g->nitems; i++) free(g->items[i].ids.v);
    free(g->items);
    g->items = NULL;
    g->nitems = 0;
    g->in = NULL;
}

int nt_gen_render(nt_gen *g, const nt_lines *in, const char *label, char *err, size_t errlen)
{
    const nt_config *c = g->cfg;
    free_items(g);
    g->in = in;
    g->nitems = in->n;
    g->items = nt_calloc((size_t)(in->n ? in->n : 1), sizeof *g->items, "prompts");
    for (int i = 0; i < in->n; i++) {
        const cJSON *o = in->obj[i];
        gen_item *it = &g->items[i];
        char why[512];
        int rc;
        const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(o, "messages");
        it->chat = msgs != NULL;
        if (msgs) rc = nt_prep_render_prompt(&g->tok, msgs, "messages", &it->ids, why, sizeof why);
        else {
            const char *text;
            int k = nt_json_get_string(o, "prompt", &text, why, sizeof why);
            if (k == 0) snprintf(why, sizeof why, "no \"messages\" (a conversation) and no \"prompt\" (raw text) field");
            rc = k > 0 ? nt_tokenizer_encode(&g->tok, text, strlen(text), &it->ids, why, sizeof why) : -1;
            if (!rc && it->ids.n == 0) { rc = -1; snprintf(why, sizeof why, "field \"prompt\" is empty"); }
        }
        if (rc) { snprintf(err, errlen, "%s:%d: %s", label, in->lineno ? in->lineno[i] : i + 1, why); return -1; }
        for (size_t k = 0; k < it->ids.n; k++)
            if ((int)it->ids.v[k] >= c->vocab) {
                snprintf(err, errlen, "%s:%d: token id %u is beyond model.vocab = %d", label,
                         in->lineno ? in->lineno[i] : i + 1, it->ids.v[k], c->vocab);
                return -1;
            }
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
        char *idtext = id ? cJSON_PrintUnformatted(id) : NULL;
        NT_CHECK(!id || idtext, "out of memory");
        it->key = idtext ? XXH64(idtext, strlen(idtext), 1) : XXH64(it->ids.v, it->ids.n * sizeof(uint32_t), 2);
        free(idtext);
        if ((int)it->ids.n >= c->seq_len)
            snprintf(it->refused, sizeof it->refused,
                     "prompt of %zu tokens leaves no room for a response in the context of model.seq_len = %d",
                     it->ids.n, c->seq_len);
    }
    return 0;
}

void nt_gen_load(nt_gen *g, const nt_deck_info *info, int maxp)
{
    const nt_config *cfg = g->cfg;
    const nt_ops *ops = nt_backend_select(cfg, info);
    nt_config mc = *cfg;
    mc.sequence_parallel = 0;   /* decode steps have one row per sequence */
    nt_infer_load(&g->ms, &mc, ops);
    if (maxp <= 0)   /* the longest rendered prompt of this DP rank's share */
        for (int i = g->ms.grid.dp; i < g->nitems; i += g->ms.grid.DP)
            if (!g->items[i].refused[0] && (int)g->items[i].ids.n > maxp) maxp = (int)g->items[i].ids.n;
    if (maxp < 1) maxp = 1;
    int S = cfg->gen_batch;
    /* rows of one step: a decode step (S), the longest prompt alone, or a
     * prefill group of several prompts within a budget of 2048 rows */
    long rows = (long)S * maxp < 2048 ? (long)S * maxp : 2048;
    if (rows < maxp) rows = maxp;
    if (rows < S) rows = S;
    nt_decoder_init(&g->dec, &g->ms, S, cfg->seq_len, (int)rows);
    const nt_model *head = nt_decoder_head(&g->dec);
    if (head) g->host = nt_malloc((size_t)S * head->mc.vocab_local * sizeof(float), "host logits");
    g->loaded = 1;
}

const nt_grid *nt_gen_grid(const nt_gen *g) { return &g->ms.grid; }
const nt_modelset *nt_gen_modelset(const nt_gen *g) { return &g->ms; }

void nt_gen_run(nt_gen *g, int n, nt_records *out)
{
    NT_CHECK(g->loaded && g->in, "internal: nt_gen_run before nt_gen_load and nt_gen_render");
    const nt_grid *gr = &g->ms.grid;
    int DP = gr->DP, dp = gr->dp;
    int nlocal = 0;
    for (int i = dp; i < g->nitems; i += DP) nlocal++;
    int njobs = nlocal * n;
    g->out = nt_calloc((size_t)(njobs ? njobs : 1), sizeof *g->out, "output records");
    g->job_item = nt_malloc((size_t)(njobs ? njobs : 1) * sizeof(int), "jobs");
    for (int k = 0, i = dp; i < g->nitems; i += DP, k++)
        for (int j = 0; j < n; j++) g->job_item[k * n + j] = i;
    run_jobs(g, njobs, n);
    for (int k = 0; k < njobs; k++) nt_records_push(out, g->out[k]);
    free(g->out);
    free(g->job_item);
    g->out = NULL;
    g->job_item = NULL;
}

void nt_gen_stats(const nt_gen *g, double st[4])
{
    const nt_grid *gr = &g->ms.grid;
    int lead = gr->tp == 0 && gr->pp == 0;
    st[0] = lead ? (double)g->prompt_tokens : 0;
    st[1] = lead ? g->dec.t_prefill : 0;
    st[2] = lead ? (double)g->dec.n_decode : 0;
    st[3] = lead ? g->dec.t_decode : 0;
}

void nt_gen_free(nt_gen *g)
{
    if (!g) return;
    free_items(g);
    free(g->host);
    if (g->loaded) {
        nt_decoder_free(&g->dec);
        nt_modelset_free(&g->ms);
    }
    cJSON_Delete(g->stops);
    nt_tokenizer_close(&g->tok);
    free(g);
}

/* ---- the driver ---------------------------------------------------------- */

int nt_generate_run(const nt_config *cfg, const nt_deck_info *info)
{
    nt_comm world;
    nt_comm_from_mpi(&world, MPI_COMM_WORLD, "world");
    nt_infer_echo(cfg, info, "generate");
    gen *g = nt_gen_create(cfg);
    nt_lines in = {0};
    char err[2048] = "";
    /* bad input, found alike by every rank, reported once before anything is written */
    nt_lines_read(&in, cfg->gen_input, "generate.input", err, sizeof err);
    if (!err[0]) nt_gen_render(g, &in, cfg->gen_input, err, sizeof err);
    if (!err[0]) nt_infer_check_output(cfg->gen_output, "generate.output", cfg->gen_input, err, sizeof err);
    if (!err[0] && world.rank == 0) nt_infer_check_head(cfg->ckpt_load, "lm", "generate", err, sizeof err);
    nt_comm_agree(&world, NT_EXIT_INPUT, err);

    int n = cfg->gen_n;
    nt_gen_load(g, info, 0);
    const nt_grid *gr = &g->ms.grid;
    int S = cfg->gen_batch;
    if (world.rank == 0) {
        printf("generate %d prompts x %d samples from %s: %s, batch %d per DP rank, TP %d x PP %d x DP %d, "
               "temperature %g, top_k %d, top_p %g, max_new_tokens %d, KV cache %.3g MiB per rank\n",
               in.n, n, cfg->ckpt_load, g->ms.ops->name, S, gr->TP, gr->PP, gr->DP, cfg->gen_temperature,
               cfg->gen_top_k, cfg->gen_top_p, cfg->gen_max_new_tokens,
               nt_kvcache_bytes(&g->dec.kv[0]) * g->ms.v / 1048576.0);
        fflush(stdout);
    }
    double t0 = nt_now();
    nt_records rec = {0};
    nt_gen_run(g, n, &rec);
    double dt = nt_now() - t0;
    nt_infer_write(&g->ms, &rec, in.n, n, cfg->gen_output);
    /* summed over the DP groups (their first rank): tokens and the seconds spent on them */
    double stats[4];
    nt_gen_stats(g, stats);
    nt_comm_allreduce_f64(&world, stats, 4, NT_SUM);
    if (world.rank == 0)
        printf("generate done: %s, %d records in %.2f s; prefill %.0f tokens at %.1f tokens/s, decode %.0f tokens "
               "at %.1f tokens/s (per DP group)\n",
               cfg->gen_output, in.n * n, dt, stats[0], stats[1] > 0 ? stats[0] / stats[1] : 0, stats[2],
               stats[3] > 0 ? stats[2] / stats[3] : 0);
    nt_records_free(&rec);
    nt_gen_free(g);
    nt_lines_free(&in);
    return 0;
}

int nt_infer_cmd(const char *cmd, int argc, char **argv, int logprobs_flag)
{
    const char *deck = NULL;
    nt_flag_list setl = {0};
    int logprobs = 0;
    const nt_flag flags[] = {
        {.name = "--set", .kind = NT_FLAG_LIST, .dest = &setl, .arg = "section.key=value", .help = "override a deck key"},
        {.name = "--logprobs", .kind = NT_FLAG_SWITCH, .dest = &logprobs,
         .help = "per-token log-probs of each response under an LM checkpoint instead of rewards (score.logprobs = true)"},
    };
    const char *about = !strcmp(cmd, "generate")
                            ? "Generate responses to the JSON-lines prompts of generate.input from the checkpoint of "
                              "checkpoint.load into generate.output (under mpirun/srun for TP/PP/DP)."
                            : "Score the JSON-lines conversations of score.input with the reward-model checkpoint of "
                              "checkpoint.load (or, with --logprobs, an LM's per-token log-probs) into score.output.";
    const nt_cli cli = {cmd, "DECK", 1, 1, about, flags, logprobs_flag ? 2 : 1};
    nt_cli_parse(&cli, argc, argv, &deck);
    int nset = setl.n + 1 + (logprobs != 0);
    char **sets = nt_calloc((size_t)nset + 1, sizeof(char *), "--set list");
    for (int i = 0; i < setl.n; i++) sets[i] = setl.v[i];
    char phase[64];
    snprintf(phase, sizeof phase, "run.phase=%s", cmd);
    sets[setl.n] = phase;
    char lpset[] = "score.logprobs=true";
    if (logprobs) sets[setl.n + 1] = lpset;
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    nt_config cfg;
    nt_deck_info info;
    nt_deck_load_agreed(&cfg, &info, deck, nset, sets);
    int rc = !strcmp(cmd, "generate") ? nt_generate_run(&cfg, &info) : nt_score_run(&cfg, &info);
    free(sets);
    free(setl.v);
    NT_CHECK_MPI(MPI_Finalize());
    return rc;
}

int nt_generate_main(int argc, char **argv) { return nt_infer_cmd("generate", argc, argv, 0); }
