/* data_padded.c — padded-sample datasets (SFT, reward, preference): one
 * validation, one epoch mixer, one row mapping, and blends of them (see
 * data_padded.h). */
#include "data/data_padded.h"
#include "util/check.h"
#include "util/h5attr.h"
#include "data/data.h"
#include "data/data_check.h"
#include "util/rng.h"
#include "tokenizer/tokenizer.h"

#include <math.h>
#include <string.h>

#define EPOCH_STRIDE 0xD1B54A32D192ED03ull /* per-epoch key step, as data.c's sampler */

static const char *const kind_name[3] = {"sft", "reward", "preference"};     /* prep's kind attribute */
static const char *const kind_title[3] = {"an SFT", "a reward", "a preference"};
static const char *const kind_format[3] = {"chat", "reward", "preference"};  /* prep --format */
static const char *const kind_key[3] = {"data.sft", "data.reward", "data.preference"};

const char *nt_padded_kind_name(nt_padded_kind kind)
{
    return kind_name[kind];
}

/* ---- validation ------------------------------------------------------------------ */

/* exit 2 unless dataset name exists; the reason names the kind the file claims */
static void need(const nt_padded *d, const char *name, const char *kind_attr)
{
    if (H5Lexists(d->file, name, H5P_DEFAULT) > 0) return;
    int k = d->kind;
    if (!kind_attr[0])
        nt_input_error("%s: missing dataset %s (not %s dataset: prep it with --format %s)", d->path, name, kind_title[k],
                       kind_format[k]);
    if (strcmp(kind_attr, kind_name[k]))
        nt_input_error("%s: missing dataset %s (a %s dataset, not %s one: prep it with --format %s)", d->path, name,
                       kind_attr, kind_title[k], kind_format[k]);
    nt_input_error("%s: missing dataset %s (a damaged %s dataset?)", d->path, name, kind_name[k]);
}

/* dataset name, ndims-dimensional, of exactly the format's type (cls, bytes) */
static hid_t open_ds(const nt_padded *d, const char *name, int ndims, nt_dtype_class cls, size_t bytes, hsize_t dims[2])
{
    hid_t ds = H5Dopen2(d->file, name, H5P_DEFAULT);
    if (ds < 0) nt_input_error("%s: cannot open %s", d->path, name);
    hid_t s = H5Dget_space(ds);
    NT_CHECK_H5(s);
    if (H5Sget_simple_extent_ndims(s) != ndims) nt_input_error("%s: %s is not %d-dimensional", d->path, name, ndims);
    dims[1] = 1;
    NT_CHECK_H5(H5Sget_simple_extent_dims(s, dims, NULL));
    NT_CHECK_H5(H5Sclose(s));
    if (cls != NT_DT_FLOAT) {
        hid_t t = H5Dget_type(ds);
        NT_CHECK_H5(t);
        if (H5Tget_class(t) != H5T_INTEGER) nt_input_error("%s: %s is not an integer dataset", d->path, name);
        NT_CHECK_H5(H5Tclose(t));
    }
    nt_data_check_dtype(d->path, ds, name, cls, bytes);
    return ds;
}

/* reads all of ds (then closes it) into a new buffer of n elements of size bytes */
static void *read_all(const nt_padded *d, hid_t ds, const char *name, hid_t mtype, size_t n, size_t size)
{
    void *p = nt_malloc(n * size, name);
    if (H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, p) < 0) nt_input_error("%s: cannot read %s", d->path, name);
    NT_CHECK_H5(H5Dclose(ds));
    return p;
}

static long long root_int(const nt_padded *d, const char *name)
{
    long long v = -1;
    if (H5Aexists(d->file, name) <= 0) nt_input_error("%s: missing root attribute %s", d->path, name);
    hid_t a = H5Aopen(d->file, name, H5P_DEFAULT);
    NT_CHECK_H5(a);
    if (H5Aread(a, H5T_NATIVE_LLONG, &v) < 0) nt_input_error("%s: cannot read root attribute %s", d->path, name);
    NT_CHECK_H5(H5Aclose(a));
    return v;
}

static void check_tokenizer(const nt_padded *d, const char *tokenizer)
{
    if (!tokenizer || !tokenizer[0]) return;
    char want[65], have[128];
    nt_tokenizer_hash(tokenizer, want);
    nt_h5attr_read_str(d->file, "tokenizer_hash", have, sizeof have);
    if (!have[0])
        nt_input_error("%s: no tokenizer_hash attribute, cannot check it against data.tokenizer = %s", d->path, tokenizer);
    if (strcmp(have, want) != 0)
        nt_input_error("%s: tokenizer mismatch: the dataset was prepared with tokenizer %.16s..., but data.tokenizer = "
                       "%s has %.16s... (re-prep the data with the deck's tokenizer)", d->path, have, tokenizer, want);
}

void nt_padded_open(nt_padded *d, const char *path, nt_padded_kind kind, int seq_len, int vocab,
                    const char *tokenizer, int nlabels, uint64_t seed)
{
    NT_CHECK(kind >= NT_PADDED_SFT && kind <= NT_PADDED_PREFERENCE && seq_len > 0, "nt_padded_open: kind %d, seq_len %d",
             (int)kind, seq_len);
    memset(d, 0, sizeof *d);
    snprintf(d->path, sizeof d->path, "%s", path);
    d->kind = kind;
    d->seq_len = seq_len;
    d->key = nt_rng_key(seed, kind_key[kind]);
    d->file = nt_h5_open_data(path);
    char kind_attr[64];
    nt_h5attr_read_str(d->file, "kind", kind_attr, sizeof kind_attr);

    /* the kind's datasets, then the kind attribute */
    need(d, "/tokens", kind_attr);
    need(d, "/doc_offsets", kind_attr);
    const char *extra = kind == NT_PADDED_SFT ? "/loss_mask" : kind == NT_PADDED_REWARD ? "/labels" : "/ranges";
    need(d, extra, kind_attr);
    if (kind_attr[0] && strcmp(kind_attr, kind_name[kind]))
        nt_input_error("%s: a %s dataset, not %s one (prep it with --format %s)", path, kind_attr, kind_title[kind],
                       kind_format[kind]);

    /* shapes */
    hsize_t tdims[2], odims[2], xdims[2];
    d->tokens = open_ds(d, "/tokens", 1, NT_DT_UINT, 4, tdims);
    d->ntokens = tdims[0];
    hid_t o = open_ds(d, "/doc_offsets", 1, NT_DT_UINT, 8, odims);
    if (odims[0] < 2) nt_input_error("%s: no samples", path);
    uint64_t n = d->nsamples = odims[0] - 1;
    if (kind == NT_PADDED_SFT) {
        d->mask = open_ds(d, "/loss_mask", 1, NT_DT_UINT, 1, xdims);
        if (xdims[0] != d->ntokens)
            nt_input_error("%s: /loss_mask has %llu entries, /tokens %llu", path, (unsigned long long)xdims[0],
                           (unsigned long long)d->ntokens);
    } else if (kind == NT_PADDED_REWARD) {
        hid_t l = open_ds(d, "/labels", 2, NT_DT_INT, 1, xdims);
        if (xdims[0] != n)
            nt_input_error("%s: /labels has %llu rows, /doc_offsets %llu samples", path, (unsigned long long)xdims[0],
                           (unsigned long long)n);
        if ((int)xdims[1] != nlabels)
            nt_input_error("%s: %d labels per sample, but model.reward_outputs = %d", path, (int)xdims[1], nlabels);
        d->nlabels = nlabels;
        d->labels = read_all(d, l, "/labels", H5T_NATIVE_INT8, n * (size_t)nlabels, 1);
    } else {
        hid_t r = open_ds(d, "/ranges", 2, NT_DT_UINT, 8, xdims);
        if (xdims[0] != n || xdims[1] != 4)
            nt_input_error("%s: /ranges is [%llu,%llu], expected [%llu,4] (prompt, chosen, rejected starts and end per pair)",
                           path, (unsigned long long)xdims[0], (unsigned long long)xdims[1], (unsigned long long)n);
        d->ranges = read_all(d, r, "/ranges", H5T_NATIVE_UINT64, n * 4, sizeof(uint64_t));
        d->nlabels = 1;
        if (H5Lexists(d->file, "/rewards", H5P_DEFAULT) > 0) {
            hid_t w = open_ds(d, "/rewards", 2, NT_DT_FLOAT, 4, xdims);
            if (xdims[0] != n || xdims[1] != 2)
                nt_input_error("%s: /rewards is [%llu,%llu], expected [%llu,2] (chosen, rejected reward per pair)", path,
                               (unsigned long long)xdims[0], (unsigned long long)xdims[1], (unsigned long long)n);
            d->rewards = read_all(d, w, "/rewards", H5T_NATIVE_FLOAT, n * 2, sizeof(float));
        }
    }

    /* offsets in order, every sample non-empty; pair ranges inside their sample */
    d->offs = read_all(d, o, "/doc_offsets", H5T_NATIVE_UINT64, n + 1, sizeof(uint64_t));
    if (d->offs[0] != 0 || d->offs[n] != d->ntokens)
        nt_input_error("%s: /doc_offsets runs from %llu to %llu, expected 0 to %llu (the /tokens length)", path,
                       (unsigned long long)d->offs[0], (unsigned long long)d->offs[n], (unsigned long long)d->ntokens);
    for (uint64_t i = 0; i < n; i++)
        if (d->offs[i + 1] <= d->offs[i])
            nt_input_error("%s: /doc_offsets[%llu] out of order or empty sample", path, (unsigned long long)i + 1);
    for (uint64_t i = 0; d->ranges && i < n; i++) {
        const uint64_t *r = d->ranges + 4 * i;
        if (r[0] != d->offs[i] || r[3] != d->offs[i + 1] || !(r[0] < r[1] && r[1] < r[2] && r[2] < r[3]))
            nt_input_error("%s: /ranges[%llu] = %llu %llu %llu %llu is not prompt < chosen < rejected < end of the pair's "
                           "sample %llu..%llu", path, (unsigned long long)i, (unsigned long long)r[0],
                           (unsigned long long)r[1], (unsigned long long)r[2], (unsigned long long)r[3],
                           (unsigned long long)d->offs[i], (unsigned long long)d->offs[i + 1]);
    }

    /* the vocabulary, then the tokenizer */
    long long eod = root_int(d, "eod_id");
    if (eod < 0) nt_input_error("%s: root attribute eod_id is negative", path);
    long long vs = root_int(d, "vocab_size");
    if (vs <= 0) nt_input_error("%s: vocab_size = %lld is not positive", path, vs);
    if (vs > vocab) nt_input_error("%s: tokenizer vocabulary %lld is larger than model.vocab = %d", path, vs, vocab);
    if (eod >= vs) nt_input_error("%s: eod_id = %lld is outside the vocabulary (vocab_size = %lld)", path, eod, vs);
    d->eod = (int)eod;
    d->vocab = (int)vs;
    check_tokenizer(d, tokenizer);
    /* every id now, before the run writes anything (each rank its share) */
    nt_data_check_ids(path, d->tokens, "/tokens", d->ntokens, d->vocab);
    d->buf = nt_malloc(((size_t)seq_len + 1) * sizeof(uint32_t), "padded row");
}

uint64_t nt_padded_count(const nt_padded *d)
{
    return d->nsamples;
}

uint64_t nt_padded_truncated(const nt_padded *d)
{
    return d->truncated;
}

void nt_padded_close(nt_padded *d)
{
    if (d->tokens > 0) NT_CHECK_H5(H5Dclose(d->tokens));
    if (d->mask > 0) NT_CHECK_H5(H5Dclose(d->mask));
    if (d->file > 0) NT_CHECK_H5(H5Fclose(d->file));
    free(d->offs);
    free(d->labels);
    free(d->ranges);
    free(d->rewards);
    free(d->buf);
    memset(d, 0, sizeof *d);
}

/* ---- the epoch mixer --------------------------------------------------------------- */

uint64_t nt_padded_index(const nt_padded *d, uint64_t k, uint64_t *epoch)
{
    uint64_t e = k / d->nsamples, j = k % d->nsamples;
    if (epoch) *epoch = e;
    return nt_perm_index(d->key + e * EPOCH_STRIDE, d->nsamples, j);
}

uint64_t nt_padded_length(const nt_padded *d, uint64_t k)
{
    uint64_t i = nt_padded_index(d, k, NULL);
    if (d->kind == NT_PADDED_PREFERENCE) return d->ranges[i * 4 + 3] - d->ranges[i * 4];   /* the whole pair */
    return d->offs[i + 1] - d->offs[i];
}

/* ---- the row mapping ------------------------------------------------------------------ */

static void read_range(const nt_padded *d, hid_t ds, hid_t mtype, uint64_t start, uint64_t n, void *buf)
{
    hsize_t s = start, c = n;
    hid_t fs = H5Dget_space(ds);
    NT_CHECK_H5(fs);
    hid_t ms = H5Screate_simple(1, &c, NULL);
    NT_CHECK_H5(ms);
    NT_CHECK_H5(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &s, NULL, &c, NULL));
    if (H5Dread(ds, mtype, ms, fs, H5P_DEFAULT, buf) < 0) nt_input_error("%s: read failed (truncated file?)", d->path);
    NT_CHECK_H5(H5Sclose(ms));
    NT_CHECK_H5(H5Sclose(fs));
}

void nt_padded_get(nt_padded *d, uint64_t k, int part, nt_padded_row *row)
{
    NT_CHECK(part == 0 || (part == 1 && d->kind == NT_PADDED_PREFERENCE), "nt_padded_get: no part %d in %s dataset",
             part, kind_title[d->kind]);
    uint64_t idx = nt_padded_index(d, k, NULL);
    /* the row's pieces of /tokens: [start, length] and their mask */
    uint64_t seg[2][2];
    int nseg = 1, seg_mask[2] = {0, 0};
    if (d->kind == NT_PADDED_PREFERENCE) {
        const uint64_t *r = d->ranges + 4 * idx;
        uint64_t a = part ? r[2] : r[1], b = part ? r[3] : r[2];
        seg[0][0] = r[0], seg[0][1] = r[1] - r[0];
        seg[1][0] = a, seg[1][1] = b - a, seg_mask[1] = 1;
        nseg = 2;
    } else {
        seg[0][0] = d->offs[idx], seg[0][1] = d->offs[idx + 1] - d->offs[idx];
    }
    uint64_t T = (uint64_t)d->seq_len, len = 0;
    for (int s = 0; s < nseg; s++) len += seg[s][1];
    /* at most seq_len+1 tokens; a reward row at most seq_len: the scored token must be an input position */
    uint64_t cap = d->kind == NT_PADDED_REWARD ? T : T + 1, n = len < cap ? len : cap;
    if (len > cap) d->truncated++;
    uint64_t at = 0;
    for (int s = 0; s < nseg && at < n; s++) {
        uint64_t take = seg[s][1] < n - at ? seg[s][1] : n - at;
        read_range(d, d->tokens, H5T_NATIVE_UINT32, seg[s][0], take, d->buf + at);
        for (uint64_t j = 0; j < take; j++)
            if (d->buf[at + j] >= (uint32_t)d->vocab)
                nt_input_error("%s: /tokens[%llu] = %u is outside the vocabulary (vocab_size = %d)", d->path,
                               (unsigned long long)(seg[s][0] + j), d->buf[at + j], d->vocab);
        if (row->mask) {
            if (d->kind == NT_PADDED_SFT) read_range(d, d->mask, H5T_NATIVE_UINT8, seg[s][0], take, row->mask + at);
            else memset(row->mask + at, seg_mask[s], take);
        }
        at += take;
    }
    for (uint64_t i = 0; i < n; i++) row->tokens[i] = (int32_t)d->buf[i];
    for (uint64_t i = n; i <= T; i++) row->tokens[i] = d->eod;
    if (row->mask) memset(row->mask + n, 0, T + 1 - n);
    row->end = (int)(len < T ? len : T) - 1;
    row->length = len;
    if (row->labels && d->kind == NT_PADDED_REWARD)
        for (int i = 0; i < d->nlabels; i++) row->labels[i] = (float)d->labels[idx * (size_t)d->nlabels + (size_t)i];
    if (row->labels && d->kind == NT_PADDED_PREFERENCE) row->labels[0] = d->rewards ? d->rewards[2 * idx + part] : NAN;
}

/* ---- blends ------------------------------------------------------------------------------ */

/* the dataset of sample b->at: the largest deficit w_i·(at+1) − c_i, ties to the lower index */
static int blend_choose(const nt_padded_blend *b)
{
    int best = 0;
    double top = -INFINITY;
    for (int i = 0; i < b->n; i++) {
        double def = b->w[i] * (double)(b->at + 1) - (double)b->count[i];
        if (def > top) top = def, best = i;
    }
    return best;
}

/* remembers the counts at b->at (a multiple of NT_PADDED_MARK reached for the first time) */
static void blend_mark(nt_padded_blend *b)
{
    uint64_t m = b->at / NT_PADDED_MARK;
    if (m < b->nmarks) return;
    if (b->nmarks == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->marks = realloc(b->marks, b->cap * (size_t)b->n * sizeof(uint64_t));
        NT_CHECK(b->marks, "out of memory (blend marks)");
    }
    memcpy(b->marks + b->nmarks * (uint64_t)b->n, b->count, (size_t)b->n * sizeof(uint64_t));
    b->nmarks++;
}

void nt_padded_blend_open(nt_padded_blend *b, const nt_blend_item *items, int nitems, nt_padded_kind kind,
                          int seq_len, int vocab, const char *tokenizer, int nlabels, uint64_t seed)
{
    NT_CHECK(nitems >= 1 && nitems <= NT_MAX_BLEND, "nt_padded_blend_open: %d items", nitems);
    memset(b, 0, sizeof *b);
    b->n = nitems;
    double tot = 0;
    for (int i = 0; i < nitems; i++) {
        NT_CHECK(items[i].weight > 0, "nt_padded_blend_open: %s: weight %g", items[i].path, items[i].weight);
        tot += items[i].weight;
    }
    char hash0[128] = "";
    for (int i = 0; i < nitems; i++) {
        nt_padded *d = &b->ds[i];
        nt_padded_open(d, items[i].path, kind, seq_len, vocab, tokenizer, nlabels, seed);
        if (i > 0) d->key = nt_rng_u64(d->key, 0x5EED0000ull + (uint64_t)i); /* item 0 keeps the plain key */
        b->w[i] = items[i].weight / tot;
        char h[128];
        nt_h5attr_read_str(d->file, "tokenizer_hash", h, sizeof h);
        if (i == 0) snprintf(hash0, sizeof hash0, "%s", h);
        else if (strcmp(h, hash0))
            nt_input_error("%s: tokenizer mismatch: the dataset was prepared with tokenizer %.16s..., but %s has %.16s... "
                           "(re-prep the data with one tokenizer)", d->path, h[0] ? h : "(none)", b->ds[0].path,
                           hash0[0] ? hash0 : "(none)");
    }
    blend_mark(b);
}

int nt_padded_blend_pick(nt_padded_blend *b, uint64_t k, uint64_t *sample)
{
    uint64_t m = k / NT_PADDED_MARK;
    if (m >= b->nmarks) m = b->nmarks - 1;
    if (k < b->at || m * NT_PADDED_MARK > b->at) { /* back, or a remembered point further on */
        b->at = m * NT_PADDED_MARK;
        memcpy(b->count, b->marks + m * (uint64_t)b->n, (size_t)b->n * sizeof(uint64_t));
    }
    while (b->at < k) {
        b->count[blend_choose(b)]++;
        if (++b->at % NT_PADDED_MARK == 0) blend_mark(b);
    }
    int i = blend_choose(b);
    if (sample) *sample = b->count[i];
    return i;
}

void nt_padded_blend_get(nt_padded_blend *b, uint64_t k, int part, nt_padded_row *row)
{
    uint64_t j;
    int i = nt_padded_blend_pick(b, k, &j);
    nt_padded_get(&b->ds[i], j, part, row);
}

uint64_t nt_padded_blend_length(nt_padded_blend *b, uint64_t k)
{
    uint64_t j;
    int i = nt_padded_blend_pick(b, k, &j);
    return nt_padded_length(&b->ds[i], j);
}

uint64_t nt_padded_blend_truncated(const nt_padded_blend *b)
{
    uint64_t t = 0;
    for (int i = 0; i < b->n; i++) t += b->ds[i].truncated;
    return t;
}

void nt_padded_blend_close(nt_padded_blend *b)
{
    for (int i = 0; i < b->n; i++) nt_padded_close(&b->ds[i]);
    free(b->marks);
    memset(b, 0, sizeof *b);
}
