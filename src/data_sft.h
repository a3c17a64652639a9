/* data_sft.h — SFT (chat) datasets from `ntron prep --format chat`: each
 * sequence holds exactly ONE conversation, padded (not packed) to
 * seq_len+1 tokens, so attention never crosses a sample boundary and the
 * causal mask needs no per-sample segments.  Padding is the EOD id with
 * loss mask 0; a conversation longer than seq_len+1 is truncated (its
 * mask with it).  Sample k is conversation perm_epoch(k mod n) (the seeded
 * permutation of data.h), a pure function of (seed, k). */
#ifndef NTRON_DATA_SFT_H
#define NTRON_DATA_SFT_H

#include <hdf5.h>
#include <stdint.h>

typedef struct nt_sft_dataset {
    char path[1024];
    hid_t file, tokens, mask;
    uint64_t *offs;          /* nsamples + 1 */
    uint64_t nsamples, ntokens;
    int seq_len, eod;
    uint64_t key;
    uint64_t truncated;      /* conversations longer than a sequence */
} nt_sft_dataset;

/* exit 2 with "path: reason" unless the file is an sft dataset */
void nt_sft_open(nt_sft_dataset *d, const char *path, int seq_len, uint64_t seed);
void nt_sft_close(nt_sft_dataset *d);
/* Sample k: tokens[seq_len+1], mask[seq_len+1]; returns the conversation's own length (before padding/truncation). */
uint64_t nt_sft_sample(nt_sft_dataset *d, uint64_t k, int32_t *tokens, uint8_t *mask);

#endif
