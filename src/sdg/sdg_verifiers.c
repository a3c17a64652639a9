/* sdg_verifiers.c — IFEval verifiers over generated responses (sdg_verifiers.h). */
#include "sdg/sdg_verifiers.h"
#include "sdg/ifeval.h"
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

/* the text the instructions were given with: the last user turn */
static const char *prompt_text(const cJSON *rec)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(rec, "prompt"), *m, *last = NULL;
    if (cJSON_IsString(p)) return p->valuestring;
    cJSON_ArrayForEach(m, p) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (cJSON_IsString(role) && !strcmp(role->valuestring, "user")) last = m;
    }
    const cJSON *c = last ? cJSON_GetObjectItemCaseSensitive(last, "content") : NULL;
    return cJSON_IsString(c) ? c->valuestring : "";
}

/* each[i] = instruction i followed (strict or loose); the count, -1 without instructions */
static int verify_each(const cJSON *rec, int loose, int *each, int max)
{
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(rec, "instructions"), *x;
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(rec, "response");
    if (!cJSON_IsArray(ins) || cJSON_GetArraySize(ins) == 0 || !cJSON_IsString(resp)) return -1;
    const char *prompt = prompt_text(rec);
    int n = 0;
    cJSON_ArrayForEach(x, ins) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(x, "id"), *kw = cJSON_GetObjectItemCaseSensitive(x, "kwargs");
        int ok = cJSON_IsString(id) && nt_ifeval_find(id->valuestring) >= 0 &&
                 nt_ifeval_verify(id->valuestring, kw, prompt, resp->valuestring, loose) == 1;
        if (n < max) each[n] = ok;
        n++;
    }
    return n;
}

int nt_verifiers_followed(const cJSON *rec, int loose)
{
    int each[64];
    int n = verify_each(rec, loose, each, 64);
    if (n < 0) return -1;
    for (int i = 0; i < n && i < 64; i++)
        if (!each[i]) return 0;
    return 1;
}

cJSON *nt_verifiers_report(const char *jsonl, size_t len)
{
    int K = nt_ifeval_kind_count();
    long *n = calloc((size_t)K, sizeof *n), *ps = calloc((size_t)K, sizeof *ps), *pl = calloc((size_t)K, sizeof *pl);
    long recs = 0, all_s = 0, all_l = 0;
    const char *p = jsonl, *end = jsonl + len;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        size_t l = e ? (size_t)(e - p) : (size_t)(end - p);
        char err[64];
        cJSON *rec = l ? nt_json_parse(p, l, err, sizeof err) : NULL;
        int es[64], el[64];
        int m = rec ? verify_each(rec, 0, es, 64) : -1;
        if (m > 0 && m <= 64) {
            verify_each(rec, 1, el, 64);
            int fs = 1, fl = 1, i = 0;
            const cJSON *x;
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(rec, "instructions")) {
                int k = nt_ifeval_find(cJSON_GetObjectItemCaseSensitive(x, "id")->valuestring);
                if (k >= 0) { n[k]++; ps[k] += es[i]; pl[k] += el[i]; }
                fs &= es[i];
                fl &= el[i];
                i++;
            }
            recs++;
            all_s += fs;
            all_l += fl;
        }
        cJSON_Delete(rec);
        p += l + 1;
    }
    cJSON *o = NULL;
    if (recs) {
        o = nt_json_object();
        nt_json_num(o, "responses", (double)recs);
        cJSON *pr = nt_json_object();
        nt_json_num(pr, "strict", (double)all_s / (double)recs);
        nt_json_num(pr, "loose", (double)all_l / (double)recs);
        nt_json_add(o, "prompt_level", pr);
        cJSON *kinds = nt_json_object();
        for (int k = 0; k < K; k++) {
            if (!n[k]) continue;
            cJSON *e = nt_json_object();
            nt_json_num(e, "n", (double)n[k]);
            nt_json_num(e, "strict", (double)ps[k] / (double)n[k]);
            nt_json_num(e, "loose", (double)pl[k] / (double)n[k]);
            nt_json_add(kinds, nt_ifeval_kind_id(k), e);
        }
        nt_json_add(o, "kinds", kinds);
    }
    free(n); free(ps); free(pl);
    return o;
}
