/* data_pack.h — sequence packing (data.pack): several samples in one row of
 * seq_len+1 tokens, so a row's compute is spent on real tokens instead of
 * padding.
 *
 * The run's sample stream (sample s = s-th sample of the phase's epoch
 * mixer or blend, a pure function of (seed, s)) is cut into windows of W
 * samples (W = the data's epoch: every sample once per window).  Each
 * window is packed on its own by best-fit decreasing: samples sorted by
 * length (longest first, ties by sample number), each put into the open row
 * with the least room that still holds it, else into a new row; a sample
 * longer than a row is cut to the row (and counted by the reader).  The
 * window's rows are then taken in a seeded permutation (a fresh key per
 * window), so the long and the short rows mix.  Row k of the run is row
 * k - rows_before(w) of window w.  Everything is a pure function of (seed,
 * lengths, k): every rank computes the same packing whatever the layout,
 * and resume finds the same rows (the windows before the resumed one are
 * packed once to count their rows).
 *
 * The row's layout is the caller's (phase_sft.c): samples one after the
 * other, the rest padded; positions restart at 0 for every sample and for
 * the padding, and the first token of each sample is never a target. */
#ifndef NTRON_DATA_PACK_H
#define NTRON_DATA_PACK_H

#include <stdint.h>

/* length in tokens of sample s of the run (before any cut) */
typedef uint64_t (*nt_pack_length_fn)(void *ctx, uint64_t s);

typedef struct nt_pack {
    uint64_t cap;                /* tokens per row (seq_len + 1) */
    uint64_t window;             /* samples per window */
    uint64_t key;                /* row-order permutation key (per window: derived) */
    nt_pack_length_fn length;
    void *ctx;
    uint64_t *cum;               /* cum[w] = rows of windows 0..w-1; ncum entries known */
    uint64_t ncum, cumcap;
    int64_t cur;                 /* window whose packing is held (-1: none) */
    uint64_t nbins;              /* rows of window cur */
    uint64_t *bin_start;         /* [nbins+1] into items */
    uint64_t *items;             /* [window] run sample numbers, grouped by row, longest first */
    uint64_t *lens, *order, *room, *bin_of;   /* scratch [window] */
} nt_pack;

void nt_pack_init(nt_pack *p, uint64_t cap, uint64_t window, uint64_t seed, nt_pack_length_fn length, void *ctx);
void nt_pack_free(nt_pack *p);
/* the samples of row k of the run: *n run sample numbers, longest first (valid until the next call) */
const uint64_t *nt_pack_row(nt_pack *p, uint64_t k, uint64_t *n);
/* rows of window w */
uint64_t nt_pack_window_rows(nt_pack *p, uint64_t w);
/* samples held by rows 0..k-1 of the run */
uint64_t nt_pack_samples_before(nt_pack *p, uint64_t k);

#endif
