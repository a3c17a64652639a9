/* data_reward.h — reward-model datasets from `ntron prep --format reward`
 * (HelpSteer2-style: one prompt + response per sample, /labels int8 [n,K]
 * attribute scores).  Each sequence holds ONE sample padded (not packed)
 * with the EOD id to seq_len+1 tokens; the reward head scores its last
 * token (end = length-1, or seq_len-1 when the sample is truncated: the
 * truncation is counted).  Sample k is perm_epoch(k mod n) (the seeded
 * permutation of data.h), a pure function of (seed, k), like pretraining
 * data, so resume and any DP layout read the same samples. */
#ifndef NTRON_DATA_REWARD_H
#define NTRON_DATA_REWARD_H

#include <hdf5.h>
#include <stdint.h>

typedef struct nt_reward_dataset {
    char path[1024];
    hid_t file, tokens;
    uint64_t *offs;          /* nsamples + 1 */
    int8_t *labels;          /* [nsamples, nlabels] */
    uint64_t nsamples, ntokens;
    int nlabels, seq_len, eod;
    uint64_t key;
    uint64_t truncated;      /* samples longer than a sequence */
} nt_reward_dataset;

/* exit 2 with "path: reason" unless the file is a reward dataset with
 * `outputs` labels per sample and token ids below vocab */
void nt_reward_open(nt_reward_dataset *d, const char *path, int seq_len, int outputs, int vocab, uint64_t seed);
/* exit 2 unless the dataset was prepared with the tokenizer model at
 * tokenizer (data.tokenizer; "" = no check) */
void nt_reward_check_tokenizer(const nt_reward_dataset *d, const char *tokenizer);
void nt_reward_close(nt_reward_dataset *d);
/* Sample k: tokens[seq_len+1] (padded), *end (row scored), labels[nlabels]. */
void nt_reward_sample(nt_reward_dataset *d, uint64_t k, int32_t *tokens, int *end, float *labels);

#endif
