/* data.h — pretraining token datasets (HDF5 `/tokens`, `/doc_offsets`) and
 * the deterministic sampler: sample k of the run (k = consumed-sample
 * count) is window perm_epoch(k mod n) of epoch k / n, where perm is a
 * seeded bijection (no index array in memory), so the order depends only
 * on the seed and k — identical across layouts and on resume. */
#ifndef NTRON_DATA_H
#define NTRON_DATA_H

#include <hdf5.h>
#include <stdint.h>

typedef struct nt_dataset {
    char path[1024];
    hid_t file, tokens;
    uint64_t ntokens, ndocs, nsamples;
    int seq_len, vocab;      /* vocab: the file's vocab_size attribute */
    int model_vocab;
    uint64_t key;            /* sampler key (seed) */
    uint32_t *buf;
} nt_dataset;

/* Opens and validates the file (exit 2 with "path: reason" on bad input). */
void nt_dataset_open(nt_dataset *d, const char *path, int seq_len, int model_vocab, uint64_t seed);
void nt_dataset_close(nt_dataset *d);
/* Reads sample k (global consumed-sample index): seq_len+1 token ids. */
void nt_dataset_sample(nt_dataset *d, uint64_t k, int32_t *out);
/* The seeded permutation of [0, n): exposed for tests. */
uint64_t nt_perm_index(uint64_t key, uint64_t n, uint64_t i);
/* A data file opened read-only; exit 2 with "path: reason" when it is
 * missing, not HDF5 or damaged. */
hid_t nt_h5_open_data(const char *path);

#endif
