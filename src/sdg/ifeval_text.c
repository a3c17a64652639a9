/* ifeval_text.c — code-point strings, Python's str semantics, and the word
 * and capital-word counts of the IFEval verifiers (ifeval_text.h).
 *
 * Capital words: nltk.word_tokenize = punkt sentences (ifeval_punkt.c), each
 * tokenized by nltk 3.9.1's NLTKWordTokenizer, whose regular-expression
 * substitutions are replayed here pass by pass, in its order, with re.sub's
 * left-to-right non-overlapping semantics (a character a rule consumes cannot
 * start its next match), then str.split(); a token counts when
 * str.isupper(). */
#include "sdg/ifeval_text.h"
#include "util/check.h"

#include <stdlib.h>
#include <string.h>

/* ---- code-point strings ----------------------------------------------------- */

nt_ustr nt_ustr_from(const char *s, size_t len)
{
    nt_ustr u;
    u.c = nt_malloc((len + 1) * sizeof *u.c, "text");
    u.n = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned c = p[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = k > 0 && i + k <= len;
        uint32_t cp = k == 1 ? c : k == 2 ? c & 0x1F : k == 3 ? c & 0x0F : c & 0x07;
        for (size_t j = 1; ok && j < k; j++) {
            ok = (p[i + j] & 0xC0) == 0x80;
            cp = (cp << 6) | (p[i + j] & 0x3F);
        }
        if (ok && k > 1)
            ok = (k == 2 && cp >= 0x80) || (k == 3 && cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) ||
                 (k == 4 && cp >= 0x10000 && cp <= 0x10FFFF);
        if (ok) { u.c[u.n++] = cp; i += k; }
        else { u.c[u.n++] = 0xFFFD; i++; }
    }
    return u;
}

nt_ustr nt_ustr_copy(const uint32_t *c, size_t n)
{
    nt_ustr u;
    u.c = nt_malloc((n + 1) * sizeof *u.c, "text");
    if (n) memcpy(u.c, c, n * sizeof *c);
    u.n = n;
    return u;
}

char *nt_ustr_utf8(const uint32_t *c, size_t n)
{
    char *s = nt_malloc(4 * n + 1, "text"), *d = s;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = c[i];
        if (x < 0x80) *d++ = (char)x;
        else if (x < 0x800) { *d++ = (char)(0xC0 | (x >> 6)); *d++ = (char)(0x80 | (x & 0x3F)); }
        else if (x < 0x10000) {
            *d++ = (char)(0xE0 | (x >> 12)); *d++ = (char)(0x80 | ((x >> 6) & 0x3F)); *d++ = (char)(0x80 | (x & 0x3F));
        } else {
            *d++ = (char)(0xF0 | (x >> 18)); *d++ = (char)(0x80 | ((x >> 12) & 0x3F));
            *d++ = (char)(0x80 | ((x >> 6) & 0x3F)); *d++ = (char)(0x80 | (x & 0x3F));
        }
    }
    *d = 0;
    return s;
}

void nt_ustr_free(nt_ustr *u)
{
    free(u->c);
    u->c = NULL;
    u->n = 0;
}

void nt_u_strip(const uint32_t *c, size_t n, size_t *a, size_t *b)
{
    size_t i = 0, j = n;
    while (i < j && nt_u_space(c[i])) i++;
    while (j > i && nt_u_space(c[j - 1])) j--;
    *a = i;
    *b = j;
}

/* CPython's final-sigma rule: preceded by a cased letter (skipping
 * case-ignorable ones) and not followed by one */
static int cased(uint32_t c) { return nt_u_upper(c) || nt_u_lower(c) || nt_u_title(c); }
static int ignorable(uint32_t c)
{
    /* the common case-ignorable characters: apostrophes, period, colon, middle dot, combining marks */
    return c == '\'' || c == '.' || c == ':' || c == 0xB7 || c == 0x2019 || (c >= 0x300 && c <= 0x36F);
}
static int final_sigma(const uint32_t *c, size_t n, size_t i)
{
    size_t j = i;
    while (j > 0 && ignorable(c[j - 1])) j--;
    if (j == 0 || !cased(c[j - 1])) return 0;
    j = i + 1;
    while (j < n && ignorable(c[j])) j++;
    return !(j < n && cased(c[j]));
}

nt_ustr nt_u_lower_str(const uint32_t *c, size_t n)
{
    nt_ustr u;
    u.c = nt_malloc((2 * n + 1) * sizeof *u.c, "text");
    u.n = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i] == 0x130) { u.c[u.n++] = 'i'; u.c[u.n++] = 0x307; }
        else if (c[i] == 0x3A3) u.c[u.n++] = final_sigma(c, n, i) ? 0x3C2 : 0x3C3;
        else u.c[u.n++] = nt_u_tolower(c[i]);
    }
    return u;
}

int nt_u_isupper_str(const uint32_t *c, size_t n)
{
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (nt_u_lower(c[i]) || nt_u_title(c[i])) return 0;
        if (nt_u_upper(c[i])) any = 1;
    }
    return any;
}

int nt_u_islower_str(const uint32_t *c, size_t n)
{
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (nt_u_upper(c[i]) || nt_u_title(c[i])) return 0;
        if (nt_u_lower(c[i])) any = 1;
    }
    return any;
}

int nt_u_eq_ci(uint32_t a, uint32_t b)
{
    if (a == b) return 1;
    uint32_t la = a == 0x130 ? 'i' : nt_u_tolower(a), lb = b == 0x130 ? 'i' : nt_u_tolower(b);
    return la == lb;
}

/* ---- words ------------------------------------------------------------------ */

long nt_ifeval_count_words(const uint32_t *c, size_t n)
{
    long w = 0;
    for (size_t i = 0; i < n;) {
        if (!nt_u_word(c[i])) { i++; continue; }
        w++;
        while (i < n && nt_u_word(c[i])) i++;
    }
    return w;
}

/* ---- NLTKWordTokenizer (nltk 3.9.1) ------------------------------------------ */

/* a growing code-point buffer */
typedef struct ubuf { uint32_t *c; size_t n, cap; } ubuf;
static void put(ubuf *b, uint32_t x)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 256;
        b->c = realloc(b->c, b->cap * sizeof *b->c);
        NT_CHECK(b->c, "out of memory tokenizing");
    }
    b->c[b->n++] = x;
}
static void puts_n(ubuf *b, const uint32_t *c, size_t n) { for (size_t i = 0; i < n; i++) put(b, c[i]); }
/* replaces *t by the buffer */
static void take(nt_ustr *t, ubuf *b)
{
    free(t->c);
    t->c = b->c ? b->c : nt_malloc(sizeof *t->c, "text");
    t->n = b->n;
    b->c = NULL;
    b->n = b->cap = 0;
}
static int in_set(uint32_t c, const char *set)
{
    for (const char *p = set; *p; p++)
        if ((unsigned char)*p == c) return 1;
    return 0;
}
static int lc(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
/* case-insensitive ASCII literal at t[i] */
static int lit_ci(const nt_ustr *t, size_t i, const char *s)
{
    size_t k = strlen(s);
    if (i + k > t->n) return 0;
    for (size_t j = 0; j < k; j++)
        if ((uint32_t)lc(t->c[i + j]) != (uint32_t)(unsigned char)s[j]) return 0;
    return 1;
}
static int lit(const nt_ustr *t, size_t i, const char *s)
{
    size_t k = strlen(s);
    if (i + k > t->n) return 0;
    for (size_t j = 0; j < k; j++)
        if (t->c[i + j] != (uint32_t)(unsigned char)s[j]) return 0;
    return 1;
}
/* \b at position i */
static int boundary(const nt_ustr *t, size_t i)
{
    int a = i > 0 && nt_u_word(t->c[i - 1]), b = i < t->n && nt_u_word(t->c[i]);
    return a != b;
}

/* every character of set (or run of backticks) padded: ' x ' */
static void pad_chars(nt_ustr *t, const uint32_t *set, size_t nset)
{
    ubuf b = {0};
    for (size_t i = 0; i < t->n; i++) {
        int hit = 0;
        for (size_t k = 0; k < nset && !hit; k++) hit = t->c[i] == set[k];
        if (hit) { put(&b, ' '); put(&b, t->c[i]); put(&b, ' '); }
        else put(&b, t->c[i]);
    }
    take(t, &b);
}

/* ([^\.])(\.)([CLOSE]*)\s*$ -> "\1 \2<sep>\3 " (the final period) */
static void final_period(nt_ustr *t, const char *close_ascii, int with_unicode_close, int sep)
{
    /* the match starts at the leftmost i from which the rest fits: find the
     * trailing part first: \s* at the end, then closers, then '.', then a non-'.' */
    size_t e = t->n;
    /* try every candidate period position p from the left (re.sub finds the leftmost match) */
    for (size_t p = 1; p < e; p++) {
        if (t->c[p] != '.' || t->c[p - 1] == '.') continue;
        size_t q = p + 1;
        while (q < e && (in_set(t->c[q], close_ascii) ||
                         (with_unicode_close && (t->c[q] == 0xBB || t->c[q] == 0x201D || t->c[q] == 0x2019))))
            q++;
        size_t r = q;
        while (r < e && nt_u_space(t->c[r])) r++;
        /* greedy closers then \s*: backtracking the closers cannot help when r != e
         * unless a closer run is followed by spaces and more closers (the space is a closer in rule 1) */
        if (r != e) continue;
        ubuf b = {0};
        puts_n(&b, t->c, p);
        put(&b, ' ');
        put(&b, '.');
        if (sep) put(&b, ' ');
        puts_n(&b, t->c + p + 1, q - p - 1);
        put(&b, ' ');
        take(t, &b);
        return;
    }
}

static void tokenize_upper(const uint32_t *s, size_t n, long *count)
{
    nt_ustr t = nt_ustr_copy(s, n);
    ubuf b = {0};
    /* STARTING_QUOTES */
    static const uint32_t open_q[] = {0xAB, 0x201C, 0x2018, 0x201E};
    for (size_t i = 0; i < t.n; i++) {   /* ([«“‘„]|[`]+) -> " \1 " */
        int hit = 0;
        for (size_t k = 0; k < 4; k++) hit |= t.c[i] == open_q[k];
        if (hit) { put(&b, ' '); put(&b, t.c[i]); put(&b, ' '); }
        else if (t.c[i] == '`') {
            put(&b, ' ');
            while (i < t.n && t.c[i] == '`') put(&b, t.c[i++]);
            i--;
            put(&b, ' ');
        } else put(&b, t.c[i]);
    }
    take(&t, &b);
    if (t.n && t.c[0] == '"') {   /* ^\" -> `` */
        put(&b, '`'); put(&b, '`');
        puts_n(&b, t.c + 1, t.n - 1);
        take(&t, &b);
    }
    for (size_t i = 0; i < t.n; i++) {   /* (``) -> " \1 " */
        if (lit(&t, i, "``")) { put(&b, ' '); put(&b, '`'); put(&b, '`'); put(&b, ' '); i++; }
        else put(&b, t.c[i]);
    }
    take(&t, &b);
    for (size_t i = 0; i < t.n; i++) {   /* ([ \(\[{<])(\"|\'{2}) -> "\1 `` " */
        if (in_set(t.c[i], " ([{<") && i + 1 < t.n && (t.c[i + 1] == '"' || lit(&t, i + 1, "''"))) {
            put(&b, t.c[i]);
            put(&b, ' '); put(&b, '`'); put(&b, '`'); put(&b, ' ');
            i += t.c[i + 1] == '"' ? 1 : 2;
        } else put(&b, t.c[i]);
    }
    take(&t, &b);
    for (size_t i = 0; i < t.n; i++) {   /* (?i)(\')(?!re|ve|ll|m|t|s|d|n)(\w)\b -> "\1 \2" */
        if (t.c[i] == '\'' && i + 1 < t.n && nt_u_word(t.c[i + 1]) && boundary(&t, i + 2) &&
            !(lit_ci(&t, i + 1, "re") || lit_ci(&t, i + 1, "ve") || lit_ci(&t, i + 1, "ll") ||
              in_set((uint32_t)lc(t.c[i + 1]), "mtsdn"))) {
            put(&b, '\''); put(&b, ' '); put(&b, t.c[i + 1]);
            i++;
        } else put(&b, t.c[i]);
    }
    take(&t, &b);
    /* PUNCTUATION */
    final_period(&t, "])}>\"' ", 1, 1);
    for (size_t i = 0; i < t.n; i++) {   /* ([:,])([^\d]) -> " \1 \2" ; ([:,])$ -> " \1 " */
        if ((t.c[i] == ':' || t.c[i] == ',') && i + 1 < t.n && !nt_u_digit(t.c[i + 1])) {
            put(&b, ' '); put(&b, t.c[i]); put(&b, ' '); put(&b, t.c[i + 1]);
            i++;
        } else put(&b, t.c[i]);
    }
    take(&t, &b);
    if (t.n && (t.c[t.n - 1] == ':' || t.c[t.n - 1] == ',')) {
        uint32_t x = t.c[t.n - 1];
        puts_n(&b, t.c, t.n - 1);
        put(&b, ' '); put(&b, x); put(&b, ' ');
        take(&t, &b);
    }
    for (size_t i = 0; i < t.n; i++) {   /* \.{2,} -> " \g<0> " */
        if (t.c[i] == '.' && i + 1 < t.n && t.c[i + 1] == '.') {
            put(&b, ' ');
            while (i < t.n && t.c[i] == '.') put(&b, t.c[i++]);
            i--;
            put(&b, ' ');
        } else put(&b, t.c[i]);
    }
    take(&t, &b);
    static const uint32_t semi[] = {';', '@', '#', '$', '%', '&'};
    pad_chars(&t, semi, 6);
    final_period(&t, "])}>\"'", 0, 0);
    static const uint32_t qe[] = {'?', '!'};
    pad_chars(&t, qe, 2);
    for (size_t i = 0; i < t.n; i++) {   /* ([^'])' -> "\1 ' " */
        if (t.c[i] != '\'' && i + 2 < t.n + 0 && t.c[i + 1] == '\'' && t.c[i + 2] == ' ') {
            put(&b, t.c[i]); put(&b, ' '); put(&b, '\''); put(&b, ' ');
            i += 2;
        } else put(&b, t.c[i]);
    }
    take(&t, &b);
    static const uint32_t star[] = {'*'};
    pad_chars(&t, star, 1);
    static const uint32_t parens[] = {']', '[', '(', ')', '{', '}', '<', '>'};
    pad_chars(&t, parens, 8);
    for (size_t i = 0; i < t.n; i++) {   /* -- -> " -- " */
        if (lit(&t, i, "--")) { put(&b, ' '); put(&b, '-'); put(&b, '-'); put(&b, ' '); i++; }
        else put(&b, t.c[i]);
    }
    take(&t, &b);
    /* " " + text + " ", ENDING_QUOTES */
    put(&b, ' ');
    puts_n(&b, t.c, t.n);
    put(&b, ' ');
    take(&t, &b);
    static const uint32_t close_q[] = {0xBB, 0x201D, 0x2019};
    pad_chars(&t, close_q, 3);
    for (size_t i = 0; i < t.n; i++) {   /* '' -> " '' " ; then " -> " '' " */
        if (lit(&t, i, "''")) { put(&b, ' '); put(&b, '\''); put(&b, '\''); put(&b, ' '); i++; }
        else put(&b, t.c[i]);
    }
    take(&t, &b);
    for (size_t i = 0; i < t.n; i++) {
        if (t.c[i] == '"') { put(&b, ' '); put(&b, '\''); put(&b, '\''); put(&b, ' '); }
        else put(&b, t.c[i]);
    }
    take(&t, &b);
    for (size_t i = 0; i < t.n; i++) {   /* \s+ -> " " */
        if (nt_u_space(t.c[i])) {
            put(&b, ' ');
            while (i + 1 < t.n && nt_u_space(t.c[i + 1])) i++;
        } else put(&b, t.c[i]);
    }
    take(&t, &b);
    static const char *const end1[] = {"'s", "'S", "'m", "'M", "'d", "'D", "'"};
    static const char *const end2[] = {"'ll", "'LL", "'re", "'RE", "'ve", "'VE", "n't", "N'T"};
    for (int pass = 0; pass < 2; pass++) {   /* ([^' ])(ALTS) -> "\1 \2 " */
        const char *const *alts = pass ? end2 : end1;
        int na = pass ? 8 : 7;
        for (size_t i = 0; i < t.n; i++) {
            int done = 0;
            if (t.c[i] != '\'' && t.c[i] != ' ')
                for (int a = 0; a < na && !done; a++) {
                    size_t k = strlen(alts[a]);
                    if (lit(&t, i + 1, alts[a]) && i + 1 + k < t.n && t.c[i + 1 + k] == ' ') {
                        put(&b, t.c[i]); put(&b, ' ');
                        puts_n(&b, t.c + i + 1, k);
                        put(&b, ' ');
                        i += k + 1;
                        done = 1;
                    }
                }
            if (!done) put(&b, t.c[i]);
        }
        take(&t, &b);
    }
    /* CONTRACTIONS2 and 3: \b(a)(b)\b -> " \1 \2 " */
    static const struct { const char *a, *b; int lead_space, need_space_after; } con[] = {
        {"can", "not", 0, 0}, {"d", "'ye", 0, 0}, {"gim", "me", 0, 0}, {"gon", "na", 0, 0}, {"got", "ta", 0, 0},
        {"lem", "me", 0, 0}, {"more", "'n", 0, 0}, {"wan", "na", 0, 1}, {"'t", "is", 1, 0}, {"'t", "was", 1, 0},
    };
    for (size_t r = 0; r < sizeof con / sizeof con[0]; r++) {
        size_t ka = strlen(con[r].a), kb = strlen(con[r].b);
        for (size_t i = 0; i < t.n; i++) {
            size_t s0 = con[r].lead_space ? i + 1 : i;
            int ok = con[r].lead_space ? t.c[i] == ' ' : boundary(&t, i);
            ok = ok && lit_ci(&t, s0, con[r].a) && lit_ci(&t, s0 + ka, con[r].b);
            if (ok) {
                size_t e = s0 + ka + kb;
                ok = con[r].need_space_after ? e < t.n && nt_u_space(t.c[e]) : boundary(&t, e);
            }
            if (ok) {
                put(&b, ' ');
                puts_n(&b, t.c + s0, ka);
                put(&b, ' ');
                puts_n(&b, t.c + s0 + ka, kb);
                put(&b, ' ');
                i = s0 + ka + kb - 1;
            } else put(&b, t.c[i]);
        }
        take(&t, &b);
    }
    /* str.split() */
    for (size_t i = 0; i < t.n;) {
        if (nt_u_space(t.c[i])) { i++; continue; }
        size_t j = i;
        while (j < t.n && !nt_u_space(t.c[j])) j++;
        *count += nt_u_isupper_str(t.c + i, j - i);
        i = j;
    }
    nt_ustr_free(&t);
}

long nt_ifeval_count_capital_words(const uint32_t *c, size_t n)
{
    size_t *sp;
    long ns = nt_ifeval_sentences(c, n, &sp), count = 0;
    for (long s = 0; s < ns; s++) tokenize_upper(c + sp[2 * s], sp[2 * s + 1] - sp[2 * s], &count);
    free(sp);
    return count;
}

long nt_ifeval_count_sentences(const uint32_t *c, size_t n)
{
    size_t *sp;
    long ns = nt_ifeval_sentences(c, n, &sp);
    free(sp);
    return ns;
}
