/* sdg_answer.c — the final answer of a math response and its match with
 * the reference (the rule: sdg_answer.h).  The three extractions replay
 * lm-eval's reference code step by step, regex quirks included
 * (tests/test_answer.sh compares them on the same texts). */
#include "sdg/sdg_answer.h"
#include "util/check.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growing string ----------------------------------------------------- */

static char *dupn(const char *s, size_t n)
{
    nt_strbuf b = {0};
    nt_strbuf_add(&b, s, n);
    return nt_strbuf_take(&b);
}

/* Python's str.replace(old, new): every non-overlapping occurrence, left to right */
static char *replace_all(char *s, const char *old, const char *new_)
{
    size_t lo = strlen(old), ln = strlen(new_);
    if (!strstr(s, old)) return s;
    nt_strbuf b = {0};
    const char *p = s, *q;
    while ((q = strstr(p, old))) {
        nt_strbuf_add(&b, p, (size_t)(q - p));
        nt_strbuf_add(&b, new_, ln);
        p = q + lo;
    }
    nt_strbuf_add(&b, p, strlen(p));
    free(s);
    return nt_strbuf_take(&b);
}

/* ---- Minerva's normalize_final_answer ------------------------------------- */

static const char *const SUBST[][2] = {
    {"an ", ""}, {"a ", ""}, {".$", "$"}, {"\\$", ""}, {"\\ ", ""}, {" ", ""}, {"mbox", "text"},
    {",\\text{and}", ","}, {"\\text{and}", ","}, {"\\text{m}", "\\text{}"},
};
static const char *const REMOVED[] = {
    "square", "ways", "integers", "dollars", "mph", "inches", "ft", "hours", "km", "units", "\\ldots", "sue",
    "points", "feet", "minutes", "digits", "cents", "degrees", "cm", "gm", "pounds", "meters", "meals", "edges",
    "students", "childrentickets", "multiples", "\\text{s}", "\\text{.}", "\\text{\ns}", "\\text{}^2",
    "\\text{}^3", "\\text{\n}", "\\text{}", "\\mathrm{th}", "^\\circ", "^{\\circ}", "\\;", ",\\!", "{,}", "\"",
    "\\dots",
};

/* re.sub(r"(.*?)(\$)(.*?)(\$)(.*)", "$\3$"): '.' stops at a line end, so a
 * line holding two '$' becomes "$" + the text between them + "$" */
static char *sub_dollars(char *s)
{
    nt_strbuf b = {0};
    const char *p = s;
    for (;;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *d1 = memchr(p, '$', n), *d2 = d1 ? memchr(d1 + 1, '$', n - (size_t)(d1 + 1 - p)) : NULL;
        if (d2) {
            nt_strbuf_addc(&b, '$');
            nt_strbuf_add(&b, d1 + 1, (size_t)(d2 - d1 - 1));
            nt_strbuf_addc(&b, '$');
        } else nt_strbuf_add(&b, p, n);
        if (!e) break;
        nt_strbuf_addc(&b, '\n');
        p = e + 1;
    }
    free(s);
    return nt_strbuf_take(&b);
}

/* re.sub(r"(PREFIX)(.*?)(\})", r"\2") (greedy: (.*)): the content up to the
 * first (last) '}' of the same line */
static char *sub_wrap(char *s, const char *prefix, int greedy)
{
    size_t lp = strlen(prefix);
    nt_strbuf b = {0};
    const char *p = s;
    while (*p) {
        if (!strncmp(p, prefix, lp)) {
            const char *c = p + lp, *close = NULL;
            for (; *c && *c != '\n'; c++)
                if (*c == '}') {
                    close = c;
                    if (!greedy) break;
                }
            if (close) {
                nt_strbuf_add(&b, p + lp, (size_t)(close - p - lp));
                p = close + 1;
                continue;
            }
        }
        nt_strbuf_addc(&b, *p++);
    }
    free(s);
    return nt_strbuf_take(&b);
}

/* re.sub(r"(frac)([^{])(.)", "frac{\2}{\3}") and re.sub(r"(sqrt)([^{])", "sqrt{\2}") */
static char *sub_shorthand(char *s)
{
    nt_strbuf b = {0};
    const char *p = s;
    while (*p) {
        if (!strncmp(p, "frac", 4) && p[4] && p[4] != '{' && p[5] && p[5] != '\n') {
            nt_strbuf_add(&b, "frac{", 5);
            nt_strbuf_addc(&b, p[4]);
            nt_strbuf_add(&b, "}{", 2);
            nt_strbuf_addc(&b, p[5]);
            nt_strbuf_addc(&b, '}');
            p += 6;
            continue;
        }
        nt_strbuf_addc(&b, *p++);
    }
    free(s);
    s = nt_strbuf_take(&b);
    b = (nt_strbuf){0};
    p = s;
    while (*p) {
        if (!strncmp(p, "sqrt", 4) && p[4] && p[4] != '{') {
            nt_strbuf_add(&b, "sqrt{", 5);
            nt_strbuf_addc(&b, p[4]);
            nt_strbuf_addc(&b, '}');
            p += 5;
            continue;
        }
        nt_strbuf_addc(&b, *p++);
    }
    free(s);
    return nt_strbuf_take(&b);
}

char *nt_answer_normalize(const char *in)
{
    const char *eq = strrchr(in, '=');
    char *s = dupn(eq ? eq + 1 : in, strlen(eq ? eq + 1 : in));
    for (size_t i = 0; i < sizeof SUBST / sizeof SUBST[0]; i++) s = replace_all(s, SUBST[i][0], SUBST[i][1]);
    for (size_t i = 0; i < sizeof REMOVED / sizeof REMOVED[0]; i++) s = replace_all(s, REMOVED[i], "");
    s = sub_dollars(s);
    s = sub_wrap(s, "\\text{", 0);
    s = sub_wrap(s, "\\textbf{", 0);
    s = sub_wrap(s, "\\overline{", 0);
    s = sub_wrap(s, "\\boxed{", 1);
    s = sub_shorthand(s);
    s = replace_all(s, "$", "");
    /* "100,000" -> "100000" when only digits remain without the commas (ASCII digits) */
    int digits = 0, other = 0;
    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p)) digits++;
        else if (*p != ',') other++;
    }
    if (digits && !other) s = replace_all(s, ",", "");
    return s;
}

/* ---- the three extractions -------------------------------------------------- */

/* last_boxed_only_string + remove_boxed; NULL where either gives up */
static char *boxed(const char *t)
{
    const char *sp = NULL, *p = t;
    while ((p = strstr(p, "\\boxed "))) sp = p++;
    if (sp) {   /* "\boxed X": after the last "\boxed " up to the next '$' */
        const char *a = sp + 7, *d = strchr(a, '$');
        return dupn(a, d ? (size_t)(d - a) : strlen(a));
    }
    const char *idx = NULL;
    for (p = t; (p = strstr(p, "\\boxed")); p++) idx = p;
    if (!idx)
        for (p = t; (p = strstr(p, "\\fbox")); p++) idx = p;
    if (!idx) return NULL;
    int open = 0;
    const char *right = NULL;
    for (p = idx; *p; p++) {
        if (*p == '{') open++;
        if (*p == '}' && --open == 0) {
            right = p;
            break;
        }
    }
    if (!right) return NULL;
    /* remove_boxed: the text must be "\boxed{...}" (an "\fbox" is refused) */
    if (strncmp(idx, "\\boxed{", 7) != 0) return NULL;
    return dupn(idx + 7, (size_t)(right - idx - 7));
}

static int numch(char c) { return isdigit((unsigned char)c) || c == '.' || c == ','; }

/* the first "The answer is (\-?[0-9\.\,]+)." */
static char *answer_is(const char *t)
{
    static const char lit[] = "The answer is ";
    for (const char *p = t; (p = strstr(p, lit)); p++) {
        const char *q = p + sizeof lit - 1, *r = q + (*q == '-');
        size_t n = 0;
        while (numch(r[n])) n++;
        if (n == 0) continue;             /* no number (and "-?" backtracking meets '-') */
        if (r[n] && r[n] != '\n') return dupn(q, (size_t)(r + n - q));
        if (n >= 2) return dupn(q, (size_t)(r + n - 1 - q));   /* '.' takes the last character */
    }
    return NULL;
}

static int flexch(char c) { return numch(c) || c == '$'; }

/* the last match of "(-?[$0-9.,]{2,})|(-?[0-9]+)" */
static char *last_number(const char *t)
{
    const char *best = NULL;
    size_t bestn = 0;
    const char *p = t;
    while (*p) {
        size_t len = 0, sign = *p == '-';
        const char *r = p + sign;
        size_t n = 0;
        while (flexch(r[n])) n++;
        if (n >= 2) len = sign + n;
        else {
            size_t d = 0;
            while (isdigit((unsigned char)r[d])) d++;
            if (d >= 1) len = sign + d;
        }
        if (len) {
            best = p;
            bestn = len;
            p += len;
        } else p++;
    }
    return best ? dupn(best, bestn) : NULL;
}

char *nt_answer_extract(const char *text, int *how)
{
    char *a = boxed(text);
    if (a) {
        char *n = nt_answer_normalize(a);
        free(a);
        *how = NT_ANSWER_BOXED;
        return n;
    }
    if ((a = answer_is(text))) {
        *how = NT_ANSWER_IS;
        return a;
    }
    if ((a = last_number(text))) {
        *how = NT_ANSWER_LAST_NUMBER;
        return a;
    }
    *how = NT_ANSWER_NONE;
    return NULL;
}

const char *nt_answer_how_name(int how)
{
    switch (how) {
    case NT_ANSWER_BOXED: return "boxed";
    case NT_ANSWER_IS: return "answer_is";
    case NT_ANSWER_LAST_NUMBER: return "last_number";
    default: return "none";
    }
}

/* ---- matching ------------------------------------------------------------------ */

/* blanks, ',', '$', "\%", '%' removed, trailing '.' dropped, lower case */
static char *match_key(const char *s)
{
    nt_strbuf b = {0};
    for (const char *p = s; *p; p++) {
        if (*p == '\\' && p[1] == '%') { p++; continue; }
        if (isspace((unsigned char)*p) || *p == ',' || *p == '$' || *p == '%') continue;
        nt_strbuf_addc(&b, (char)tolower((unsigned char)*p));
    }
    char *k = nt_strbuf_take(&b);
    size_t n = strlen(k);
    while (n && k[n - 1] == '.') k[--n] = 0;
    return k;
}

/* a signed decimal "-12.5", ".5", "3." filling [p, e) */
static int decimal(const char *p, const char *e, double *v)
{
    const char *s = p;
    if (s < e && (*s == '-' || *s == '+')) s++;
    int digits = 0, dots = 0;
    for (const char *c = s; c < e; c++) {
        if (isdigit((unsigned char)*c)) digits++;
        else if (*c == '.' && !dots) dots++;
        else return 0;
    }
    if (!digits) return 0;
    char tmp[64];
    size_t n = (size_t)(e - p);
    if (n >= sizeof tmp) return 0;
    memcpy(tmp, p, n);
    tmp[n] = 0;
    *v = strtod(tmp, NULL);
    return 1;
}

/* a number: a decimal, "a/b", "\frac{a}{b}", "\dfrac{a}{b}" (a leading '-' allowed) */
static int number(const char *k, double *v)
{
    const char *e = k + strlen(k);
    if (decimal(k, e, v)) return 1;
    double sign = 1;
    const char *p = k;
    if (*p == '-') { sign = -1; p++; }
    const char *slash = strchr(p, '/');
    double a, b;
    if (slash && !strchr(slash + 1, '/') && decimal(p, slash, &a) && decimal(slash + 1, e, &b) && b != 0) {
        *v = sign * a / b;
        return 1;
    }
    if (*p == '\\') p++;
    if (!strncmp(p, "dfrac{", 6)) p += 6;
    else if (!strncmp(p, "frac{", 5)) p += 5;
    else return 0;
    const char *c1 = strchr(p, '}');
    if (!c1 || c1[1] != '{' || e[-1] != '}' || e - 1 <= c1 + 2) return 0;
    if (!decimal(p, c1, &a) || !decimal(c1 + 2, e - 1, &b) || b == 0) return 0;
    *v = sign * a / b;
    return 1;
}

int nt_answer_match(const char *answer, const char *reference)
{
    char *x = match_key(answer), *y = match_key(reference);
    double a, b;
    int eq;
    if (number(x, &a) && number(y, &b)) eq = fabs(a - b) <= 1e-6 * fmax(1.0, fabs(b));
    else eq = x[0] && !strcmp(x, y);
    free(x);
    free(y);
    return eq;
}

int nt_answer_correct(const char *response, const char *reference)
{
    int how;
    char *a = nt_answer_extract(response, &how);
    if (!a) return 0;
    char *r = nt_answer_normalize(reference);
    int ok = nt_answer_match(a, r);
    free(a);
    free(r);
    return ok;
}
