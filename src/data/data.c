/* data.c — token dataset reader and seeded permutation sampler. */
#include "data/data.h"
#include "data/data_check.h"
#include "util/check.h"
#include "util/rng.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* ---- seeded permutation: 4-round Feistel over 2^(2h) >= n, cycle-walking ---- */

uint64_t nt_perm_index(uint64_t key, uint64_t n, uint64_t i)
{
    int bits = 2;
    while (bits < 64 && ((uint64_t)1 << bits) < n) bits += 2;
    int h = bits / 2;
    uint64_t mask = ((uint64_t)1 << h) - 1, x = i;
    do {
        uint64_t l = x >> h, r = x & mask;
        for (int round = 0; round < 4; round++) {
            uint64_t f = nt_rng_u64(key + (uint64_t)round * 0x632BE59BD9B4E019ull, r) & mask;
            uint64_t t = r;
            r = l ^ f;
            l = t;
        }
        x = (l << h) | r;
    } while (x >= n);
    return x;
}

/* ---- reading ---------------------------------------------------------- */

static int h5_has(hid_t loc, const char *name)
{
    return H5Lexists(loc, name, H5P_DEFAULT) > 0;
}

/* a 1-D unsigned integer dataset of exactly `bytes` bytes per element */
static hid_t open_1d_uint(const char *path, hid_t file, const char *name, size_t bytes, uint64_t *len)
{
    if (!h5_has(file, name)) nt_input_error("%s: missing dataset %s (not a ntron token file?)", path, name);
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0) nt_input_error("%s: cannot open dataset %s", path, name);
    hid_t sp = H5Dget_space(ds), ty = H5Dget_type(ds);
    NT_CHECK_H5(sp);
    NT_CHECK_H5(ty);
    int rank = H5Sget_simple_extent_ndims(sp);
    if (rank != 1) nt_input_error("%s: %s has %d dimensions, expected 1", path, name, rank);
    if (H5Tget_class(ty) != H5T_INTEGER)
        nt_input_error("%s: %s is not an integer dataset", path, name);
    nt_data_check_dtype(path, ds, name, NT_DT_UINT, bytes);
    hsize_t n = 0;
    NT_CHECK_H5(H5Sget_simple_extent_dims(sp, &n, NULL));
    *len = n;
    NT_CHECK_H5(H5Sclose(sp));
    NT_CHECK_H5(H5Tclose(ty));
    return ds;
}

static uint64_t read_u64_at(const char *path, hid_t ds, const char *name, uint64_t idx)
{
    uint64_t v = 0;
    hsize_t start = idx, count = 1;
    hid_t fs = H5Dget_space(ds);
    NT_CHECK_H5(fs);
    hid_t ms = H5Screate_simple(1, &count, NULL);
    NT_CHECK_H5(ms);
    NT_CHECK_H5(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL));
    if (H5Dread(ds, H5T_NATIVE_UINT64, ms, fs, H5P_DEFAULT, &v) < 0)
        nt_input_error("%s: cannot read %s[%llu] (truncated or corrupt file?)", path, name, (unsigned long long)idx);
    NT_CHECK_H5(H5Sclose(ms));
    NT_CHECK_H5(H5Sclose(fs));
    return v;
}

hid_t nt_h5_open_data(const char *path)
{
    /* stat first: opening a FIFO would block until a writer comes, a
     * directory or device is never a data file */
    struct stat st;
    if (stat(path, &st) != 0) nt_input_error("%s: cannot open data file: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        nt_input_error("%s: not a regular file (%s): a data file must be an HDF5 file", path,
                       S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : S_ISSOCK(st.st_mode) ? "a socket"
                       : "not a file");
    FILE *f = fopen(path, "rb");
    if (!f) nt_input_error("%s: cannot open data file: %s", path, strerror(errno));
    NT_CHECK_SYS(fclose(f) == 0 ? 0 : -1);
    NT_CHECK_H5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));   /* errors are reported by us, not printed by HDF5 */
    if (H5Fis_hdf5(path) <= 0) nt_input_error("%s: not an HDF5 file", path);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) nt_input_error("%s: cannot open as HDF5 (truncated or corrupt?)", path);
    return file;
}

void nt_dataset_open(nt_dataset *d, const char *path, int seq_len, int model_vocab, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    snprintf(d->path, sizeof d->path, "%s", path);
    d->seq_len = seq_len;
    d->model_vocab = model_vocab;
    d->key = nt_rng_key(seed, "data.sampler");

    d->file = nt_h5_open_data(path);

    uint64_t nofs = 0;
    d->tokens = open_1d_uint(path, d->file, "/tokens", 4, &d->ntokens);
    hid_t offs = open_1d_uint(path, d->file, "/doc_offsets", 8, &nofs);
    if (nofs < 2) nt_input_error("%s: /doc_offsets has %llu entries, expected at least 2", path, (unsigned long long)nofs);
    uint64_t first = read_u64_at(path, offs, "/doc_offsets", 0);
    uint64_t last = read_u64_at(path, offs, "/doc_offsets", nofs - 1);
    if (first != 0 || last != d->ntokens)
        nt_input_error("%s: /doc_offsets runs from %llu to %llu, expected 0 to %llu (the /tokens length)",
                       path, (unsigned long long)first, (unsigned long long)last, (unsigned long long)d->ntokens);
    nt_data_check_sorted(path, offs, "/doc_offsets", nofs);
    d->ndocs = nofs - 1;
    NT_CHECK_H5(H5Dclose(offs));

    if (H5Aexists(d->file, "vocab_size") <= 0) nt_input_error("%s: missing root attribute vocab_size", path);
    hid_t a = H5Aopen(d->file, "vocab_size", H5P_DEFAULT);
    long long vs = 0;
    if (a < 0 || H5Aread(a, H5T_NATIVE_LLONG, &vs) < 0) nt_input_error("%s: cannot read attribute vocab_size", path);
    NT_CHECK_H5(H5Aclose(a));
    if (vs <= 0) nt_input_error("%s: vocab_size = %lld is not positive", path, vs);
    if (vs > model_vocab)
        nt_input_error("%s: vocab_size = %lld exceeds the model's vocabulary (model.vocab = %d)", path, vs, model_vocab);
    d->vocab = (int)vs;

    if (d->ntokens < (uint64_t)seq_len + 1)
        nt_input_error("%s: %llu tokens, fewer than one sample of model.seq_len + 1 = %d",
                       path, (unsigned long long)d->ntokens, seq_len + 1);
    d->nsamples = (d->ntokens - 1) / (uint64_t)seq_len;
    /* every id now, before the run writes anything (each rank its share) */
    nt_data_check_ids(path, d->tokens, "/tokens", d->ntokens, d->vocab);
    d->buf = nt_malloc(((size_t)seq_len + 1) * sizeof(uint32_t), "sample buffer");
}

void nt_dataset_close(nt_dataset *d)
{
    if (d->tokens > 0) NT_CHECK_H5(H5Dclose(d->tokens));
    if (d->file > 0) NT_CHECK_H5(H5Fclose(d->file));
    free(d->buf);
    memset(d, 0, sizeof *d);
}

void nt_dataset_sample(nt_dataset *d, uint64_t k, int32_t *out)
{
    uint64_t epoch = k / d->nsamples, j = k % d->nsamples;
    uint64_t idx = nt_perm_index(d->key + epoch * 0xD1B54A32D192ED03ull, d->nsamples, j);
    hsize_t start = idx * (uint64_t)d->seq_len, count = (hsize_t)d->seq_len + 1;
    hid_t fs = H5Dget_space(d->tokens);
    NT_CHECK_H5(fs);
    hid_t ms = H5Screate_simple(1, &count, NULL);
    NT_CHECK_H5(ms);
    NT_CHECK_H5(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL));
    if (H5Dread(d->tokens, H5T_NATIVE_UINT32, ms, fs, H5P_DEFAULT, d->buf) < 0)
        nt_input_error("%s: cannot read /tokens[%llu:%llu] (truncated or corrupt file?)", d->path,
                       (unsigned long long)start, (unsigned long long)(start + count));
    NT_CHECK_H5(H5Sclose(ms));
    NT_CHECK_H5(H5Sclose(fs));
    for (hsize_t i = 0; i < count; i++) {
        if (d->buf[i] >= (uint32_t)d->vocab)
            nt_input_error("%s: /tokens[%llu] = %u is outside the vocabulary (vocab_size = %d)", d->path,
                           (unsigned long long)(start + i), d->buf[i], d->vocab);
        out[i] = (int32_t)d->buf[i];
    }
}
