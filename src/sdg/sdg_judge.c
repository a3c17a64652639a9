/* sdg_judge.c — the judge stage: each preference pair judged by an LLM in
 * both orders, the verdicts combined, the comparison with the reward
 * model and the ground truth (the rules of sdg_judge.h). */
#define _POSIX_C_SOURCE 200809L
#include "sdg/sdg_judge.h"
#include "sdg/sdg_verdict.h"
#include "ckpt/ckpt.h"
#include "util/check.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


int sdg_judge_inputs(sdg_ctx *x, cJSON *in, char *err, size_t errlen)
{
    return sdg_read_stage(x, "pairs", in, err, errlen);
}

void sdg_judge_settings(const nt_config *c, char *b, size_t n)
{
    char file[NT_PATH_MAX + 64] = "-", why[256];
    if (c->sdg_judge_model[0] && nt_ckpt_resolve(c->sdg_judge_model, file, sizeof file, why, sizeof why) != 0)
        snprintf(file, sizeof file, "?");
    snprintf(b, n, "judge=%s (%s) judge_temperature=%.17g", c->sdg_judge_model, file, c->sdg_judge_temperature);
}

/* a reply's verdict, as the response it prefers ("chosen", "rejected", "tie") or "unparsed";
 * swapped: A was the rejected response */
static const char *side(const char *reply, int swapped)
{
    switch (nt_verdict_pair(reply)) {
    case 'A': return swapped ? "rejected" : "chosen";
    case 'B': return swapped ? "chosen" : "rejected";
    case 'C': return "tie";
    default: return "unparsed";
    }
}


void sdg_judge_shard(sdg_ctx *x, const cJSON *in, int a, int b, char **out, sdg_stats *st)
{
    const nt_config *c = x->cfg;
    int np = b - a, m = np ? np : 1;
    char **txt[2], **fin[2];
    cJSON **p = nt_calloc((size_t)m, sizeof *p, "prompts");
    snprintf(x->gen_want, sizeof x->gen_want, "%s", c->sdg_judge_model);
    x->temperature = c->sdg_judge_temperature;
    for (int order = 0; order < 2; order++) {   /* one call per order: record k's prompts stay with its group */
        for (int k = a; k < b; k++) {
            const cJSON *rec = cJSON_GetArrayItem(in, k);
            char *q = sdg_conversation_text(cJSON_GetObjectItemCaseSensitive(rec, "prompt"));
            const char *vals[3] = {q, order ? sdg_str(rec, "rejected") : sdg_str(rec, "chosen"),
                                   order ? sdg_str(rec, "chosen") : sdg_str(rec, "rejected")};
            char *t = nt_template_render(&x->tpl, x->stage->names, vals);
            p[k - a] = sdg_gen_prompt("judge", sdg_str(rec, "id"), order + 1, t);
            free(t);
            free(q);
        }
        txt[order] = nt_calloc((size_t)m, sizeof **txt, "verdicts");
        fin[order] = nt_calloc((size_t)m, sizeof **fin, "reasons");
        sdg_generate(x, p, np, 1, txt[order], fin[order], st);
        for (int k = a; k < b; k++) cJSON_Delete(p[k - a]);
    }
    x->gen_want[0] = 0;
    x->temperature = -1;
    for (int k = a; k < b; k++) {
        if (!sdg_mine(x, k)) continue;
        cJSON *o = cJSON_Duplicate(cJSON_GetArrayItem(in, k), 1);
        NT_CHECK(o, "out of memory");
        const char *r1 = txt[0][k - a] && strcmp(fin[0][k - a], "refused") ? txt[0][k - a] : "";
        const char *r2 = txt[1][k - a] && strcmp(fin[1][k - a], "refused") ? txt[1][k - a] : "";
        const char *ab = side(r1, 0), *ba = side(r2, 1), *verdict;
        st->judged += 2;
        st->unparsed += !strcmp(ab, "unparsed") + !strcmp(ba, "unparsed");
        int bias = 0;
        if (!strcmp(ab, "unparsed") || !strcmp(ba, "unparsed")) verdict = "unparsed";
        else if (!strcmp(ab, ba)) verdict = ab;
        else {
            verdict = "inconsistent";
            bias = nt_verdict_pair(r1) == 'A' && nt_verdict_pair(r2) == 'A';
            bias |= nt_verdict_pair(r1) == 'B' && nt_verdict_pair(r2) == 'B';
        }
        cJSON *l = nt_json_object();
        nt_json_str(l, "ab", ab);
        nt_json_str(l, "ba", ba);
        nt_json_str(l, "verdict", verdict);
        nt_json_add(l, "position_bias", cJSON_CreateBool(bias));
        nt_json_str(l, "reply_ab", r1);
        nt_json_str(l, "reply_ba", r2);
        nt_json_add(o, "llm", l);
        const cJSON *cr = cJSON_GetObjectItemCaseSensitive(o, "chosen_reward"), *rr = cJSON_GetObjectItemCaseSensitive(o, "rejected_reward");
        if (cJSON_IsNumber(cr) && cJSON_IsNumber(rr))
            nt_json_str(o, "rm", cr->valuedouble > rr->valuedouble ? "chosen" : cr->valuedouble < rr->valuedouble ? "rejected" : "tie");
        out[k - a] = sdg_print(o);
    }
    free(p);
    for (int order = 0; order < 2; order++) { sdg_free_texts(txt[order], np); sdg_free_texts(fin[order], np); }
}

/* agreement counts: agree / n */
typedef struct agree { int agree, n; } agree;
static void agree_add(agree *g, const char *pick, const char *want, int drop_undecided)
{
    int decided = !strcmp(pick, "chosen") || !strcmp(pick, "rejected");
    if (!decided && drop_undecided) return;
    g->n++;
    g->agree += decided && !strcmp(pick, want);
}
static void agree_put(cJSON *o, const char *key, const agree *g)
{
    cJSON *e = nt_json_object();
    nt_json_num(e, "pairs", g->n);
    nt_json_num(e, "agree", g->agree);
    if (g->n) nt_json_num(e, "rate", (double)g->agree / g->n);
    else nt_json_null(e, "rate");
    nt_json_add(o, key, e);
}

void sdg_judge_finish_pass(sdg_ctx *x, const char *joined, size_t n, cJSON *rep)
{
    const nt_config *c = x->cfg;
    int drop = !strcmp(c->sdg_judge_disagree, "drop");
    int pairs = 0, chosen = 0, rejected = 0, tie = 0, inconsistent = 0, unparsed = 0, bias = 0, replies_unparsed = 0, out = 0;
    agree llm_rm = {0}, llm_truth = {0}, rm_truth = {0};
    sdg_lines lines = {0};
    for (const char *line = joined; line < joined + n;) {
        const char *eol = memchr(line, '\n', (size_t)(joined + n - line));
        size_t ll = eol ? (size_t)(eol - line) : (size_t)(joined + n - line);
        char why[128];
        cJSON *r = ll ? nt_json_parse(line, ll, why, sizeof why) : NULL;
        line += ll + 1;
        if (!r) continue;
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(r, "llm");
        const char *v = sdg_str(l, "verdict"), *rm = sdg_str(r, "rm"), *truth = sdg_str(r, "judge");
        pairs++;
        replies_unparsed += !strcmp(sdg_str(l, "ab"), "unparsed") + !strcmp(sdg_str(l, "ba"), "unparsed");
        if (!strcmp(v, "chosen")) chosen++;
        else if (!strcmp(v, "rejected")) rejected++;
        else if (!strcmp(v, "tie")) tie++;
        else if (!strcmp(v, "inconsistent")) inconsistent++;
        else unparsed++;
        bias += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "position_bias"));
        if (strcmp(v, "unparsed") != 0 && rm[0]) agree_add(&llm_rm, v, rm, drop);
        int by_truth = !strcmp(truth, "answer") || !strcmp(truth, "verifiers");
        if (by_truth && strcmp(v, "unparsed") != 0) agree_add(&llm_truth, v, "chosen", drop);
        if (by_truth && rm[0]) agree_add(&rm_truth, rm, "chosen", 0);
        if (!strcmp(v, "chosen") || !strcmp(v, "rejected")) {   /* the LLM's pair */
            int sw = !strcmp(v, "rejected");
            cJSON *o = nt_json_object();
            nt_json_str(o, "id", sdg_str(r, "id"));
            nt_json_add(o, "prompt", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r, "prompt"), 1));
            nt_json_str(o, "chosen", sdg_str(r, sw ? "rejected" : "chosen"));
            nt_json_str(o, "rejected", sdg_str(r, sw ? "chosen" : "rejected"));
            const cJSON *cr = cJSON_GetObjectItemCaseSensitive(r, sw ? "rejected_reward" : "chosen_reward");
            const cJSON *rr = cJSON_GetObjectItemCaseSensitive(r, sw ? "chosen_reward" : "rejected_reward");
            if (cJSON_IsNumber(cr) && cJSON_IsNumber(rr)) {
                nt_json_num(o, "chosen_reward", cr->valuedouble);
                nt_json_num(o, "rejected_reward", rr->valuedouble);
            }
            nt_json_str(o, "judge", "llm");
            nt_json_str(o, "pair_judge", truth);
            sdg_lines_add(&lines, o);
            out++;
        }
        cJSON_Delete(r);
    }
    char path[NT_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/judge_pairs.jsonl", x->dir);
    sdg_write_lines(path, &lines);
    cJSON *o = nt_json_object();
    nt_json_num(o, "pairs", pairs);
    nt_json_num(o, "llm_chosen", chosen);
    nt_json_num(o, "llm_rejected", rejected);
    nt_json_num(o, "llm_tie", tie);
    nt_json_num(o, "inconsistent", inconsistent);
    nt_json_num(o, "position_bias", bias);
    nt_json_num(o, "unparsed_pairs", unparsed);
    nt_json_num(o, "unparsed_replies", replies_unparsed);
    nt_json_num(o, "consistent_rate", pairs - unparsed > 0 ? (double)(chosen + rejected + tie) / (pairs - unparsed) : 0);
    nt_json_str(o, "disagreements", drop ? "dropped from the agreement rates" : "counted as ties (not agreeing)");
    nt_json_num(o, "judge_pairs", out);
    agree_put(o, "llm_vs_rm", &llm_rm);
    agree_put(o, "llm_vs_truth", &llm_truth);
    agree_put(o, "rm_vs_truth", &rm_truth);
    nt_json_add(rep, "judge", o);
    printf("sdg judge     %d pairs: LLM chosen %d, rejected %d, tie %d, inconsistent %d (position bias %d), unparsed %d "
           "(%d replies); agreement LLM/RM %d/%d, LLM/truth %d/%d, RM/truth %d/%d; %d pairs in %s\n",
           pairs, chosen, rejected, tie, inconsistent, bias, unparsed, replies_unparsed, llm_rm.agree, llm_rm.n,
           llm_truth.agree, llm_truth.n, rm_truth.agree, rm_truth.n, out, path);
    fflush(stdout);
}
