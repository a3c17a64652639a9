/* attention.cuh — what the fused attention's two sources share
 * (attention.cu: generic and mma.sync paths, launchers; attention_wgmma.cu:
 * the Hopper warpgroup-MMA forward): the problem's dimensions, the packed-row
 * visibility rules, and the wgmma forward's entry points. */
#ifndef NTRON_ATTENTION_CUH
#define NTRON_ATTENTION_CUH

#include "nt_device.cuh"

#include <stdlib.h>
#include <string.h>

#define NT_LOG2E 1.4426950408889634f
#define NT_LN2 0.6931471805599453f

struct AttnDims {
    int B, T, G, qpg, hd, H;
    long long W, Wo; /* qkv and out row widths, elements */
    float scale, scale_log2;
    const int32_t *pos; /* packed rows: positions inside samples [B*T], or NULL */
};

static inline AttnDims attn_dims(int B, int T, int G, int qpg, int hd, const int32_t *pos)
{
    AttnDims d;
    d.pos = pos;
    d.B = B;
    d.T = T;
    d.G = G;
    d.qpg = qpg;
    d.hd = hd;
    d.H = G * qpg;
    d.W = (long long)G * (qpg + 2) * hd;
    d.Wo = (long long)G * qpg * hd;
    d.scale = (float)(1.0 / sqrt((double)hd));
    d.scale_log2 = (float)(1.0 / sqrt((double)hd) * 1.4426950408889634);
    return d;
}

/* first key query q (< T) of row b sees: its sample's start (0 unpacked) */
__device__ __forceinline__ int attn_kstart(const AttnDims &d, int b, int q)
{
    return d.pos ? q - d.pos[(size_t)b * d.T + q] : 0;
}
/* earliest key start of the queries [q0, q0+n) of row b (rows >= T ignored) */
__device__ __forceinline__ int attn_block_lo(const AttnDims &d, int b, int q0, int n)
{
    if (!d.pos) return 0;
    int lo = q0;
    for (int q = q0; q < q0 + n && q < d.T; q++) lo = nt_imin(lo, attn_kstart(d, b, q));
    return lo;
}
/* key k is visible to query q of row b */
__device__ __forceinline__ bool attn_sees(const AttnDims &d, int b, int q, int k)
{
    return q < d.T && k <= q && k >= attn_kstart(d, b, q);
}

/* where query head h's data lives: the column offsets (elements) of its q
 * and of its KV group's k and v inside a qkv row, and (with row b) the
 * offset of its [T] row in the [B, H, T] statistics (lse, D); hd = d.hd,
 * passed so that kernels templated on it fold the products */
struct AttnHead {
    size_t q, k, v, stat;
};
__device__ __forceinline__ AttnHead attn_head(const AttnDims &d, int b, int h, int hd)
{
    const int g = h / d.qpg, j = h - g * d.qpg;
    AttnHead a;
    a.q = ((size_t)g * (d.qpg + 2) + j) * hd;
    a.k = ((size_t)g * (d.qpg + 2) + d.qpg) * hd;
    a.v = a.k + hd;
    a.stat = ((size_t)b * d.H + h) * d.T;
    return a;
}

/* floats [0, ROWS) from src by cp.async, rows >= valid zero */
template <int ROWS, int NTH>
__device__ __forceinline__ void attn_load_vec(float *dst, const float *src, int valid)
{
    for (int r = threadIdx.x; r < ROWS; r += NTH) {
        if (r < valid)
            nt_cp_async4(dst + r, src + r);
        else
            dst[r] = 0.0f;
    }
}

/* the backward's dS^T workspace: per (b, h), tile (kb, qb) of 64 keys x 64
 * queries for kb <= qb at ((qb (qb+1)/2) + kb) * 64*64 bf16 elements, stored
 * [key][query]; dst_tiles(T) tiles per (b, h) */
static __host__ __device__ __forceinline__ long long dst_tiles(int T)
{
    const long long n = (T + 63) / 64;
    return n * (n + 1) / 2;
}

/* ---- attention_wgmma.cu (Hopper, sm_90a) ---- */
/* 1 if this binary holds the warpgroup-MMA kernels for the current device
 * (built for sm_90a, running on it): probed once with a tiny kernel. */
int attn_wgmma_available(void);
/* launch the warpgroup-MMA forward if it handles hd (64, 128, 192) and the
 * pointers are 16-byte aligned; false (nothing launched) otherwise */
bool attn_fwd_wgmma(nt_bf16 *out, float *lse, const nt_bf16 *qkv, const AttnDims &d, nt_stream stream);
/* the backward's dK/dV pass on wgmma: per-head fp32 partials wdk (scaled),
 * wdv [B, H, T, hd] and the dS^T workspace tiles, as k_attn_dkdv_mma writes
 * them; same conditions and return as attn_fwd_wgmma */
bool attn_dkdv_wgmma(float *wdk, float *wdv, uint16_t *dsT, const nt_bf16 *qkv, const nt_bf16 *dout,
                     const float *lse, const float *Dbuf, const AttnDims &d, nt_stream stream);
/* the backward's dQ pass on wgmma over the dS^T workspace tiles (as
 * k_attn_dq_gemm); same conditions and return as attn_fwd_wgmma */
bool attn_dq_wgmma(nt_bf16 *dqkv, const nt_bf16 *qkv, const uint16_t *dsT, const AttnDims &d, nt_stream stream);

#endif
