/* sdg_run.c — the synthetic-data driver: `ntron sdg DECK` and run.phase =
 * sdg.  Runs the stages of sdg.stages in order (the table: sdg_stages.c),
 * each over its input records shard by shard:
 *
 *   RUNDIR/STAGE.d/identity        sha256 of what decides the output: the stage,
 *                                  its settings, template, engine keys and inputs
 *   RUNDIR/STAGE.d/shard_NNNNN.jsonl   the output of input records
 *                                  [N x shard_size, (N+1) x shard_size), written as
 *                                  .tmp, fsynced and renamed: a shard that exists is done
 *   RUNDIR/STAGE.d/shard_NNNNN.stats.json   its counts (written before the shard)
 *   RUNDIR/STAGE.jsonl             all shards in order, duplicates removed (the stage is done)
 *   RUNDIR/STAGE.report.json       counts in and out, rates, the reward distribution
 *
 * A rerun keeps a finished stage and the finished shards of an unfinished
 * one (same identity); a stage whose identity changed is refused (exit 2)
 * rather than mixed.  The generator (checkpoint.load) and the reward model
 * (sdg.reward_model) are loaded on first use, one at a time, over every
 * rank (TP x PP x DP as the deck says); record k of a shard belongs to
 * data-parallel group k mod DP, whose first rank sends its output lines
 * to world rank 0, which writes them in input order — the same bytes for
 * any rank count, since every record's random stream is its own. */
#define _POSIX_C_SOURCE 200809L
#include "sdg/sdg.h"
#include "sdg/sdg_list.h"
#include "sdg/sdg_stage.h"
#include "sdg/sdg_verifiers.h"
#include "ckpt/ckpt.h"
#include "prep/prep.h"
#include "cli/cli_flags.h"
#include "util/check.h"
#include "util/json.h"
#include "util/rundir.h"
#include "util/sha256.h"
#include "util/sys.h"

#include <errno.h>
#include <hdf5.h>
#include <signal.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the stage list --------------------------------------------------------- */

/* the names of sdg.stages (blank- or comma-separated), at most max */
static int stage_names(const char *text, char names[][32], int max)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        size_t k = 0;
        while (p[k] && p[k] != ' ' && p[k] != '\t' && p[k] != ',') k++;
        if (n < max) snprintf(names[n], 32, "%.*s", (int)(k < 31 ? k : 31), p);
        n++;
        p += k;
    }
    return n;
}

static void template_path(const nt_config *c, const char *stage, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s.txt", c->sdg_templates, stage);
}

void nt_sdg_deck_check(const nt_config *c, const nt_deck_info *in)
{
    char names[64][32], built[512] = "";
    size_t len = 0;
    for (int i = 0; i < sdg_stage_count(); i++)
        len += (size_t)snprintf(built + len, sizeof built - len, "%s%s", i ? ", " : "", sdg_stage_at(i)->name);
    int n = stage_names(c->sdg_stages, names, 64);
    if (n == 0) nt_deck_bad(in, "sdg.stages", "is empty: name the stages to run, in order (%s)", built);
    if (n > 64) nt_deck_bad(in, "sdg.stages", "lists %d stages, more than 64", n);
    int gen = 0, rm = 0;
    for (int i = 0; i < n; i++) {
        const sdg_stage *st = sdg_stage_find(names[i]);
        if (!st) nt_deck_bad(in, "sdg.stages", "no stage named '%s' (stages: %s)", names[i], built);
        for (int j = 0; j < i; j++)
            if (!strcmp(names[j], names[i])) nt_deck_bad(in, "sdg.stages", "stage %s is listed twice", names[i]);
        /* what it reads must run before it */
        if (st->after) {
            int ok = 0;
            if (!strcmp(st->after, "prompts")) {
                static const char *const prompt_stages[] = {"questions", "revise", "writing", "closed_qa", "math", "python", "twoturn"};
                ok = c->sdg_prompts[0] != 0;
                for (int j = 0; j < i && !ok; j++)
                    for (size_t q = 0; q < sizeof prompt_stages / sizeof prompt_stages[0]; q++)
                        if (!strcmp(names[j], prompt_stages[q]) && (strcmp(prompt_stages[q], "twoturn") || !strcmp(names[i], "responses")))
                            ok = 1;
                if (!ok)
                    nt_deck_bad(in, "sdg.stages", "stage %s needs prompts: list a prompt stage (questions, revise, writing, "
                                "closed_qa, math, python%s) before it, or name a file in sdg.prompts", names[i],
                                strcmp(names[i], "responses") ? "" : ", twoturn");
            } else {
                char alts[128];
                snprintf(alts, sizeof alts, "%s", st->after);
                for (char *tok = strtok(alts, "|"); tok && !ok; tok = strtok(NULL, "|"))
                    for (int j = 0; j < i && !ok; j++) ok = !strcmp(names[j], tok);
                if (!ok) {
                    char said[128];
                    snprintf(said, sizeof said, "%s", st->after);
                    for (char *q = said; *q; q++)
                        if (*q == '|') *q = '/';
                    nt_deck_bad(in, "sdg.stages", "stage %s reads the output of %s: list it before %s", names[i], said, names[i]);
                }
            }
        }
        st->check(c, in);
        gen |= st->needs == SDG_NEEDS_GEN && !(st == sdg_stage_find("topics") && c->sdg_topics_file[0]);
        rm |= st->needs == SDG_NEEDS_RM;
        if (st->names) {   /* the template: exists, known placeholders, the required ones used */
            char path[NT_PATH_MAX + 64], why[1024];
            template_path(c, st->name, path, sizeof path);
            nt_template t;
            if (nt_template_load(&t, path, st->names, st->required, why, sizeof why))
                nt_deck_bad(in, "sdg.templates", "%s", why);
            nt_template_free(&t);
        }
    }
    if (c->sdg_prep && !c->tokenizer[0])
        nt_deck_bad(in, "sdg.prep", "= true needs data.tokenizer (the SentencePiece model of the next phases)");
    if (c->sdg_generators[0]) {
        int has = 0;
        for (int i = 0; i < n && i < 64; i++) has |= !strcmp(names[i], "responses");
        if (!has) nt_deck_bad(in, "sdg.generators", "is set, but sdg.stages has no responses stage (the one that uses them)");
        char gp[8][NT_PATH_MAX];
        int ng = sdg_generators(c, gp, 8);
        if (ng > 8) nt_deck_bad(in, "sdg.generators", "names %d checkpoints: at most 7 besides checkpoint.load", ng - 1);
    }
    int outs = 0;
    for (int i = 0; i < n && i < 64; i++)
        outs += !strcmp(names[i], "filter") || !strcmp(names[i], "pairs") || !strcmp(names[i], "genetic") || !strcmp(names[i], "judge");
    if (c->sdg_prep && !outs)
        nt_deck_bad(in, "sdg.prep", "= true, but sdg.stages has none of filter, pairs, genetic, judge: nothing to prepare");
    if (gen && strcmp(c->head, "lm") != 0)
        nt_deck_bad(in, "model.head", "the generator needs a language model: model.head = lm, not %s", c->head);
    if (gen && !c->ckpt_load[0]) nt_deck_bad(in, "checkpoint.load", "is empty: the generating stages need the generator's checkpoint");
    if ((gen || rm) && !c->tokenizer[0]) nt_deck_bad(in, "data.tokenizer", "is empty: name the tokenizer ('byte' or a .model)");
    if (gen && c->gen_max_new_tokens >= c->seq_len)
        nt_deck_bad(in, "generate.max_new_tokens", "%d is beyond the context: model.seq_len = %d leaves at most %d new tokens",
                    c->gen_max_new_tokens, c->seq_len, c->seq_len - 1);
}

/* ---- services to the stages --------------------------------------------------- */

int sdg_mine(const sdg_ctx *x, int k) { return x->lead && (k - x->shard_a) % x->DP == x->dp; }

int sdg_ran_before(const sdg_ctx *x, const char *name)
{
    char key[40];
    snprintf(key, sizeof key, " %s ", name);
    const char *hit = strstr(x->listed, key), *me;
    char mk[40];
    snprintf(mk, sizeof mk, " %s ", x->stage->name);
    me = strstr(x->listed, mk);
    return hit && me && hit < me;
}

static void stage_file(const sdg_ctx *x, const char *name, const char *suffix, char *buf, size_t n)
{
    int w = snprintf(buf, n, "%s/%s%s", x->dir, name, suffix);
    if (w < 0 || (size_t)w >= n) nt_input_error("%s/%s%s: path longer than %zu characters", x->dir, name, suffix, n - 1);
}

int sdg_read_stage(sdg_ctx *x, const char *name, cJSON *arr, char *err, size_t errlen)
{
    char path[NT_PATH_MAX + 64];
    stage_file(x, name, ".jsonl", path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f) { snprintf(err, errlen, "%s: cannot open the output of stage %s: %s", path, name, strerror(errno)); return -1; }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int lineno = 0, rc = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (got <= 1) continue;
        char why[512];
        cJSON *o = nt_json_parse(line, (size_t)got, why, sizeof why);
        if (!o || !cJSON_IsObject(o)) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, o ? "not a JSON object" : why);
            cJSON_Delete(o);
            rc = -1;
            break;
        }
        nt_json_push(arr, o);
    }
    free(line);
    fclose(f);
    return rc;
}

void sdg_write_json(const char *path, cJSON *v)
{
    char *txt = cJSON_Print(v);
    NT_CHECK(txt, "out of memory");
    cJSON_Delete(v);
    size_t tl = strlen(txt);
    txt = realloc(txt, tl + 2);
    NT_CHECK(txt, "out of memory");
    txt[tl] = '\n';
    txt[tl + 1] = 0;
    sdg_write_atomic(path, txt, tl + 1);
    free(txt);
}

const char *sdg_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

void sdg_lines_add(sdg_lines *l, cJSON *rec)
{
    char *t = sdg_print(rec);
    if (l->n) nt_strbuf_addc(l, '\n');
    nt_strbuf_puts(l, t);
    free(t);
}

char *sdg_lines_take(sdg_lines *l) { return nt_strbuf_take(l); }

void sdg_write_lines(const char *path, sdg_lines *l)
{
    if (l->n) nt_strbuf_addc(l, '\n');
    size_t n = l->n;
    char *t = nt_strbuf_take(l);
    sdg_write_atomic(path, t, n);
    free(t);
}

void sdg_free_texts(char **t, int n)
{
    for (int i = 0; i < n; i++) free(t[i]);
    free(t);
}

char *sdg_print(cJSON *o)
{
    char *t = cJSON_PrintUnformatted(o);
    NT_CHECK(t, "out of memory printing a record");
    cJSON_Delete(o);
    return t;
}

cJSON *sdg_user_messages(const char *text)
{
    cJSON *a = nt_json_array(), *m = nt_json_object();
    nt_json_str(m, "role", "user");
    nt_json_str(m, "content", text);
    nt_json_push(a, m);
    return a;
}

/* invalid UTF-8 (a byte-level generator can emit any byte) replaced by U+FFFD, in a new string */
static char *utf8_fix(const char *s)
{
    size_t n = strlen(s), k = 0;
    char *d = nt_malloc(3 * n + 1, "text");
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = len > 0 && i + len <= n;
        for (size_t j = 1; ok && j < len; j++) ok = ((unsigned char)s[i + j] & 0xC0) == 0x80;
        if (ok && len > 1) {   /* no overlong forms, surrogates or code points beyond U+10FFFF */
            unsigned cp = len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
            for (size_t j = 1; j < len; j++) cp = (cp << 6) | ((unsigned char)s[i + j] & 0x3F);
            ok = (len == 2 && cp >= 0x80) || (len == 3 && cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) ||
                 (len == 4 && cp >= 0x10000 && cp <= 0x10FFFF);
        }
        if (ok) { memcpy(d + k, s + i, len); k += len; i += len; }
        else { memcpy(d + k, "\xEF\xBF\xBD", 3); k += 3; i++; }
    }
    d[k] = 0;
    return d;
}

static void free_rm(sdg_ctx *x)
{
    nt_scorer_free(x->rm);
    x->rm = NULL;
}
static void free_gen(sdg_ctx *x)
{
    nt_gen_free(x->gen);
    x->gen = NULL;
}

void sdg_generate(sdg_ctx *x, cJSON *const *prompts, int np, int n, char **text, char **reason, sdg_stats *st)
{
    const char *want = x->gen_want[0] ? x->gen_want : x->cfg->ckpt_load;
    if (x->gen && strcmp(x->gen_have, want) != 0) free_gen(x);   /* another generator of the responses stage */
    if (!x->gen) {   /* one model in memory at a time */
        free_rm(x);
        nt_config gc = *x->cfg;
        gc.gen_logprobs = 0;
        snprintf(gc.ckpt_load, sizeof gc.ckpt_load, "%s", want);
        snprintf(x->gen_have, sizeof x->gen_have, "%s", want);
        x->gen = nt_gen_create(&gc);
        nt_gen_load(x->gen, x->info, x->cfg->seq_len);
    }
    nt_gen_set_temperature(x->gen, x->temperature >= 0 ? x->temperature
                                   : !strcmp(x->stage->name, "responses") ? x->cfg->sdg_responses_temperature
                                                                          : x->cfg->gen_temperature);
    nt_lines L = {np, (cJSON **)prompts, NULL};
    char err[2048] = "";
    char label[64];
    snprintf(label, sizeof label, "sdg %s prompt", x->stage->name);
    if (nt_gen_render(x->gen, &L, label, err, sizeof err)) nt_die(NT_EXIT_FAIL, "internal: %s", err);
    nt_records rec = {0};
    nt_gen_run(x->gen, n, &rec);
    const nt_grid *g = nt_gen_grid(x->gen);
    int r = 0;
    for (int i = g->dp; i < np; i += g->DP)
        for (int j = 0; j < n; j++, r++) {
            NT_CHECK(r < rec.n, "internal: the generator returned %d records", rec.n);
            char why[256];
            cJSON *o = nt_json_parse(rec.s[r], strlen(rec.s[r]), why, sizeof why);
            NT_CHECK(o, "internal: a generator record: %s", why);
            const char *resp = "", *fin = "";
            nt_json_get_string(o, "response", &resp, why, sizeof why);
            nt_json_get_string(o, "finish_reason", &fin, why, sizeof why);
            text[(size_t)i * n + j] = utf8_fix(resp);
            reason[(size_t)i * n + j] = strdup(fin);
            NT_CHECK(reason[(size_t)i * n + j], "out of memory");
            if (x->lead) {
                st->generated++;
                st->new_tokens += (long)nt_json_number(o, "response_tokens");
                if (j == 0) st->prompt_tokens += (long)nt_json_number(o, "prompt_tokens");
                if (!strcmp(fin, "eos")) st->finish_eos++;
                else if (!strcmp(fin, "end_of_turn")) st->finish_turn++;
                else if (!strcmp(fin, "stop")) st->finish_stop++;
                else if (!strcmp(fin, "length")) st->finish_length++;
                else if (!strcmp(fin, "refused")) st->refused++;
            }
            cJSON_Delete(o);
        }
    NT_CHECK(r == rec.n, "internal: the generator returned %d records, not %d", rec.n, r);
    nt_records_free(&rec);
}

void sdg_score(sdg_ctx *x, cJSON *const *convs, int nc, char **scored, sdg_stats *st)
{
    if (!x->rm) {
        free_gen(x);
        nt_config rc = *x->cfg;
        snprintf(rc.ckpt_load, sizeof rc.ckpt_load, "%s", x->cfg->sdg_reward_model);
        snprintf(rc.head, sizeof rc.head, "reward");
        rc.score_logprobs = 0;
        x->rm = nt_scorer_create(&rc);
        nt_scorer_load(x->rm, x->info);
    }
    nt_lines L = {nc, (cJSON **)convs, NULL};
    char err[2048] = "";
    if (nt_scorer_render(x->rm, &L, "sdg score input", err, sizeof err)) nt_die(NT_EXIT_FAIL, "internal: %s", err);
    nt_records rec = {0};
    nt_scorer_run(x->rm, &rec);
    const nt_grid *g = nt_scorer_grid(x->rm);
    int r = 0;
    for (int i = g->dp; i < nc; i += g->DP, r++) {
        char why[256];
        cJSON *o = nt_json_parse(rec.s[r], strlen(rec.s[r]), why, sizeof why);
        NT_CHECK(o, "internal: a scored record: %s", why);
        cJSON_DeleteItemFromObjectCaseSensitive(o, "line_index");   /* its place in the shard: not the record's */
        if (x->lead) st->scored += cJSON_GetObjectItemCaseSensitive(o, "reward") != NULL;
        if (x->lead) st->refused += cJSON_GetObjectItemCaseSensitive(o, "error") != NULL;
        scored[i] = sdg_print(o);
    }
    nt_records_free(&rec);
}

/* NTRON_FAULT_SDG_KILL=STAGE:N: rank 0 is killed (SIGKILL, nothing cleaned
 * up) after writing the N-th shard of STAGE this run — what a pre-empted
 * or crashed job leaves (tests/test_sdg.sh) */
static void fault_after_shard(const char *stage, int written)
{
    const char *f = getenv("NTRON_FAULT_SDG_KILL");
    if (!f) return;
    const char *colon = strchr(f, ':');
    if (!colon || (size_t)(colon - f) != strlen(stage) || strncmp(f, stage, strlen(stage)) != 0) return;
    if (atoi(colon + 1) != written) return;
    fprintf(stderr, "ntron: NTRON_FAULT_SDG_KILL: killing rank 0 after shard %d of %s\n", written, stage);
    fflush(stderr);
    raise(SIGKILL);
}

/* ---- shards ---------------------------------------------------------------------- */

static int exists(const char *path)
{
    struct stat s;
    return stat(path, &s) == 0;
}

void sdg_write_atomic(const char *path, const char *text, size_t n)
{
    char tmp[NT_PATH_MAX + 80];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) nt_die(NT_EXIT_FAIL, "cannot create %s: %s", tmp, strerror(errno));
    if ((n && fwrite(text, 1, n, f) != n) || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        int e = errno;
        fclose(f);
        unlink(tmp);
        nt_die(NT_EXIT_FAIL, "writing %s: %s", tmp, strerror(e));
    }
    if (fclose(f) != 0) { unlink(tmp); nt_die(NT_EXIT_FAIL, "writing %s: %s", tmp, strerror(errno)); }
    NT_CHECK_SYS(rename(tmp, path));
}

/* the lines of records [0, n) gathered to world rank 0: out[k] from the rank that wrote it */
static char **gather_lines(char **mine, int n)
{
    nt_comm world;
    nt_comm_from_mpi(&world, MPI_COMM_WORLD, "world");
    size_t bytes = 0;
    for (int k = 0; k < n; k++)
        if (mine[k]) bytes += 8 + strlen(mine[k]);
    NT_CHECK(bytes < (size_t)1 << 31, "one shard's output beyond 2 GiB on a rank: use a smaller sdg.shard_size");
    char *buf = nt_malloc(bytes ? bytes : 1, "shard output"), *p = buf;
    for (int k = 0; k < n; k++) {
        if (!mine[k]) continue;
        int32_t hdr[2] = {k, (int32_t)strlen(mine[k])};
        memcpy(p, hdr, 8);
        memcpy(p + 8, mine[k], (size_t)hdr[1]);
        p += 8 + hdr[1];
    }
    int cnt = (int)bytes, *counts = NULL, *displs = NULL;
    char *all = NULL;
    if (world.rank == 0) {
        counts = nt_malloc((size_t)world.size * sizeof(int), "gather counts");
        displs = nt_malloc((size_t)world.size * sizeof(int), "gather displacements");
    }
    NT_CHECK_MPI(MPI_Gather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD));
    long total = 0;
    if (world.rank == 0) {
        for (int r = 0; r < world.size; r++) { displs[r] = (int)total; total += counts[r]; }
        NT_CHECK(total < (long)1 << 31, "one shard's output beyond 2 GiB: use a smaller sdg.shard_size");
        all = nt_malloc((size_t)(total ? total : 1), "gathered shard output");
    }
    NT_CHECK_MPI(MPI_Gatherv(buf, cnt, MPI_CHAR, all, counts, displs, MPI_CHAR, 0, MPI_COMM_WORLD));
    free(buf);
    char **out = NULL;
    if (world.rank == 0) {
        out = nt_calloc((size_t)(n ? n : 1), sizeof *out, "shard lines");
        for (long off = 0; off < total;) {
            int32_t hdr[2];
            memcpy(hdr, all + off, 8);
            NT_CHECK(hdr[0] >= 0 && hdr[0] < n && !out[hdr[0]], "internal: record %d of a shard sent twice", hdr[0]);
            out[hdr[0]] = nt_malloc((size_t)hdr[1] + 1, "a record's lines");
            memcpy(out[hdr[0]], all + off + 8, (size_t)hdr[1]);
            out[hdr[0]][hdr[1]] = 0;
            off += 8 + hdr[1];
        }
        for (int k = 0; k < n; k++) NT_CHECK(out[k], "internal: no rank wrote record %d of a shard", k);
        free(all); free(counts); free(displs);
    }
    return out;
}

static cJSON *stats_json(const sdg_stats *s)
{
    cJSON *o = nt_json_object();
#define SDG_PUT(name, what) nt_json_num(o, #name, (double)s->name);
    SDG_STATS(SDG_PUT)
#undef SDG_PUT
    nt_json_num(o, "seconds", s->seconds);
    return o;
}

static void stats_add_json(sdg_stats *s, const cJSON *o)
{
#define SDG_ADD(name, what) { const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, #name); if (cJSON_IsNumber(v)) s->name += (long)v->valuedouble; }
    SDG_STATS(SDG_ADD)
#undef SDG_ADD
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "seconds");
    if (cJSON_IsNumber(v)) s->seconds += v->valuedouble;
}

/* sums the stats of every rank into rank 0's */
static void stats_reduce(sdg_stats *s)
{
    enum { NF = 0
#define SDG_COUNT(name, what) + 1
        SDG_STATS(SDG_COUNT)
#undef SDG_COUNT
    };
    double v[NF], r[NF];
    int i = 0;
#define SDG_TO(name, what) v[i++] = (double)s->name;
    SDG_STATS(SDG_TO)
#undef SDG_TO
    NT_CHECK_MPI(MPI_Reduce(v, r, NF, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD));
    i = 0;
#define SDG_FROM(name, what) s->name = (long)r[i++];
    SDG_STATS(SDG_FROM)
#undef SDG_FROM
}

char *sdg_read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 65536, n = 0, got;
    char *b = nt_malloc(cap, "file text");
    while ((got = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            cap *= 2;
            b = realloc(b, cap);
            NT_CHECK(b, "out of memory reading %s", path);
        }
    }
    fclose(f);
    b[n] = 0;
    if (len) *len = n;
    return b;
}

/* the field whose repeats are removed when a stage's shards are joined */
static const char *dedupe_field(const char *stage)
{
    if (!strcmp(stage, "topics")) return "topic";
    static const char *const prompt_stages[] = {"questions", "revise", "writing", "closed_qa", "math", "python"};
    for (size_t i = 0; i < sizeof prompt_stages / sizeof prompt_stages[0]; i++)
        if (!strcmp(stage, prompt_stages[i])) return "prompt";
    return NULL;
}

/* rewards of the output (score, filter: "reward"; pairs: chosen and rejected) into a report object */
static void reward_report(cJSON *rep, const char *stage, double *rw, int n)
{
    if (n == 0) return;
    double lo = rw[0], hi = rw[0], sum = 0;
    for (int i = 0; i < n; i++) { lo = fmin(lo, rw[i]); hi = fmax(hi, rw[i]); sum += rw[i]; }
    cJSON *r = nt_json_object();
    nt_json_num(r, "n", n);
    nt_json_num(r, "min", lo);
    nt_json_num(r, "max", hi);
    nt_json_num(r, "mean", sum / n);
    enum { BINS = 20 };
    double counts[BINS] = {0};
    for (int i = 0; i < n; i++) {
        int b = hi > lo ? (int)((rw[i] - lo) / (hi - lo) * BINS) : 0;
        counts[b < BINS ? b : BINS - 1]++;
    }
    cJSON *h = nt_json_object();
    nt_json_num(h, "lo", lo);
    nt_json_num(h, "hi", hi);
    nt_json_add(h, "counts", nt_json_doubles(counts, BINS));
    nt_json_add(r, "histogram", h);
    nt_json_add(rep, !strcmp(stage, "pairs") ? "pair_rewards" : "reward", r);
}

/* rank 0: the shards joined into STAGE.jsonl (repeats removed), the report */
static void finish_stage(sdg_ctx *x, int nshards, int kept, int nin, double seconds)
{
    const sdg_stage *st = x->stage;
    const char *field = dedupe_field(st->name);
    char path[NT_PATH_MAX + 64];
    size_t cap = 1 << 16, n = 0;
    char *all = nt_malloc(cap, "stage output");
    all[0] = 0;
    char **keys = NULL;
    int nkeys = 0, capk = 0, out = 0, dups = 0, nrw = 0, caprw = 0;
    double *rw = NULL;
    sdg_stats tot = {0};
    for (int s = 0; s < nshards; s++) {
        snprintf(path, sizeof path, "%s/%s.d/shard_%05d.stats.json", x->dir, x->base, s);
        size_t len;
        char *t = sdg_read_text(path, &len), why[256];
        cJSON *o = t ? nt_json_parse(t, len, why, sizeof why) : NULL;
        if (o) stats_add_json(&tot, o);
        cJSON_Delete(o);
        free(t);
        snprintf(path, sizeof path, "%s/%s.d/shard_%05d.jsonl", x->dir, x->base, s);
        t = sdg_read_text(path, &len);
        if (!t) nt_die(NT_EXIT_FAIL, "%s: cannot read: %s", path, strerror(errno));
        for (char *line = t, *eol; *line; line = eol + 1) {
            eol = strchr(line, '\n');
            if (!eol) eol = line + strlen(line);
            size_t ll = (size_t)(eol - line);
            int last = !*eol;
            if (ll == 0) { if (last) break; continue; }
            cJSON *o = nt_json_parse(line, ll, why, sizeof why);
            if (!o) nt_die(NT_EXIT_FAIL, "%s: damaged (%s): remove it to regenerate that shard", path, why);
            if (field) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);
                char *k = cJSON_IsString(v) ? nt_list_key(v->valuestring) : NULL;
                int seen = 0;
                for (int i = 0; k && i < nkeys && !seen; i++) seen = !strcmp(keys[i], k);
                if (seen) { dups++; free(k); cJSON_Delete(o); if (last) break; continue; }
                if (k) {
                    if (nkeys == capk) { capk = capk ? 2 * capk : 256; keys = realloc(keys, (size_t)capk * sizeof *keys); NT_CHECK(keys, "out of memory"); }
                    keys[nkeys++] = k;
                }
            }
            const char *rnames[2] = {"reward", NULL};
            if (!strcmp(st->name, "pairs")) { rnames[0] = "chosen_reward"; rnames[1] = "rejected_reward"; }
            for (int q = 0; q < 2 && rnames[q]; q++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, rnames[q]);
                if (!cJSON_IsNumber(v) || strcmp(st->name, "responses") == 0) continue;
                if (nrw == caprw) { caprw = caprw ? 2 * caprw : 256; rw = realloc(rw, (size_t)caprw * sizeof *rw); NT_CHECK(rw, "out of memory"); }
                rw[nrw++] = v->valuedouble;
            }
            cJSON_Delete(o);
            if (n + ll + 2 > cap) {
                while (n + ll + 2 > cap) cap *= 2;
                all = realloc(all, cap);
                NT_CHECK(all, "out of memory joining %s", st->name);
            }
            memcpy(all + n, line, ll);
            n += ll;
            all[n++] = '\n';
            all[n] = 0;
            out++;
            if (last) break;
        }
        free(t);
    }
    for (int i = 0; i < nkeys; i++) free(keys[i]);
    free(keys);
    stage_file(x, x->base, ".jsonl", path, sizeof path);
    sdg_write_atomic(path, all, n);
    cJSON *ver = nt_verifiers_report(all, n);   /* responses to instruction-following prompts */
    cJSON *rep = nt_json_object();
    nt_json_str(rep, "stage", st->name);
    if (x->rounds) nt_json_num(rep, "pass", x->round);
    nt_json_num(rep, "records_in", nin);
    nt_json_num(rep, "records_out", out);
    nt_json_num(rep, "duplicates_removed", dups);
    nt_json_num(rep, "shards", nshards);
    nt_json_num(rep, "shards_kept", kept);
    nt_json_num(rep, "seconds_this_run", seconds);
    nt_json_add(rep, "counts", stats_json(&tot));
    cJSON *rates = nt_json_object();
    if (tot.lists + tot.unlisted > 0) nt_json_num(rates, "list_parsed", (double)tot.lists / (double)(tot.lists + tot.unlisted));
    if (tot.passed + tot.failed > 0) nt_json_num(rates, "filter_pass", (double)tot.passed / (double)(tot.passed + tot.failed));
    if (tot.pairs + tot.no_pair > 0) nt_json_num(rates, "pair", (double)tot.pairs / (double)(tot.pairs + tot.no_pair));
    if (tot.seconds > 0) nt_json_num(rates, "tokens_per_s", (double)tot.new_tokens / tot.seconds);
    if (tot.seconds > 0) nt_json_num(rates, "records_out_per_s", out / tot.seconds);
    if (tot.seconds > 0) nt_json_num(rates, "records_in_per_s", nin / tot.seconds);
    nt_json_add(rep, "rates", rates);
    reward_report(rep, st->name, rw, nrw);
    if (ver) nt_json_add(rep, "verifiers", ver);
    free(rw);
    if (st->finish_pass) st->finish_pass(x, all, n, rep);
    free(all);
    stage_file(x, x->base, ".report.json", path, sizeof path);
    sdg_write_json(path, rep);
    printf("sdg %-9s done: %d records in, %d out (%d repeats removed), %d shards (%d kept from an earlier run), "
           "%.2f s; report %s\n", x->base, nin, out, dups, nshards, kept, seconds, path);
    fflush(stdout);
}

/* what decides a stage's output: sha256 hex of its identity text */
static void stage_identity(const sdg_ctx *x, const char *intext, char sha[65])
{
    const nt_config *c = x->cfg;
    char settings[2048];
    x->stage->settings(c, settings, sizeof settings);
    size_t n = strlen(intext) + strlen(settings) + (x->stage->names ? strlen(x->tpl.text) : 0) + 6 * NT_PATH_MAX + 8192;
    char *id = nt_malloc(n, "stage identity");
    int gen = x->stage->needs == SDG_NEEDS_GEN, rm = x->stage->needs == SDG_NEEDS_RM;
    /* the engine that makes the output (none for filter and pairs), and nothing else */
    char engine[NT_PATH_MAX * 14 + 2048] = "-", file[NT_PATH_MAX * 9 + 64] = "", why[512];
    /* the checkpoint file itself (a directory's `latest` resolved): a newer checkpoint is another generator */
    const char *ck = gen ? c->ckpt_load : rm ? c->sdg_reward_model : "";
    if (ck[0] && nt_ckpt_resolve(ck, file, sizeof file, why, sizeof why) != 0) snprintf(file, sizeof file, "?");
    if (gen && !strcmp(x->stage->name, "responses") && c->sdg_generators[0]) {   /* and the others' files */
        char gp[8][NT_PATH_MAX], f2[NT_PATH_MAX + 64];
        int ng = sdg_generators(c, gp, 8);
        size_t fl = strlen(file);
        for (int g = 1; g < ng; g++) {
            if (nt_ckpt_resolve(gp[g], f2, sizeof f2, why, sizeof why) != 0) snprintf(f2, sizeof f2, "?");
            fl += (size_t)snprintf(file + fl, sizeof file > fl ? sizeof file - fl : 0, " + %s", f2);
        }
    }
    if (gen)
        snprintf(engine, sizeof engine, "generator %s (%s) tokenizer %s max_new_tokens %d temperature %.17g top_k %d top_p %.17g stop %s",
                 c->ckpt_load, file, c->tokenizer, c->gen_max_new_tokens, c->gen_temperature, c->gen_top_k,
                 c->gen_top_p, c->gen_stop);
    else if (rm)
        snprintf(engine, sizeof engine, "reward_model %s (%s) tokenizer %s weights %s outputs %d", c->sdg_reward_model,
                 file, c->tokenizer, c->score_weights, c->reward_outputs);
    int k = snprintf(id, n, "ntron sdg stage %s pass %d\nsettings %s\nshard_size %d\nseed %llu\n%s\nmodel %d %d %d %d %d %d %d\n"
                     "template\n%s\ninputs\n",
                     x->stage->name, x->round, settings, c->sdg_shard_size, (unsigned long long)c->seed, engine, c->layers,
                     c->hidden, c->ffn_hidden, c->heads, c->kv_heads, c->vocab, c->seq_len,
                     x->stage->names ? x->tpl.text : "-");
    snprintf(id + k, n - (size_t)k, "%s", intext);
    nt_sha256_hex(id, strlen(id), sha);
    free(id);
}

static void set_layout(sdg_ctx *x, const nt_comm *world)
{
    const nt_config *c = x->cfg;
    if (x->stage->needs == SDG_NEEDS_NONE) {   /* rank 0 does it all */
        x->DP = 1;
        x->dp = 0;
        x->lead = world->rank == 0;
        return;
    }
    /* the model set's layout (grid.c): rank = tp + TP x (dp + DP x pp) */
    int TP = c->tensor, PP = c->pipeline, DP = world->size / (TP * PP);
    x->DP = DP > 0 ? DP : 1;
    x->dp = (world->rank / TP) % x->DP;
    x->lead = world->rank % TP == 0 && world->rank / (TP * x->DP) == 0;
}

static void run_pass(sdg_ctx *x, const sdg_stage *st, const nt_comm *world)
{
    const nt_config *c = x->cfg;
    x->temperature = -1;
    char err[4096] = "";
    if (st->names) {
        char path[NT_PATH_MAX + 64];
        template_path(c, st->name, path, sizeof path);
        nt_template_load(&x->tpl, path, st->names, st->required, err, sizeof err);
    }
    cJSON *in = nt_json_array();
    if (!err[0]) st->inputs(x, in, err, sizeof err);
    nt_comm_agree(world, NT_EXIT_INPUT, err);
    int N = cJSON_GetArraySize(in);
    char *intext = cJSON_PrintUnformatted(in);
    NT_CHECK(intext, "out of memory");
    char sha[65];
    stage_identity(x, intext, sha);
    free(intext);
    char d[NT_PATH_MAX + 64], idpath[NT_PATH_MAX + 80], outpath[NT_PATH_MAX + 64];
    stage_file(x, x->base, ".d", d, sizeof d);
    snprintf(idpath, sizeof idpath, "%s/identity", d);
    stage_file(x, x->base, ".jsonl", outpath, sizeof outpath);
    int done = 0;
    if (world->rank == 0) {
        char *have = sdg_read_text(idpath, NULL);
        if (have && strncmp(have, sha, 64) != 0)
            snprintf(err, sizeof err, "%s: stage %s was started with other inputs or settings (its template, its "
                     "sdg.* keys, the checkpoints, the sampling keys or an earlier stage's output changed): remove "
                     "%s and %s to redo it, or use another run.dir", d, x->base, d, outpath);
        else if (have) done = exists(outpath);
        else if (exists(outpath))
            snprintf(err, sizeof err, "%s exists without %s: not made by this version of ntron sdg; remove it or use "
                     "another run.dir", outpath, idpath);
        free(have);
    }
    nt_comm_agree(world, NT_EXIT_INPUT, err);
    nt_comm_bcast(world, &done, sizeof done, 0);
    if (done) {
        if (world->rank == 0) {
            printf("sdg %-9s kept: %s is finished (same inputs and settings)\n", x->base, outpath);
            fflush(stdout);
        }
        if (st->names) nt_template_free(&x->tpl);
        cJSON_Delete(in);
        return;
    }
    if (world->rank == 0) {
        nt_mkdirs(d);
        if (!exists(idpath)) {
            char line[80];
            snprintf(line, sizeof line, "%s\n", sha);
            sdg_write_atomic(idpath, line, strlen(line));
        }
        printf("sdg %-9s %d input records, %d shards of %d\n", x->base, N, (N + c->sdg_shard_size - 1) / c->sdg_shard_size,
               c->sdg_shard_size);
        fflush(stdout);
    }
    set_layout(x, world);
    int S = c->sdg_shard_size, nshards = (N + S - 1) / S, kept = 0, recs_done = 0, kept_recs = 0;
    double t0 = nt_now(), busy = 0;
    for (int s = 0; s < nshards; s++) {
        int a = s * S, b = a + S < N ? a + S : N;
        char spath[NT_PATH_MAX + 96], stpath[NT_PATH_MAX + 96];
        snprintf(spath, sizeof spath, "%s/shard_%05d.jsonl", d, s);
        snprintf(stpath, sizeof stpath, "%s/shard_%05d.stats.json", d, s);
        int have = world->rank == 0 && exists(spath);
        nt_comm_bcast(world, &have, sizeof have, 0);
        if (have) { kept++; recs_done += b - a; kept_recs += b - a; continue; }
        x->shard_a = a;
        char **mine = nt_calloc((size_t)(b - a), sizeof *mine, "shard output");
        sdg_stats ss;
        memset(&ss, 0, sizeof ss);
        double ts = nt_now();
        st->shard(x, in, a, b, mine, &ss);
        char **lines = gather_lines(mine, b - a);
        for (int k = 0; k < b - a; k++) free(mine[k]);
        free(mine);
        stats_reduce(&ss);
        double dt = nt_now() - ts;
        busy += dt;
        recs_done += b - a;
        if (world->rank == 0) {
            ss.in = b - a;
            ss.seconds = dt;
            size_t tot = 0;
            for (int k = 0; k < b - a; k++) tot += strlen(lines[k]) + 1;
            char *text = nt_malloc(tot + 1, "shard text");
            size_t off = 0;
            long nout = 0;
            for (int k = 0; k < b - a; k++) {
                size_t l = strlen(lines[k]);
                if (!l) continue;
                memcpy(text + off, lines[k], l);
                off += l;
                text[off++] = '\n';
                for (size_t q = 0; q < l; q++) nout += lines[k][q] == '\n';
                nout++;
            }
            ss.out = nout;
            cJSON *js = stats_json(&ss);
            char *jt = cJSON_PrintUnformatted(js);
            NT_CHECK(jt, "out of memory");
            cJSON_Delete(js);
            sdg_write_atomic(stpath, jt, strlen(jt));   /* before the shard: a shard that exists has its counts */
            free(jt);
            sdg_write_atomic(spath, text, off);
            free(text);
            fault_after_shard(x->base, s + 1 - kept);
            for (int k = 0; k < b - a; k++) free(lines[k]);
            free(lines);
            int left = N - recs_done;
            double per = busy / (double)(recs_done - kept_recs > 0 ? recs_done - kept_recs : 1);
            printf("sdg %-9s shard %d/%d: %d records -> %ld in %.2f s, %ld tokens generated (%.1f tokens/s); "
                   "%d/%d records done, ETA %.0f s\n",
                   x->base, s + 1, nshards, b - a, nout, dt, ss.new_tokens, dt > 0 ? ss.new_tokens / dt : 0.0,
                   recs_done, N, left * per);
            fflush(stdout);
        }
    }
    if (world->rank == 0) finish_stage(x, nshards, kept, N, nt_now() - t0);
    NT_CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD));   /* the next stage reads STAGE.jsonl */
    if (st->names) nt_template_free(&x->tpl);
    cJSON_Delete(in);
}

/* a stage: one pass, or its rounds (STAGE.g01, STAGE.g02, ...) and its finish */
static void run_stage(sdg_ctx *x, const sdg_stage *st, const nt_comm *world)
{
    x->stage = st;
    x->rounds = st->rounds ? st->rounds(x->cfg) : 0;
    if (!x->rounds) {
        x->round = 0;
        snprintf(x->base, sizeof x->base, "%s", st->name);
        run_pass(x, st, world);
        return;
    }
    for (int r = 1; r <= x->rounds; r++) {
        x->round = r;
        snprintf(x->base, sizeof x->base, "%s.g%02d", st->name, r);
        run_pass(x, st, world);
    }
    snprintf(x->base, sizeof x->base, "%s", st->name);
    if (world->rank == 0 && st->finish) st->finish(x);
    NT_CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD));   /* the next stage reads STAGE.jsonl */
}

int nt_sdg_run(const nt_config *cfg, const nt_deck_info *info)
{
    nt_comm world;
    nt_comm_from_mpi(&world, MPI_COMM_WORLD, "world");
    nt_infer_echo(cfg, info, "sdg");
    sdg_ctx x;
    memset(&x, 0, sizeof x);
    x.cfg = cfg;
    x.info = info;
    snprintf(x.dir, sizeof x.dir, "%s", cfg->dir);
    char names[64][32];
    int n = stage_names(cfg->sdg_stages, names, 64);
    size_t len = 0;
    len += (size_t)snprintf(x.listed, sizeof x.listed, " ");
    for (int i = 0; i < n; i++) len += (size_t)snprintf(x.listed + len, sizeof x.listed - len, "%s ", names[i]);
    /* checkpoints with the wrong head, an unwritable run.dir: refused before anything is written */
    char err[2048] = "";
    int gen = 0, rm = 0;
    for (int i = 0; i < n; i++) {
        const sdg_stage *st = sdg_stage_find(names[i]);
        gen |= st->needs == SDG_NEEDS_GEN && !(!strcmp(st->name, "topics") && cfg->sdg_topics_file[0]);
        rm |= st->needs == SDG_NEEDS_RM;
    }
    sdg_check_files(cfg, x.listed, err, sizeof err);   /* every rank reads them alike */
    if (!err[0] && world.rank == 0) {
        if (gen) nt_infer_check_head(cfg->ckpt_load, "lm", "the sdg generator (checkpoint.load)", err, sizeof err);
        char gp[8][NT_PATH_MAX];
        int ng = strstr(x.listed, " responses ") ? sdg_generators(cfg, gp, 8) : 0;
        for (int g = 1; g < ng && !err[0]; g++)
            nt_infer_check_head(gp[g], "lm", "a generator of sdg.generators", err, sizeof err);
        if (!err[0] && cfg->sdg_judge_model[0] && (strstr(x.listed, " genetic ") || strstr(x.listed, " judge ")))
            nt_infer_check_head(cfg->sdg_judge_model, "lm", "the LLM judge (sdg.judge_model)", err, sizeof err);
        if (!err[0] && rm)
            nt_infer_check_head(cfg->sdg_reward_model, "reward", "the sdg score stage (sdg.reward_model)", err, sizeof err);
        if (!err[0] && nt_rundir_probe(cfg->dir, err, sizeof err) != 0) {
            char why[2048];
            snprintf(why, sizeof why, "run.dir %s", err);
            snprintf(err, sizeof err, "%s", why);
        }
    }
    nt_comm_agree(&world, NT_EXIT_INPUT, err);
    if (world.rank == 0) {
        nt_rundir_create(cfg->dir);
        char *text = nt_deck_resolved_text(cfg);
        nt_rundir_write(cfg->dir, "deck.resolved", text);
        free(text);
        printf("sdg stages:%sin %s, TP %d x PP %d x DP %d, shards of %d records\n", x.listed, cfg->dir, cfg->tensor,
               cfg->pipeline, world.size / (cfg->tensor * cfg->pipeline), cfg->sdg_shard_size);
        fflush(stdout);
    }
    NT_CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD));
    double t0 = nt_now();
    for (int i = 0; i < n; i++) run_stage(&x, sdg_stage_find(names[i]), &world);
    free_gen(&x);
    free_rm(&x);
    /* the datasets of the next phases, every rank together (ntron prep) */
    /* stage, its output file, the dataset, the format */
    static const char *const prep[][4] = {{"filter", "filter", "filter", "chat"}, {"pairs", "pairs", "pairs", "preference"},
                                          {"genetic", "genetic", "genetic", "chat"}, {"judge", "judge_pairs", "judge", "preference"}};
    for (int k = 0; cfg->sdg_prep && k < 4; k++) {
        char word[40];
        snprintf(word, sizeof word, " %s ", prep[k][0]);
        if (!strstr(x.listed, word)) continue;
        char in[NT_PATH_MAX + 64], out[NT_PATH_MAX + 64];
        snprintf(in, sizeof in, "%s/%s.jsonl", cfg->dir, prep[k][1]);
        snprintf(out, sizeof out, "%s/%s.h5", cfg->dir, prep[k][2]);
        nt_prep_file(in, out, cfg->tokenizer, prep[k][3], "line");
    }
    if (world.rank == 0) printf("sdg done: %d stages in %.2f s, outputs in %s\n", n, nt_now() - t0, cfg->dir);
    return 0;
}

void nt_sdg_print_help(FILE *f)
{
    fprintf(f, "sdg stages (sdg.stages, in order; templates: sdg.templates/STAGE.txt):\n");
    for (int i = 0; i < sdg_stage_count(); i++) {
        const sdg_stage *st = sdg_stage_at(i);
        char ph[256] = "";
        size_t len = 0;
        for (int k = 0; st->names && st->names[k]; k++)
            len += (size_t)snprintf(ph + len, sizeof ph - len, "%s{%s}", k ? " " : "", st->names[k]);
        fprintf(f, "  %-10s %s%s%s%s\n", st->name, st->what, len ? " [" : "", ph, len ? "]" : "");
    }
}

int nt_sdg_main(int argc, char **argv)
{
    const char *deck = NULL;
    nt_flag_list setl = {0};
    const nt_flag flags[] = {
        {.name = "--set", .kind = NT_FLAG_LIST, .dest = &setl, .arg = "section.key=value", .help = "override a deck key"},
    };
    const nt_cli cli = {"sdg", "DECK", 1, 1,
                        "Run the synthetic-data stages of sdg.stages (`ntron help sdg`) with the generator of "
                        "checkpoint.load and the reward model of sdg.reward_model, into run.dir (under mpirun/srun "
                        "for TP/PP/DP); a rerun keeps finished stages and shards.",
                        flags, 1};
    nt_cli_parse(&cli, argc, argv, &deck);
    char **sets = nt_calloc((size_t)setl.n + 2, sizeof(char *), "--set list");
    for (int i = 0; i < setl.n; i++) sets[i] = setl.v[i];
    char phase[] = "run.phase=sdg";
    sets[setl.n] = phase;
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    NT_CHECK_H5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
    nt_config cfg;
    nt_deck_info info;
    nt_deck_load_agreed(&cfg, &info, deck, setl.n + 1, sets);
    int rc = nt_sdg_run(&cfg, &info);
    free(sets);
    free(setl.v);
    NT_CHECK_MPI(MPI_Finalize());
    return rc;
}
