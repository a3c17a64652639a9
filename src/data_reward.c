/* data_reward.c — padded reward-model samples with attribute labels (see
 * data_reward.h). */
#include "data_reward.h"
#include "check.h"
#include "data.h"
#include "rng.h"
#include "tokenizer.h"

#include <string.h>

static hid_t open_ds(const char *path, hid_t f, const char *name, int want_ndims, hsize_t dims[2])
{
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0)
        nt_input_error("%s: missing dataset %s (not a reward dataset: prep it with --format reward)", path, name);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) nt_input_error("%s: cannot open %s", path, name);
    hid_t s = H5Dget_space(d);
    NT_CHECK_H5(s);
    if (H5Sget_simple_extent_ndims(s) != want_ndims)
        nt_input_error("%s: %s is not %d-dimensional", path, name, want_ndims);
    NT_CHECK_H5(H5Sget_simple_extent_dims(s, dims, NULL));
    NT_CHECK_H5(H5Sclose(s));
    return d;
}

static long long root_int(const char *path, hid_t f, const char *name)
{
    long long v = -1;
    if (H5Aexists(f, name) <= 0) nt_input_error("%s: missing root attribute %s", path, name);
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    NT_CHECK_H5(a);
    NT_CHECK_H5(H5Aread(a, H5T_NATIVE_LLONG, &v));
    NT_CHECK_H5(H5Aclose(a));
    return v;
}

void nt_reward_open(nt_reward_dataset *d, const char *path, int seq_len, int outputs, int vocab, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    snprintf(d->path, sizeof d->path, "%s", path);
    d->seq_len = seq_len;
    d->key = nt_rng_key(seed, "data.reward");
    d->file = nt_h5_open_data(path);
    hsize_t tdims[2], odims[2], ldims[2];
    d->tokens = open_ds(path, d->file, "/tokens", 1, tdims);
    hid_t o = open_ds(path, d->file, "/doc_offsets", 1, odims);
    hid_t l = open_ds(path, d->file, "/labels", 2, ldims);
    d->ntokens = tdims[0];
    if (odims[0] < 2) nt_input_error("%s: no samples", path);
    d->nsamples = odims[0] - 1;
    if (ldims[0] != d->nsamples)
        nt_input_error("%s: /labels has %llu rows, /doc_offsets %llu samples", path, (unsigned long long)ldims[0],
                       (unsigned long long)d->nsamples);
    if ((int)ldims[1] != outputs)
        nt_input_error("%s: %d labels per sample, but model.reward_outputs = %d", path, (int)ldims[1], outputs);
    d->nlabels = outputs;
    d->offs = nt_malloc(odims[0] * sizeof(uint64_t), "reward offsets");
    d->labels = nt_malloc(d->nsamples * (size_t)outputs, "reward labels");
    if (H5Dread(o, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, d->offs) < 0)
        nt_input_error("%s: cannot read /doc_offsets", path);
    if (H5Dread(l, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, d->labels) < 0)
        nt_input_error("%s: cannot read /labels", path);
    NT_CHECK_H5(H5Dclose(o));
    NT_CHECK_H5(H5Dclose(l));
    for (uint64_t i = 0; i < d->nsamples; i++)
        if (d->offs[i + 1] <= d->offs[i] || d->offs[i + 1] > d->ntokens)
            nt_input_error("%s: /doc_offsets[%llu] out of order or empty sample", path, (unsigned long long)i + 1);
    d->eod = (int)root_int(path, d->file, "eod_id");
    if (d->eod < 0) nt_input_error("%s: root attribute eod_id is negative", path);
    long long vs = root_int(path, d->file, "vocab_size");
    if (vs > vocab) nt_input_error("%s: tokenizer vocabulary %lld is larger than model.vocab = %d", path, vs, vocab);
}

void nt_reward_check_tokenizer(const nt_reward_dataset *d, const char *tokenizer)
{
    if (!tokenizer[0]) return;
    char want[65], have[128];
    nt_tokenizer_hash(tokenizer, want);
    nt_h5_attr_str(d->file, "tokenizer_hash", have, sizeof have);
    if (!have[0])
        nt_input_error("%s: no tokenizer_hash attribute, cannot check it against data.tokenizer = %s", d->path, tokenizer);
    if (strcmp(have, want) != 0)
        nt_input_error("%s: tokenizer mismatch: the dataset was prepared with tokenizer %.16s..., but data.tokenizer = "
                       "%s has %.16s... (re-prep the data with the deck's tokenizer)", d->path, have, tokenizer, want);
}

void nt_reward_close(nt_reward_dataset *d)
{
    if (d->tokens > 0) NT_CHECK_H5(H5Dclose(d->tokens));
    if (d->file > 0) NT_CHECK_H5(H5Fclose(d->file));
    free(d->offs);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

void nt_reward_sample(nt_reward_dataset *d, uint64_t k, int32_t *tokens, int *end, float *labels)
{
    uint64_t epoch = k / d->nsamples, j = k % d->nsamples;
    uint64_t idx = nt_perm_index(d->key + epoch * 0xD1B54A32D192ED03ull, d->nsamples, j);
    uint64_t a = d->offs[idx], len = d->offs[idx + 1] - a, T = (uint64_t)d->seq_len;
    uint64_t n = len < T ? len : T;   /* the scored token must be an input position */
    if (len > T) d->truncated++;
    uint32_t *buf = nt_malloc(n * sizeof(uint32_t), "reward sample");
    hsize_t s = a, c = n;
    hid_t fs = H5Dget_space(d->tokens);
    NT_CHECK_H5(fs);
    hid_t ms = H5Screate_simple(1, &c, NULL);
    NT_CHECK_H5(ms);
    NT_CHECK_H5(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &s, NULL, &c, NULL));
    if (H5Dread(d->tokens, H5T_NATIVE_UINT32, ms, fs, H5P_DEFAULT, buf) < 0)
        nt_input_error("%s: read failed (truncated file?)", d->path);
    NT_CHECK_H5(H5Sclose(ms));
    NT_CHECK_H5(H5Sclose(fs));
    for (uint64_t i = 0; i < n; i++) tokens[i] = (int32_t)buf[i];
    for (uint64_t i = n; i <= T; i++) tokens[i] = d->eod;
    free(buf);
    *end = (int)n - 1;
    for (int i = 0; i < d->nlabels; i++) labels[i] = (float)d->labels[idx * (size_t)d->nlabels + (size_t)i];
}
