/* ifeval_registry.c — the 25 IFEval instruction kinds (ifeval.h): ids,
 * arguments with the ranges and choices the reference's build_description
 * draws from, the conflict table (INSTRUCTION_CONFLICTS), the wording of
 * each instruction, the argument checks and the random draws.
 *
 * One deviation in the draws: the reference draws nth_paragraph of
 * length_constraints:nth_paragraph_first_word from 1..num_paragraphs + 1,
 * which can name a paragraph beyond the count that no response can satisfy;
 * here (draws and checks) it is 1..num_paragraphs. */
#define _POSIX_C_SOURCE 200809L
#include "sdg/ifeval.h"
#include "util/check.h"
#include "util/strbuf.h"
#include "util/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

enum { A_INT, A_REL, A_CHOICE, A_KEYWORDS, A_KEYWORD, A_WORD, A_LETTER, A_TEXT };

typedef struct arg {
    const char *name;
    int type;
    int lo, hi;                       /* A_INT */
    const char *const *choices;       /* A_CHOICE, NULL-terminated */
} arg;

typedef struct kind {
    const char *id;
    arg args[3];
    int nargs;
    /* conflicts: the ids listed, or (all = 1) every kind but the ids listed */
    int all;
    const char *conflicts;
} kind;

static const char *const RELATIONS[] = {"less than", "at least", NULL};
static const char *const MARKERS[] = {"P.S.", "P.P.S", NULL};
static const char *const SPLITTERS[] = {"Section", "SECTION", NULL};
static const char *const ENDINGS[] = {"Any other questions?", "Is there anything else I can help with?", NULL};
static const char *const LANGS[] = {"en", "es", "pt", "ar", "hi", "fr", "ru", "de", "ja", "it", "bn", "uk", "th", "ur", "ta",
                                    "te", "bg", "ko", "pl", "he", "fa", "vi", "ne", "sw", "kn", "mr", "gu", "pa", "ml", "fi", NULL};
static const char *const LANG_NAMES[] = {"English", "Spanish", "Portuguese", "Arabic", "Hindi", "French", "Russian",
                                         "German", "Japanese", "Italian", "Bengali", "Ukrainian", "Thai", "Urdu", "Tamil",
                                         "Telugu", "Bulgarian", "Korean", "Polish", "Hebrew", "Persian", "Vietnamese",
                                         "Nepali", "Swahili", "Kannada", "Marathi", "Gujarati", "Punjabi", "Malayalam",
                                         "Finnish"};
static const char *const CONSTRAINED[] = {"My answer is yes.", "My answer is no.", "My answer is maybe.", NULL};

#define REL(n) {n, A_REL, 0, 0, RELATIONS}
#define INT(n, lo, hi) {n, A_INT, lo, hi, NULL}

/* the reference's INSTRUCTION_DICT order */
static const kind KINDS[] = {
    {"keywords:existence", {{"keywords", A_KEYWORDS, 0, 0, NULL}}, 1, 0, "keywords:existence"},
    {"keywords:frequency", {{"keyword", A_KEYWORD, 0, 0, NULL}, INT("frequency", 1, 3), REL("relation")}, 3, 0,
     "keywords:frequency"},
    {"keywords:forbidden_words", {{"forbidden_words", A_KEYWORDS, 0, 0, NULL}}, 1, 0, "keywords:forbidden_words"},
    {"keywords:letter_frequency", {{"letter", A_LETTER, 0, 0, NULL}, INT("let_frequency", 1, 10), REL("let_relation")}, 3,
     0, "keywords:letter_frequency"},
    {"language:response_language", {{"language", A_CHOICE, 0, 0, LANGS}}, 1, 0,
     "language:response_language detectable_format:multiple_sections keywords:existence keywords:frequency "
     "keywords:forbidden_words startend:end_checker change_case:english_capital change_case:english_lowercase"},
    {"length_constraints:number_sentences", {INT("num_sentences", 1, 20), REL("relation")}, 2, 0,
     "length_constraints:number_sentences"},
    {"length_constraints:number_paragraphs", {INT("num_paragraphs", 1, 5)}, 1, 0,
     "length_constraints:number_paragraphs length_constraints:nth_paragraph_first_word length_constraints:number_sentences"},
    {"length_constraints:number_words", {INT("num_words", 100, 500), REL("relation")}, 2, 0,
     "length_constraints:number_words"},
    {"length_constraints:nth_paragraph_first_word",
     {INT("num_paragraphs", 1, 5), INT("nth_paragraph", 1, 5), {"first_word", A_WORD, 0, 0, NULL}}, 3, 0,
     "length_constraints:nth_paragraph_first_word length_constraints:number_paragraphs"},
    {"detectable_content:number_placeholders", {INT("num_placeholders", 1, 4)}, 1, 0,
     "detectable_content:number_placeholders"},
    {"detectable_content:postscript", {{"postscript_marker", A_CHOICE, 0, 0, MARKERS}}, 1, 0,
     "detectable_content:postscript"},
    {"detectable_format:number_bullet_lists", {INT("num_bullets", 1, 5)}, 1, 0, "detectable_format:number_bullet_lists"},
    {"detectable_format:constrained_response", {{0}}, 0, 1, ""},
    {"detectable_format:number_highlighted_sections", {INT("num_highlights", 1, 4)}, 1, 0,
     "detectable_format:number_highlighted_sections"},
    {"detectable_format:multiple_sections", {{"section_spliter", A_CHOICE, 0, 0, SPLITTERS}, INT("num_sections", 1, 5)},
     2, 0, "detectable_format:multiple_sections language:response_language detectable_format:number_highlighted_sections"},
    {"detectable_format:json_format", {{0}}, 0, 1, "keywords:forbidden_words keywords:existence"},
    {"detectable_format:title", {{0}}, 0, 0, "detectable_format:title"},
    {"combination:two_responses", {{0}}, 0, 1,
     "keywords:forbidden_words keywords:existence language:response_language detectable_format:title punctuation:no_comma"},
    {"combination:repeat_prompt", {{"prompt_to_repeat", A_TEXT, 0, 0, NULL}}, 1, 1,
     "keywords:existence detectable_format:title punctuation:no_comma"},
    {"startend:end_checker", {{"end_phrase", A_TEXT, 0, 0, ENDINGS}}, 1, 0, "startend:end_checker"},
    {"change_case:capital_word_frequency", {INT("capital_frequency", 1, 20), REL("capital_relation")}, 2, 0,
     "change_case:capital_word_frequency change_case:english_lowercase change_case:english_capital"},
    {"change_case:english_capital", {{0}}, 0, 0, "change_case:english_capital"},
    {"change_case:english_lowercase", {{0}}, 0, 0, "change_case:english_lowercase change_case:english_capital"},
    {"punctuation:no_comma", {{0}}, 0, 0, "punctuation:no_comma"},
    {"startend:quotation", {{0}}, 0, 0, "startend:quotation detectable_format:title"},
};
#define NKINDS ((int)(sizeof KINDS / sizeof KINDS[0]))
_Static_assert(sizeof KINDS / sizeof KINDS[0] == 25, "the reference has 25 instruction kinds");

int nt_ifeval_kind_count(void) { return NKINDS; }
const char *nt_ifeval_kind_id(int k) { return k >= 0 && k < NKINDS ? KINDS[k].id : NULL; }
int nt_ifeval_find(const char *id)
{
    for (int k = 0; id && k < NKINDS; k++)
        if (!strcmp(KINDS[k].id, id)) return k;
    return -1;
}

/* ---- conflicts ------------------------------------------------------------------ */

static int listed(const char *list, const char *id)
{
    size_t n = strlen(id);
    for (const char *p = list; (p = strstr(p, id)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0)) return 1;
    return 0;
}
/* a's own row of the reference's table */
static int row(int a, int b)
{
    int in = listed(KINDS[a].conflicts, KINDS[b].id);
    return KINDS[a].all ? !in : in;
}
int nt_ifeval_conflicts(const char *a, const char *b)
{
    int i = nt_ifeval_find(a), j = nt_ifeval_find(b);
    if (i < 0 || j < 0) return 0;
    return i == j || row(i, j) || row(j, i);
}

/* ---- argument checks ---------------------------------------------------------------- */

static const char REGEX_CHARS[] = ".^$*+?{}[]\\|()";

static int check_keyword(const char *id, const char *name, const char *s, char *err, size_t n)
{
    size_t a = 0, b = strlen(s);
    while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
    if (a == b) return nt_fail(err, n, "%s: argument %s: an empty keyword (a word or phrase is needed)", id, name);
    const char *bad = strpbrk(s, REGEX_CHARS);
    if (bad)
        return nt_fail(err, n, "%s: argument %s: keyword '%s' contains '%c': keywords are words or phrases without "
                    "any of %s (the reference reads them as regular expressions)", id, name, s, *bad, REGEX_CHARS);
    if (strchr(s, '\n')) return nt_fail(err, n, "%s: argument %s: keyword '%s' spans lines", id, name, s);
    return 0;
}

static void choices_text(const char *const *c, char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; c[i] && k < n; i++) k += (size_t)snprintf(buf + k, n - k, "%s\"%s\"", i ? ", " : "", c[i]);
}

int nt_ifeval_args_check(const char *id, const cJSON *kwargs, char *err, size_t errlen)
{
    int k = nt_ifeval_find(id);
    if (k < 0) {
        char all[2048];
        size_t len = 0;
        for (int i = 0; i < NKINDS; i++) len += (size_t)snprintf(all + len, sizeof all - len, "%s%s", i ? " " : "", KINDS[i].id);
        return nt_fail(err, errlen, "unknown instruction id '%s' (the %d of the registry: %s)", id ? id : "(null)", NKINDS, all);
    }
    const kind *kd = &KINDS[k];
    if (kwargs && !cJSON_IsObject(kwargs) && !cJSON_IsNull(kwargs))
        return nt_fail(err, errlen, "%s: kwargs is not a JSON object", id);
    /* names the kind does not take */
    const cJSON *v;
    cJSON_ArrayForEach(v, kwargs) {
        int known = 0;
        for (int a = 0; a < kd->nargs; a++) known |= !strcmp(kd->args[a].name, v->string);
        if (!known && !cJSON_IsNull(v)) {
            char names[256] = "";
            size_t len = 0;
            for (int a = 0; a < kd->nargs; a++) len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", a ? ", " : "", kd->args[a].name);
            return nt_fail(err, errlen, "%s: no argument named '%s' (%s)", id, v->string,
                        kd->nargs ? names : "it takes no arguments");
        }
    }
    int num_paragraphs = 5;
    for (int a = 0; a < kd->nargs; a++) {
        const arg *ar = &kd->args[a];
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(kwargs, ar->name);
        if (!x || cJSON_IsNull(x)) return nt_fail(err, errlen, "%s: argument %s is missing", id, ar->name);
        char ch[512];
        switch (ar->type) {
        case A_INT: {
            int hi = !strcmp(ar->name, "nth_paragraph") ? num_paragraphs : ar->hi;
            if (!cJSON_IsNumber(x) || x->valuedouble != floor(x->valuedouble) || x->valuedouble < ar->lo || x->valuedouble > hi)
                return nt_fail(err, errlen, "%s: argument %s must be an integer in %d..%d%s", id, ar->name, ar->lo, hi,
                            !strcmp(ar->name, "nth_paragraph") ? " (num_paragraphs)" : "");
            if (!strcmp(ar->name, "num_paragraphs")) num_paragraphs = (int)x->valuedouble;
            break;
        }
        case A_REL:
        case A_CHOICE: {
            int ok = 0;
            for (int i = 0; cJSON_IsString(x) && ar->choices[i] && !ok; i++) ok = !strcmp(x->valuestring, ar->choices[i]);
            if (!ok) {
                choices_text(ar->choices, ch, sizeof ch);
                return nt_fail(err, errlen, "%s: argument %s must be one of %s", id, ar->name, ch);
            }
            break;
        }
        case A_KEYWORDS: {
            if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) == 0)
                return nt_fail(err, errlen, "%s: argument %s must be a non-empty list of keywords (strings)", id, ar->name);
            const cJSON *w;
            cJSON_ArrayForEach(w, x) {
                if (!cJSON_IsString(w)) return nt_fail(err, errlen, "%s: argument %s must be a list of strings", id, ar->name);
                if (check_keyword(id, ar->name, w->valuestring, err, errlen)) return -1;
            }
            break;
        }
        case A_KEYWORD:
            if (!cJSON_IsString(x)) return nt_fail(err, errlen, "%s: argument %s must be a keyword (a string)", id, ar->name);
            if (check_keyword(id, ar->name, x->valuestring, err, errlen)) return -1;
            break;
        case A_WORD: {
            if (!cJSON_IsString(x) || !x->valuestring[0] || strpbrk(x->valuestring, " \t\n\r.,?!'\""))
                return nt_fail(err, errlen, "%s: argument %s must be one word (no blanks or any of . , ? ! ' \")", id, ar->name);
            break;
        }
        case A_LETTER: {
            const char *s = cJSON_IsString(x) ? x->valuestring : "";
            if (strlen(s) != 1 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
                return nt_fail(err, errlen, "%s: argument %s must be one letter a..z or A..Z", id, ar->name);
            break;
        }
        case A_TEXT: {
            const char *s = cJSON_IsString(x) ? x->valuestring : "";
            size_t i = 0;
            while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') i++;
            if (!s[i]) return nt_fail(err, errlen, "%s: argument %s must be a non-empty string", id, ar->name);
            break;
        }
        }
    }
    return 0;
}

/* ---- descriptions ---------------------------------------------------------------------- */


/* Python's repr() of a str (quotes as Python picks them; \\ \n \r \t and other control characters escaped) */
static void py_repr(nt_strbuf *b, const char *s)
{
    int q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    char c = (char)q;
    nt_strbuf_add(b, &c, 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\') nt_strbuf_puts(b, "\\\\");
        else if (*p == q) { nt_strbuf_puts(b, q == '\'' ? "\\'" : "\\\""); }
        else if (*p == '\n') nt_strbuf_puts(b, "\\n");
        else if (*p == '\r') nt_strbuf_puts(b, "\\r");
        else if (*p == '\t') nt_strbuf_puts(b, "\\t");
        else if (*p < 0x20 || *p == 0x7F) nt_strbuf_printf(b, "\\x%02x", *p);
        else nt_strbuf_add(b, (const char *)p, 1);
    }
    nt_strbuf_add(b, &c, 1);
}
static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }
/* ['a', 'b'] of a string list, sorted (code-point order), repeats removed when dedup */
static void py_list(nt_strbuf *b, const cJSON *arr, int dedup)
{
    int n = cJSON_GetArraySize(arr), m = 0;
    const char **v = nt_calloc((size_t)(n ? n : 1), sizeof *v, "keywords");
    const cJSON *w;
    cJSON_ArrayForEach(w, arr) if (cJSON_IsString(w)) v[m++] = w->valuestring;
    qsort(v, (size_t)m, sizeof *v, cmp_str);
    nt_strbuf_puts(b, "[");
    int out = 0;
    for (int i = 0; i < m; i++) {
        if (dedup && i > 0 && !strcmp(v[i], v[i - 1])) continue;
        if (out++) nt_strbuf_puts(b, ", ");
        py_repr(b, v[i]);
    }
    nt_strbuf_puts(b, "]");
    free(v);
}

static const char *sarg(const cJSON *kw, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(kw, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}
static long iarg(const cJSON *kw, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(kw, name);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}
/* s with ASCII blanks stripped (Python's strip() for the texts used here), malloc'd */
static char *stripped(const char *s)
{
    size_t a = 0, b = strlen(s);
    while (a < b && strchr(" \t\n\r\v\f", s[a])) a++;
    while (b > a && strchr(" \t\n\r\v\f", s[b - 1])) b--;
    char *d = nt_malloc(b - a + 1, "text");
    memcpy(d, s + a, b - a);
    d[b - a] = 0;
    return d;
}
static char *lowered(const char *s)
{
    char *d = strdup(s);
    NT_CHECK(d, "out of memory");
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
    return d;
}

char *nt_ifeval_describe(const char *id, const cJSON *kw)
{
    int k = nt_ifeval_find(id);
    nt_strbuf b = {0};
    nt_strbuf_puts(&b, "");
    char *t = NULL;
    switch (k) {
    case 0:
        nt_strbuf_puts(&b, "Include keywords ");
        py_list(&b, cJSON_GetObjectItemCaseSensitive(kw, "keywords"), 0);
        nt_strbuf_puts(&b, " in the response.");
        break;
    case 1:
        t = stripped(sarg(kw, "keyword"));
        nt_strbuf_printf(&b, "In your response, the word %s should appear %s %ld times.", t, sarg(kw, "relation"), iarg(kw, "frequency"));
        break;
    case 2:
        nt_strbuf_puts(&b, "Do not include keywords ");
        py_list(&b, cJSON_GetObjectItemCaseSensitive(kw, "forbidden_words"), 1);
        nt_strbuf_puts(&b, " in the response.");
        break;
    case 3:
        t = lowered(sarg(kw, "letter"));
        nt_strbuf_printf(&b, "In your response, the letter %s should appear %s %ld times.", t, sarg(kw, "let_relation"),
                  iarg(kw, "let_frequency"));
        break;
    case 4: {
        const char *name = sarg(kw, "language");
        for (int i = 0; LANGS[i]; i++)
            if (!strcmp(LANGS[i], name)) name = LANG_NAMES[i];
        nt_strbuf_printf(&b, "Your ENTIRE response should be in %s language, no other language is allowed.", name);
        break;
    }
    case 5:
        nt_strbuf_printf(&b, "Your response should contain %s %ld sentences.", sarg(kw, "relation"), iarg(kw, "num_sentences"));
        break;
    case 6:
        nt_strbuf_printf(&b, "There should be %ld paragraphs. Paragraphs are separated with the markdown divider: ***",
                  iarg(kw, "num_paragraphs"));
        break;
    case 7: nt_strbuf_printf(&b, "Answer with %s %ld words.", sarg(kw, "relation"), iarg(kw, "num_words")); break;
    case 8:
        t = lowered(sarg(kw, "first_word"));
        nt_strbuf_printf(&b, "There should be %ld paragraphs. Paragraphs and only paragraphs are separated with each other by two "
                  "new lines as if it was '\\n\\n' in python. Paragraph %ld must start with word %s.",
                  iarg(kw, "num_paragraphs"), iarg(kw, "nth_paragraph"), t);
        break;
    case 9:
        nt_strbuf_printf(&b, "The response must contain at least %ld placeholders represented by square brackets, such as [address].",
                  iarg(kw, "num_placeholders"));
        break;
    case 10:
        t = stripped(sarg(kw, "postscript_marker"));
        nt_strbuf_printf(&b, "At the end of your response, please explicitly add a postscript starting with %s", t);
        break;
    case 11:
        nt_strbuf_printf(&b, "Your answer must contain exactly %ld bullet points. Use the markdown bullet points such as:\n"
                  "* This is point 1. \n* This is point 2", iarg(kw, "num_bullets"));
        break;
    case 12:
        nt_strbuf_puts(&b, "Answer with one of the following options: (");
        for (int i = 0; CONSTRAINED[i]; i++) {
            if (i) nt_strbuf_puts(&b, ", ");
            py_repr(&b, CONSTRAINED[i]);
        }
        nt_strbuf_puts(&b, ")");
        break;
    case 13:
        nt_strbuf_printf(&b, "Highlight at least %ld sections in your answer with markdown, i.e. *highlighted section*.",
                  iarg(kw, "num_highlights"));
        break;
    case 14:
        t = stripped(sarg(kw, "section_spliter"));
        nt_strbuf_printf(&b, "Your response must have %ld sections. Mark the beginning of each section with %s X, such as:\n"
                  "%s 1\n[content of section 1]\n%s 2\n[content of section 2]", iarg(kw, "num_sections"), t, t, t);
        break;
    case 15: nt_strbuf_puts(&b, "Entire output should be wrapped in JSON format. You can use markdown ticks such as ```."); break;
    case 16: nt_strbuf_puts(&b, "Your answer must contain a title, wrapped in double angular brackets, such as <<poem of joy>>."); break;
    case 17:
        nt_strbuf_puts(&b, "Give two different responses. Responses and only responses should be separated by 6 asterisk symbols: ******.");
        break;
    case 18:
        nt_strbuf_puts(&b, "First repeat the request word for word without change, then give your answer (1. do not say any words or "
                   "characters before repeating the request; 2. the request you need to repeat does not include this sentence)");
        break;
    case 19:
        t = stripped(sarg(kw, "end_phrase"));
        nt_strbuf_printf(&b, "Finish your response with this exact phrase %s. No other words should follow this phrase.", t);
        break;
    case 20:
        nt_strbuf_printf(&b, "In your response, words with all capital letters should appear %s %ld times.", sarg(kw, "capital_relation"),
                  iarg(kw, "capital_frequency"));
        break;
    case 21: nt_strbuf_puts(&b, "Your entire response should be in English, and in all capital letters."); break;
    case 22:
        nt_strbuf_puts(&b, "Your entire response should be in English, and in all lowercase letters. No capital letters are allowed.");
        break;
    case 23: nt_strbuf_puts(&b, "In your entire response, refrain from the use of any commas."); break;
    case 24: nt_strbuf_puts(&b, "Wrap your entire response with double quotation marks."); break;
    default: break;
    }
    free(t);
    return b.s;
}

/* ---- draws ------------------------------------------------------------------------------- */

typedef struct rng { unsigned long long key, ctr; } rng;
static uint64_t next_u64(rng *r)
{
    unsigned long long in[2] = {r->key, r->ctr++};
    return XXH64(in, sizeof in, 0x1FE7A1ULL);
}
static int uniform(rng *r, int lo, int hi) { return lo + (int)(next_u64(r) % (uint64_t)(hi - lo + 1)); }
static const char *pick(rng *r, const char *const *c)
{
    int n = 0;
    while (c[n]) n++;
    return c[uniform(r, 0, n - 1)];
}
/* k distinct words of the reference's list (random.sample) */
static cJSON *sample_words(rng *r, int k)
{
    cJSON *a = nt_json_array();
    int got[8], n = 0;
    while (n < k) {
        int w = uniform(r, 0, nt_ifeval_nwords - 1), seen = 0;
        for (int i = 0; i < n; i++) seen |= got[i] == w;
        if (seen) continue;
        got[n++] = w;
        nt_json_push(a, cJSON_CreateString(nt_ifeval_words[w]));
    }
    return a;
}

cJSON *nt_ifeval_draw(const char *id, unsigned long long key)
{
    int k = nt_ifeval_find(id);
    if (k < 0) return NULL;
    const kind *kd = &KINDS[k];
    rng r = {key, (unsigned long long)k << 32};
    cJSON *o = nt_json_object();
    int num_paragraphs = 1;
    for (int a = 0; a < kd->nargs; a++) {
        const arg *ar = &kd->args[a];
        switch (ar->type) {
        case A_INT: {
            int hi = !strcmp(ar->name, "nth_paragraph") ? num_paragraphs : ar->hi;
            int v = uniform(&r, ar->lo, hi);
            if (!strcmp(ar->name, "num_paragraphs")) num_paragraphs = v;
            nt_json_num(o, ar->name, v);
            break;
        }
        case A_REL:
        case A_CHOICE: nt_json_str(o, ar->name, pick(&r, ar->choices)); break;
        case A_KEYWORDS: nt_json_add(o, ar->name, sample_words(&r, 2)); break;
        case A_KEYWORD:
        case A_WORD: nt_json_str(o, ar->name, nt_ifeval_words[uniform(&r, 0, nt_ifeval_nwords - 1)]); break;
        case A_LETTER: {
            char l[2] = {(char)('a' + uniform(&r, 0, 25)), 0};
            nt_json_str(o, ar->name, l);
            break;
        }
        case A_TEXT: nt_json_str(o, ar->name, ar->choices ? pick(&r, ar->choices) : ""); break;
        }
    }
    return o;
}
