/* sdg_genetic.c — the genetic stage (Genetic Instruct): operators,
 * parents, the three generator calls of an individual, the judge's
 * verdict, near-duplicate removal, the per-generation report and the
 * final chat records.  The rules are sdg_genetic.h's. */
#define _POSIX_C_SOURCE 200809L
#include "sdg/sdg_genetic.h"
#include "sdg/sdg_minhash.h"
#include "sdg/sdg_verdict.h"
#include "ckpt/ckpt.h"
#include "util/check.h"
#include "util/json.h"
#include "util/rng.h"
#include "util/sha256.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_OPS = 16, HIST = 11 };

static const char *const OP_NAMES[] = {"instruction", "solution", "examples", NULL};
static const char *const JUDGE_NAMES[] = {"instruction", "solution", NULL};

static double num(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* ---- operators and templates ------------------------------------------------ */

typedef struct gi_op {
    char name[32];
    double weight;
} gi_op;

/* sdg.operators "name[:weight] ..." into ops; the count, or -1 and err */
static int parse_ops(const nt_config *c, gi_op *ops, char *err, size_t errlen)
{
    int n = 0;
    const char *p = c->sdg_operators;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        size_t k = 0;
        while (p[k] && p[k] != ' ' && p[k] != '\t' && p[k] != ',') k++;
        char tok[128];
        snprintf(tok, sizeof tok, "%.*s", (int)(k < 127 ? k : 127), p);
        p += k;
        char *colon = strchr(tok, ':');
        double w = 1;
        if (colon) {
            *colon = 0;
            char *end;
            w = strtod(colon + 1, &end);
            if (end == colon + 1 || *end || !(w > 0) || !isfinite(w))
                return nt_fail(err, errlen, "operator %s: weight '%s' is not a positive number", tok, colon + 1);
        }
        size_t len = strlen(tok);
        if (len == 0 || len > 24) return nt_fail(err, errlen, "operator name '%s' is empty or longer than 24 characters", tok);
        for (size_t i = 0; i < len; i++)
            if (!(islower((unsigned char)tok[i]) || isdigit((unsigned char)tok[i]) || tok[i] == '_'))
                return nt_fail(err, errlen, "operator name '%s': lower-case letters, digits and '_' only", tok);
        for (int i = 0; i < n; i++)
            if (!strcmp(ops[i].name, tok)) return nt_fail(err, errlen, "operator %s is listed twice", tok);
        if (n == MAX_OPS) return nt_fail(err, errlen, "more than %d operators", MAX_OPS);
        snprintf(ops[n].name, sizeof ops[n].name, "%s", tok);
        ops[n].weight = w;
        n++;
    }
    if (n == 0) return nt_fail(err, errlen, "is empty: name one operator or more (NAME:WEIGHT; template genetic_NAME.txt)");
    return n;
}

/* 0, or -1 when the path does not fit in buf[n] */
static int op_template_path(const nt_config *c, const char *op, char *buf, size_t n)
{
    int w = snprintf(buf, n, "%s/genetic_%s.txt", c->sdg_templates, op);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* an operator's template: loaded, and it uses {instruction} or {examples} */
static int load_op(const nt_config *c, const char *op, nt_template *t, char *err, size_t errlen)
{
    char path[NT_PATH_MAX + 64];
    if (op_template_path(c, op, path, sizeof path))
        return nt_fail(err, errlen, "sdg.templates '%.200s...': the path of genetic_%s.txt is longer than %zu characters",
                    c->sdg_templates, op, sizeof path - 1);
    if (nt_template_load(t, path, OP_NAMES, NULL, err, errlen)) return -1;
    if (!strstr(t->text, "{instruction}") && !strstr(t->text, "{examples}")) {
        nt_template_free(t);
        return nt_fail(err, errlen, "%s: uses neither {instruction} nor {examples} (an operator mutates its parents)", path);
    }
    return 0;
}

static int load_judge(const nt_config *c, nt_template *t, char *err, size_t errlen)
{
    char path[NT_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/genetic_judge.txt", c->sdg_templates);
    return nt_template_load(t, path, JUDGE_NAMES, JUDGE_NAMES, err, errlen);
}

/* ---- deck and seeds --------------------------------------------------------------- */

void sdg_genetic_check(const nt_config *c, const nt_deck_info *in)
{
    char err[2048];
    if (!c->sdg_seeds[0]) nt_deck_bad(in, "sdg.seeds", "is empty: the genetic stage needs seed (instruction, solution) pairs");
    gi_op ops[MAX_OPS];
    int n = parse_ops(c, ops, err, sizeof err);
    if (n < 0) nt_deck_bad(in, "sdg.operators", "%s", err);
    for (int i = 0; i < n; i++) {
        nt_template t;
        if (load_op(c, ops[i].name, &t, err, sizeof err)) nt_deck_bad(in, "sdg.templates", "%s", err);
        nt_template_free(&t);
    }
    nt_template t;
    if (load_judge(c, &t, err, sizeof err)) nt_deck_bad(in, "sdg.templates", "%s", err);
    nt_template_free(&t);
}

int sdg_genetic_seeds(const char *path, cJSON *arr, char *err, size_t errlen)
{
    nt_lines f;
    if (nt_lines_read(&f, path, "sdg.seeds", err, errlen)) return -1;
    if (f.n == 0) {
        nt_lines_free(&f);
        return nt_fail(err, errlen, "sdg.seeds = %s: no seed pairs (the file is empty; JSON lines with \"instruction\" and "
                    "\"solution\")", path);
    }
    for (int i = 0; i < f.n; i++) {
        const cJSON *o = f.obj[i], *id = cJSON_GetObjectItemCaseSensitive(o, "id");
        char why[256] = "";
        for (int q = 0; q < 2 && !why[0]; q++) {
            const char *key = q ? "solution" : "instruction";
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
            if (!v) snprintf(why, sizeof why, "missing field \"%s\"", key);
            else if (!cJSON_IsString(v)) snprintf(why, sizeof why, "field \"%s\" is not a string", key);
            else {
                const char *s = v->valuestring;
                while (isspace((unsigned char)*s)) s++;
                if (!*s) snprintf(why, sizeof why, "field \"%s\" is empty", key);
            }
        }
        if (!why[0] && id && !cJSON_IsString(id) && !cJSON_IsNumber(id))
            snprintf(why, sizeof why, "field \"id\" is neither a string nor a number");
        if (why[0]) {
            nt_fail(err, errlen, "%s:%d: %s", path, f.lineno[i], why);
            nt_lines_free(&f);
            return -1;
        }
        char idb[300];
        if (cJSON_IsString(id)) snprintf(idb, sizeof idb, "s.%.290s", id->valuestring);
        else if (cJSON_IsNumber(id)) snprintf(idb, sizeof idb, "s.%.17g", id->valuedouble);
        else snprintf(idb, sizeof idb, "s%d", f.lineno[i]);
        for (int j = 0; j < cJSON_GetArraySize(arr); j++)
            if (!strcmp(sdg_str(cJSON_GetArrayItem(arr, j), "id"), idb)) {
                nt_fail(err, errlen, "%s:%d: seed id %s repeats an earlier line's", path, f.lineno[i], idb + 2);
                nt_lines_free(&f);
                return -1;
            }
        cJSON *s = nt_json_object();
        nt_json_str(s, "id", idb);
        nt_json_str(s, "instruction", sdg_str(o, "instruction"));
        nt_json_str(s, "solution", sdg_str(o, "solution"));
        nt_json_num(s, "fitness", 10);
        nt_json_str(s, "seed", idb);
        nt_json_num(s, "generation", 0);
        nt_json_push(arr, s);
    }
    nt_lines_free(&f);
    return 0;
}

int sdg_genetic_rounds(const nt_config *c) { return c->sdg_generations; }

/* ---- the pool: seeds and kept individuals, duplicates removed ------------------ */

typedef struct gi_gen {          /* one generation's numbers */
    int population, empty, judged, unparsed, incorrect, below, accepted, duplicates, kept;
    double hist[HIST];
    int made[MAX_OPS], opkept[MAX_OPS];
} gi_gen;

typedef struct gi_pool {
    cJSON *kept;                 /* seeds first, then kept individuals in generation order */
    int nseeds;
    nt_minhash *sig;
    int cap;
    gi_gen *gen;                 /* [upto] */
} gi_pool;

static int op_index(const gi_op *ops, int nops, const char *name)
{
    for (int i = 0; i < nops; i++)
        if (!strcmp(ops[i].name, name)) return i;
    return -1;
}

static void pool_push(gi_pool *p, cJSON *o, const nt_minhash *m)
{
    int n = cJSON_GetArraySize(p->kept);
    if (n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->sig = realloc(p->sig, (size_t)p->cap * sizeof *p->sig);
        NT_CHECK(p->sig, "out of memory for MinHash signatures");
    }
    p->sig[n] = *m;
    nt_json_push(p->kept, o);
}

static void pool_free(gi_pool *p)
{
    cJSON_Delete(p->kept);
    free(p->sig);
    free(p->gen);
    memset(p, 0, sizeof *p);
}

/* the pool after generations 1..upto (every rank alike: a pure function of the files) */
static int pool_build(sdg_ctx *x, int upto, gi_pool *p, char *err, size_t errlen)
{
    const nt_config *c = x->cfg;
    memset(p, 0, sizeof *p);
    p->kept = nt_json_array();
    cJSON *seeds = nt_json_array();
    if (sdg_genetic_seeds(c->sdg_seeds, seeds, err, errlen)) { cJSON_Delete(seeds); return -1; }
    while (cJSON_GetArraySize(seeds) > 0) {
        cJSON *s = cJSON_DetachItemFromArray(seeds, 0);
        nt_minhash m;
        nt_minhash_of(sdg_str(s, "instruction"), c->sdg_dedup_ngram, &m);
        pool_push(p, s, &m);
        p->nseeds++;
    }
    cJSON_Delete(seeds);
    gi_op ops[MAX_OPS];
    int nops = parse_ops(c, ops, err, errlen);
    if (nops < 0) return -1;
    p->gen = nt_calloc((size_t)(upto > 0 ? upto : 1), sizeof *p->gen, "generation numbers");
    for (int r = 1; r <= upto; r++) {
        gi_gen *g = &p->gen[r - 1];
        char name[64];
        snprintf(name, sizeof name, "genetic.g%02d", r);
        cJSON *recs = nt_json_array();
        if (sdg_read_stage(x, name, recs, err, errlen)) { cJSON_Delete(recs); return -1; }
        const cJSON *o;
        cJSON_ArrayForEach(o, recs) {
            const char *status = sdg_str(o, "status");
            int oi = op_index(ops, nops, sdg_str(o, "operator"));
            g->population++;
            if (oi >= 0) g->made[oi]++;
            if (!strcmp(status, "empty")) { g->empty++; continue; }
            g->judged++;
            const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, "judge");
            if (!strcmp(status, "unparsed")) { g->unparsed++; continue; }
            double sc = num(j, "score", -1);
            if (sc >= 0) {
                int b = (int)floor(sc);
                g->hist[b < 0 ? 0 : b >= HIST ? HIST - 1 : b]++;
            }
            if (!strcmp(status, "incorrect")) { g->incorrect++; continue; }
            if (!strcmp(status, "below")) { g->below++; continue; }
            if (strcmp(status, "accepted") != 0) continue;
            g->accepted++;
            nt_minhash m;
            nt_minhash_of(sdg_str(o, "instruction"), c->sdg_dedup_ngram, &m);
            int n = cJSON_GetArraySize(p->kept), dup = 0;
            for (int k = 0; k < n && !dup; k++) dup = nt_minhash_similarity(&m, &p->sig[k]) >= c->sdg_dedup_threshold;
            if (dup) { g->duplicates++; continue; }
            g->kept++;
            if (oi >= 0) g->opkept[oi]++;
            cJSON *e = nt_json_object();
            nt_json_str(e, "id", sdg_str(o, "id"));
            nt_json_str(e, "instruction", sdg_str(o, "instruction"));
            nt_json_str(e, "solution", sdg_str(o, "solution"));
            nt_json_num(e, "fitness", sc);
            nt_json_str(e, "seed", sdg_str(o, "seed"));
            nt_json_num(e, "generation", r);
            nt_json_str(e, "operator", sdg_str(o, "operator"));
            nt_json_str(e, "parent", sdg_str(o, "parent"));
            nt_json_str(e, "reason", sdg_str(j, "reason"));
            pool_push(p, e, &m);
        }
        cJSON_Delete(recs);
    }
    return 0;
}

/* the parents of the next generation: indices into p->kept, the fittest first (ties: older), at most max */
typedef struct ranked { double fit; int idx; } ranked;
static int by_fitness(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->fit != y->fit) return x->fit > y->fit ? -1 : 1;
    return x->idx - y->idx;
}
static int parents_of(const gi_pool *p, int max, int **out)
{
    int n = cJSON_GetArraySize(p->kept);
    ranked *r = nt_calloc((size_t)(n ? n : 1), sizeof *r, "parents");
    for (int i = 0; i < n; i++) { r[i].fit = num(cJSON_GetArrayItem(p->kept, i), "fitness", 0); r[i].idx = i; }
    qsort(r, (size_t)n, sizeof *r, by_fitness);
    int m = n < max ? n : max;
    *out = nt_calloc((size_t)(m ? m : 1), sizeof **out, "parents");
    for (int i = 0; i < m; i++) (*out)[i] = r[i].idx;
    free(r);
    return m;
}

/* ---- inputs: generation r's individuals ---------------------------------------- */

int sdg_genetic_inputs(sdg_ctx *x, cJSON *in, char *err, size_t errlen)
{
    const nt_config *c = x->cfg;
    gi_op ops[MAX_OPS];
    int nops = parse_ops(c, ops, err, errlen);
    if (nops < 0) return -1;
    nt_template tpl[MAX_OPS];
    for (int i = 0; i < nops; i++)
        if (load_op(c, ops[i].name, &tpl[i], err, errlen)) {
            for (int k = 0; k < i; k++) nt_template_free(&tpl[k]);
            return -1;
        }
    gi_pool p;
    int rc = pool_build(x, x->round - 1, &p, err, errlen);
    int *par = NULL, np = rc ? 0 : parents_of(&p, c->sdg_pool_max, &par);
    double wsum = 0;
    for (int i = 0; i < nops; i++) wsum += ops[i].weight;
    char key_name[64];
    snprintf(key_name, sizeof key_name, "genetic/g%02d", x->round);
    uint64_t key = nt_rng_key(c->seed, key_name);
    for (int i = 0; !rc && i < c->sdg_population; i++) {
        uint64_t base = (uint64_t)i * 64;
        /* the operator, by weight */
        double u = nt_rng_uniform(key, base) * wsum;
        int op = nops - 1;
        for (int k = 0; k < nops; k++) {
            if (u < ops[k].weight) { op = k; break; }
            u -= ops[k].weight;
        }
        /* the parent: a tournament of two */
        int a = (int)(nt_rng_u64(key, base + 1) % (uint64_t)np), b = (int)(nt_rng_u64(key, base + 2) % (uint64_t)np);
        double fa = num(cJSON_GetArrayItem(p.kept, par[a]), "fitness", 0), fb = num(cJSON_GetArrayItem(p.kept, par[b]), "fitness", 0);
        int win = fb > fa ? b : a;   /* the fitter; a tie: the first drawn */
        const cJSON *parent = cJSON_GetArrayItem(p.kept, par[win]);
        /* {examples}: the winner, then distinct others */
        int ex[16], nex = 0;
        ex[nex++] = win;
        for (int t = 0; nex < c->sdg_examples && nex < np && t < 8 * c->sdg_examples; t++) {
            int k = (int)(nt_rng_u64(key, base + 3 + (uint64_t)t) % (uint64_t)np), seen = 0;
            for (int q = 0; q < nex; q++) seen |= ex[q] == k;
            if (!seen) ex[nex++] = k;
        }
        size_t cap = 64;
        for (int q = 0; q < nex; q++) cap += strlen(sdg_str(cJSON_GetArrayItem(p.kept, par[ex[q]]), "instruction")) + 16;
        char *examples = nt_malloc(cap, "examples"), *e = examples;
        examples[0] = 0;
        for (int q = 0; q < nex; q++)
            e += sprintf(e, "%s%d. %s", q ? "\n" : "", q + 1, sdg_str(cJSON_GetArrayItem(p.kept, par[ex[q]]), "instruction"));
        const char *vals[3] = {sdg_str(parent, "instruction"), sdg_str(parent, "solution"), examples};
        char *text = nt_template_render(&tpl[op], OP_NAMES, vals);
        cJSON *o = nt_json_object();
        char id[64];
        snprintf(id, sizeof id, "g%d.%d", x->round, i + 1);
        nt_json_str(o, "id", id);
        nt_json_num(o, "generation", x->round);
        nt_json_str(o, "operator", ops[op].name);
        nt_json_str(o, "parent", sdg_str(parent, "id"));
        nt_json_str(o, "seed", sdg_str(parent, "seed"));
        cJSON *exs = nt_json_array();
        for (int q = 1; q < nex; q++) nt_json_push(exs, cJSON_CreateString(sdg_str(cJSON_GetArrayItem(p.kept, par[ex[q]]), "id")));
        nt_json_add(o, "examples", exs);
        nt_json_str(o, "prompt", text);
        nt_json_push(in, o);
        free(text);
        free(examples);
    }
    free(par);
    pool_free(&p);
    for (int i = 0; i < nops; i++) nt_template_free(&tpl[i]);
    return rc;
}

void sdg_genetic_settings(const nt_config *c, char *b, size_t n)
{
    /* the judge: its checkpoint file and its template (the operators' templates are in the inputs) */
    char file[NT_PATH_MAX + 64] = "-", why[256], jsha[65] = "-";
    if (c->sdg_judge_model[0] && nt_ckpt_resolve(c->sdg_judge_model, file, sizeof file, why, sizeof why) != 0)
        snprintf(file, sizeof file, "?");
    nt_template t;
    char err[512];
    if (!load_judge(c, &t, err, sizeof err)) {
        nt_sha256_hex(t.text, strlen(t.text), jsha);
        nt_template_free(&t);
    }
    snprintf(b, n, "seeds=%s operators=%s population=%d generations=%d examples=%d pool_max=%d judge=%s (%s) "
             "judge_template=%s threshold=%.17g judge_temperature=%.17g dedup=%.17g/%d",
             c->sdg_seeds, c->sdg_operators, c->sdg_population, c->sdg_generations, c->sdg_examples, c->sdg_pool_max,
             c->sdg_judge_model, file, jsha, c->sdg_judge_threshold, c->sdg_judge_temperature, c->sdg_dedup_threshold,
             c->sdg_dedup_ngram);
}

/* ---- a shard: mutate, solve, judge ---------------------------------------------- */

/* the generated instruction: trimmed, a leading label removed (malloc'd; "" when nothing is left) */
static char *clean_instruction(const char *t)
{
    static const char *const labels[] = {"new instruction:", "instruction:", "new task:", "task:"};
    while (isspace((unsigned char)*t)) t++;
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        size_t k = strlen(labels[i]), j = 0;
        while (j < k && tolower((unsigned char)t[j]) == labels[i][j]) j++;
        if (j == k) { t += k; break; }
    }
    while (isspace((unsigned char)*t)) t++;
    char *d = strdup(t);
    NT_CHECK(d, "out of memory");
    size_t n = strlen(d);
    while (n > 0 && isspace((unsigned char)d[n - 1])) d[--n] = 0;
    return d;
}

static int usable(const char *text, const char *why) { return text && text[0] && strcmp(why ? why : "", "refused") != 0; }

void sdg_genetic_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    const nt_config *c = x->cfg;
    int np = b - a, m = np ? np : 1;
    cJSON **p = nt_calloc((size_t)m, sizeof *p, "prompts");
    char **mt = nt_calloc((size_t)m, sizeof *mt, "instructions"), **mr = nt_calloc((size_t)m, sizeof *mr, "reasons");
    char **ins = nt_calloc((size_t)m, sizeof *ins, "instructions");
    /* 1. the operator's prompt -> the new instruction */
    for (int k = a; k < b; k++) {
        const cJSON *rec = cJSON_GetArrayItem(in, k);
        p[k - a] = sdg_gen_prompt("genetic", sdg_str(rec, "id"), 1, sdg_str(rec, "prompt"));
    }
    sdg_generate(x, p, np, 1, mt, mr, st);
    for (int k = a; k < b; k++) {
        cJSON_Delete(p[k - a]);
        const cJSON *rec = cJSON_GetArrayItem(in, k);
        ins[k - a] = usable(mt[k - a], mr[k - a]) ? clean_instruction(mt[k - a]) : NULL;
        /* the other groups' records get a placeholder (never generated here) */
        p[k - a] = sdg_gen_prompt("genetic", sdg_str(rec, "id"), 2, ins[k - a] && ins[k - a][0] ? ins[k - a] : "-");
    }
    /* 2. the instruction as the user turn -> the solution */
    char **so = nt_calloc((size_t)m, sizeof *so, "solutions"), **sr = nt_calloc((size_t)m, sizeof *sr, "reasons");
    sdg_generate(x, p, np, 1, so, sr, st);
    /* 3. the judge */
    nt_template jt;
    char err[1024];
    if (load_judge(c, &jt, err, sizeof err)) nt_die(NT_EXIT_INPUT, "%s", err);
    for (int k = a; k < b; k++) {
        cJSON_Delete(p[k - a]);
        const cJSON *rec = cJSON_GetArrayItem(in, k);
        const char *vals[2] = {ins[k - a] && ins[k - a][0] ? ins[k - a] : "-", usable(so[k - a], sr[k - a]) ? so[k - a] : "-"};
        char *text = nt_template_render(&jt, JUDGE_NAMES, vals);
        p[k - a] = sdg_gen_prompt("genetic", sdg_str(rec, "id"), 3, text);
        free(text);
    }
    nt_template_free(&jt);
    char **jr = nt_calloc((size_t)m, sizeof *jr, "verdicts"), **jw = nt_calloc((size_t)m, sizeof *jw, "reasons");
    snprintf(x->gen_want, sizeof x->gen_want, "%s", c->sdg_judge_model);
    x->temperature = c->sdg_judge_temperature;
    sdg_generate(x, p, np, 1, jr, jw, st);
    x->gen_want[0] = 0;
    x->temperature = -1;
    for (int k = a; k < b; k++) {
        cJSON_Delete(p[k - a]);
        if (!sdg_mine(x, k)) continue;
        const cJSON *rec = cJSON_GetArrayItem(in, k);
        cJSON *o = nt_json_object();
        static const char *const keep[] = {"id", "generation", "operator", "parent", "seed"};
        for (size_t q = 0; q < sizeof keep / sizeof keep[0]; q++)
            nt_json_add(o, keep[q], cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rec, keep[q]), 1));
        nt_json_add(o, "examples", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rec, "examples"), 1));
        const char *status;
        int alive = ins[k - a] && ins[k - a][0] && usable(so[k - a], sr[k - a]);
        nt_json_str(o, "instruction", ins[k - a] ? ins[k - a] : "");
        nt_json_str(o, "solution", so[k - a] ? so[k - a] : "");
        cJSON *fin = nt_json_array();
        nt_json_push(fin, cJSON_CreateString(mr[k - a] ? mr[k - a] : ""));
        nt_json_push(fin, cJSON_CreateString(alive ? sr[k - a] : ""));
        nt_json_push(fin, cJSON_CreateString(alive ? jw[k - a] : ""));
        nt_json_add(o, "finish", fin);
        if (!alive) {
            status = "empty";
            st->empty++;
        } else {
            st->judged++;
            const char *reply = usable(jr[k - a], jw[k - a]) ? jr[k - a] : "";
            nt_verdict v;
            nt_verdict_parse(reply, 10, &v);
            cJSON *j = nt_json_object();
            nt_json_str(j, "reply", reply);
            if (v.parsed) nt_json_num(j, "score", v.score);
            if (v.correct >= 0) nt_json_add(j, "correct", cJSON_CreateBool(v.correct));
            nt_json_str(j, "reason", v.reason);
            if (!v.parsed) {
                nt_json_str(j, "why", reply[0] ? v.why : "an empty reply");
                status = "unparsed";
                st->unparsed++;
            } else if (v.correct == 0) {
                status = "incorrect";
                st->incorrect++;
            } else if (v.score < c->sdg_judge_threshold) {
                status = "below";
                st->below++;
            } else {
                status = "accepted";
                st->accepted++;
            }
            nt_json_add(o, "judge", j);
        }
        nt_json_str(o, "status", status);
        out[k - a] = sdg_print(o);
    }
    free(p);
    sdg_free_texts(mt, np); sdg_free_texts(mr, np); sdg_free_texts(ins, np);
    sdg_free_texts(so, np); sdg_free_texts(sr, np); sdg_free_texts(jr, np); sdg_free_texts(jw, np);
}

/* ---- reports and the output --------------------------------------------------------- */

static cJSON *gen_json(const gi_gen *g, const gi_op *ops, int nops, int r, int pool)
{
    cJSON *o = nt_json_object();
    nt_json_num(o, "generation", r);
    nt_json_num(o, "population", g->population);
    nt_json_num(o, "empty", g->empty);
    nt_json_num(o, "judged", g->judged);
    nt_json_num(o, "unparsed", g->unparsed);
    nt_json_num(o, "incorrect", g->incorrect);
    nt_json_num(o, "below_threshold", g->below);
    nt_json_num(o, "accepted", g->accepted);
    nt_json_num(o, "duplicates", g->duplicates);
    nt_json_num(o, "kept", g->kept);
    nt_json_num(o, "acceptance_rate", g->population ? (double)g->kept / g->population : 0);
    nt_json_num(o, "pool_after", pool);
    cJSON *h = nt_json_object();
    nt_json_str(h, "bins", "score floor 0..10");
    nt_json_add(h, "counts", nt_json_doubles(g->hist, HIST));
    nt_json_add(o, "score_histogram", h);
    cJSON *m = nt_json_object();
    for (int i = 0; i < nops; i++) {
        cJSON *e = nt_json_object();
        nt_json_num(e, "made", g->made[i]);
        nt_json_num(e, "kept", g->opkept[i]);
        nt_json_add(m, ops[i].name, e);
    }
    nt_json_add(o, "operators", m);
    return o;
}

void sdg_genetic_finish_pass(sdg_ctx *x, const char *joined, size_t n, cJSON *rep)
{
    const nt_config *c = x->cfg;
    char err[2048];
    gi_pool p;
    if (pool_build(x, x->round, &p, err, sizeof err)) nt_die(NT_EXIT_FAIL, "%s", err);
    gi_op ops[MAX_OPS];
    int nops = parse_ops(c, ops, err, sizeof err);
    const gi_gen *g = &p.gen[x->round - 1];
    cJSON *o = gen_json(g, ops, nops, x->round, cJSON_GetArraySize(p.kept));
    /* the replies that did not parse: the first few, logged */
    cJSON *ex = nt_json_array();
    int shown = 0;
    for (const char *line = joined; line < joined + n && shown < 5;) {
        const char *eol = memchr(line, '\n', (size_t)(joined + n - line));
        size_t ll = eol ? (size_t)(eol - line) : (size_t)(joined + n - line);
        char why[128];
        cJSON *r = ll ? nt_json_parse(line, ll, why, sizeof why) : NULL;
        if (r && !strcmp(sdg_str(r, "status"), "unparsed")) {
            const cJSON *j = cJSON_GetObjectItemCaseSensitive(r, "judge");
            cJSON *e = nt_json_object();
            nt_json_str(e, "id", sdg_str(r, "id"));
            char cut[241];
            snprintf(cut, sizeof cut, "%s", sdg_str(j, "reply"));
            nt_json_str(e, "reply", cut);
            nt_json_str(e, "why", sdg_str(j, "why"));
            nt_json_push(ex, e);
            shown++;
        }
        cJSON_Delete(r);
        line += ll + 1;
    }
    nt_json_add(o, "unparsed_examples", ex);
    nt_json_add(rep, "genetic", o);
    char mix[512] = "";
    size_t len = 0;
    for (int i = 0; i < nops; i++)
        len += (size_t)snprintf(mix + len, sizeof mix - len, " %s %d/%d", ops[i].name, g->opkept[i], g->made[i]);
    printf("sdg genetic   generation %d/%d: %d made, %d judged (%d unparsed, %d incorrect, %d below %.3g), %d accepted, "
           "%d near-duplicates, %d kept (%.0f%%), pool %d; operators kept/made:%s\n",
           x->round, x->rounds, g->population, g->judged, g->unparsed, g->incorrect, g->below, c->sdg_judge_threshold,
           g->accepted, g->duplicates, g->kept, g->population ? 100.0 * g->kept / g->population : 0.0,
           cJSON_GetArraySize(p.kept), mix);
    fflush(stdout);
    pool_free(&p);
}

void sdg_genetic_finish(sdg_ctx *x)
{
    const nt_config *c = x->cfg;
    char err[2048], path[NT_PATH_MAX + 64];
    gi_pool p;
    if (pool_build(x, x->rounds, &p, err, sizeof err)) nt_die(NT_EXIT_FAIL, "%s", err);
    gi_op ops[MAX_OPS];
    int nops = parse_ops(c, ops, err, sizeof err);
    /* genetic.jsonl: the kept pairs as chat records, with their lineage */
    sdg_lines lines = {0};
    int total = cJSON_GetArraySize(p.kept);
    for (int i = p.nseeds; i < total; i++) {
        const cJSON *e = cJSON_GetArrayItem(p.kept, i);
        cJSON *o = nt_json_object();
        nt_json_str(o, "id", sdg_str(e, "id"));
        cJSON *msgs = nt_json_array();
        cJSON *u = nt_json_object(), *as = nt_json_object();
        nt_json_str(u, "role", "user");
        nt_json_str(u, "content", sdg_str(e, "instruction"));
        nt_json_str(as, "role", "assistant");
        nt_json_str(as, "content", sdg_str(e, "solution"));
        nt_json_push(msgs, u);
        nt_json_push(msgs, as);
        nt_json_add(o, "messages", msgs);
        nt_json_str(o, "seed", sdg_str(e, "seed"));
        nt_json_num(o, "generation", num(e, "generation", 0));
        nt_json_str(o, "operator", sdg_str(e, "operator"));
        nt_json_str(o, "parent", sdg_str(e, "parent"));
        nt_json_num(o, "judge_score", num(e, "fitness", 0));
        nt_json_str(o, "judge_reason", sdg_str(e, "reason"));
        sdg_lines_add(&lines, o);
    }
    snprintf(path, sizeof path, "%s/genetic.jsonl", x->dir);
    sdg_write_lines(path, &lines);
    /* genetic.report.json: every generation, the totals */
    cJSON *rep = nt_json_object();
    nt_json_str(rep, "stage", "genetic");
    nt_json_num(rep, "seeds", p.nseeds);
    cJSON *gens = nt_json_array();
    gi_gen tot;
    memset(&tot, 0, sizeof tot);
    int pool = p.nseeds;
    for (int r = 1; r <= x->rounds; r++) {
        const gi_gen *g = &p.gen[r - 1];
        pool += g->kept;
        nt_json_push(gens, gen_json(g, ops, nops, r, pool));
        tot.population += g->population; tot.empty += g->empty; tot.judged += g->judged; tot.unparsed += g->unparsed;
        tot.incorrect += g->incorrect; tot.below += g->below; tot.accepted += g->accepted;
        tot.duplicates += g->duplicates; tot.kept += g->kept;
        for (int b = 0; b < HIST; b++) tot.hist[b] += g->hist[b];
        for (int i = 0; i < nops; i++) { tot.made[i] += g->made[i]; tot.opkept[i] += g->opkept[i]; }
    }
    nt_json_add(rep, "generations", gens);
    nt_json_add(rep, "total", gen_json(&tot, ops, nops, 0, pool));
    cJSON *set = nt_json_object();
    nt_json_str(set, "operators", c->sdg_operators);
    nt_json_num(set, "population", c->sdg_population);
    nt_json_num(set, "generations", c->sdg_generations);
    nt_json_num(set, "judge_threshold", c->sdg_judge_threshold);
    nt_json_str(set, "judge_model", c->sdg_judge_model[0] ? c->sdg_judge_model : c->ckpt_load);
    nt_json_num(set, "dedup_threshold", c->sdg_dedup_threshold);
    nt_json_num(set, "dedup_ngram", c->sdg_dedup_ngram);
    nt_json_add(rep, "settings", set);
    snprintf(path, sizeof path, "%s/genetic.report.json", x->dir);
    sdg_write_json(path, rep);
    printf("sdg genetic   done: %d generations, %d of %d made kept (%d unparsed verdicts, %d near-duplicates); "
           "%s/genetic.jsonl, report %s\n", x->rounds, tot.kept, tot.population, tot.unparsed, tot.duplicates, x->dir, path);
    fflush(stdout);
    pool_free(&p);
}
