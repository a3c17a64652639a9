/* data_pack.c — best-fit-decreasing packing of the run's samples into rows,
 * window by window, and the row -> samples mapping (see data_pack.h). */
#include "data/data_pack.h"
#include "data/data.h"
#include "util/check.h"
#include "util/rng.h"

#include <stdlib.h>
#include <string.h>

void nt_pack_init(nt_pack *p, uint64_t cap, uint64_t window, uint64_t seed, nt_pack_length_fn length, void *ctx)
{
    NT_CHECK(cap >= 2 && window >= 1, "internal: packing rows of %llu tokens over windows of %llu samples",
             (unsigned long long)cap, (unsigned long long)window);
    memset(p, 0, sizeof *p);
    p->cap = cap;
    p->window = window;
    p->key = nt_rng_key(seed, "data.pack");
    p->length = length;
    p->ctx = ctx;
    p->cur = -1;
    p->cumcap = 16;
    p->cum = nt_malloc(p->cumcap * sizeof *p->cum, "packing row counts");
    p->cum[0] = 0;
    p->ncum = 1;
    size_t W = (size_t)window;
    p->items = nt_malloc(W * sizeof *p->items, "packed samples");
    p->bin_start = nt_malloc((W + 1) * sizeof *p->bin_start, "packed rows");
    p->lens = nt_malloc(W * sizeof *p->lens, "packing lengths");
    p->order = nt_malloc(W * sizeof *p->order, "packing order");
    p->room = nt_malloc(W * sizeof *p->room, "packing room");
    p->bin_of = nt_malloc(W * sizeof *p->bin_of, "packing rows of samples");
}

void nt_pack_free(nt_pack *p)
{
    free(p->cum);
    free(p->items);
    free(p->bin_start);
    free(p->lens);
    free(p->order);
    free(p->room);
    free(p->bin_of);
    memset(p, 0, sizeof *p);
}

/* pack window w into p->items / p->bin_start (p->cur = w) */
static void pack_window(nt_pack *p, uint64_t w)
{
    uint64_t W = p->window, cap = p->cap, s0 = w * W;
    for (uint64_t i = 0; i < W; i++) {
        uint64_t L = p->length(p->ctx, s0 + i);
        p->lens[i] = L < cap ? L : cap;
    }
    /* longest first, ties by sample number: a stable counting sort on length */
    uint64_t *count = nt_calloc((size_t)cap + 2, sizeof *count, "packing length counts");
    for (uint64_t i = 0; i < W; i++) count[cap - p->lens[i]]++;
    for (uint64_t c = 0, at = 0; c <= cap; c++) {
        uint64_t n = count[c];
        count[c] = at;
        at += n;
    }
    for (uint64_t i = 0; i < W; i++) p->order[count[cap - p->lens[i]]++] = i;
    free(count);

    /* best fit: the open row with the least room >= L; rows indexed by their room */
    size_t nwords = (size_t)(cap / 64 + 1);
    uint64_t *has = nt_calloc(nwords, sizeof *has, "packing room bits");
    int64_t *head = nt_malloc(((size_t)cap + 1) * sizeof *head, "packing room lists");
    int64_t *next = nt_malloc((size_t)W * sizeof *next, "packing room links");
    for (uint64_t c = 0; c <= cap; c++) head[c] = -1;
    uint64_t nbins = 0;
    for (uint64_t oi = 0; oi < W; oi++) {
        uint64_t i = p->order[oi], L = p->lens[i];
        int64_t b = -1;
        uint64_t c = L;
        for (size_t wd = (size_t)(c / 64); wd < nwords; wd++) {
            uint64_t bits = has[wd];
            if (wd == c / 64) bits &= ~0ull << (c % 64);
            if (bits) {
                c = (uint64_t)wd * 64 + (uint64_t)__builtin_ctzll(bits);
                b = head[c];
                break;
            }
        }
        if (b >= 0) {
            head[c] = next[b];
            if (head[c] < 0) has[c / 64] &= ~(1ull << (c % 64));
        } else {
            b = (int64_t)nbins++;
            c = cap;
        }
        uint64_t r = c - L;
        p->room[b] = r;
        next[b] = head[r];
        head[r] = b;
        has[r / 64] |= 1ull << (r % 64);
        p->bin_of[i] = (uint64_t)b;
    }
    free(has);
    free(head);
    free(next);

    /* group by row, keeping the longest-first order inside each row */
    memset(p->bin_start, 0, ((size_t)nbins + 1) * sizeof *p->bin_start);
    for (uint64_t i = 0; i < W; i++) p->bin_start[p->bin_of[i] + 1]++;
    for (uint64_t b = 0; b < nbins; b++) p->bin_start[b + 1] += p->bin_start[b];
    uint64_t *fillp = p->room;   /* reuse as per-row write cursors */
    for (uint64_t b = 0; b < nbins; b++) fillp[b] = p->bin_start[b];
    for (uint64_t oi = 0; oi < W; oi++) {
        uint64_t i = p->order[oi];
        p->items[fillp[p->bin_of[i]]++] = s0 + i;
    }
    p->nbins = nbins;
    p->cur = (int64_t)w;
}

/* cum known through window w + 1 */
static void extend_to(nt_pack *p, uint64_t w)
{
    while (p->ncum <= w + 1) {
        uint64_t v = p->ncum - 1;   /* next window to count */
        if (p->cur != (int64_t)v) pack_window(p, v);
        if (p->ncum == p->cumcap) {
            p->cumcap *= 2;
            p->cum = realloc(p->cum, p->cumcap * sizeof *p->cum);
            NT_CHECK(p->cum, "out of memory (packing row counts)");
        }
        p->cum[p->ncum] = p->cum[p->ncum - 1] + p->nbins;
        p->ncum++;
    }
}

/* the window holding row k */
static uint64_t window_of(nt_pack *p, uint64_t k)
{
    while (p->cum[p->ncum - 1] <= k) extend_to(p, p->ncum - 1);
    uint64_t lo = 0, hi = p->ncum - 1;   /* cum[lo] <= k < cum[hi] */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (p->cum[mid] <= k) lo = mid;
        else hi = mid;
    }
    return lo;
}

static uint64_t row_key(const nt_pack *p, uint64_t w) { return nt_rng_u64(p->key, w); }

const uint64_t *nt_pack_row(nt_pack *p, uint64_t k, uint64_t *n)
{
    uint64_t w = window_of(p, k);
    if (p->cur != (int64_t)w) pack_window(p, w);
    uint64_t b = nt_perm_index(row_key(p, w), p->nbins, k - p->cum[w]);
    *n = p->bin_start[b + 1] - p->bin_start[b];
    return p->items + p->bin_start[b];
}

uint64_t nt_pack_window_rows(nt_pack *p, uint64_t w)
{
    extend_to(p, w);
    return p->cum[w + 1] - p->cum[w];
}

uint64_t nt_pack_samples_before(nt_pack *p, uint64_t k)
{
    if (k == 0) return 0;
    uint64_t w = window_of(p, k - 1), j = k - p->cum[w];
    if (p->cur != (int64_t)w) pack_window(p, w);
    uint64_t n = w * p->window, key = row_key(p, w);
    for (uint64_t i = 0; i < j; i++) {
        uint64_t b = nt_perm_index(key, p->nbins, i);
        n += p->bin_start[b + 1] - p->bin_start[b];
    }
    return n;
}
