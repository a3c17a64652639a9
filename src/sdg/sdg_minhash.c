/* sdg_minhash.c — MinHash signatures of word n-grams and their
 * similarity (the rules of sdg_minhash.h). */
#include "sdg/sdg_minhash.h"
#include "util/check.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* the words of text, lowercased, each followed by one ' ' (malloc'd), and their starts */
static char *words_of(const char *text, int **starts, int *nw)
{
    size_t n = strlen(text);
    char *w = nt_malloc(2 * n + 2, "words");
    int *st = nt_malloc((n + 1) * sizeof *st, "word starts");
    size_t k = 0;
    int c = 0;
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)text[i];
        if (ch < 0x80 && !isalnum(ch)) { i++; continue; }
        st[c++] = (int)k;
        while (i < n && (((unsigned char)text[i] < 0x80 && isalnum((unsigned char)text[i])) || (unsigned char)text[i] >= 0x80))
            w[k++] = (char)tolower((unsigned char)text[i++]);
        w[k++] = ' ';
    }
    w[k] = 0;
    st[c] = (int)k;
    *starts = st;
    *nw = c;
    return w;
}

/* calls f(shingle bytes, length) for each shingle */
static int shingles(const char *text, int ngram, void (*f)(void *, const char *, size_t), void *u)
{
    int *st, nw;
    char *w = words_of(text, &st, &nw);
    if (ngram < 1) ngram = 1;
    int count = 0;
    if (nw > 0 && nw < ngram) { f(u, w, (size_t)st[nw]); count = 1; }
    for (int i = 0; i + ngram <= nw; i++, count++) f(u, w + st[i], (size_t)(st[i + ngram] - st[i]));
    free(w);
    free(st);
    return count;
}

static void mh_add(void *u, const char *s, size_t n)
{
    nt_minhash *m = u;
    for (int k = 0; k < NT_MINHASH_K; k++) {
        uint64_t h = XXH64(s, n, 0x9E3779B97F4A7C15ULL * (uint64_t)(k + 1));
        if (h < m->h[k]) m->h[k] = h;
    }
}

void nt_minhash_of(const char *text, int ngram, nt_minhash *m)
{
    for (int k = 0; k < NT_MINHASH_K; k++) m->h[k] = UINT64_MAX;
    m->empty = shingles(text, ngram, mh_add, m) == 0;
}

double nt_minhash_similarity(const nt_minhash *a, const nt_minhash *b)
{
    if (a->empty || b->empty) return a->empty && b->empty ? 1.0 : 0.0;
    int same = 0;
    for (int k = 0; k < NT_MINHASH_K; k++) same += a->h[k] == b->h[k];
    return (double)same / NT_MINHASH_K;
}

/* ---- the exact index (tests) ---- */
typedef struct set { uint64_t *v; int n, cap; } set;
static void set_add(void *u, const char *s, size_t n)
{
    set *q = u;
    uint64_t h = XXH64(s, n, 1);
    for (int i = 0; i < q->n; i++)
        if (q->v[i] == h) return;
    if (q->n == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 64;
        q->v = realloc(q->v, (size_t)q->cap * sizeof *q->v);
        NT_CHECK(q->v, "out of memory");
    }
    q->v[q->n++] = h;
}

double nt_ngram_jaccard(const char *a, const char *b, int ngram)
{
    set A = {0}, B = {0};
    shingles(a, ngram, set_add, &A);
    shingles(b, ngram, set_add, &B);
    double r;
    if (!A.n || !B.n) r = !A.n && !B.n ? 1.0 : 0.0;
    else {
        int both = 0;
        for (int i = 0; i < A.n; i++)
            for (int j = 0; j < B.n; j++) both += A.v[i] == B.v[j];
        r = (double)both / (double)(A.n + B.n - both);
    }
    free(A.v);
    free(B.v);
    return r;
}
