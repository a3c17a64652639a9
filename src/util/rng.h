/* rng.h — counter-based random numbers: a value depends only on a key and
 * an index, never on call order, so initialisation and data shuffling are
 * identical under every parallel layout and on resume. */
#ifndef NTRON_RNG_H
#define NTRON_RNG_H

#include <stdint.h>

/* Key for a named stream: xxHash64 of the name, seeded with `seed`. */
uint64_t nt_rng_key(uint64_t seed, const char *name);
/* 64 random bits for (key, index): splitmix64 finaliser of key + index * golden. */
uint64_t nt_rng_u64(uint64_t key, uint64_t index);
/* uniform in (0, 1) */
double nt_rng_uniform(uint64_t key, uint64_t index);
/* standard normal (Box-Muller over indices 2i, 2i+1) */
double nt_rng_normal(uint64_t key, uint64_t index);

#endif
