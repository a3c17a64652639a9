/* data_sft.c — padded SFT sequences with loss masks (see data_sft.h). */
#include "data_sft.h"
#include "check.h"
#include "data.h"
#include "rng.h"

#include <string.h>

static hid_t open_ds(const char *path, hid_t f, const char *name, uint64_t *n)
{
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0) nt_input_error("%s: missing dataset %s (not an SFT dataset: prep it with --format chat)", path, name);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) nt_input_error("%s: cannot open %s", path, name);
    hid_t s = H5Dget_space(d);
    NT_CHECK_H5(s);
    if (H5Sget_simple_extent_ndims(s) != 1) nt_input_error("%s: %s is not one-dimensional", path, name);
    hsize_t len = 0;
    NT_CHECK_H5(H5Sget_simple_extent_dims(s, &len, NULL));
    NT_CHECK_H5(H5Sclose(s));
    *n = len;
    return d;
}

void nt_sft_open(nt_sft_dataset *d, const char *path, int seq_len, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    snprintf(d->path, sizeof d->path, "%s", path);
    d->seq_len = seq_len;
    d->key = nt_rng_key(seed, "data.sft");
    d->file = nt_h5_open_data(path);
    uint64_t nmask, noff;
    d->tokens = open_ds(path, d->file, "/tokens", &d->ntokens);
    d->mask = open_ds(path, d->file, "/loss_mask", &nmask);
    hid_t o = open_ds(path, d->file, "/doc_offsets", &noff);
    if (nmask != d->ntokens) nt_input_error("%s: /loss_mask has %llu entries, /tokens %llu", path, (unsigned long long)nmask, (unsigned long long)d->ntokens);
    if (noff < 2) nt_input_error("%s: no samples", path);
    d->offs = nt_malloc(noff * sizeof(uint64_t), "sft offsets");
    if (H5Dread(o, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, d->offs) < 0) nt_input_error("%s: cannot read /doc_offsets", path);
    NT_CHECK_H5(H5Dclose(o));
    d->nsamples = noff - 1;
    for (uint64_t i = 0; i < d->nsamples; i++)
        if (d->offs[i + 1] < d->offs[i] || d->offs[i + 1] > d->ntokens) nt_input_error("%s: /doc_offsets[%llu] out of order", path, (unsigned long long)i + 1);
    long long eod = -1;
    if (H5Aexists(d->file, "eod_id") > 0) {
        hid_t a = H5Aopen(d->file, "eod_id", H5P_DEFAULT);
        NT_CHECK_H5(a);
        NT_CHECK_H5(H5Aread(a, H5T_NATIVE_LLONG, &eod));
        NT_CHECK_H5(H5Aclose(a));
    }
    if (eod < 0) nt_input_error("%s: missing root attribute eod_id", path);
    d->eod = (int)eod;
}

void nt_sft_close(nt_sft_dataset *d)
{
    if (d->tokens > 0) NT_CHECK_H5(H5Dclose(d->tokens));
    if (d->mask > 0) NT_CHECK_H5(H5Dclose(d->mask));
    if (d->file > 0) NT_CHECK_H5(H5Fclose(d->file));
    free(d->offs);
    memset(d, 0, sizeof *d);
}

static void read_range(nt_sft_dataset *d, hid_t ds, hid_t mtype, uint64_t start, uint64_t n, void *buf)
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

uint64_t nt_sft_sample(nt_sft_dataset *d, uint64_t k, int32_t *tokens, uint8_t *mask)
{
    uint64_t epoch = k / d->nsamples, j = k % d->nsamples;
    uint64_t idx = nt_perm_index(d->key + epoch * 0xD1B54A32D192ED03ull, d->nsamples, j);
    uint64_t a = d->offs[idx], len = d->offs[idx + 1] - a, T = (uint64_t)d->seq_len + 1;
    uint64_t n = len < T ? len : T;
    if (len > T) d->truncated++;
    uint32_t *buf = nt_malloc((n ? n : 1) * sizeof(uint32_t), "sft sample");
    if (n) {
        read_range(d, d->tokens, H5T_NATIVE_UINT32, a, n, buf);
        read_range(d, d->mask, H5T_NATIVE_UINT8, a, n, mask);
    }
    for (uint64_t i = 0; i < n; i++) tokens[i] = (int32_t)buf[i];
    for (uint64_t i = n; i < T; i++) { tokens[i] = d->eod; mask[i] = 0; }
    free(buf);
    return len;
}
