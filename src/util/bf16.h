/* bf16.h — the one fp32 <-> bf16 conversion pair (bfloat16: the top 16 bits
 * of an IEEE fp32).  fp32 -> bf16 rounds to nearest even; a NaN stays a
 * (quiet) NaN.  Inline, so element loops (checkpoint rounding, host-staged
 * bf16 reductions) vectorise. */
#ifndef NTRON_BF16_H
#define NTRON_BF16_H

#include <stdint.h>
#include <string.h>

static inline uint16_t nt_f32_to_bf16(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);                                          /* round to nearest even */
    return (uint16_t)(u >> 16);
}

static inline float nt_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

#endif
