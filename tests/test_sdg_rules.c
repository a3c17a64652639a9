/* test_sdg_rules.c — the documented rules of the synthetic-data stages,
 * case by case: list parsing (src/sdg/sdg_list.h: JSON arrays, numbered
 * and bulleted lines, continuations, preambles, repeats, the cap),
 * templates (sdg_template.h: placeholders, escapes, unknown and missing
 * placeholders with file:line), polite filler (sdg_filler.h), matching a
 * final answer with the reference (sdg_answer.h; the extraction itself is
 * checked against lm-eval by tests/test_answer.sh) and ranking pairs by
 * the reference answer or the reward (sdg_pairs.h), the LLM judge's parse
 * rules (sdg_verdict.h) and the MinHash near-duplicate test (sdg_minhash.h:
 * the estimate against the exact Jaccard index). */
#include "sdg/sdg_answer.h"
#include "sdg/sdg_filler.h"
#include "sdg/sdg_pairs.h"
#include "sdg/sdg_minhash.h"
#include "sdg/sdg_verdict.h"
#include "sdg/sdg_verifiers.h"
#include "util/json.h"
#include "sdg/sdg_list.h"
#include "sdg/sdg_template.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fails = 0, checks = 0;

static void expect(int ok, const char *what)
{
    checks++;
    if (!ok) { fails++; printf("FAIL: %s\n", what); }
}

/* items joined by '|' */
static void list_case(const char *name, const char *text, int max, const char *want, int repeats, int cut)
{
    char **items;
    nt_list_stats st;
    int n = nt_list_parse(text, max, &items, &st);
    char got[2048] = "";
    size_t len = 0;
    for (int i = 0; i < n; i++) len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? "|" : "", items[i]);
    int ok = !strcmp(got, want) && st.repeats == repeats && st.cut == cut;
    checks++;
    if (!ok) {
        fails++;
        printf("FAIL: list %s: got '%s' (repeats %d, cut %d), want '%s' (%d, %d)\n", name, got, st.repeats, st.cut, want, repeats, cut);
    } else printf("PASS: list %s: %d items\n", name, n);
    nt_list_free(items, n);
}

static void filler_case(const char *in, const char *want, int removed)
{
    int rm = -1;
    char *got = nt_filler_strip(in, &rm);
    int ok = !strcmp(got, want) && rm == removed;
    checks++;
    if (!ok) { fails++; printf("FAIL: filler '%s': got '%s' (%d removed), want '%s' (%d)\n", in, got, rm, want, removed); }
    else printf("PASS: filler '%s' -> '%s'\n", in, got);
    free(got);
}

static const char *write_file(const char *name, const char *text)
{
    FILE *f = fopen(name, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) { printf("FAIL: cannot write %s\n", name); exit(1); }
    return name;
}

/* a solution verdict: parsed (score, correct) or not */
static void verdict_case(const char *reply, int parsed, double score, int correct, const char *reason)
{
    nt_verdict v;
    nt_verdict_parse(reply, 10, &v);
    int ok = v.parsed == parsed && (!parsed || (v.score > score - 1e-12 && v.score < score + 1e-12)) && v.correct == correct &&
             (!reason || !strcmp(v.reason, reason));
    checks++;
    if (!ok) {
        fails++;
        printf("FAIL: verdict '%s': parsed %d score %g correct %d reason '%s' (%s); want %d %g %d '%s'\n", reply, v.parsed,
               v.score, v.correct, v.reason, v.why, parsed, score, correct, reason ? reason : "*");
    } else printf("PASS: verdict '%.40s': %s\n", reply, parsed ? "parsed" : v.why);
}

static void pair_case(const char *reply, int want)
{
    int got = nt_verdict_pair(reply);
    checks++;
    if (got != want) { fails++; printf("FAIL: pair verdict '%s': %d, want %d\n", reply, got, want); }
    else printf("PASS: pair verdict '%.40s': %c\n", reply, want ? want : '0');
}

static void template_bad(const char *name, const char *text, const char *want_sub)
{
    static const char *const names[] = {"topic", "n", NULL}, *const req[] = {"topic", NULL};
    nt_template t;
    char err[1024] = "";
    int rc = nt_template_load(&t, write_file(name, text), names, req, err, sizeof err);
    int ok = rc != 0 && strstr(err, want_sub) != NULL;
    checks++;
    if (!ok) { fails++; printf("FAIL: template %s: rc %d, '%s' (want '%s')\n", name, rc, err, want_sub); }
    else printf("PASS: template %s refused: %s\n", name, err);
    if (rc == 0) nt_template_free(&t);
}

int main(void)
{
    /* ---- lists ---- */
    list_case("numbered", "1. Cooking\n2. Music\n3. Travel", 0, "Cooking|Music|Travel", 0, 0);
    list_case("preamble and epilogue", "Here are three topics:\n\n1) Cooking\n2) Music\n\nHope this helps!", 0,
              "Cooking|Music", 0, 0);
    list_case("bullets", "- a\n* b\n+ c\n\xe2\x80\xa2 d", 0, "a|b|c|d", 0, 0);
    list_case("colon numbers", "1: one\n2: two", 0, "one|two", 0, 0);
    list_case("continuation", "1. first line\n   goes on\n2. second\n\nnot part of it", 0, "first line goes on|second", 0, 0);
    list_case("no list", "Cooking is a topic. Music is another.", 0, "", 0, 0);
    list_case("a number is not a marker", "3.14 is pi\n2019 was a year", 0, "", 0, 0);
    list_case("marker without blank", "1.Cooking\n-Music", 0, "", 0, 0);
    list_case("json array", "Sure: [\"a\", \"b\", 3, \"c\"] done", 0, "a|b|c", 0, 0);
    list_case("json over lines", "[\"x\", \"y\"]\n1. z", 0, "x|y", 0, 0);
    list_case("broken json falls back to lines", "[not json\n1. z", 0, "z", 0, 0);
    list_case("repeats", "1. Music\n2. music\n3.  MUSIC \n4. Art", 0, "Music|Art", 2, 0);
    list_case("cap", "1. a\n2. b\n3. c\n4. d", 2, "a|b", 0, 2);
    list_case("bold and quotes", "1. **Cooking**\n2. \"Music\"\n3. __'Art'__", 0, "Cooking|Music|Art", 0, 0);
    list_case("empty items", "1. \n2. b\n-  ", 0, "b", 0, 0);
    list_case("indented and CRLF", "  1. a\r\n  2. b\r\n", 0, "a|b", 0, 0);
    list_case("big numbers", "10. ten\n11) eleven", 0, "ten|eleven", 0, 0);
    list_case("empty text", "", 0, "", 0, 0);

    /* ---- templates ---- */
    static const char *const names[] = {"topic", "n", NULL}, *const req[] = {"topic", NULL};
    nt_template t;
    char err[1024] = "";
    int rc = nt_template_load(&t, write_file("t_ok.txt", "List {n} parts of {topic} {{json}}.\n\n"), names, req, err, sizeof err);
    expect(rc == 0, "a good template loads");
    if (rc == 0) {
        const char *vals[] = {"cooking", "3"};
        char *s = nt_template_render(&t, names, vals);
        expect(!strcmp(s, "List 3 parts of cooking {json}."), "render: placeholders, escapes, final blank lines dropped");
        printf("%s: rendered '%s'\n", strcmp(s, "List 3 parts of cooking {json}.") ? "FAIL" : "PASS", s);
        free(s);
        nt_template_free(&t);
    }
    template_bad("t_unknown.txt", "line one\nList {count} of {topic}", "t_unknown.txt:2: unknown placeholder {count} (this stage fills {topic}, {n})");
    template_bad("t_missing.txt", "List {n} things", "does not use {topic}");
    template_bad("t_lone.txt", "List }{topic}", "t_lone.txt:1: a lone '}'");
    template_bad("t_open.txt", "{topic} and {bad name}", "does not open a {name} placeholder");
    template_bad("t_empty.txt", "  \n\n", "is empty");
    rc = nt_template_load(&t, "no/such/file.txt", names, req, err, sizeof err);
    expect(rc != 0 && strstr(err, "no/such/file.txt: cannot open") != NULL, "a missing template: cannot open");

    /* ---- filler ---- */
    filler_case("Thank you! What about rye bread?", "What about rye bread?", 1);
    filler_case("Thanks, that was helpful. Can you give an example? Great.", "Can you give an example?", 2);
    filler_case("Thankfully it works. Why?", "Thankfully it works. Why?", 0);
    filler_case("Great! Perfect. Thanks", "", 3);
    filler_case("How do I great-grill a steak?", "How do I great-grill a steak?", 0);
    filler_case("Okay. Now explain recursion.\nThanks in advance!", "Now explain recursion.", 2);
    filler_case("Thank you for the very long and detailed explanation about all of the many ways to bake. What next?",
                "Thank you for the very long and detailed explanation about all of the many ways to bake. What next?", 0);
    filler_case("What is 2+2?", "What is 2+2?", 0);

    /* ---- matching answers ---- */
    static const struct { const char *resp, *ref; int want; } am[] = {
        {"So the total is \\boxed{42}.", "42", 1},
        {"The answer is 42.", "42.0", 1},
        {"12 plus 30 makes 42", "42", 1},
        {"It is 41.", "42", 0},
        {"\\boxed{\\frac{1}{2}}", "0.5", 1},
        {"\\boxed{\\dfrac{3}{4}}", "3/4", 1},
        {"\\boxed{-\\frac{1}{3}}", "-1/3", 1},
        {"The answer is 1,000.", "1000", 1},
        {"Total: $30.50.", "30.5", 1},
        {"\\boxed{50\\%}", "50", 1},
        {"\\boxed{x=5}", "5", 1},
        {"\\boxed{\\text{(B)}}", "(b)", 1},
        {"\\boxed{1/0}", "1/0", 1},           /* not a number: the same text */
        {"0.3333", "1/3", 0},                    /* off by 3e-5: more than 1e-6 */
        {"0.333333", "1/3", 1},                  /* off by 3e-7: within 1e-6 */
        {"No number here.", "7", 0},
        {"\\boxed{}", "", 0},                    /* an empty answer never matches */
        {"The answer is 7", "7", 1},             /* no strict match (a character must follow); the last number */
    };
    for (size_t i = 0; i < sizeof am / sizeof am[0]; i++) {
        int got = nt_answer_correct(am[i].resp, am[i].ref);
        checks++;
        if (got != am[i].want) { fails++; printf("FAIL: answer '%s' vs '%s': %d, want %d\n", am[i].resp, am[i].ref, got, am[i].want); }
        else printf("PASS: answer '%s' vs '%s': %s\n", am[i].resp, am[i].ref, got ? "right" : "wrong");
    }

    /* ---- pairs ---- */
    {
        char e2[256];
        const char *scored =
            "[{\"source\":\"m\",\"prompt\":\"q\",\"answer\":\"42\",\"response\":\"it is 41\",\"reward\":5},"
            "{\"source\":\"m\",\"prompt\":\"q\",\"answer\":\"42\",\"response\":\"it is 42\",\"reward\":1},"
            "{\"source\":\"m\",\"prompt\":\"q\",\"answer\":\"42\",\"response\":\"\\\\boxed{42}\",\"reward\":2},"
            "{\"source\":\"m\",\"prompt\":\"q\",\"answer\":\"42\",\"response\":\"it is 40\",\"reward\":3},"
            "{\"source\":\"w\",\"prompt\":\"q2\",\"answer\":\"9\",\"response\":\"8\",\"reward\":1},"
            "{\"source\":\"w\",\"prompt\":\"q2\",\"answer\":\"9\",\"response\":\"7\",\"reward\":3},"
            "{\"source\":\"r\",\"prompt\":\"q3\",\"answer\":\"1\",\"response\":\"1\",\"reward\":1},"
            "{\"source\":\"r\",\"prompt\":\"q3\",\"answer\":\"1\",\"response\":\"x=1\",\"reward\":4},"
            "{\"source\":\"n\",\"prompt\":\"q4\",\"response\":\"a\",\"reward\":2},"
            "{\"source\":\"n\",\"prompt\":\"q4\",\"response\":\"b\",\"reward\":2.05}]";
        cJSON *in = nt_json_parse(scored, strlen(scored), e2, sizeof e2), *groups = nt_json_array();
        nt_pairs_group(in, groups);
        expect(cJSON_GetArraySize(groups) == 4, "pairs: 4 groups by source");
        nt_pair_result pr;
        cJSON *o = nt_pairs_make(cJSON_GetArrayItem(groups, 0), 0.5, &pr);
        int ok = o && pr.by_truth && pr.correct == 2 && pr.wrong == 2 &&
                 !strcmp(cJSON_GetObjectItem(o, "chosen")->valuestring, "\\boxed{42}") &&
                 !strcmp(cJSON_GetObjectItem(o, "rejected")->valuestring, "it is 41") &&
                 !strcmp(cJSON_GetObjectItem(o, "judge")->valuestring, "answer");
        expect(ok, "pairs by the answer: the best right response over the best wrong one, whatever the rewards");
        printf("%s: pairs by the answer\n", ok ? "PASS" : "FAIL");
        cJSON_Delete(o);
        o = nt_pairs_make(cJSON_GetArrayItem(groups, 1), 0.5, &pr);
        expect(!o && pr.no_correct && pr.wrong == 2, "pairs: no right response, no pair");
        o = nt_pairs_make(cJSON_GetArrayItem(groups, 2), 0.5, &pr);
        ok = o && !pr.by_truth && pr.correct == 2 && !strcmp(cJSON_GetObjectItem(o, "chosen")->valuestring, "x=1") &&
             !strcmp(cJSON_GetObjectItem(o, "judge")->valuestring, "reward");
        expect(ok, "pairs: every response right, ranked by the reward");
        cJSON_Delete(o);
        o = nt_pairs_make(cJSON_GetArrayItem(groups, 3), 0.5, &pr);
        expect(!o && !pr.no_correct, "pairs: no reference, a reward gap under the margin makes no pair");
        o = nt_pairs_make(cJSON_GetArrayItem(groups, 3), 0.01, &pr);
        ok = o && !strcmp(cJSON_GetObjectItem(o, "chosen")->valuestring, "b") && !cJSON_GetObjectItem(o, "correct");
        expect(ok, "pairs: no reference, by the reward above the margin");
        cJSON_Delete(o);
        cJSON_Delete(groups);
        cJSON_Delete(in);
    }
    /* ---- pairs by the verifiers, and their pass rates ---- */
    {
        char e2[256];
        const char *scored =
            "[{\"source\":\"i\",\"prompt\":[{\"role\":\"user\",\"content\":\"List fruit. Do not use any commas.\"}],"
            "\"instructions\":[{\"id\":\"punctuation:no_comma\",\"kwargs\":{}}],\"response\":\"apples, pears\",\"reward\":9},"
            "{\"source\":\"i\",\"prompt\":[{\"role\":\"user\",\"content\":\"List fruit. Do not use any commas.\"}],"
            "\"instructions\":[{\"id\":\"punctuation:no_comma\",\"kwargs\":{}}],\"response\":\"apples and pears\",\"reward\":1}]";
        cJSON *in = nt_json_parse(scored, strlen(scored), e2, sizeof e2), *groups = nt_json_array();
        nt_pairs_group(in, groups);
        nt_pair_result pr;
        cJSON *o = nt_pairs_make(cJSON_GetArrayItem(groups, 0), 0.5, &pr);
        int ok = o && pr.by_truth && pr.correct == 1 && pr.wrong == 1 &&
                 !strcmp(cJSON_GetObjectItem(o, "chosen")->valuestring, "apples and pears") &&
                 !strcmp(cJSON_GetObjectItem(o, "judge")->valuestring, "verifiers");
        expect(ok, "pairs by the verifiers: the response that follows the instruction, whatever the rewards");
        printf("%s: pairs by the verifiers\n", ok ? "PASS" : "FAIL");
        cJSON_Delete(o);
        cJSON_Delete(groups);
        char *l0 = cJSON_PrintUnformatted(cJSON_GetArrayItem(in, 0)), *l1 = cJSON_PrintUnformatted(cJSON_GetArrayItem(in, 1));
        char lines[2048];
        snprintf(lines, sizeof lines, "%s\n{\"no\": \"instructions\"}\n%s\n", l0, l1);
        cJSON *rep = nt_verifiers_report(lines, strlen(lines));
        const cJSON *k = rep ? cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "kinds"), "punctuation:no_comma") : NULL;
        ok = k && nt_json_number(rep, "responses") == 2 && nt_json_number(k, "n") == 2 && nt_json_number(k, "strict") == 0.5 &&
             nt_json_number(cJSON_GetObjectItem(rep, "prompt_level"), "strict") == 0.5;
        expect(ok, "verifier report: 2 responses, punctuation:no_comma strict 0.5");
        printf("%s: verifier pass rates per kind\n", ok ? "PASS" : "FAIL");
        cJSON_Delete(rep);
        free(l0);
        free(l1);
        cJSON_Delete(in);
    }

    /* the LLM judge's solution verdict (sdg_verdict.h) */
    verdict_case("Correct: yes\nScore: 8\nReason: handles every input.", 1, 8, 1, "handles every input.");
    verdict_case("correct: NO\nscore: 3\nreason: off by one", 1, 3, 0, "off by one");
    verdict_case("Score: 7/10", 1, 7, -1, "");
    verdict_case("Score: 4 / 5", 1, 8, -1, NULL);                      /* scaled to 10 */
    verdict_case("Score = [9]", 1, 9, -1, NULL);
    verdict_case("The score is 6.5.", 1, 6.5, -1, NULL);
    verdict_case("Score: 2\nOn reflection, Score: 9", 1, 9, -1, NULL);  /* the last one decides */
    verdict_case("Score: 9\nScore: 11", 0, 0, -1, NULL);               /* the last is out of range */
    verdict_case("Score: 12", 0, 0, -1, NULL);
    verdict_case("Score: 3/0", 0, 0, -1, NULL);
    verdict_case("Score: high", 0, 0, -1, NULL);
    verdict_case("Scores: 8", 0, 0, -1, NULL);                          /* not the word "score" */
    verdict_case("Looks fine to me.", 0, 0, -1, NULL);
    verdict_case("", 0, 0, -1, NULL);
    verdict_case("Incorrect: yes\nScore: 5", 1, 5, -1, NULL);          /* "incorrect" is not "correct" */
    verdict_case("Correct: true Score:10", 1, 10, 1, NULL);
    verdict_case("Score: 1e3", 1, 1, -1, NULL);                         /* digits only: 1, then "e3" */
    /* the pairwise verdict */
    pair_case("A is clearer. [[A]]", 'A');
    pair_case("[[A]] at first, but [[B]]", 'B');
    pair_case("both fine [[C]]", 'C');
    pair_case("[[Tie]]", 'C');
    pair_case("[[b]]", 'B');
    pair_case("A is better", 0);
    pair_case("[A]", 0);
    pair_case("[[D]]", 0);
    /* MinHash: identical, disjoint, empty, and the estimate against the exact Jaccard index */
    {
        nt_minhash a, b;
        nt_minhash_of("Write a Python function sum_of(a, b) that returns the sum.", 3, &a);
        nt_minhash_of("write a python function SUM_OF(a b) that returns the sum", 3, &b);
        expect(nt_minhash_similarity(&a, &b) == 1.0, "minhash: case and punctuation do not matter");
        nt_minhash_of("Sort a list of names by length.", 3, &b);
        expect(nt_minhash_similarity(&a, &b) < 0.1, "minhash: unrelated texts");
        nt_minhash e1, e2;
        nt_minhash_of("?!", 3, &e1);
        nt_minhash_of("", 3, &e2);
        expect(nt_minhash_similarity(&e1, &e2) == 1.0 && nt_minhash_similarity(&a, &e1) == 0.0, "minhash: texts without words");
        nt_minhash_of("two words", 3, &e1);
        nt_minhash_of("Two, words!", 3, &e2);
        expect(nt_minhash_similarity(&e1, &e2) == 1.0 && nt_ngram_jaccard("two words", "Two, words!", 3) == 1.0,
               "minhash: a text shorter than n words is one shingle");
        /* 40 pairs of random texts sharing a varying part: |estimate - exact| within 4 standard errors */
        unsigned long long r = 12345;
        int worst_ok = 1;
        double worst = 0;
        for (int t = 0; t < 40; t++) {
            char x[4096] = "", y[4096] = "";
            int shared = 5 + t, own = 40 - t;
            for (int i = 0; i < shared + own; i++) {
                r = r * 6364136223846793005ULL + 1442695040888963407ULL;
                char w[16];
                snprintf(w, sizeof w, "w%llu ", (r >> 33) % 5000);
                strcat(x, w);
                if (i < shared) strcat(y, w);
                else {
                    r = r * 6364136223846793005ULL + 1442695040888963407ULL;
                    snprintf(w, sizeof w, "v%llu ", (r >> 33) % 5000);
                    strcat(y, w);
                }
            }
            nt_minhash_of(x, 2, &a);
            nt_minhash_of(y, 2, &b);
            double J = nt_ngram_jaccard(x, y, 2), est = nt_minhash_similarity(&a, &b);
            double se = sqrt(J * (1 - J) / NT_MINHASH_K) + 1e-3;
            if (fabs(est - J) > worst) worst = fabs(est - J);
            if (fabs(est - J) > 4 * se) { worst_ok = 0; printf("  pair %d: J %.3f estimate %.3f\n", t, J, est); }
        }
        expect(worst_ok, "minhash: the estimate within 4 standard errors of the exact Jaccard index");
        printf("%s: minhash estimate vs exact Jaccard on 40 pairs, worst |error| %.3f\n", worst_ok ? "PASS" : "FAIL", worst);
    }

    printf("test_sdg_rules: %d checks, %d failed\n", checks, fails);
    return fails ? 1 : 0;
}
