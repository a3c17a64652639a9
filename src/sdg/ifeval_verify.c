/* ifeval_verify.c — the verifiers of the 25 IFEval instruction kinds
 * (ifeval.h), each the reference's check_following (lm-eval 0.4.5's
 * instructions.py) on code points, its regular expressions replayed by hand
 * with Python's semantics (re's Unicode \w \d \s, findall's non-overlapping
 * left-to-right matches, MULTILINE anchors), and the strict and loose modes
 * of its utils.py.  json_format parses with Python's json.loads grammar
 * (NaN, Infinity, -Infinity allowed; no control characters in strings). */
#include "sdg/ifeval.h"
#include "sdg/ifeval_text.h"
#include "util/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct view { const uint32_t *c; size_t n; } view;

/* ---- helpers ----------------------------------------------------------------- */

static int is(const cJSON *kw, const char *name, int number)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(kw, name);
    return number ? cJSON_IsNumber(v) : cJSON_IsString(v);
}
static const char *sarg(const cJSON *kw, const char *name) { return cJSON_GetObjectItemCaseSensitive(kw, name)->valuestring; }
static long iarg(const cJSON *kw, const char *name) { return (long)cJSON_GetObjectItemCaseSensitive(kw, name)->valuedouble; }
/* relation: 1 "less than", 2 "at least", 0 neither */
static int rel(const cJSON *kw, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(kw, name);
    if (!cJSON_IsString(v)) return 0;
    return !strcmp(v->valuestring, "less than") ? 1 : !strcmp(v->valuestring, "at least") ? 2 : 0;
}
static int compare(long have, int relation, long want) { return relation == 1 ? have < want : have >= want; }

static int lit_at(view v, size_t i, const char *s)
{
    size_t k = strlen(s);
    if (i + k > v.n) return 0;
    for (size_t j = 0; j < k; j++)
        if (v.c[i + j] != (uint32_t)(unsigned char)s[j]) return 0;
    return 1;
}
static int ci_at(view v, size_t i, view p)
{
    if (i + p.n > v.n) return 0;
    for (size_t j = 0; j < p.n; j++)
        if (!nt_u_eq_ci(v.c[i + j], p.c[j])) return 0;
    return 1;
}
/* non-overlapping case-insensitive occurrences (re.findall of a literal, IGNORECASE) */
static long count_ci(view v, view p)
{
    long n = 0;
    if (p.n == 0) return (long)v.n + 1;
    for (size_t i = 0; i + p.n <= v.n;) {
        if (ci_at(v, i, p)) { n++; i += p.n; }
        else i++;
    }
    return n;
}
static int wordc(view v, size_t i) { return i < v.n && nt_u_word(v.c[i]); }
static int bnd(view v, size_t i) { return (i > 0 && nt_u_word(v.c[i - 1])) != wordc(v, i); }

static view stripv(view v)
{
    size_t a, b;
    nt_u_strip(v.c, v.n, &a, &b);
    view r = {v.c + a, b - a};
    return r;
}

/* ---- JSON as Python's json.loads reads it ------------------------------------------- */

static void js_ws(view v, size_t *i)
{
    while (*i < v.n && (v.c[*i] == ' ' || v.c[*i] == '\t' || v.c[*i] == '\n' || v.c[*i] == '\r')) (*i)++;
}
static int js_value(view v, size_t *i, int depth);
static int js_string(view v, size_t *i)
{
    (*i)++;
    while (*i < v.n) {
        uint32_t c = v.c[(*i)++];
        if (c == '"') return 1;
        if (c < 0x20) return 0;
        if (c == '\\') {
            if (*i >= v.n) return 0;
            uint32_t e = v.c[(*i)++];
            if (e == 'u') {
                for (int k = 0; k < 4; k++, (*i)++) {
                    if (*i >= v.n) return 0;
                    uint32_t h = v.c[*i];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return 0;
                }
            } else if (!strchr("\"\\/bfnrt", (int)e) || e == 0) return 0;
        }
    }
    return 0;
}
static int js_digits(view v, size_t *i)
{
    size_t s = *i;
    while (*i < v.n && v.c[*i] >= '0' && v.c[*i] <= '9') (*i)++;
    return *i > s;
}
static int js_value(view v, size_t *i, int depth)
{
    if (depth > 900 || *i >= v.n) return 0;
    uint32_t c = v.c[*i];
    if (c == '"') return js_string(v, i);
    if (c == '{' || c == '[') {
        uint32_t close = c == '{' ? '}' : ']';
        (*i)++;
        js_ws(v, i);
        if (*i < v.n && v.c[*i] == close) { (*i)++; return 1; }
        for (;;) {
            if (c == '{') {
                if (*i >= v.n || v.c[*i] != '"' || !js_string(v, i)) return 0;
                js_ws(v, i);
                if (*i >= v.n || v.c[*i] != ':') return 0;
                (*i)++;
                js_ws(v, i);
            }
            if (!js_value(v, i, depth + 1)) return 0;
            js_ws(v, i);
            if (*i < v.n && v.c[*i] == ',') { (*i)++; js_ws(v, i); continue; }
            if (*i < v.n && v.c[*i] == close) { (*i)++; return 1; }
            return 0;
        }
    }
    static const char *const words[] = {"true", "false", "null", "NaN", "Infinity", "-Infinity"};
    for (size_t k = 0; k < 6; k++)
        if (lit_at(v, *i, words[k])) { *i += strlen(words[k]); return 1; }
    /* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? */
    if (c == '-') (*i)++;
    if (*i >= v.n) return 0;
    if (v.c[*i] == '0') (*i)++;
    else if (v.c[*i] >= '1' && v.c[*i] <= '9') js_digits(v, i);
    else return 0;
    if (*i + 1 < v.n && v.c[*i] == '.' && v.c[*i + 1] >= '0' && v.c[*i + 1] <= '9') { (*i)++; js_digits(v, i); }
    if (*i < v.n && (v.c[*i] == 'e' || v.c[*i] == 'E')) {
        size_t s = *i;
        (*i)++;
        if (*i < v.n && (v.c[*i] == '+' || v.c[*i] == '-')) (*i)++;
        if (!js_digits(v, i)) *i = s;   /* the exponent is optional: "1e" stops after 1 (then: extra data) */
    }
    return 1;
}
static int json_loads(view v)
{
    size_t i = 0;
    js_ws(v, &i);
    if (!js_value(v, &i, 0)) return 0;
    js_ws(v, &i);
    return i == v.n;
}

/* ---- the checks -------------------------------------------------------------------- */

static view uview(const nt_ustr *u) { view v = {u->c, u->n}; return v; }

static int has_args(int k, const cJSON *kw)
{
    switch (k) {
    case 0: case 2: {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(kw, k ? "forbidden_words" : "keywords"), *w;
        if (!cJSON_IsArray(a)) return 0;
        cJSON_ArrayForEach(w, a) if (!cJSON_IsString(w)) return 0;
        return 1;
    }
    case 1: return is(kw, "keyword", 0) && is(kw, "frequency", 1) && rel(kw, "relation");
    case 3: return is(kw, "letter", 0) && is(kw, "let_frequency", 1) && rel(kw, "let_relation");
    case 4: return is(kw, "language", 0);
    case 5: return is(kw, "num_sentences", 1) && rel(kw, "relation");
    case 6: return is(kw, "num_paragraphs", 1);
    case 7: return is(kw, "num_words", 1) && rel(kw, "relation");
    case 8: return is(kw, "num_paragraphs", 1) && is(kw, "nth_paragraph", 1) && is(kw, "first_word", 0);
    case 9: return is(kw, "num_placeholders", 1);
    case 10: return is(kw, "postscript_marker", 0);
    case 11: return is(kw, "num_bullets", 1);
    case 13: return is(kw, "num_highlights", 1);
    case 14: return is(kw, "section_spliter", 0) && is(kw, "num_sections", 1);
    case 18: return is(kw, "prompt_to_repeat", 0);
    case 19: return is(kw, "end_phrase", 0);
    case 20: return is(kw, "capital_frequency", 1) && rel(kw, "capital_relation");
    default: return 1;
    }
}

/* a string argument as code points */
static nt_ustr uarg(const cJSON *kw, const char *name)
{
    const char *s = sarg(kw, name);
    return nt_ustr_from(s, strlen(s));
}

static int language_is(view v, const char *want)
{
    char *t = nt_ustr_utf8(v.c, v.n), code[16];
    int r = nt_ifeval_language(t, strlen(t), code, sizeof code);
    free(t);
    return r == 0 ? 1 : r > 0 && !strcmp(code, want);
}

static int check(int k, const cJSON *kw, view v)
{
    switch (k) {
    case 0: case 2: {   /* keywords:existence (all present), forbidden_words (none as a whole word) */
        const cJSON *w;
        cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(kw, k ? "forbidden_words" : "keywords")) {
            nt_ustr p = nt_ustr_from(w->valuestring, strlen(w->valuestring));
            view pv = uview(&p);
            int found = 0;
            for (size_t i = 0; i + pv.n <= v.n && !found; i++)
                found = ci_at(v, i, pv) && (k == 0 || (bnd(v, i) && bnd(v, i + pv.n)));
            nt_ustr_free(&p);
            if (k == 0 && !found) return 0;
            if (k == 2 && found) return 0;
        }
        return 1;
    }
    case 1: {   /* keywords:frequency */
        nt_ustr p = uarg(kw, "keyword");
        view pv = stripv(uview(&p));
        long n = count_ci(v, pv);
        nt_ustr_free(&p);
        return compare(n, rel(kw, "relation"), iarg(kw, "frequency"));
    }
    case 3: {   /* keywords:letter_frequency: the letter's count in value.lower() */
        nt_ustr p = uarg(kw, "letter");
        nt_ustr lp = nt_u_lower_str(p.c, p.n);
        uint32_t letter = lp.n == 1 ? lp.c[0] : 0;
        nt_ustr_free(&p);
        nt_ustr_free(&lp);
        nt_ustr low = nt_u_lower_str(v.c, v.n);
        long n = 0;
        for (size_t i = 0; i < low.n; i++) n += low.c[i] == letter;
        nt_ustr_free(&low);
        return compare(n, rel(kw, "let_relation"), iarg(kw, "let_frequency"));
    }
    case 4: return language_is(v, sarg(kw, "language"));
    case 5: return compare(nt_ifeval_count_sentences(v.c, v.n), rel(kw, "relation"), iarg(kw, "num_sentences"));
    case 6: {   /* re.split(r"\s?\*\*\*\s?"): pieces; empty ones only first or last */
        long pieces = 1, want = iarg(kw, "num_paragraphs");
        size_t start = 0;
        int ok = 1;
        long count = 0;
        for (size_t i = 0;; ) {
            /* the next separator: leftmost "***" (a blank before it joins it, one after it too) */
            size_t j = i;
            while (j + 3 <= v.n && !lit_at(v, j, "***")) j++;
            int last = j + 3 > v.n;
            size_t pe = last ? v.n : (j > i && nt_u_space(v.c[j - 1]) ? j - 1 : j);
            view piece = stripv((view){v.c + start, pe - start});
            if (piece.n == 0) {
                if (count == 0 || last) pieces--;
                else ok = 0;
            }
            count++;
            if (last) break;
            pieces++;
            i = j + 3;
            if (i < v.n && nt_u_space(v.c[i])) i++;
            start = i;
        }
        return ok && pieces == want;
    }
    case 7: return compare(nt_ifeval_count_words(v.c, v.n), rel(kw, "relation"), iarg(kw, "num_words"));
    case 8: {   /* nth_paragraph_first_word: paragraphs split on "\n\n" */
        long num = 0, total = 0, nth = iarg(kw, "nth_paragraph");
        size_t pa = 0, pb = 0;
        for (size_t s = 0, i = 0;; ) {
            while (i + 2 <= v.n && !(v.c[i] == '\n' && v.c[i + 1] == '\n')) i++;
            int last = i + 2 > v.n;
            size_t e = last ? v.n : i;
            view piece = stripv((view){v.c + s, e - s});
            total++;
            if (piece.n) num++;
            if (total == nth) { pa = (size_t)(piece.c - v.c); pb = pa + piece.n; }
            if (last) break;
            i += 2;
            s = i;
        }
        if (nth < 1 || nth > num) return 0;
        if (nth > total || pb == pa) return 0;
        /* paragraph.split()[0], lstrip("'"), lstrip('"'), up to the first of . , ? ! ' " */
        size_t a = pa, b = pa;
        while (b < pb && !nt_u_space(v.c[b])) b++;
        while (a < b && v.c[a] == '\'') a++;
        while (a < b && v.c[a] == '"') a++;
        size_t e = a;
        while (e < b && !(v.c[e] < 128 && strchr(".,?!'\"", (int)v.c[e]) && v.c[e])) e++;
        nt_ustr first = nt_u_lower_str(v.c + a, e - a);
        nt_ustr fw = uarg(kw, "first_word");
        nt_ustr want = nt_u_lower_str(fw.c, fw.n);
        int same = first.n == want.n && (first.n == 0 || !memcmp(first.c, want.c, first.n * sizeof *first.c));
        nt_ustr_free(&first); nt_ustr_free(&fw); nt_ustr_free(&want);
        return num == iarg(kw, "num_paragraphs") && same;
    }
    case 9: {   /* \[.*?\] */
        long n = 0;
        for (size_t i = 0; i < v.n; i++) {
            if (v.c[i] != '[') continue;
            size_t j = i + 1;
            while (j < v.n && v.c[j] != ']' && v.c[j] != '\n') j++;
            if (j < v.n && v.c[j] == ']') { n++; i = j; }
        }
        return n >= iarg(kw, "num_placeholders");
    }
    case 10: {   /* postscript: p\.\s?p\.\s?s (P.P.S) or p\.\s?s\. (P.S.) anywhere in value.lower() */
        nt_ustr low = nt_u_lower_str(v.c, v.n);
        view l = uview(&low);
        const char *m = sarg(kw, "postscript_marker");
        int pps = !strcmp(m, "P.P.S"), ps = !strcmp(m, "P.S."), found = 0;
        nt_ustr mk = nt_ustr_from(m, strlen(m));
        nt_ustr mlow = nt_u_lower_str(mk.c, mk.n);
        view mv = stripv(uview(&mlow));
        for (size_t i = 0; i < l.n && !found; i++) {
            size_t j = i;
            if (pps || ps) {
                const char *pat = pps ? "p.?p.?s" : "p.?s.";
                for (const char *q = pat; *q && j <= l.n; q++) {
                    if (*q == '?') { if (j < l.n && nt_u_space(l.c[j])) j++; continue; }
                    if (j >= l.n || l.c[j] != (uint32_t)*q) { j = (size_t)-1; break; }
                    j++;
                }
                found = j != (size_t)-1;
            } else found = mv.n && i + mv.n <= l.n && !memcmp(l.c + i, mv.c, mv.n * sizeof *mv.c);
        }
        nt_ustr_free(&low); nt_ustr_free(&mk); nt_ustr_free(&mlow);
        return found;
    }
    case 11: {   /* ^\s*\*[^\*].*$ and ^\s*-.*$, MULTILINE */
        long n = 0;
        for (int pass = 0; pass < 2; pass++)
            for (size_t ls = 0; ls <= v.n;) {
                size_t q = ls;
                while (q < v.n && nt_u_space(v.c[q])) q++;
                size_t end = (size_t)-1;
                if (pass == 0 && q + 1 < v.n && v.c[q] == '*' && v.c[q + 1] != '*') end = q + 2;
                if (pass == 1 && q < v.n && v.c[q] == '-') end = q + 1;
                size_t next;
                if (end != (size_t)-1) {
                    n++;
                    while (end < v.n && v.c[end] != '\n') end++;
                    next = end + 1;   /* the next line start */
                } else {
                    size_t e = ls;
                    while (e < v.n && v.c[e] != '\n') e++;
                    next = e + 1;
                }
                if (next > v.n) break;
                ls = next;
            }
        return n == iarg(kw, "num_bullets");
    }
    case 12: {   /* constrained_response */
        static const char *const opts[] = {"My answer is yes.", "My answer is no.", "My answer is maybe."};
        for (size_t o = 0; o < 3; o++)
            for (size_t i = 0; i < v.n; i++)
                if (lit_at(v, i, opts[o])) return 1;
        return 0;
    }
    case 13: {   /* \*[^\n\*]*\* and \*\*[^\n\*]*\*\*, non-empty inside */
        long n = 0;
        for (int dbl = 0; dbl < 2; dbl++) {
            size_t d = dbl ? 2 : 1;
            for (size_t i = 0; i + 2 * d <= v.n;) {
                if (!(v.c[i] == '*' && (!dbl || v.c[i + 1] == '*'))) { i++; continue; }
                size_t j = i + d;
                while (j < v.n && v.c[j] != '\n' && v.c[j] != '*') j++;
                if (j + d <= v.n && v.c[j] == '*' && (!dbl || v.c[j + 1] == '*')) {
                    view in = stripv((view){v.c + i + d, j - i - d});
                    n += in.n > 0;
                    i = j + d;
                } else i++;
            }
        }
        return n >= iarg(kw, "num_highlights");
    }
    case 14: {   /* re.split(r"\s?" + spliter + r"\s?\d+\s?"): matches */
        nt_ustr sp = uarg(kw, "section_spliter");
        view s = stripv(uview(&sp));
        long n = 0;
        for (size_t i = 0; s.n && i + s.n <= v.n;) {
            if (!memcmp(v.c + i, s.c, s.n * sizeof *s.c)) {
                size_t j = i + s.n;
                if (j < v.n && nt_u_space(v.c[j]) && j + 1 < v.n && nt_u_digit(v.c[j + 1])) j++;
                if (j < v.n && nt_u_digit(v.c[j])) {
                    n++;
                    while (j < v.n && nt_u_digit(v.c[j])) j++;
                    if (j < v.n && nt_u_space(v.c[j])) j++;
                    i = j;
                    continue;
                }
            }
            i++;
        }
        nt_ustr_free(&sp);
        return n >= iarg(kw, "num_sections");
    }
    case 15: {   /* json_format */
        view s = stripv(v);
        static const char *const pre[] = {"```json", "```Json", "```JSON", "```"};
        for (size_t p = 0; p < 4; p++)
            if (lit_at(s, 0, pre[p])) { s.c += strlen(pre[p]); s.n -= strlen(pre[p]); }
        if (s.n >= 3 && lit_at(s, s.n - 3, "```")) s.n -= 3;
        return json_loads(stripv(s));
    }
    case 16: {   /* <<[^\n]+>> with something but < > and blanks inside */
        for (size_t i = 0; i + 1 < v.n;) {
            if (!(v.c[i] == '<' && v.c[i + 1] == '<')) { i++; continue; }
            size_t le = i + 2;
            while (le < v.n && v.c[le] != '\n') le++;
            size_t end = (size_t)-1;
            for (size_t j = le; j >= i + 3 + 2 && end == (size_t)-1; j--)
                if (v.c[j - 1] == '>' && v.c[j - 2] == '>') end = j;
            if (end == (size_t)-1) { i++; continue; }
            size_t a = i, b = end;
            while (a < b && v.c[a] == '<') a++;
            while (b > a && v.c[b - 1] == '>') b--;
            if (stripv((view){v.c + a, b - a}).n) return 1;
            i = end;
        }
        return 0;
    }
    case 17: {   /* two_responses: split on "******" */
        view parts[2];
        int valid = 0, count = 0;
        size_t s = 0;
        for (size_t i = 0;;) {
            size_t j = i;
            while (j + 6 <= v.n && !lit_at(v, j, "******")) j++;
            int last = j + 6 > v.n;
            view piece = {v.c + s, (last ? v.n : j) - s};
            if (stripv(piece).n == 0) {
                if (count != 0 && !last) return 0;
            } else {
                if (valid < 2) parts[valid] = stripv(piece);
                valid++;
            }
            count++;
            if (last) break;
            i = s = j + 6;
        }
        return valid == 2 && !(parts[0].n == parts[1].n && !memcmp(parts[0].c, parts[1].c, parts[0].n * sizeof *parts[0].c));
    }
    case 18: {   /* repeat_prompt: value.strip().lower().startswith(prompt.strip().lower()) */
        nt_ustr p = uarg(kw, "prompt_to_repeat");
        view ps = stripv(uview(&p));
        nt_ustr pl = nt_u_lower_str(ps.c, ps.n);
        view vs = stripv(v);
        nt_ustr vl = nt_u_lower_str(vs.c, vs.n);
        int ok = pl.n <= vl.n && (pl.n == 0 || !memcmp(vl.c, pl.c, pl.n * sizeof *pl.c));
        nt_ustr_free(&p); nt_ustr_free(&pl); nt_ustr_free(&vl);
        return ok;
    }
    case 19: {   /* end_checker: value.strip().strip('"').lower().endswith(phrase.strip().lower()) */
        nt_ustr p = uarg(kw, "end_phrase");
        view ps = stripv(uview(&p));
        nt_ustr pl = nt_u_lower_str(ps.c, ps.n);
        view vs = stripv(v);
        while (vs.n && vs.c[0] == '"') { vs.c++; vs.n--; }
        while (vs.n && vs.c[vs.n - 1] == '"') vs.n--;
        nt_ustr vl = nt_u_lower_str(vs.c, vs.n);
        int ok = pl.n <= vl.n && (pl.n == 0 || !memcmp(vl.c + vl.n - pl.n, pl.c, pl.n * sizeof *pl.c));
        nt_ustr_free(&p); nt_ustr_free(&pl); nt_ustr_free(&vl);
        return ok;
    }
    case 20:
        return compare(nt_ifeval_count_capital_words(v.c, v.n), rel(kw, "capital_relation"), iarg(kw, "capital_frequency"));
    case 21: return nt_u_isupper_str(v.c, v.n) && language_is(v, "en");
    case 22: return nt_u_islower_str(v.c, v.n) && language_is(v, "en");
    case 23:
        for (size_t i = 0; i < v.n; i++)
            if (v.c[i] == ',') return 0;
        return 1;
    case 24: {
        view s = stripv(v);
        return s.n > 1 && s.c[0] == '"' && s.c[s.n - 1] == '"';
    }
    default: return 0;
    }
}

/* strict: response.strip() and check(response) */
static int followed(int k, const cJSON *kw, view v) { return stripv(v).n > 0 && check(k, kw, v); }

static nt_ustr no_stars(view v)
{
    nt_ustr u = nt_ustr_copy(v.c, v.n);
    size_t m = 0;
    for (size_t i = 0; i < u.n; i++)
        if (u.c[i] != '*') u.c[m++] = u.c[i];
    u.n = m;
    return u;
}

int nt_ifeval_verify(const char *id, const cJSON *kwargs, const char *prompt, const char *response, int loose)
{
    (void)prompt;
    int k = nt_ifeval_find(id);
    if (k < 0 || !response || !has_args(k, kwargs)) return 0;
    nt_ustr r = nt_ustr_from(response, strlen(response));
    view v = uview(&r);
    int ok = followed(k, kwargs, v);
    if (!ok && loose) {
        /* response.split("\n"): the first and last '\n' */
        size_t f = v.n, l = v.n;
        for (size_t i = 0; i < v.n; i++)
            if (v.c[i] == '\n') { if (f == v.n) f = i; l = i; }
        view first = f < v.n ? stripv((view){v.c + f + 1, v.n - f - 1}) : (view){v.c, 0};
        view lastv = l < v.n ? stripv((view){v.c, l}) : (view){v.c, 0};
        view both = f < l ? stripv((view){v.c + f + 1, l - f - 1}) : (view){v.c, 0};
        view vars[4] = {v, first, lastv, both};
        for (int i = 0; i < 4 && !ok; i++) {   /* response, revised, then the three cut ones, then theirs revised */
            if (i > 0) ok = followed(k, kwargs, vars[i]);
            if (!ok && i == 0) {
                nt_ustr s = no_stars(v);
                ok = followed(k, kwargs, uview(&s));
                nt_ustr_free(&s);
            }
        }
        for (int i = 1; i < 4 && !ok; i++) {
            nt_ustr s = no_stars(vars[i]);
            ok = followed(k, kwargs, uview(&s));
            nt_ustr_free(&s);
        }
    }
    nt_ustr_free(&r);
    return ok;
}
