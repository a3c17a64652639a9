/* sdg_pairs.c — preference pairs out of scored responses (sdg_pairs.h). */
#include "sdg/sdg_pairs.h"
#include "util/check.h"
#include "util/json.h"

#include <string.h>

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

void nt_pairs_group(const cJSON *scored, cJSON *out)
{
    cJSON *cur = NULL;
    const cJSON *r;
    cJSON_ArrayForEach(r, scored) {
        const cJSON *rw = cJSON_GetObjectItemCaseSensitive(r, "reward");
        if (!cJSON_IsNumber(rw)) continue;   /* refused by the scorer ("error") */
        const char *src = str(r, "source");
        if (!cur || strcmp(str(cur, "id"), src) != 0) {
            cur = nt_json_object();
            nt_json_str(cur, "id", src);
            cJSON *p = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r, "prompt"), 1);
            NT_CHECK(p, "out of memory");
            nt_json_add(cur, "prompt", p);
            const cJSON *ans = cJSON_GetObjectItemCaseSensitive(r, "answer");
            if (ans) {
                cJSON *a = cJSON_Duplicate(ans, 1);
                NT_CHECK(a, "out of memory");
                nt_json_add(cur, "answer", a);
            }
            nt_json_add(cur, "responses", nt_json_array());
            nt_json_push(out, cur);
        }
        cJSON *e = nt_json_object();
        nt_json_str(e, "response", str(r, "response"));
        nt_json_num(e, "reward", rw->valuedouble);
        nt_json_push(cJSON_GetObjectItemCaseSensitive(cur, "responses"), e);
    }
}

cJSON *nt_pairs_make(const cJSON *g, double margin, nt_pair_result *pr)
{
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(g, "responses"), *e;
    const cJSON *best = NULL, *worst = NULL;
    int n = 0;
    /* first of equals wins: the order of the samples decides ties, not the memory layout */
    cJSON_ArrayForEach(e, rs) {
        double v = nt_json_number(e, "reward");
        if (!best || v > nt_json_number(best, "reward")) best = e;
        if (!worst || v < nt_json_number(worst, "reward")) worst = e;
        n++;
    }
    pr->by_truth = 0;
    pr->ranked = n;
    if (n < 2 || best == worst) return NULL;
    double hi = nt_json_number(best, "reward"), lo = nt_json_number(worst, "reward");
    if (!(hi - lo > margin)) return NULL;
    cJSON *o = nt_json_object();
    nt_json_str(o, "id", str(g, "id"));
    cJSON *p = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(g, "prompt"), 1);
    NT_CHECK(p, "out of memory");
    nt_json_add(o, "prompt", p);
    nt_json_str(o, "chosen", str(best, "response"));
    nt_json_str(o, "rejected", str(worst, "response"));
    nt_json_num(o, "chosen_reward", hi);
    nt_json_num(o, "rejected_reward", lo);
    nt_json_str(o, "judge", "reward");
    nt_json_num(o, "responses", n);
    return o;
}
