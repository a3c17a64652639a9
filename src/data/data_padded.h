/* data_padded.h — the one reader of padded-sample datasets: SFT (`ntron
 * prep --format chat`: /tokens, /doc_offsets, /loss_mask), reward
 * (`--format reward`: /labels int8 [n,K]) and preference pairs
 * (`--format preference`: /ranges uint64 [n,4] = prompt, chosen, rejected
 * starts and end; /rewards float32 [n,2] = r* of chosen and rejected, NaN
 * when absent).  It owns:
 *   - the validation: the kind's datasets present (and the kind attribute,
 *     when there is one, equal to the kind), shapes, offsets in order,
 *     ranges inside their sample, eod_id, vocab_size <= model.vocab, token
 *     ids < vocab_size (all of them as the file is opened, data_check.h,
 *     and again per row read), each dataset's exact dtype, nlabels labels
 *     (reward), and
 *     the tokenizer hash against data.tokenizer;
 *   - the epoch mixer: sample k of the run is sample perm_e(k mod n) of
 *     epoch e = k / n, perm_e the seeded permutation nt_perm_index of
 *     data.h under a fresh key per epoch (rng keys "data.sft",
 *     "data.reward", "data.preference"), so every sample is seen exactly
 *     once per epoch, in a new order each epoch, a pure function of
 *     (seed, k): resume and every DP layout read the same rows;
 *   - the row mapping: ONE sample per row (padded with the EOD id; packing
 *     several per row is data_pack.h's, over these rows), truncated to
 *     seq_len+1 tokens — reward rows to seq_len, as the scored token must
 *     be an input position; the truncations are counted;
 *   - the blend of several padded datasets (SFT stages: general SFT that
 *     keeps a small share of code samples), also a pure function of
 *     (seed, k); see nt_padded_blend below. */
#ifndef NTRON_DATA_PADDED_H
#define NTRON_DATA_PADDED_H

#include "deck/config.h"

#include <hdf5.h>
#include <stdint.h>

typedef enum { NT_PADDED_SFT = 0, NT_PADDED_REWARD = 1, NT_PADDED_PREFERENCE = 2 } nt_padded_kind;

typedef struct nt_padded {
    char path[1024];
    nt_padded_kind kind;
    hid_t file, tokens, mask;    /* mask: /loss_mask (SFT), else 0 */
    uint64_t *offs;              /* /doc_offsets: nsamples + 1 */
    int8_t *labels;              /* reward: [nsamples, nlabels] */
    uint64_t *ranges;            /* preference: [nsamples, 4] */
    float *rewards;              /* preference: [nsamples, 2], NULL when the file has no /rewards */
    uint64_t nsamples, ntokens;  /* samples (preference: pairs) and tokens of the file */
    int nlabels;                 /* reward: labels per sample; preference: 1 (r*); SFT: 0 */
    int seq_len, eod, vocab;     /* vocab: the file's vocab_size */
    uint64_t key;                /* epoch mixer key */
    uint64_t truncated;          /* rows read that were longer than a sequence */
    uint32_t *buf;               /* seq_len + 1 */
} nt_padded;

/* one row of a sample; buffers are the caller's */
typedef struct nt_padded_row {
    int32_t *tokens;   /* [seq_len+1]: the sample, padded with the EOD id (not packed), truncated to seq_len+1 */
    uint8_t *mask;     /* [seq_len+1] or NULL: 1 where tokens[i] is a trained target (SFT: assistant tokens; preference: response tokens, prompt 0; reward: unused, all 0); padding 0 */
    int end;           /* index of the last real token that is an input position (<= seq_len-1): where the reward head scores */
    float *labels;     /* [nlabels] or NULL: reward labels (int8 -> float); preference: labels[0] = this response's reward r* (NaN when the file has none) */
    uint64_t length;   /* the sample's own length in tokens before padding/truncation */
} nt_padded_row;

/* exit 2 "path: reason" unless path is a padded dataset of this kind with token ids < vocab and (reward) nlabels labels; tokenizer "" = no hash check */
void nt_padded_open(nt_padded *d, const char *path, nt_padded_kind kind, int seq_len, int vocab,
                    const char *tokenizer, int nlabels, uint64_t seed);
uint64_t nt_padded_count(const nt_padded *d);     /* samples; preference: pairs */
/* sample k of the run (any k >= 0: epochs wrap with a fresh permutation each), part 0 = the sample (preference: chosen = prompt+chosen), part 1 = preference rejected (prompt+rejected) */
void nt_padded_get(nt_padded *d, uint64_t k, int part, nt_padded_row *row);
uint64_t nt_padded_truncated(const nt_padded *d); /* samples longer than a sequence seen so far */
/* the length in tokens of sample k of the run, without reading it (preference: prompt + both responses) */
uint64_t nt_padded_length(const nt_padded *d, uint64_t k);
void nt_padded_close(nt_padded *d);

/* The epoch mixer alone: the sample (pair) index that sample k of the run
 * reads; *epoch (when not NULL) = k / count. */
uint64_t nt_padded_index(const nt_padded *d, uint64_t k, uint64_t *epoch);
/* The kind's name as prep writes it in the kind attribute: sft | reward | preference. */
const char *nt_padded_kind_name(nt_padded_kind kind);

/* ---- blends of padded datasets ------------------------------------------------
 * Items "path:weight" (data.train's form, nt_blend_parse of data_blend.h).
 * Sample k of the run comes from the dataset the deterministic largest-
 * deficit rule picks — the dataset i with the largest w_i·(k+1) − c_i(k),
 * c_i(k) = how many of samples 0..k-1 it already gave, ties to the lower i
 * (w normalised) — so after any K samples dataset i has given w_i·K of
 * them to within two samples (tests/test_data_padded.c), spread evenly
 * through the run.  Within dataset i it is that dataset's sample c_i(k)
 * through its own epoch mixer: every sample of a dataset once before any
 * repeats.  Item 0 keeps the plain key, so a one-dataset blend reads
 * exactly as nt_padded_get; the others get keys of their own.  A pure
 * function of (seed, k): the counts are computed forward from 0 once and
 * remembered every NT_PADDED_MARK samples, so any k (resume, another
 * layout, any order) gives the same rows.  The datasets' tokenizer hashes
 * must agree (and equal data.tokenizer's when it is set). */
#define NT_PADDED_MARK 4096
typedef struct nt_padded_blend {
    int n;
    nt_padded ds[NT_MAX_BLEND];
    double w[NT_MAX_BLEND];             /* normalised weights */
    uint64_t at, count[NT_MAX_BLEND];   /* the counts c_i(at) */
    uint64_t *marks;                    /* [nmarks][n]: c_i(m · NT_PADDED_MARK) */
    uint64_t nmarks, cap;
} nt_padded_blend;

/* exit 2 "path: reason" for any bad dataset (as nt_padded_open) or "path: tokenizer mismatch ..." */
void nt_padded_blend_open(nt_padded_blend *b, const nt_blend_item *items, int nitems, nt_padded_kind kind,
                          int seq_len, int vocab, const char *tokenizer, int nlabels, uint64_t seed);
/* the dataset sample k of the run comes from; *sample (when not NULL) = its sample number within it */
int nt_padded_blend_pick(nt_padded_blend *b, uint64_t k, uint64_t *sample);
/* nt_padded_get of the picked dataset at its own sample number */
void nt_padded_blend_get(nt_padded_blend *b, uint64_t k, int part, nt_padded_row *row);
uint64_t nt_padded_blend_truncated(const nt_padded_blend *b);
/* nt_padded_length of the sample k of the run picked from the blend */
uint64_t nt_padded_blend_length(nt_padded_blend *b, uint64_t k);
void nt_padded_blend_close(nt_padded_blend *b);

#endif
