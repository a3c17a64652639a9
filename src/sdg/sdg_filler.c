/* sdg_filler.c — polite filler out of user turns (the rule: sdg_filler.h). */
#include "sdg/sdg_filler.h"
#include "util/check.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const phrases[] = {
    "thank", "thanks", "great", "awesome", "perfect", "wonderful", "excellent", "amazing", "i appreciate",
    "that's helpful", "that is helpful", "that was helpful", "that's great", "that is great", "nice", "cool",
    "ok", "okay", "got it", "sounds good", NULL};

typedef struct span { size_t a, b; } span;

/* filler: a short sentence starting with a phrase (as a whole word) */
static int filler(const char *s, span sp)
{
    size_t a = sp.a, words = 0;
    while (a < sp.b && isspace((unsigned char)s[a])) a++;
    for (size_t i = a, in = 0; i < sp.b; i++) {
        int w = !isspace((unsigned char)s[i]);
        if (w && !in) words++;
        in = (size_t)w;
    }
    if (words == 0 || words > 12) return words == 0;
    for (int p = 0; phrases[p]; p++) {
        size_t n = strlen(phrases[p]);
        if (a + n > sp.b) continue;
        size_t k = 0;
        while (k < n && tolower((unsigned char)s[a + k]) == phrases[p][k]) k++;
        if (k < n) continue;
        /* a whole word: "thank you" and "thanks!" are filler, "thankfully" is not */
        unsigned char next = a + n < sp.b ? (unsigned char)s[a + n] : ' ';
        if (!isalpha(next)) return 1;
    }
    return 0;
}

char *nt_filler_strip(const char *s, int *removed)
{
    size_t n = strlen(s);
    span *sp = NULL;
    int ns = 0, cap = 0;
    for (size_t i = 0, a = 0; i <= n; i++) {
        int end = i == n || s[i] == '\n' ||
                  ((s[i] == '.' || s[i] == '!' || s[i] == '?') && (i + 1 == n || isspace((unsigned char)s[i + 1])));
        if (!end) continue;
        size_t b = i < n && s[i] != '\n' ? i + 1 : i;
        if (ns == cap) {
            cap = cap ? 2 * cap : 16;
            sp = realloc(sp, (size_t)cap * sizeof *sp);
            NT_CHECK(sp, "out of memory");
        }
        sp[ns++] = (span){a, b};
        a = i + 1;
    }
    int lo = 0, hi = ns, rm = 0;
    while (lo < hi && filler(s, sp[lo])) { if (sp[lo].b > sp[lo].a) rm++; lo++; }
    while (hi > lo && filler(s, sp[hi - 1])) { if (sp[hi - 1].b > sp[hi - 1].a) rm++; hi--; }
    size_t a = lo < hi ? sp[lo].a : 0, b = lo < hi ? sp[hi - 1].b : 0;
    free(sp);
    while (a < b && isspace((unsigned char)s[a])) a++;
    while (b > a && isspace((unsigned char)s[b - 1])) b--;
    char *out = malloc(b - a + 1);
    NT_CHECK(out, "out of memory");
    memcpy(out, s + a, b - a);
    out[b - a] = 0;
    if (removed) *removed = rm;
    return out;
}
