/* sdg_verdict.c — an LLM judge's reply parsed into a verdict: the rules
 * of sdg_verdict.h (tested case by case in tests/test_sdg_rules.c). */
#include "sdg/sdg_verdict.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* s[0..n) equals word, any case */
static int word_at(const char *s, const char *word)
{
    for (size_t i = 0; word[i]; i++)
        if (tolower((unsigned char)s[i]) != word[i]) return 0;
    return 1;
}

static const char *blanks(const char *p)
{
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

/* after "score": the separator and the number; 1 and *val (scaled) when it reads */
static int score_after(const char *p, double scale, double *val, int *out_of_range)
{
    p = blanks(p);
    if (*p == ':' || *p == '=') p++;
    else if (word_at(p, "is") && !isalnum((unsigned char)p[2])) p += 2;
    else return 0;
    p = blanks(p);
    if (*p == '[') p = blanks(p + 1);
    if (!isdigit((unsigned char)*p)) return 0;
    /* only digits [. digits] are a score (strtod alone would read exponents and hex) */
    const char *q = p;
    while (isdigit((unsigned char)*q)) q++;
    if (*q == '.' && isdigit((unsigned char)q[1])) { q++; while (isdigit((unsigned char)*q)) q++; }
    char num[64];
    size_t nl = (size_t)(q - p) < sizeof num - 1 ? (size_t)(q - p) : sizeof num - 1;
    memcpy(num, p, nl);
    num[nl] = 0;
    double v = strtod(num, NULL);
    p = blanks(q);
    if (*p == ']') p = blanks(p + 1);
    if (*p == '/') {
        p = blanks(p + 1);
        if (!isdigit((unsigned char)*p)) return 0;
        double d = strtod(p, NULL);
        if (!(d > 0)) { *out_of_range = 1; return 0; }
        v = v / d * scale;
    }
    if (!(v >= 0 && v <= scale)) { *out_of_range = 1; return 0; }
    *out_of_range = 0;
    *val = v;
    return 1;
}

void nt_verdict_parse(const char *reply, double scale, nt_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->correct = -1;
    int range = 0;
    for (const char *p = reply; *p; p++) {
        int start = p == reply || !isalnum((unsigned char)p[-1]);
        if (start && word_at(p, "score") && !isalnum((unsigned char)p[5])) {
            double s;
            int oor = 0;
            if (score_after(p + 5, scale, &s, &oor)) { v->parsed = 1; v->score = s; range = 0; }
            else if (oor) { v->parsed = 0; range = 1; }
        }
        if (start && word_at(p, "correct") && !isalnum((unsigned char)p[7])) {
            const char *q = blanks(p + 7);
            if (*q == ':') {
                q = blanks(q + 1);
                if ((word_at(q, "yes") && !isalnum((unsigned char)q[3])) || (word_at(q, "true") && !isalnum((unsigned char)q[4])))
                    v->correct = 1;
                else if ((word_at(q, "no") && !isalnum((unsigned char)q[2])) || (word_at(q, "false") && !isalnum((unsigned char)q[5])))
                    v->correct = 0;
            }
        }
        if (start && word_at(p, "reason") && p[6] == ':') {
            const char *q = blanks(p + 7), *e = q;
            while (*e && *e != '\n') e++;
            while (e > q && isspace((unsigned char)e[-1])) e--;
            size_t n = (size_t)(e - q);
            if (n > 400) n = 400;
            memcpy(v->reason, q, n);
            v->reason[n] = 0;
        }
    }
    /* a later score out of range undoes an earlier one: the last "score" decides */
    if (range) { v->parsed = 0; snprintf(v->why, sizeof v->why, "the last score is outside 0..%g", scale); }
    else if (!v->parsed) snprintf(v->why, sizeof v->why, "no \"Score: N\" in the reply");
}

int nt_verdict_pair(const char *reply)
{
    int last = 0;
    for (const char *p = reply; *p; p++) {
        if (p[0] != '[' || p[1] != '[') continue;
        const char *q = p + 2;
        int c = 0;
        if ((*q == 'A' || *q == 'a') && q[1] == ']' && q[2] == ']') c = 'A';
        else if ((*q == 'B' || *q == 'b') && q[1] == ']' && q[2] == ']') c = 'B';
        else if ((*q == 'C' || *q == 'c') && q[1] == ']' && q[2] == ']') c = 'C';
        else if (word_at(q, "tie") && q[3] == ']' && q[4] == ']') c = 'C';
        if (c) last = c;
    }
    return last;
}
