/* sdg_ifeval.c — the ifeval stage (sdg_ifeval.h).  A prompt's randomness is
 * keyed by XXH64("ifeval/ID", run.seed): its variant (sdg.ifeval_multiturn
 * and sdg.ifeval_secondturn fractions), the number and kinds of its
 * instructions (1..sdg.ifeval_max of sdg.ifeval_kinds, none conflicting
 * with another) and their arguments (nt_ifeval_draw), so a record does not
 * depend on the shard, the rank count or the order.  The instruction texts
 * are the reference's (nt_ifeval_describe), one a line.
 * combination:repeat_prompt comes last, its prompt_to_repeat the request
 * before it (single: the question and the other instructions; multiturn:
 * the question); the secondturn variant does not draw it (what to repeat
 * would be the revision request).  Output records: {"id": "ID.if",
 * "source": ID, "messages", "instructions": [{"id", "kwargs"}], "variant"};
 * a record whose generated turn came back empty or refused is dropped. */
#define _POSIX_C_SOURCE 200809L
#include "sdg/sdg_ifeval.h"
#include "sdg/ifeval.h"
#include "util/check.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

enum { V_SINGLE, V_MULTI, V_SECOND };
static const char *const VARIANTS[] = {"single", "multiturn", "secondturn"};

static const char INTRO[] = "Follow these instructions in every answer from now on:\n";
static const char OUTRO[] = "\nThese instructions apply to all the following questions.";
static const char REVISE[] = "Revise your previous answer so that it follows these instructions:\n";

int sdg_ifeval_kinds(const char *text, int *kinds, char *bad, size_t badlen)
{
    int n = 0;
    const char *p = text;
    while (*p == ' ' || *p == '\t') p++;
    if (!strcmp(p, "all") || !*p) {
        for (int k = 0; k < nt_ifeval_kind_count(); k++) kinds[n++] = k;
        return n;
    }
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        size_t k = 0;
        while (p[k] && p[k] != ' ' && p[k] != '\t' && p[k] != ',') k++;
        char id[128];
        snprintf(id, sizeof id, "%.*s", (int)(k < 127 ? k : 127), p);
        int idx = nt_ifeval_find(id);
        if (idx < 0) {
            snprintf(bad, badlen, "%s", id);
            return -1;
        }
        int seen = 0;
        for (int i = 0; i < n; i++) seen |= kinds[i] == idx;
        if (!seen && n < 25) kinds[n++] = idx;
        p += k;
    }
    return n;
}

static uint64_t hash2(unsigned long long key, unsigned long long ctr)
{
    unsigned long long in[2] = {key, ctr};
    return XXH64(in, sizeof in, 0x5D6E1FULL);
}

int sdg_ifeval_pick(const int *kinds, int nk, int max, unsigned long long key, int *out)
{
    if (nk <= 0 || max <= 0) return 0;
    int want = 1 + (int)(hash2(key, 0) % (uint64_t)max), n = 0;
    for (unsigned long long t = 1; n < want && t <= 16ULL * (unsigned long long)nk + 16; t++) {
        int k = kinds[hash2(key, t) % (uint64_t)nk], ok = 1;
        for (int i = 0; i < n && ok; i++) ok = !nt_ifeval_conflicts(nt_ifeval_kind_id(k), nt_ifeval_kind_id(out[i]));
        if (ok) out[n++] = k;
    }
    return n;
}

void sdg_ifeval_check(const nt_config *c, const nt_deck_info *in)
{
    int kinds[25];
    char bad[128];
    int n = sdg_ifeval_kinds(c->sdg_ifeval_kinds, kinds, bad, sizeof bad);
    if (n < 0) {
        char all[2048];
        size_t len = 0;
        for (int k = 0; k < nt_ifeval_kind_count(); k++)
            len += (size_t)snprintf(all + len, sizeof all - len, "%s%s", k ? " " : "", nt_ifeval_kind_id(k));
        nt_deck_bad(in, "sdg.ifeval_kinds", "unknown instruction id '%s' (all, or ids of: %s)", bad, all);
    }
    if (c->sdg_ifeval_multiturn + c->sdg_ifeval_secondturn > 1 + 1e-12)
        nt_deck_bad(in, "sdg.ifeval_multiturn", "%g + sdg.ifeval_secondturn %g is more than 1 (fractions of the prompts)",
                    c->sdg_ifeval_multiturn, c->sdg_ifeval_secondturn);
    if (c->sdg_ifeval_secondturn > 0 && n == 1 && !strcmp(nt_ifeval_kind_id(kinds[0]), "combination:repeat_prompt"))
        nt_deck_bad(in, "sdg.ifeval_secondturn", "= %g, but the only kind of sdg.ifeval_kinds is combination:repeat_prompt, "
                    "which the second-turn variant does not use", c->sdg_ifeval_secondturn);
}

void sdg_ifeval_settings(const nt_config *c, char *b, size_t n)
{
    snprintf(b, n, "kinds=%s max=%d multiturn=%.17g secondturn=%.17g", c->sdg_ifeval_kinds, c->sdg_ifeval_max,
             c->sdg_ifeval_multiturn, c->sdg_ifeval_secondturn);
}

/* ---- one prompt's plan ---------------------------------------------------------- */

typedef struct plan {
    int variant, n;
    int kind[25];
    cJSON *kwargs[25];
    cJSON *prefix;          /* the messages before the question */
    const char *question;   /* the last user turn */
    char *descs;            /* the instruction texts, one a line */
} plan;

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void push_msg(cJSON *msgs, const char *role, const char *content)
{
    cJSON *m = nt_json_object();
    nt_json_str(m, "role", role);
    nt_json_str(m, "content", content);
    nt_json_push(msgs, m);
}

static char *join3(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = nt_malloc(n, "prompt text");
    snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

static char *trimmed(const char *s)
{
    size_t a = 0, b = strlen(s);
    while (a < b && strchr(" \t\n\r", s[a])) a++;
    while (b > a && strchr(" \t\n\r", s[b - 1])) b--;
    char *d = nt_malloc(b - a + 1, "text");
    memcpy(d, s + a, b - a);
    d[b - a] = 0;
    return d;
}

static void make_plan(const nt_config *c, const int *kinds, int nk, const cJSON *rec, plan *p)
{
    memset(p, 0, sizeof *p);
    const char *id = str(rec, "id");
    char key_text[1024];
    snprintf(key_text, sizeof key_text, "ifeval/%s", id);
    unsigned long long key = XXH64(key_text, strlen(key_text), (unsigned long long)c->seed);
    double u = (double)(hash2(key, 1ULL << 40) >> 11) / 9007199254740992.0;
    p->variant = u < c->sdg_ifeval_multiturn ? V_MULTI : u < c->sdg_ifeval_multiturn + c->sdg_ifeval_secondturn ? V_SECOND : V_SINGLE;
    int allowed[25], na = 0, repeat = nt_ifeval_find("combination:repeat_prompt");
    for (int i = 0; i < nk; i++)
        if (!(p->variant == V_SECOND && kinds[i] == repeat)) allowed[na++] = kinds[i];
    int got[25];
    int n = sdg_ifeval_pick(allowed, na, c->sdg_ifeval_max, hash2(key, 2), got);
    /* combination:repeat_prompt last */
    for (int i = 0; i < n; i++)
        if (got[i] == repeat && i != n - 1) { got[i] = got[n - 1]; got[n - 1] = repeat; }
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(rec, "prompt");
    int last = cJSON_GetArraySize(msgs) - 1;
    p->prefix = nt_json_array();
    for (int i = 0; i < last; i++) {
        cJSON *m = cJSON_Duplicate(cJSON_GetArrayItem(msgs, i), 1);
        NT_CHECK(m, "out of memory");
        nt_json_push(p->prefix, m);
    }
    p->question = str(cJSON_GetArrayItem(msgs, last), "content");
    char *descs = nt_malloc(1, "instructions");
    descs[0] = 0;
    for (int i = 0; i < n; i++) {
        p->kind[i] = got[i];
        p->kwargs[i] = nt_ifeval_draw(nt_ifeval_kind_id(got[i]), hash2(key, 100 + (unsigned long long)i));
        if (got[i] == repeat) {   /* the request before this instruction */
            char *req = p->variant == V_SINGLE && descs[0] ? join3(p->question, "\n\n", descs) : join3(p->question, "", "");
            char *t = trimmed(req);
            cJSON_DeleteItemFromObjectCaseSensitive(p->kwargs[i], "prompt_to_repeat");
            nt_json_str(p->kwargs[i], "prompt_to_repeat", t);
            free(t);
            free(req);
        }
        char *d = nt_ifeval_describe(nt_ifeval_kind_id(got[i]), p->kwargs[i]);
        char *nd = join3(descs, descs[0] ? "\n" : "", d);
        free(descs);
        free(d);
        descs = nd;
    }
    p->n = n;
    p->descs = descs;
}

static void free_plan(plan *p)
{
    for (int i = 0; i < p->n; i++) cJSON_Delete(p->kwargs[i]);
    cJSON_Delete(p->prefix);
    free(p->descs);
}

/* the generator's prompt of a multiturn or secondturn plan */
static cJSON *gen_prompt(const cJSON *rec, const plan *p)
{
    cJSON *o = nt_json_object();
    char id[1024];
    snprintf(id, sizeof id, "ifeval/%s/1", str(rec, "id"));
    nt_json_str(o, "id", id);
    cJSON *m = cJSON_Duplicate(p->prefix, 1);
    NT_CHECK(m, "out of memory");
    if (p->variant == V_MULTI) {
        char *t = join3(INTRO, p->descs, OUTRO);
        push_msg(m, "user", t);
        free(t);
    } else push_msg(m, "user", p->question);
    nt_json_add(o, "messages", m);
    return o;
}

void sdg_ifeval_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    const nt_config *c = x->cfg;
    int kinds[25];
    char bad[128];
    int nk = sdg_ifeval_kinds(c->sdg_ifeval_kinds, kinds, bad, sizeof bad);
    NT_CHECK(nk >= 0, "internal: sdg.ifeval_kinds has an unknown id %s after the deck check", bad);
    int np = b - a;
    plan *pl = nt_calloc((size_t)(np ? np : 1), sizeof *pl, "ifeval plans");
    for (int k = a; k < b; k++) make_plan(c, kinds, nk, cJSON_GetArrayItem(in, k), &pl[k - a]);
    /* the generator's prompts: each at a place of its record's data-parallel group
     * (place mod DP = the record's place in the shard mod DP), padded where a group has fewer */
    int DP = x->DP > 0 ? x->DP : 1, most = 0;
    int *per = nt_calloc((size_t)DP, sizeof *per, "ifeval groups");
    for (int k = 0; k < np; k++)
        if (pl[k].variant != V_SINGLE && pl[k].n > 0 && ++per[k % DP] > most) most = per[k % DP];
    int ng = most * DP;
    cJSON **gp = nt_calloc((size_t)(ng ? ng : 1), sizeof *gp, "ifeval prompts");
    int *slot = nt_calloc((size_t)(np ? np : 1), sizeof *slot, "ifeval slots");
    memset(per, 0, (size_t)DP * sizeof *per);
    for (int k = 0; k < np; k++) {
        slot[k] = -1;
        if (pl[k].variant == V_SINGLE || pl[k].n == 0) continue;
        int g = k % DP;
        slot[k] = per[g]++ * DP + g;
        gp[slot[k]] = gen_prompt(cJSON_GetArrayItem(in, a + k), &pl[k]);
    }
    for (int i = 0; i < ng; i++)
        if (!gp[i]) {
            char id[64];
            snprintf(id, sizeof id, "ifeval/pad/%d", i);
            gp[i] = nt_json_object();
            nt_json_str(gp[i], "id", id);
            nt_json_add(gp[i], "messages", sdg_user_messages("-"));
        }
    char **t = nt_calloc((size_t)(ng ? ng : 1), sizeof *t, "ifeval turns");
    char **r = nt_calloc((size_t)(ng ? ng : 1), sizeof *r, "ifeval reasons");
    if (ng) sdg_generate(x, gp, ng, 1, t, r, st);
    for (int k = a; k < b; k++) {
        plan *p = &pl[k - a];
        if (!sdg_mine(x, k)) continue;
        const cJSON *rec = cJSON_GetArrayItem(in, k);
        char *lines = NULL;
        const char *turn = slot[k - a] >= 0 ? t[slot[k - a]] : NULL;
        const char *why = slot[k - a] >= 0 ? r[slot[k - a]] : NULL;
        if (p->n == 0 || (slot[k - a] >= 0 && (!turn || !turn[0] || (why && !strcmp(why, "refused"))))) {
            st->empty++;
        } else {
            cJSON *msgs = cJSON_Duplicate(p->prefix, 1);
            NT_CHECK(msgs, "out of memory");
            if (p->variant == V_SINGLE) {
                char *u = join3(p->question, "\n\n", p->descs);
                push_msg(msgs, "user", u);
                free(u);
            } else if (p->variant == V_MULTI) {
                char *u = join3(INTRO, p->descs, OUTRO);
                push_msg(msgs, "user", u);
                free(u);
                push_msg(msgs, "assistant", turn);
                push_msg(msgs, "user", p->question);
                st->multiturn++;
            } else {
                push_msg(msgs, "user", p->question);
                push_msg(msgs, "assistant", turn);
                char *u = join3(REVISE, p->descs, "");
                push_msg(msgs, "user", u);
                free(u);
                st->secondturn++;
            }
            cJSON *o = nt_json_object();
            char id[1024];
            snprintf(id, sizeof id, "%s.if", str(rec, "id"));
            nt_json_str(o, "id", id);
            nt_json_str(o, "source", str(rec, "id"));
            nt_json_add(o, "messages", msgs);
            cJSON *ins = nt_json_array();
            for (int i = 0; i < p->n; i++) {
                cJSON *e = nt_json_object();
                nt_json_str(e, "id", nt_ifeval_kind_id(p->kind[i]));
                cJSON *kw = cJSON_Duplicate(p->kwargs[i], 1);
                NT_CHECK(kw, "out of memory");
                nt_json_add(e, "kwargs", kw);
                nt_json_push(ins, e);
            }
            st->instructions += p->n;
            nt_json_add(o, "instructions", ins);
            nt_json_str(o, "variant", VARIANTS[p->variant]);
            lines = sdg_print(o);
        }
        out[k - a] = lines ? lines : strdup("");
        NT_CHECK(out[k - a], "out of memory");
    }
    for (int i = 0; i < ng; i++) { cJSON_Delete(gp[i]); free(t[i]); free(r[i]); }
    for (int k = 0; k < np; k++) free_plan(&pl[k]);
    free(gp); free(t); free(r); free(slot); free(per); free(pl);
}
