/* ckpt_format.c — the checkpoint's element formats: the bf16 HDF5 float
 * type and fp32 <-> bf16 conversion, and the per-dataset checksum.
 *
 * Checksum: sum over elements (mod 2^64) of XXH3_64bits(value bytes,
 * seed = row-major index of the element in the full tensor).  A sum is
 * independent of who computes which part, so writers and readers of any
 * layout compute partial sums over their hyperslabs and all-reduce them;
 * a wrong value, a wrong position or a hole (a truncated file reads as
 * zeros) changes it. */
#include "ckpt.h"
#include "check.h"

#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

hid_t nt_ckpt_bf16_type(void)
{
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    NT_CHECK_H5(t);
    /* order matters: shrink the fields before the size */
    NT_CHECK_H5(H5Tset_fields(t, 15, 7, 8, 0, 7));
    NT_CHECK_H5(H5Tset_offset(t, 0));
    NT_CHECK_H5(H5Tset_precision(t, 16));
    NT_CHECK_H5(H5Tset_size(t, 2));
    NT_CHECK_H5(H5Tset_ebias(t, 127));
    return t;
}

uint16_t nt_f32_to_bf16(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu)) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);   /* round to nearest even */
    return (uint16_t)(u >> 16);
}

float nt_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

uint64_t nt_ckpt_checksum(const void *data, size_t elem_bytes, const uint64_t *idx, size_t n)
{
    /* idx: n row segments given as (first full index, length) pairs packed
     * as idx[2k], idx[2k+1]; data holds the segments back to back */
    const unsigned char *p = data;
    uint64_t s = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t i0 = idx[2 * k], len = idx[2 * k + 1];
        for (uint64_t j = 0; j < len; j++, p += elem_bytes) s += XXH3_64bits_withSeed(p, elem_bytes, i0 + j);
    }
    return s;
}
