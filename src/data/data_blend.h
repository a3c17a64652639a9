/* data_blend.h — a training blend: several token datasets with weights
 * (data.train = "path:weight ..."), optionally switching to a second blend
 * (data.switch_blend) once data.switch_at tokens have been consumed — the
 * report's continued-pretraining phase.  Sample k of the run (k = consumed
 * samples) comes from dataset i chosen by a seeded uniform draw u(k) against
 * the cumulative normalised weights of the blend in force at k (the first
 * blend while k·seq_len < switch_at), and within it is sample k of that
 * dataset's own seeded permutation sampler (data.h).  Everything is a pure
 * function of (seed, k), so a resumed run continues exactly and every
 * layout reads the same samples.  With one dataset and no switch the
 * samples are exactly nt_dataset_sample(k). */
#ifndef NTRON_DATA_BLEND_H
#define NTRON_DATA_BLEND_H

#include "deck/config.h"
#include "data/data.h"
#include "deck/deck.h"

typedef struct nt_blend {
    int n;                                   /* distinct datasets */
    nt_dataset ds[2 * NT_MAX_BLEND];
    int nitems[2];                           /* items per phase (nitems[1] == 0: no switch) */
    int item_ds[2][NT_MAX_BLEND];            /* dataset of each item */
    double cum[2][NT_MAX_BLEND];             /* cumulative normalised weights */
    uint64_t switch_sample;                  /* first sample of phase 1 (UINT64_MAX: none) */
    uint64_t key[2];                         /* dataset-choice streams */
    uint64_t ntokens;                        /* over all datasets */
    char hash[65];                           /* the datasets' tokenizer hash */
} nt_blend;

/* Opens every dataset of data.train and data.switch_blend and checks that
 * their tokenizer hashes agree with each other and with data.tokenizer
 * (when set: "byte" or a SentencePiece model file).  Exit 2 naming the key. */
void nt_blend_open(nt_blend *b, const nt_config *cfg, const nt_deck_info *info);
void nt_blend_close(nt_blend *b);
/* Dataset (index into b->ds) that sample k is drawn from. */
int nt_blend_pick(const nt_blend *b, uint64_t k);
/* Sample k: seq_len+1 token ids. */
void nt_blend_sample(nt_blend *b, uint64_t k, int32_t *out);
/* Parses "path[:weight] ..." (weights > 0) — data.switch_blend's form. */
int nt_blend_parse(const char *text, nt_blend_item *items, int max, char *err, size_t errlen);

#endif
