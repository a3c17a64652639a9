/* ifeval_punkt.c — sentences as nltk's English punkt tokenizer (nltk 3.9.1's
 * PunktSentenceTokenizer with the punkt_tab English parameters) finds them,
 * for the IFEval sentence count and word tokenizer (ifeval_text.h).
 *
 * The algorithm is punkt's: candidate ends (. ? ! followed by one of
 * )";}]*:@'({[?! or by blanks and a token), one context per word (the word
 * before, the end character, what follows), the context split into punkt's
 * word tokens, the first pass (sentence-end characters, ellipses, known
 * abbreviations, other period-final tokens), the second pass (collocations,
 * abbreviations and ellipses before a sentence starter or a word of
 * lower-case orthography, initials and numbers), a break where a
 * sentence-break token is not the context's last, and the realignment of
 * closing quotes and brackets.  The abbreviation, collocation and
 * sentence-starter lists below are punkt_tab English's.  Of its
 * orthographic contexts (20,366 word types) only two facts of some 1,600
 * common words are carried (ifeval_ortho.c: seen in lower case, and
 * capitalised mid-sentence); every other word is taken as seen capitalised
 * at a sentence start and never in lower case (a name): a lower-case word
 * after a period-final token then never starts a sentence, and a
 * capitalised one after an abbreviation or ellipsis does only when it is a
 * sentence starter, after an initial never.  The difference from nltk is
 * measured by tests/test_ifeval.sh. */
#include "sdg/ifeval_text.h"
#include "util/check.h"

#include <stdlib.h>
#include <string.h>

static const char *const ABBREV[] = {". . ", "a.a", "a.c", "a.d", "a.g", "a.h", "a.m", "a.m.e", "a.s", "a.t", "adm", "ala", "ariz", "aug", "ave", "b.f", "b.v", "bros", "c", "c.i.t", "c.o.m.b", "c.v", "calif", "chg", "cie", "co", "col", "colo", "conn", "corp", "cos", "ct", "d", "d.c", "d.h", "d.w", "dec", "dr", "e", "e.f", "e.h", "e.l", "e.m", "f", "f.g", "f.j", "feb", "fla", "fri", "ft", "g", "g.d", "g.f", "g.k", "ga", "gen", "h", "h.c", "h.f", "h.m", "i.m.s", "ill", "inc", "j.b", "j.c", "j.j", "j.k", "j.p", "j.r", "jan", "jr", "k", "kan", "ky", "l", "l.a", "l.f", "l.p", "lt", "ltd", "m", "m.b.a", "m.d.c", "m.j", "maj", "messrs", "mg", "mich", "minn", "mr", "mrs", "ms", "n", "n.c", "n.d", "n.h", "n.j", "n.m", "n.v", "n.y", "nev", "nov", "oct", "ok", "okla", "ore", "p", "p.a.m", "p.m", "pa", "ph.d", "prof", "r", "r.a", "r.h", "r.i", "r.j", "r.k", "r.t", "rep", "reps", "s", "s.a", "s.a.y", "s.c", "s.g", "s.p.a", "s.s", "sen", "sep", "sept", "sr", "st", "sw", "t", "t.j", "tenn", "tues", "u.k", "u.n", "u.s", "u.s.a", "u.s.s.r", "v", "va", "vs", "vt", "w", "w.c", "w.r", "w.va", "w.w", "wash", "wed", "wis", "yr"};
static const char *const COLLOC[][2] = {{"##number##", "abreast"}, {"##number##", "aes"}, {"##number##", "business"}, {"##number##", "cbot"}, {"##number##", "colgate"}, {"##number##", "commodities"}, {"##number##", "cooper"}, {"##number##", "corrections"}, {"##number##", "credit"}, {"##number##", "dividend"}, {"##number##", "financing"}, {"##number##", "genentech"}, {"##number##", "henley"}, {"##number##", "insider"}, {"##number##", "international"}, {"##number##", "leisure"}, {"##number##", "letters"}, {"##number##", "notable"}, {"##number##", "pay-fone"}, {"##number##", "pegasus"}, {"##number##", "pepper"}, {"##number##", "review"}, {"##number##", "rj"}, {"##number##", "wedgestone"}, {"##number##", "who"}, {"##number##", "zimmer"}, {"b", "edelman"}, {"b", "levine"}, {"b", "smith"}, {"b", "stewart"}, {"b", "wigton"}, {"i", "magnin"}, {"i", "toussie"}, {"j", "aron"}, {"j", "fialka"}, {"j", "walter"}, {"o", "ludcke"}};
static const char *const STARTERS[] = {"according", "although", "among", "both", "but", "despite", "even", "he", "however", "i", "if", "in", "indeed", "instead", "it", "many", "meanwhile", "moreover", "most", "nevertheless", "nonetheless", "nor", "sales", "separately", "similarly", "since", "so", "some", "the", "there", "these", "they", "this", "though", "thus", "under", "when", "while", "yet"};

#define COUNT(a) (sizeof a / sizeof a[0])

/* ---- helpers ---------------------------------------------------------------- */

static int eq_ascii(const uint32_t *c, size_t n, const char *s)
{
    size_t k = strlen(s);
    if (k != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (c[i] != (uint32_t)(unsigned char)s[i]) return 0;
    return 1;
}
static int in_list(const uint32_t *c, size_t n, const char *const *list, size_t nl)
{
    for (size_t i = 0; i < nl; i++)
        if (eq_ascii(c, n, list[i])) return 1;
    return 0;
}
/* )";}]*:@'({[ and ?! : punkt's non-word characters */
static int nonword(uint32_t c) { return c < 128 && strchr(")\";}]*:@'({[?!", (int)c) && c; }
static int sent_end(uint32_t c) { return c == '.' || c == '?' || c == '!'; }
static int ascii_ws(uint32_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == 0x0C; }

/* (?:\-{2,}|\.{2,}|(?:\.\s){2,}\.) at i: its length, 0 if none */
static size_t multichar(const uint32_t *c, size_t n, size_t i)
{
    if (i + 1 < n && c[i] == '-' && c[i + 1] == '-') {
        size_t j = i;
        while (j < n && c[j] == '-') j++;
        return j - i;
    }
    if (i + 1 < n && c[i] == '.' && c[i + 1] == '.') {
        size_t j = i;
        while (j < n && c[j] == '.') j++;
        return j - i;
    }
    size_t j = i, reps = 0;
    while (j + 1 < n && c[j] == '.' && nt_u_space(c[j + 1])) { j += 2; reps++; }
    /* greedy (\.\s){2,} then \.; backtrack one repetition when needed */
    while (reps >= 2) {
        if (j < n && c[j] == '.') return j + 1 - i;
        j -= 2;
        reps--;
    }
    return 0;
}

/* ---- punkt tokens ------------------------------------------------------------- */

typedef struct ptok {
    nt_ustr tok, type;          /* type: lower case, numbers as ##number## */
    int period_final, sentbreak, abbr, ellipsis;
} ptok;

static int numeric(const uint32_t *c, size_t n)
{
    /* ^-?[\.,]?\d[\d,\.-]*\.?$ */
    size_t i = 0;
    if (i < n && c[i] == '-') i++;
    if (i < n && (c[i] == '.' || c[i] == ',')) i++;
    if (!(i < n && nt_u_digit(c[i]))) return 0;
    i++;
    while (i < n && (nt_u_digit(c[i]) || c[i] == ',' || c[i] == '.' || c[i] == '-')) i++;
    return i == n;   /* the optional final \. is taken by the class */
}

static void ptok_init(ptok *t, const uint32_t *c, size_t n)
{
    memset(t, 0, sizeof *t);
    t->tok = nt_ustr_copy(c, n);
    t->type = nt_u_lower_str(c, n);
    if (numeric(t->type.c, t->type.n)) {
        nt_ustr_free(&t->type);
        static const char num[] = "##number##";
        t->type.c = nt_malloc(sizeof num * sizeof(uint32_t), "token type");
        for (size_t i = 0; i < sizeof num - 1; i++) t->type.c[i] = (uint32_t)num[i];
        t->type.n = sizeof num - 1;
    }
    t->period_final = n > 0 && c[n - 1] == '.';
}

static size_t type_no_period(const ptok *t)
{
    return t->type.n > 1 && t->type.c[t->type.n - 1] == '.' ? t->type.n - 1 : t->type.n;
}
static size_t type_no_sentperiod(const ptok *t) { return t->sentbreak ? type_no_period(t) : t->type.n; }
static int first_upper(const ptok *t) { return t->tok.n && nt_u_upper(t->tok.c[0]); }
static int first_lower(const ptok *t) { return t->tok.n && nt_u_lower(t->tok.c[0]); }
static int is_initial(const ptok *t)
{
    return t->tok.n == 2 && nt_u_word(t->tok.c[0]) && !nt_u_digit(t->tok.c[0]) && t->tok.c[1] == '.';
}
static int is_ellipsis(const ptok *t)
{
    if (t->tok.n < 2) return 0;
    for (size_t i = 0; i < t->tok.n; i++)
        if (t->tok.c[i] != '.') return 0;
    return 1;
}

/* punkt's word tokens of one line, appended */
static void word_tokens(const uint32_t *c, size_t n, ptok **v, size_t *nv, size_t *cap)
{
    for (size_t i = 0; i < n;) {
        if (nt_u_space(c[i])) { i++; continue; }
        size_t k = multichar(c, n, i);
        if (!k) {
            if (c[i] < 128 && strchr("(\"`{[:;&#*@)}]-,", (int)c[i])) k = 1;   /* not a word start: \S */
            else {
                for (k = 1; i + k < n; k++) {
                    size_t q = i + k;
                    uint32_t x = c[q];
                    if (nt_u_space(x) || nonword(x) || multichar(c, n, q)) break;
                    if (x == ',' && (q + 1 == n || nt_u_space(c[q + 1]) || nonword(c[q + 1]) || multichar(c, n, q + 1)))
                        break;
                }
            }
        }
        if (*nv == *cap) {
            *cap = *cap ? 2 * *cap : 16;
            *v = realloc(*v, *cap * sizeof **v);
            NT_CHECK(*v, "out of memory splitting sentences");
        }
        ptok_init(&(*v)[(*nv)++], c + i, k);
        i += k;
    }
}

static void first_pass(ptok *t)
{
    const uint32_t *c = t->tok.c;
    size_t n = t->tok.n;
    if (n == 1 && sent_end(c[0])) t->sentbreak = 1;
    else if (is_ellipsis(t)) t->ellipsis = 1;
    else if (t->period_final && !(n >= 2 && c[n - 2] == '.')) {
        nt_ustr low = nt_u_lower_str(c, n - 1);
        size_t dash = low.n;
        while (dash > 0 && low.c[dash - 1] != '-') dash--;
        if (in_list(low.c, low.n, ABBREV, COUNT(ABBREV)) || in_list(low.c + dash, low.n - dash, ABBREV, COUNT(ABBREV)))
            t->abbr = 1;
        else t->sentbreak = 1;
        nt_ustr_free(&low);
    }
}

/* whether the type c[0, n) is in the sorted word list */
static int listed(const uint32_t *c, size_t n, const char *const *list, int nl)
{
    int a = 0, b = nl;
    while (a < b) {
        int m = (a + b) / 2, cmp = 0;
        const char *w = list[m];
        size_t i = 0;
        for (; i < n && w[i]; i++)
            if (c[i] != (uint32_t)(unsigned char)w[i]) { cmp = c[i] < (uint32_t)(unsigned char)w[i] ? -1 : 1; break; }
        if (!cmp) cmp = i < n ? 1 : w[i] ? -1 : 0;
        if (!cmp) return 1;
        if (cmp < 0) b = m;
        else a = m + 1;
    }
    return 0;
}

enum { ORTHO_FALSE, ORTHO_TRUE, ORTHO_UNKNOWN };
enum { F_LC = 1, F_MID_UC = 2 };
/* the orthographic flags punkt has for the token's type (ifeval_ortho.c; others: none) */
static int flags(const ptok *t)
{
    size_t n = type_no_sentperiod(t);
    if (listed(t->type.c, n, nt_punkt_lc_only, nt_punkt_lc_only_n)) return F_LC;
    if (listed(t->type.c, n, nt_punkt_lc_mid_uc, nt_punkt_lc_mid_uc_n)) return F_LC | F_MID_UC;
    return 0;
}
/* the orthographic heuristic; a lower-case word is taken as seen capitalised (UC) */
static int ortho(const ptok *t)
{
    if (t->tok.n == 1 && t->tok.c[0] < 128 && strchr(";:,.!?", (int)t->tok.c[0])) return ORTHO_FALSE;
    int f = flags(t);
    if (first_upper(t) && (f & F_LC) && !(f & F_MID_UC)) return ORTHO_TRUE;
    if (first_lower(t)) return ORTHO_FALSE;
    return ORTHO_UNKNOWN;
}

static void second_pass(ptok *a, const ptok *b)
{
    if (!a->period_final) return;
    size_t ta = type_no_period(a), tb = type_no_sentperiod(b);
    int initial = is_initial(a);
    for (size_t i = 0; i < COUNT(COLLOC); i++)
        if (eq_ascii(a->type.c, ta, COLLOC[i][0]) && eq_ascii(b->type.c, tb, COLLOC[i][1])) {
            a->sentbreak = 0;
            a->abbr = 1;
            return;
        }
    if ((a->abbr || a->ellipsis) && !initial) {
        if (ortho(b) == ORTHO_TRUE) { a->sentbreak = 1; return; }
        if (first_upper(b) && in_list(b->type.c, tb, STARTERS, COUNT(STARTERS))) { a->sentbreak = 1; return; }
    }
    if (initial || eq_ascii(a->type.c, ta, "##number##")) {
        int h = ortho(b);
        if (h == ORTHO_FALSE) { a->sentbreak = 0; a->abbr = 1; return; }
        if (h == ORTHO_UNKNOWN && initial && first_upper(b) && !(flags(b) & F_LC)) { a->sentbreak = 0; a->abbr = 1; return; }
    }
}

/* text_contains_sentbreak(context) */
static int contains_break(const uint32_t *c, size_t n)
{
    ptok *v = NULL;
    size_t nv = 0, cap = 0;
    for (size_t i = 0; i <= n;) {   /* lines (split on \n); blank ones skipped */
        size_t j = i;
        while (j < n && c[j] != '\n') j++;
        size_t a, b;
        nt_u_strip(c + i, j - i, &a, &b);
        if (b > a) word_tokens(c + i, j - i, &v, &nv, &cap);
        i = j + 1;
    }
    for (size_t i = 0; i < nv; i++) first_pass(&v[i]);
    for (size_t i = 0; i + 1 < nv; i++) second_pass(&v[i], &v[i + 1]);
    int found = 0, brk = 0;
    for (size_t i = 0; i < nv && !brk; i++) {
        if (found) brk = 1;
        else if (v[i].sentbreak) found = 1;
    }
    for (size_t i = 0; i < nv; i++) { nt_ustr_free(&v[i].tok); nt_ustr_free(&v[i].type); }
    free(v);
    return brk;
}

/* ---- sentence spans ------------------------------------------------------------ */

typedef struct cand {
    size_t at;                   /* the end character */
    size_t after_end;            /* end of group after_tok */
    size_t next_tok;             /* start of group next_tok, or (size_t)-1 */
} cand;

static void push_span(size_t **v, long *nv, long *cap, size_t a, size_t b)
{
    if (*nv == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        *v = realloc(*v, (size_t)*cap * 2 * sizeof **v);
        NT_CHECK(*v, "out of memory splitting sentences");
    }
    (*v)[2 * *nv] = a;
    (*v)[2 * *nv + 1] = b;
    (*nv)++;
}

/* whether the context of candidate m (its word from ws) breaks */
static int judge(const uint32_t *c, size_t ws, const cand *m)
{
    return contains_break(c + ws, m->after_end - ws);
}

long nt_ifeval_sentences(const uint32_t *c, size_t n, size_t **spans)
{
    /* raw slices of _slices_from_text */
    size_t *raw = NULL;
    long nraw = 0, capraw = 0;
    size_t last_break = 0, prev_a = 0, prev_b = 0;
    int have_prev = 0;
    cand prev = {0, 0, 0};
    for (size_t i = 0; i <= n; i++) {
        int is_match = 0;
        cand m = {i, 0, (size_t)-1};
        if (i < n && sent_end(c[i]) && i + 1 < n) {
            if (nonword(c[i + 1])) { is_match = 1; m.after_end = i + 2; }
            else if (nt_u_space(c[i + 1])) {
                size_t j = i + 1;
                while (j < n && nt_u_space(c[j])) j++;
                if (j < n) {
                    size_t e = j;
                    while (e < n && !nt_u_space(c[e])) e++;
                    is_match = 1;
                    m.next_tok = j;
                    m.after_end = e;
                }
            }
        }
        if (!is_match && i < n) continue;
        size_t wa = 0, wb = 0;
        if (is_match) {   /* the word before: after the last ASCII blank since the previous word's end */
            size_t idx = 0;
            for (size_t k = i; k > prev_b; k--)
                if (ascii_ws(c[k - 1])) { idx = k - 1 - prev_b; break; }
            wa = idx ? prev_b + idx + 1 : prev_a;
            wb = i;
        }
        if (have_prev && (!is_match || prev_b <= wa)) {   /* yield the previous candidate */
            if (judge(c, prev_a, &prev)) {
                push_span(&raw, &nraw, &capraw, last_break, prev.at + 1);
                last_break = prev.next_tok != (size_t)-1 ? prev.next_tok : prev.at + 1;
            }
        }
        if (!is_match) break;
        prev = m;
        prev_a = wa;
        prev_b = wb;
        have_prev = 1;
    }
    size_t a, b;
    nt_u_strip(c, n, &a, &b);
    (void)a;
    push_span(&raw, &nraw, &capraw, last_break, b);
    /* _realign_boundaries */
    size_t *out = NULL;
    long nout = 0, capout = 0;
    size_t realign = 0;
    for (long s = 0; s < nraw; s++) {
        size_t s1a = raw[2 * s] + realign, s1b = raw[2 * s + 1];
        if (s + 1 == nraw) {
            if (s1a < s1b) push_span(&out, &nout, &capout, s1a, s1b);
            continue;
        }
        size_t s2a = raw[2 * s + 2], s2b = raw[2 * s + 3];
        /* ["\')\]}]+?(?:\s+|(?=--)|$) at the start of text[s2] (MULTILINE) */
        size_t k = 0, mend = 0;
        int matched = 0;
        while (s2a + k < s2b && strchr("\"')]}", (int)(c[s2a + k] < 128 ? c[s2a + k] : 1)) && c[s2a + k] >= 32) {
            k++;
            size_t q = s2a + k;
            if (q < s2b && nt_u_space(c[q])) {
                while (q < s2b && nt_u_space(c[q])) q++;
                matched = 1; mend = q - s2a; break;
            }
            if (q + 1 < s2b && c[q] == '-' && c[q + 1] == '-') { matched = 1; mend = k; break; }
            if (q == s2b || c[q] == '\n') { matched = 1; mend = k; break; }
        }
        if (matched) {
            push_span(&out, &nout, &capout, s1a, s2a + k);
            realign = mend;
        } else {
            realign = 0;
            if (s1a < s1b) push_span(&out, &nout, &capout, s1a, s1b);
        }
    }
    free(raw);
    *spans = out ? out : nt_malloc(2 * sizeof *out, "sentence spans");
    return nout;
}
