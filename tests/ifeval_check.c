/* ifeval_check.c — the C side of the IFEval tests (src/sdg/ifeval.h).
 *
 *   ifeval_check                 unit test of the registry and the draws: 25
 *                                kinds, ids found back, the conflict table
 *                                symmetric with the reference's rows, every
 *                                draw within the ranges (nt_ifeval_args_check),
 *                                the same for the same key, varying with it,
 *                                described; sdg_ifeval_pick's sets free of
 *                                conflicts, 1..max long, deterministic; bad
 *                                kwargs refused with the argument named
 *   ifeval_check cases FILE      per JSON line {"name", "id", "kwargs",
 *                                "prompt", "response"}: NAME STRICT LOOSE (1/0)
 *   ifeval_check describe FILE   per case: NAME and the JSON string of its instruction text
 *   ifeval_check counts FILE     per NUL-terminated text: words, sentences and
 *                                capital words as the verifiers count them
 *   ifeval_check lang TEXT...    the detected language of each text
 */
#define _POSIX_C_SOURCE 200809L
#include "sdg/ifeval.h"
#include "sdg/ifeval_text.h"
#include "sdg/sdg_ifeval.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fails = 0;
#define EXPECT(cond, ...) do { if (!(cond)) { printf("FAIL: " __VA_ARGS__); printf("\n"); fails++; } } while (0)

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    size_t cap = 1 << 16, n = 0, got;
    char *b = malloc(cap);
    while (b && (got = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) b = realloc(b, cap *= 2);
    }
    if (!b) { fprintf(stderr, "out of memory\n"); exit(2); }
    fclose(f);
    b[n] = 0;
    *len = n;
    return b;
}

static int cases(const char *path, int describe)
{
    size_t n;
    char *t = slurp(path, &n);
    int lineno = 0;
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
        lineno++;
        if (!line[0]) continue;
        cJSON *o = cJSON_Parse(line);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name"), *id = cJSON_GetObjectItemCaseSensitive(o, "id"),
                    *kw = cJSON_GetObjectItemCaseSensitive(o, "kwargs"),
                    *pr = cJSON_GetObjectItemCaseSensitive(o, "prompt"),
                    *re = cJSON_GetObjectItemCaseSensitive(o, "response");
        if (!o || !cJSON_IsString(name) || !cJSON_IsString(id) || !cJSON_IsString(pr) || !cJSON_IsString(re)) {
            fprintf(stderr, "%s:%d: not a case {name, id, kwargs, prompt, response}\n", path, lineno);
            return 2;
        }
        if (describe) {
            char *d = nt_ifeval_describe(id->valuestring, kw);
            cJSON *js = cJSON_CreateString(d);
            char *t = cJSON_PrintUnformatted(js);
            printf("%s %s\n", name->valuestring, t);
            free(t); free(d); cJSON_Delete(js);
        } else
            printf("%s %d %d\n", name->valuestring, nt_ifeval_verify(id->valuestring, kw, pr->valuestring, re->valuestring, 0),
                   nt_ifeval_verify(id->valuestring, kw, pr->valuestring, re->valuestring, 1));
        cJSON_Delete(o);
    }
    free(t);
    return 0;
}

static int counts(const char *path)
{
    size_t n;
    char *t = slurp(path, &n);
    for (char *p = t; p < t + n;) {
        size_t k = strlen(p);
        nt_ustr u = nt_ustr_from(p, k);
        printf("%ld %ld %ld\n", nt_ifeval_count_words(u.c, u.n), nt_ifeval_count_sentences(u.c, u.n),
               nt_ifeval_count_capital_words(u.c, u.n));
        nt_ustr_free(&u);
        p += k + 1;
    }
    free(t);
    return 0;
}

/* the reference's explicit rows (before symmetry): a few spot checks */
static void conflict_table(void)
{
    static const char *const yes[][2] = {
        {"language:response_language", "change_case:english_lowercase"},
        {"detectable_format:constrained_response", "punctuation:no_comma"},
        {"detectable_format:json_format", "detectable_format:title"},
        {"combination:two_responses", "length_constraints:number_words"},
        {"combination:repeat_prompt", "startend:quotation"},
        {"startend:quotation", "detectable_format:title"},
        {"length_constraints:number_paragraphs", "length_constraints:number_sentences"},
        {"change_case:capital_word_frequency", "change_case:english_capital"},
        {"detectable_format:multiple_sections", "detectable_format:number_highlighted_sections"},
    };
    static const char *const no[][2] = {
        {"detectable_format:json_format", "keywords:existence"},
        {"detectable_format:json_format", "keywords:forbidden_words"},
        {"combination:two_responses", "punctuation:no_comma"},
        {"combination:repeat_prompt", "detectable_format:title"},
        {"keywords:existence", "punctuation:no_comma"},
        {"length_constraints:number_words", "detectable_content:postscript"},
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        EXPECT(nt_ifeval_conflicts(yes[i][0], yes[i][1]) && nt_ifeval_conflicts(yes[i][1], yes[i][0]),
               "%s and %s should conflict", yes[i][0], yes[i][1]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        EXPECT(!nt_ifeval_conflicts(no[i][0], no[i][1]), "%s and %s should not conflict", no[i][0], no[i][1]);
    int n = nt_ifeval_kind_count(), pairs = 0;
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
            int c = nt_ifeval_conflicts(nt_ifeval_kind_id(a), nt_ifeval_kind_id(b));
            EXPECT(c == nt_ifeval_conflicts(nt_ifeval_kind_id(b), nt_ifeval_kind_id(a)), "asymmetric %d %d", a, b);
            if (a == b) EXPECT(c, "%s does not conflict with itself", nt_ifeval_kind_id(a));
            pairs += c && a < b;
        }
    printf("%s: conflict table: symmetric, every kind with itself, %d conflicting pairs of kinds\n", fails ? "FAIL" : "PASS", pairs);
}

static void bad_kwargs(void)
{
    static const struct { const char *id, *kw, *want; } bad[] = {
        {"length_constraints:number_words", "{\"num_words\": 50, \"relation\": \"at least\"}", "num_words must be an integer in 100..500"},
        {"length_constraints:number_words", "{\"num_words\": 200, \"relation\": \"at most\"}", "relation must be one of \"less than\", \"at least\""},
        {"length_constraints:number_words", "{\"num_words\": 200}", "argument relation is missing"},
        {"keywords:existence", "{\"keywords\": [\"a.b\"]}", "argument keywords: keyword 'a.b' contains '.'"},
        {"keywords:letter_frequency", "{\"letter\": \"ab\", \"let_frequency\": 3, \"let_relation\": \"at least\"}", "letter must be one letter"},
        {"language:response_language", "{\"language\": \"xx\"}", "argument language must be one of \"en\""},
        {"length_constraints:nth_paragraph_first_word", "{\"num_paragraphs\": 2, \"nth_paragraph\": 3, \"first_word\": \"so\"}", "nth_paragraph must be an integer in 1..2"},
        {"detectable_format:title", "{\"num_words\": 3}", "no argument named 'num_words' (it takes no arguments)"},
        {"keywords:exists", "{}", "unknown instruction id 'keywords:exists'"},
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *kw = cJSON_Parse(bad[i].kw);
        char err[4096] = "";
        int rc = nt_ifeval_args_check(bad[i].id, kw, err, sizeof err);
        EXPECT(rc == -1 && strstr(err, bad[i].want) && !strchr(err, '\n'), "args_check %s %s: rc %d, '%s'", bad[i].id, bad[i].kw, rc, err);
        ok &= rc == -1 && strstr(err, bad[i].want) != NULL;
        cJSON_Delete(kw);
    }
    printf("%s: %zu bad kwargs refused, one line naming the argument and its range\n", ok ? "PASS" : "FAIL", sizeof bad / sizeof bad[0]);
}

static void draws(void)
{
    int n = nt_ifeval_kind_count(), ok = 1, varied = 0;
    EXPECT(n == 25, "%d kinds", n);
    for (int k = 0; k < n; k++) {
        const char *id = nt_ifeval_kind_id(k);
        EXPECT(nt_ifeval_find(id) == k, "find %s", id);
        char *first = NULL;
        int distinct = 0;
        for (unsigned long long key = 0; key < 400; key++) {
            cJSON *a = nt_ifeval_draw(id, key * 0x9E3779B97F4A7C15ULL), *b = nt_ifeval_draw(id, key * 0x9E3779B97F4A7C15ULL);
            if (!strcmp(id, "combination:repeat_prompt")) {
                cJSON_DeleteItemFromObjectCaseSensitive(a, "prompt_to_repeat");
                nt_json_str(a, "prompt_to_repeat", "Write a poem.");
            }
            char err[1024] = "", *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);
            int rc = nt_ifeval_args_check(id, a, err, sizeof err);
            if (rc) { EXPECT(0, "draw %s key %llu out of range: %s (%s)", id, key, err, ta); ok = 0; }
            if (strcmp(id, "combination:repeat_prompt") && strcmp(ta, tb)) { EXPECT(0, "draw %s not deterministic", id); ok = 0; }
            char *d = nt_ifeval_describe(id, a);
            if (!d || !d[0]) { EXPECT(0, "no description of %s", id); ok = 0; }
            if (!first) first = strdup(ta);
            else distinct |= strcmp(first, ta) != 0;
            free(d); free(ta); free(tb);
            cJSON_Delete(a); cJSON_Delete(b);
        }
        varied += distinct;
        free(first);
    }
    EXPECT(nt_ifeval_draw("no:such", 1) == NULL, "draw of an unknown id");
    printf("%s: 400 draws of each of the 25 kinds within the ranges, the same for the same key, described; "
           "%d kinds with arguments vary with the key\n", ok ? "PASS" : "FAIL", varied);
    /* sets */
    int kinds[25], nk = sdg_ifeval_kinds("all", kinds, NULL, 0), hist[26] = {0}, bad = 0;
    char badid[64];
    EXPECT(nk == 25, "all: %d kinds", nk);
    EXPECT(sdg_ifeval_kinds("keywords:existence punctuation:no_comma", kinds, badid, sizeof badid) == 2, "two kinds");
    EXPECT(sdg_ifeval_kinds("keywords:existence punctuation:nocomma", kinds, badid, sizeof badid) == -1 &&
           !strcmp(badid, "punctuation:nocomma"), "unknown kind named");
    nk = sdg_ifeval_kinds("all", kinds, NULL, 0);
    for (unsigned long long key = 0; key < 5000; key++) {
        int out[25], out2[25];
        int m = sdg_ifeval_pick(kinds, nk, 3, key, out), m2 = sdg_ifeval_pick(kinds, nk, 3, key, out2);
        if (m != m2 || memcmp(out, out2, (size_t)m * sizeof *out)) bad++;
        if (m < 1 || m > 3) bad++;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < i; j++)
                bad += nt_ifeval_conflicts(nt_ifeval_kind_id(out[i]), nt_ifeval_kind_id(out[j]));
        hist[m]++;
    }
    EXPECT(bad == 0, "%d bad sets", bad);
    EXPECT(hist[1] > 0 && hist[2] > 0 && hist[3] > 0, "set sizes %d %d %d", hist[1], hist[2], hist[3]);
    printf("%s: 5000 sets of 1..3 instructions: no conflicts, deterministic (sizes 1: %d, 2: %d, 3: %d)\n",
           bad ? "FAIL" : "PASS", hist[1], hist[2], hist[3]);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "cases")) return cases(argv[2], 0);
    if (argc == 3 && !strcmp(argv[1], "describe")) return cases(argv[2], 1);
    if (argc == 3 && !strcmp(argv[1], "counts")) return counts(argv[2]);
    if (argc >= 2 && !strcmp(argv[1], "lang")) {
        for (int i = 2; i < argc; i++) {
            char code[16] = "-";
            int r = nt_ifeval_language(argv[i], strlen(argv[i]), code, sizeof code);
            printf("%d %s\n", r, r ? code : "-");
        }
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: ifeval_check [cases FILE | describe FILE | counts FILE | lang TEXT...]\n");
        return 2;
    }
    draws();
    conflict_table();
    bad_kwargs();
    printf("ifeval_check: %s\n", fails ? "FAILED" : "all passed");
    return fails ? 1 : 0;
}
