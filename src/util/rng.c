/* rng.c — counter-based RNG (splitmix64 mixing, xxHash64 stream keys). */
#include "util/rng.h"

#include <math.h>
#include <string.h>
#include <xxhash.h>

uint64_t nt_rng_key(uint64_t seed, const char *name)
{
    return (uint64_t)XXH64(name, strlen(name), (XXH64_hash_t)seed);
}

uint64_t nt_rng_u64(uint64_t key, uint64_t index)
{
    uint64_t z = key + (index + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double nt_rng_uniform(uint64_t key, uint64_t index)
{
    /* 53 random bits, shifted by half an ulp so the result is never 0 or 1 */
    return ((double)(nt_rng_u64(key, index) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

double nt_rng_normal(uint64_t key, uint64_t index)
{
    double u1 = nt_rng_uniform(key, 2 * index);
    double u2 = nt_rng_uniform(key, 2 * index + 1);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
