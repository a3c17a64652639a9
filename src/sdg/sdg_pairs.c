/* sdg_pairs.c — preference pairs out of scored responses (sdg_pairs.h). */
#include "sdg/sdg_pairs.h"
#include "sdg/sdg_answer.h"
#include "sdg/sdg_verifiers.h"
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
            const cJSON *ins = cJSON_GetObjectItemCaseSensitive(r, "instructions");
            if (cJSON_IsString(ans)) nt_json_str(cur, "truth", "answer");
            else if (cJSON_IsArray(ins) && cJSON_GetArraySize(ins) > 0) nt_json_str(cur, "truth", "verifiers");
            nt_json_add(cur, "responses", nt_json_array());
            nt_json_push(out, cur);
        }
        cJSON *e = nt_json_object();
        nt_json_str(e, "response", str(r, "response"));
        nt_json_num(e, "reward", rw->valuedouble);
        const cJSON *ans = cJSON_GetObjectItemCaseSensitive(cur, "answer");
        if (cJSON_IsString(ans)) cJSON_AddItemToObject(e, "correct", cJSON_CreateBool(nt_answer_correct(str(r, "response"), ans->valuestring)));
        else if (!strcmp(str(cur, "truth"), "verifiers"))   /* every instruction followed (strict) */
            cJSON_AddItemToObject(e, "correct", cJSON_CreateBool(nt_verifiers_followed(r, 0) == 1));
        nt_json_push(cJSON_GetObjectItemCaseSensitive(cur, "responses"), e);
    }
}

/* the highest (want_max) or lowest reward among the responses whose
 * "correct" is `correct` (-1: any); first of equals wins, so the order of
 * the samples decides ties, not the memory layout */
static const cJSON *pick(const cJSON *rs, int correct, int want_max)
{
    const cJSON *e, *best = NULL;
    cJSON_ArrayForEach(e, rs) {
        if (correct >= 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "correct")) != correct) continue;
        double v = nt_json_number(e, "reward");
        if (!best || (want_max ? v > nt_json_number(best, "reward") : v < nt_json_number(best, "reward"))) best = e;
    }
    return best;
}

cJSON *nt_pairs_make(const cJSON *g, double margin, nt_pair_result *pr)
{
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(g, "responses"), *e;
    int n = 0, right = 0, judged = 0;
    cJSON_ArrayForEach(e, rs) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "correct");
        n++;
        if (cJSON_IsBool(c)) {
            judged++;
            right += cJSON_IsTrue(c);
        }
    }
    memset(pr, 0, sizeof *pr);
    pr->ranked = n;
    pr->correct = right;
    pr->wrong = judged - right;
    const cJSON *best, *worst;
    const char *judge = "reward";
    if (judged && right == 0) {   /* the truth is known and no response has it */
        pr->no_correct = 1;
        return NULL;
    }
    if (judged && right < judged) {   /* by the truth: the best right answer over the best wrong one */
        best = pick(rs, 1, 1);
        worst = pick(rs, 0, 1);
        judge = str(g, "truth");
        pr->by_truth = 1;
    } else {   /* by the reward model (every response right, or no truth) */
        best = pick(rs, -1, 1);
        worst = pick(rs, -1, 0);
        if (n < 2 || best == worst) return NULL;
        if (!(nt_json_number(best, "reward") - nt_json_number(worst, "reward") > margin)) return NULL;
    }
    double hi = nt_json_number(best, "reward"), lo = nt_json_number(worst, "reward");
    cJSON *o = nt_json_object();
    nt_json_str(o, "id", str(g, "id"));
    cJSON *p = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(g, "prompt"), 1);
    NT_CHECK(p, "out of memory");
    nt_json_add(o, "prompt", p);
    nt_json_str(o, "chosen", str(best, "response"));
    nt_json_str(o, "rejected", str(worst, "response"));
    nt_json_num(o, "chosen_reward", hi);
    nt_json_num(o, "rejected_reward", lo);
    nt_json_str(o, "judge", judge);
    nt_json_num(o, "responses", n);
    if (judged) nt_json_num(o, "correct", right);
    return o;
}
