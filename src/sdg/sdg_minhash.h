/* sdg_minhash.h — near-duplicate detection of texts by MinHash over word
 * n-grams (the genetic stage's dedup of instructions).
 *
 * Words: maximal runs of ASCII letters and digits (lowercased) and of
 * bytes >= 0x80 (UTF-8 text kept as is); everything else separates.  The
 * shingles of a text are its word n-grams (n consecutive words); a text
 * of fewer than n words has one shingle, all its words; a text without
 * words has none.  The signature holds, for each of NT_MINHASH_K seeds,
 * the least xxHash64 of the shingles; the similarity of two signatures
 * (the fraction of equal minima) estimates the Jaccard index of the two
 * shingle sets, with standard error sqrt(J (1 - J) / K) (0.0625 at most,
 * K = 64).  Two texts without words are similar (1), one is not (0). */
#ifndef NTRON_SDG_MINHASH_H
#define NTRON_SDG_MINHASH_H

#include <stdint.h>

#define NT_MINHASH_K 64

typedef struct nt_minhash {
    uint64_t h[NT_MINHASH_K];
    int empty;
} nt_minhash;

void nt_minhash_of(const char *text, int ngram, nt_minhash *m);
double nt_minhash_similarity(const nt_minhash *a, const nt_minhash *b);
/* the exact Jaccard index of the two shingle sets (what the estimate estimates; tests) */
double nt_ngram_jaccard(const char *a, const char *b, int ngram);

#endif
