/* attention_wgmma.cu — the fused causal GQA attention on Hopper's warpgroup
 * MMA (wgmma.mma_async, sm_90a): the forward and the backward's dK/dV and dQ
 * passes, with the same semantics, layouts, outputs and masking as the
 * mma.sync kernels of attention.cu (which keeps the D and dK/dV-reduce
 * kernels and the launchers), for head dims 64, 128 and 192.
 *
 * Forward:
 * Block: 2 warpgroups (256 threads), 128 query rows (64 per warpgroup),
 * BK keys per step.  Shared memory holds Q (128 x hd) and two K/V buffers,
 * all in wgmma's no-swizzle core-matrix layouts (nt_wgmma.cuh), filled by
 * cp.async with the next K/V tile in flight during the current one:
 *   Q, K  K-major: (row, dim) at (row/8)*hd*8 + (dim/8)*64 + (row%8)*8 + dim%8
 *   V     MN-major for the P V product (keys are its K dimension):
 *         (key, dim) at (dim/8)*BK*8 + (key/8)*64 + (key%8)*8 + dim%8
 * Per step and warpgroup: S = Q K^T by hd/16 m64nBKk16 products (A and B
 * from shared memory), the causal / packed mask and the online softmax in
 * registers exactly as the mma.sync kernel (log2 domain, output rescaled
 * only when a row maximum moved), then O += P V by BK/16 m64n{hd}k16
 * products with P from registers (bf16, the S accumulators' layout is the
 * A fragments' layout).  A warpgroup skips key tiles wholly after its rows.
 *
 * Selected by cuda_attention_set_impl(2) / NTRON_ATTN=wgmma (attention.cu). */
#include "attention.cuh"
#include "nt_wgmma.cuh"

template <int HD, int BK> struct WgFwdCfg {
    static constexpr int BQ = 128, NTH = 256;
    static constexpr size_t smem = ((size_t)BQ * HD + (size_t)4 * BK * HD) * sizeof(uint16_t);
};

/* rows [0, ROWS) of a row-major global tile (row stride `stride`) into the
 * K-major layout; rows >= valid zero-filled.  Chunk i of shared memory is
 * 16 bytes at 8*i elements, so consecutive threads fill consecutive chunks. */
template <int ROWS, int HD, int NTH>
__device__ __forceinline__ void wg_load_kmajor(uint16_t *dst, const uint16_t *src, long long stride, int valid)
{
    constexpr int CPR = HD / 8;
    for (int i = threadIdx.x; i < ROWS * CPR; i += NTH) {
        const int rest = i >> 3, c = rest % CPR, r = (rest / CPR) * 8 + (i & 7);
        uint16_t *dp = dst + (size_t)i * 8;
        if (r < valid)
            nt_cp_async16(dp, src + (size_t)r * stride + c * 8);
        else
            nt_st_zero16(dp);
    }
}
/* the same for V in the MN-major layout (keys = rows of the global tile) */
template <int BK, int HD, int NTH>
__device__ __forceinline__ void wg_load_mnmajor(uint16_t *dst, const uint16_t *src, long long stride, int valid)
{
    constexpr int KG = BK / 8;
    for (int i = threadIdx.x; i < BK * (HD / 8); i += NTH) {
        const int rest = i >> 3, k = (rest % KG) * 8 + (i & 7), c = rest / KG;
        uint16_t *dp = dst + (size_t)i * 8;
        if (k < valid)
            nt_cp_async16(dp, src + (size_t)k * stride + c * 8);
        else
            nt_st_zero16(dp);
    }
}

template <int HD, int BK>
__global__ void __launch_bounds__(256)
k_attn_fwd_wgmma(uint16_t *__restrict__ out, float *__restrict__ lse,
                 const uint16_t *__restrict__ qkv, AttnDims d)
{
#if NT_HAVE_WGMMA
    constexpr int BQ = 128, NTH = 256, NS = BK / 8, NO = HD / 8;
    constexpr uint32_t LBO = 128, SBO_K = HD * 16, SBO_V = BK * 16; /* bytes */
    NT_DYN_SMEM(smem);
    uint16_t *Qs = (uint16_t *)smem;
    uint16_t *KV = Qs + BQ * HD; /* [2][K: BK x HD | V: BK x HD] */
    const int qt = gridDim.x - 1 - blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const int T = d.T, q0 = qt * BQ;
    const AttnHead ah = attn_head(d, b, h, HD);
    const uint16_t *base = qkv + (size_t)b * T * d.W;
    const uint16_t *qg = base + ah.q, *kg = base + ah.k, *vg = base + ah.v;
    const int kend = nt_imin(q0 + BQ, T), ntiles = (kend + BK - 1) / BK;
    const int it0 = attn_block_lo(d, b, q0, BQ) / BK, kf = it0 * BK;

    wg_load_kmajor<BQ, HD, NTH>(Qs, qg + (size_t)q0 * d.W, d.W, T - q0);
    wg_load_kmajor<BK, HD, NTH>(KV, kg + (size_t)kf * d.W, d.W, T - kf);
    wg_load_mnmajor<BK, HD, NTH>(KV + BK * HD, vg + (size_t)kf * d.W, d.W, T - kf);
    nt_cp_async_commit();

    const int warp = threadIdx.x >> 5, wg = warp >> 2, lane = threadIdx.x & 31, tig = lane & 3;
    const int row0 = q0 + warp * 16 + (lane >> 2), row1 = row0 + 8;
    const int ks0 = row0 < T ? attn_kstart(d, b, row0) : 0, ks1 = row1 < T ? attn_kstart(d, b, row1) : 0;
    const int wg_last = q0 + wg * 64 + 63; /* the warpgroup's last row */
    const uint16_t *Qw = Qs + wg * 64 * HD;

    float o[NO * 4];
#pragma unroll
    for (int n = 0; n < NO * 4; n++)
        o[n] = 0.0f;
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.0f, l1 = 0.0f; /* m: log2 domain, scaled */
    const float sl2 = d.scale_log2;

    for (int it = it0; it < ntiles; it++) {
        nt_cp_async_wait_all();
        nt_fence_proxy_async(); /* this thread's copies and zero fills -> wgmma's proxy */
        __syncthreads();        /* tile `it` visible; the other buffer free */
        if (it + 1 < ntiles) {
            const int kn = (it + 1) * BK;
            uint16_t *nb = KV + ((it + 1 - it0) & 1) * 2 * BK * HD;
            wg_load_kmajor<BK, HD, NTH>(nb, kg + (size_t)kn * d.W, d.W, T - kn);
            wg_load_mnmajor<BK, HD, NTH>(nb + BK * HD, vg + (size_t)kn * d.W, d.W, T - kn);
            nt_cp_async_commit();
        }
        const int k0 = it * BK;
        if (k0 > wg_last)
            continue; /* every key of the tile is after the warpgroup's rows */
        const uint16_t *Kc = KV + ((it - it0) & 1) * 2 * BK * HD;
        const uint16_t *Vc = Kc + BK * HD;

        /* S = Q K^T (unscaled), 64 rows x BK keys per warpgroup */
        float s[NS * 4];
#pragma unroll
        for (int n = 0; n < NS * 4; n++)
            s[n] = 0.0f;
        nt_wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < HD / 16; kk++)
            NtWgmma<BK>::template ss<0>(s, nt_wgmma_desc(Qw + kk * 128, LBO, SBO_K),
                                        nt_wgmma_desc(Kc + kk * 128, LBO, SBO_K), 1);
        nt_wgmma_commit();
        nt_wgmma_wait0();

        /* causal mask (also hides keys >= T); packed: and the keys before the row's sample */
        if (k0 + BK - 1 > q0 + warp * 16 || d.pos) {
#pragma unroll
            for (int n = 0; n < NS; n++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const int col = k0 + n * 8 + 2 * tig + (e & 1);
                    if (col > (e < 2 ? row0 : row1) || col < (e < 2 ? ks0 : ks1))
                        s[4 * n + e] = -INFINITY;
                }
        }
        /* online softmax; a row's values per n-tile live in one quad */
        float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
        for (int n = 0; n < NS; n++) {
            mx0 = fmaxf(mx0, fmaxf(s[4 * n], s[4 * n + 1]));
            mx1 = fmaxf(mx1, fmaxf(s[4 * n + 2], s[4 * n + 3]));
        }
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
        const float mn0 = fmaxf(m0, mx0 * sl2), mn1 = fmaxf(m1, mx1 * sl2);
        const float mu0 = mn0 == -INFINITY ? 0.0f : mn0;
        const float mu1 = mn1 == -INFINITY ? 0.0f : mn1;
        const bool moved = mn0 != m0 || mn1 != m1;
        const float al0 = exp2f(m0 - mu0), al1 = exp2f(m1 - mu1);
        m0 = mn0;
        m1 = mn1;
        float rs0 = 0.0f, rs1 = 0.0f;
#pragma unroll
        for (int n = 0; n < NS; n++) {
            s[4 * n] = exp2f(fmaf(s[4 * n], sl2, -mu0));
            s[4 * n + 1] = exp2f(fmaf(s[4 * n + 1], sl2, -mu0));
            s[4 * n + 2] = exp2f(fmaf(s[4 * n + 2], sl2, -mu1));
            s[4 * n + 3] = exp2f(fmaf(s[4 * n + 3], sl2, -mu1));
            rs0 += s[4 * n] + s[4 * n + 1];
            rs1 += s[4 * n + 2] + s[4 * n + 3];
        }
        l0 = l0 * al0 + rs0; /* per-thread partial; quad-reduced at the end */
        l1 = l1 * al1 + rs1;
        if (__any_sync(0xffffffffu, moved)) {
#pragma unroll
            for (int n = 0; n < NO; n++) {
                o[4 * n] *= al0;
                o[4 * n + 1] *= al0;
                o[4 * n + 2] *= al1;
                o[4 * n + 3] *= al1;
            }
        }
        /* O += P V: P (bf16) from the S accumulators, 16 keys per product */
        uint32_t pa[BK / 16][4];
#pragma unroll
        for (int kk = 0; kk < BK / 16; kk++) {
            pa[kk][0] = nt_pack_bf16x2(s[8 * kk], s[8 * kk + 1]);
            pa[kk][1] = nt_pack_bf16x2(s[8 * kk + 2], s[8 * kk + 3]);
            pa[kk][2] = nt_pack_bf16x2(s[8 * kk + 4], s[8 * kk + 5]);
            pa[kk][3] = nt_pack_bf16x2(s[8 * kk + 6], s[8 * kk + 7]);
        }
        nt_wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < BK / 16; kk++)
            NtWgmma<HD>::template rs<1>(o, pa[kk], nt_wgmma_desc(Vc + kk * 128, LBO, SBO_V), 1);
        nt_wgmma_commit();
        nt_wgmma_wait0();
    }

    l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
    l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
    const float inv0 = 1.0f / l0, inv1 = 1.0f / l1;
    if (row0 < T) {
        uint16_t *orow = out + ((size_t)b * T + row0) * d.Wo + (size_t)h * HD + 2 * tig;
#pragma unroll
        for (int n = 0; n < NO; n++)
            nt_st32(orow + n * 8, nt_pack_bf16x2(o[4 * n] * inv0, o[4 * n + 1] * inv0));
        if (tig == 0)
            lse[((size_t)b * d.H + h) * T + row0] = (m0 + log2f(l0)) * NT_LN2;
    }
    if (row1 < T) {
        uint16_t *orow = out + ((size_t)b * T + row1) * d.Wo + (size_t)h * HD + 2 * tig;
#pragma unroll
        for (int n = 0; n < NO; n++)
            nt_st32(orow + n * 8, nt_pack_bf16x2(o[4 * n + 2] * inv1, o[4 * n + 3] * inv1));
        if (tig == 0)
            lse[((size_t)b * d.H + h) * T + row1] = (m1 + log2f(l1)) * NT_LN2;
    }
#else
    (void)out;
    (void)lse;
    (void)qkv;
    (void)d;
#endif
}

/* ---- backward dK/dV: 64 keys per block, 64 queries per step, 2 warpgroups ----
 * All tiles in the K-major layout of wg_load_kmajor: (row, x) at
 * (row/8)*width*8 + (x/8)*64 + (row%8)*8 + x%8, rows = keys or queries.  A
 * [queries][hd] tile read as wgmma's B operand is K-major for S^T = K Q^T
 * (n = query, k = dim) and, with LBO and SBO exchanged, MN-major for dK +=
 * dS^T Q (k = query, n = dim): the same core matrices either way.
 * Per step:
 *   1. warpgroup w: S^T and dP^T (64 keys x its 32 queries) by m64n32k16
 *      products, K / V (A) and Q / dO (B) from shared memory;
 *   2. P^T = exp(S^T scale - lse), dS^T = P^T (dP^T - D) (fp32), both as
 *      bf16 into shared memory, dS^T also into the workspace tile for the dQ
 *      pass (k_attn_dq_gemm in attention.cu);
 *   3. warpgroup w: dV += P^T dO and dK += dS^T Q for all 64 keys and its
 *      half of hd (m64n{hd/2}k16, A = P^T / dS^T, B = dO / Q N-major).
 * The per-head fp32 partials go to the workspace as k_attn_dkdv_mma writes
 * them, so the dQ pass and k_attn_reduce_dkdv are shared. */
template <int HD> struct WgDkdvCfg {
    static constexpr int BKV = 64, BQ = 64;
    static constexpr size_t smem = ((size_t)2 * BKV * HD + (size_t)4 * BQ * HD + (size_t)2 * BKV * BQ) * sizeof(uint16_t) +
                                   (size_t)4 * BQ * sizeof(float);
};

template <int HD>
__global__ void __launch_bounds__(256)
k_attn_dkdv_wgmma(float *__restrict__ wdk, float *__restrict__ wdv, uint16_t *__restrict__ dsT,
                  const uint16_t *__restrict__ qkv, const uint16_t *__restrict__ dout,
                  const float *__restrict__ lse, const float *__restrict__ Dbuf, AttnDims d)
{
#if NT_HAVE_WGMMA
    constexpr int BKV = 64, BQ = 64, NTH = 256, HH = HD / 2;
    constexpr uint32_t RS = HD * 16, PRS = BQ * 16; /* bytes between 8-row groups */
    NT_DYN_SMEM(smem);
    uint16_t *Ks = (uint16_t *)smem;
    uint16_t *Vs = Ks + BKV * HD;
    uint16_t *Qs = Vs + BKV * HD;     /* [2][BQ][HD] */
    uint16_t *dOs = Qs + 2 * BQ * HD; /* [2][BQ][HD] */
    uint16_t *Pt = dOs + 2 * BQ * HD; /* [BKV][BQ] */
    uint16_t *dSt = Pt + BKV * BQ;    /* [BKV][BQ] */
    float *ls = (float *)(dSt + BKV * BQ); /* [2][BQ] */
    float *Ds = ls + 2 * BQ;               /* [2][BQ] */

    const int kt = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const int T = d.T, k0 = kt * BKV;
    const AttnHead ah = attn_head(d, b, h, HD);
    const uint16_t *base = qkv + (size_t)b * T * d.W;
    const uint16_t *qg = base + ah.q, *kg = base + ah.k, *vg = base + ah.v;
    const uint16_t *og = dout + (size_t)b * T * d.Wo + (size_t)h * HD;
    const float *lrow = lse + ah.stat, *Drow = Dbuf + ah.stat;
    uint16_t *dsh = dsT + ((size_t)b * d.H + h) * (size_t)dst_tiles(T) * 4096;
    const int qbeg = k0 / BQ, nqt = (T + BQ - 1) / BQ;

    wg_load_kmajor<BKV, HD, NTH>(Ks, kg + (size_t)k0 * d.W, d.W, T - k0);
    wg_load_kmajor<BKV, HD, NTH>(Vs, vg + (size_t)k0 * d.W, d.W, T - k0);
    {
        const int qa = qbeg * BQ;
        wg_load_kmajor<BQ, HD, NTH>(Qs, qg + (size_t)qa * d.W, d.W, T - qa);
        wg_load_kmajor<BQ, HD, NTH>(dOs, og + (size_t)qa * d.Wo, d.Wo, T - qa);
        attn_load_vec<BQ, NTH>(ls, lrow + qa, T - qa);
        attn_load_vec<BQ, NTH>(Ds, Drow + qa, T - qa);
    }
    nt_cp_async_commit();

    const int wg = threadIdx.x >> 7, wl = (threadIdx.x >> 5) & 3, lane = threadIdx.x & 31;
    const int gq = lane >> 2, tig = lane & 3;
    float dk[HH / 2], dv[HH / 2]; /* m64 x HH accumulators: keys x this warpgroup's dims */
#pragma unroll
    for (int n = 0; n < HH / 2; n++)
        dk[n] = dv[n] = 0.0f;

    for (int it = qbeg; it < nqt; it++) {
        const int buf = (it - qbeg) & 1;
        nt_cp_async_wait_all();
        nt_fence_proxy_async();
        __syncthreads(); /* tile `it` visible; Pt/dSt and buffer buf^1 free */
        if (it + 1 < nqt) {
            const int qn = (it + 1) * BQ, nb = buf ^ 1;
            wg_load_kmajor<BQ, HD, NTH>(Qs + nb * BQ * HD, qg + (size_t)qn * d.W, d.W, T - qn);
            wg_load_kmajor<BQ, HD, NTH>(dOs + nb * BQ * HD, og + (size_t)qn * d.Wo, d.Wo, T - qn);
            attn_load_vec<BQ, NTH>(ls + nb * BQ, lrow + qn, T - qn);
            attn_load_vec<BQ, NTH>(Ds + nb * BQ, Drow + qn, T - qn);
            nt_cp_async_commit();
        }
        const uint16_t *Qc = Qs + buf * BQ * HD, *dOc = dOs + buf * BQ * HD;
        const float *lc = ls + buf * BQ, *Dc = Ds + buf * BQ;
        const int q0 = it * BQ;

        /* 1. S^T = K Q^T and dP^T = V dO^T: 64 keys x queries wg*32.. */
        float st[16], dpt[16];
#pragma unroll
        for (int n = 0; n < 16; n++)
            st[n] = dpt[n] = 0.0f;
        nt_wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < HD / 16; kk++) {
            NtWgmma<32>::template ss<0>(st, nt_wgmma_desc(Ks + kk * 128, 128, RS),
                                        nt_wgmma_desc(Qc + wg * 4 * HD * 8 + kk * 128, 128, RS), 1);
            NtWgmma<32>::template ss<0>(dpt, nt_wgmma_desc(Vs + kk * 128, 128, RS),
                                        nt_wgmma_desc(dOc + wg * 4 * HD * 8 + kk * 128, 128, RS), 1);
        }
        nt_wgmma_commit();
        nt_wgmma_wait0();

        /* 2. P^T, dS^T (fp32 here, bf16 into shared memory and the workspace) */
        uint16_t *tile = dsh + ((size_t)(q0 / 64) * (q0 / 64 + 1) / 2 + kt) * 4096;
#pragma unroll
        for (int n = 0; n < 4; n++) {
            float p[4], ds[4];
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int kl = 16 * wl + gq + (e >= 2 ? 8 : 0);
                const int ql = wg * 32 + n * 8 + 2 * tig + (e & 1);
                p[e] = 0.0f;
                ds[e] = 0.0f;
                if (attn_sees(d, b, q0 + ql, k0 + kl)) {
                    p[e] = exp2f(st[4 * n + e] * d.scale_log2 - lc[ql] * NT_LOG2E);
                    ds[e] = p[e] * (dpt[4 * n + e] - Dc[ql]);
                }
            }
            const int kl = 16 * wl + gq, ql = wg * 32 + n * 8 + 2 * tig;
            const int o0 = (kl >> 3) * BQ * 8 + (ql >> 3) * 64 + (kl & 7) * 8 + (ql & 7);
            const int o1 = o0 + BQ * 8; /* key kl + 8 */
            nt_st32(Pt + o0, nt_pack_bf16x2(p[0], p[1]));
            nt_st32(Pt + o1, nt_pack_bf16x2(p[2], p[3]));
            nt_st32(dSt + o0, nt_pack_bf16x2(ds[0], ds[1]));
            nt_st32(dSt + o1, nt_pack_bf16x2(ds[2], ds[3]));
            nt_st32(tile + kl * 64 + ql, nt_pack_bf16x2(ds[0], ds[1]));
            nt_st32(tile + (kl + 8) * 64 + ql, nt_pack_bf16x2(ds[2], ds[3]));
        }
        nt_fence_proxy_async();
        __syncthreads(); /* Pt, dSt complete */

        /* 3. dV += P^T dO, dK += dS^T Q: all 64 keys x dims wg*HH.. */
        nt_wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < BQ / 16; kk++) {
            const int boff = wg * (HH / 8) * 64 + kk * 2 * HD * 8;
            NtWgmma<HH>::template ss<1>(dv, nt_wgmma_desc(Pt + kk * 128, 128, PRS),
                                        nt_wgmma_desc(dOc + boff, RS, 128), 1);
            NtWgmma<HH>::template ss<1>(dk, nt_wgmma_desc(dSt + kk * 128, 128, PRS),
                                        nt_wgmma_desc(Qc + boff, RS, 128), 1);
        }
        nt_wgmma_commit();
        nt_wgmma_wait0();
    }

    const int kr0 = k0 + 16 * wl + gq, kr1 = kr0 + 8;
    const size_t hrow = ((size_t)b * d.H + h) * T;
#pragma unroll
    for (int n = 0; n < HH / 8; n++) {
        const int dc = wg * HH + n * 8 + 2 * tig;
        if (kr0 < T) {
            nt_st_f2(wdk + (hrow + kr0) * HD + dc, dk[4 * n] * d.scale, dk[4 * n + 1] * d.scale);
            nt_st_f2(wdv + (hrow + kr0) * HD + dc, dv[4 * n], dv[4 * n + 1]);
        }
        if (kr1 < T) {
            nt_st_f2(wdk + (hrow + kr1) * HD + dc, dk[4 * n + 2] * d.scale, dk[4 * n + 3] * d.scale);
            nt_st_f2(wdv + (hrow + kr1) * HD + dc, dv[4 * n + 2], dv[4 * n + 3]);
        }
    }
#else
    (void)wdk; (void)wdv; (void)dsT; (void)qkv; (void)dout; (void)lse; (void)Dbuf; (void)d;
#endif
}

/* ---- backward dQ = scale dS K over the workspace's dS^T tiles ----
 * 64 query rows per block, 64 keys per step, 2 warpgroups each owning half
 * of hd.  A dS^T tile [key][query] copied as it is into the K-major layout
 * (rows = keys) is dS in the M-major layout (m = query, k = key: LBO = 8
 * keys, SBO = 8 queries); the K tile [key][hd] is B N-major (k = key). */
template <int HD> struct WgDqCfg {
    static constexpr size_t smem = (size_t)2 * 64 * (HD + 64) * sizeof(uint16_t);
};

template <int HD>
__global__ void __launch_bounds__(256)
k_attn_dq_wgmma(uint16_t *__restrict__ dqkv, const uint16_t *__restrict__ qkv,
                const uint16_t *__restrict__ dsT, AttnDims d)
{
#if NT_HAVE_WGMMA
    constexpr int BQ = 64, BKV = 64, NTH = 256, HH = HD / 2;
    constexpr uint32_t RS = HD * 16, TRS = 64 * 16; /* bytes between 8-row groups */
    NT_DYN_SMEM(smem);
    uint16_t *Ks = (uint16_t *)smem;    /* [2][BKV][HD] */
    uint16_t *Ts = Ks + 2 * BKV * HD;   /* [2][BKV][64]: dS^T, rows = keys */

    const int qt = gridDim.x - 1 - blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const int T = d.T, q0 = qt * BQ;
    const AttnHead ah = attn_head(d, b, h, HD);
    const uint16_t *base = qkv + (size_t)b * T * d.W;
    const size_t qoff = ah.q;
    const uint16_t *kg = base + ah.k;
    const uint16_t *tiles = dsT + (((size_t)b * d.H + h) * (size_t)dst_tiles(T) + (size_t)qt * (qt + 1) / 2) * 4096;
    const int ntiles = qt + 1; /* key blocks it0..qt (before it0: all dS zero) */
    const int it0 = attn_block_lo(d, b, q0, BQ) / BKV;

    wg_load_kmajor<BKV, HD, NTH>(Ks, kg + (size_t)it0 * BKV * d.W, d.W, T - it0 * BKV);
    wg_load_kmajor<BKV, 64, NTH>(Ts, tiles + (size_t)it0 * 4096, 64, BKV);
    nt_cp_async_commit();

    const int wg = threadIdx.x >> 7, wl = (threadIdx.x >> 5) & 3, lane = threadIdx.x & 31;
    const int gq = lane >> 2, tig = lane & 3;
    float dq[HH / 2];
#pragma unroll
    for (int n = 0; n < HH / 2; n++)
        dq[n] = 0.0f;

    for (int it = it0; it < ntiles; it++) {
        nt_cp_async_wait_all();
        nt_fence_proxy_async();
        __syncthreads(); /* tile `it` visible; the other buffer free */
        if (it + 1 < ntiles) {
            const int kn = (it + 1) * BKV, nb = (it + 1 - it0) & 1;
            wg_load_kmajor<BKV, HD, NTH>(Ks + nb * BKV * HD, kg + (size_t)kn * d.W, d.W, T - kn);
            wg_load_kmajor<BKV, 64, NTH>(Ts + nb * BKV * 64, tiles + (size_t)(it + 1) * 4096, 64, BKV);
            nt_cp_async_commit();
        }
        const uint16_t *Kc = Ks + ((it - it0) & 1) * BKV * HD, *Tc = Ts + ((it - it0) & 1) * BKV * 64;
        nt_wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < BKV / 16; kk++)
            NtWgmma<HH>::template ss<1, 1>(dq, nt_wgmma_desc(Tc + kk * 2 * 64 * 8, TRS, 128),
                                           nt_wgmma_desc(Kc + wg * (HH / 8) * 64 + kk * 2 * HD * 8, RS, 128), 1);
        nt_wgmma_commit();
        nt_wgmma_wait0();
    }

    const int qr0 = q0 + 16 * wl + gq, qr1 = qr0 + 8;
#pragma unroll
    for (int n = 0; n < HH / 8; n++) {
        const int dc = wg * HH + n * 8 + 2 * tig;
        if (qr0 < T)
            nt_st32(dqkv + ((size_t)b * T + qr0) * d.W + qoff + dc,
                    nt_pack_bf16x2(dq[4 * n] * d.scale, dq[4 * n + 1] * d.scale));
        if (qr1 < T)
            nt_st32(dqkv + ((size_t)b * T + qr1) * d.W + qoff + dc,
                    nt_pack_bf16x2(dq[4 * n + 2] * d.scale, dq[4 * n + 3] * d.scale));
    }
#else
    (void)dqkv; (void)qkv; (void)dsT; (void)d;
#endif
}

/* writes 1 when the code running is the sm_90a build (wgmma available) */
__global__ void k_attn_wgmma_probe(int *flag) { *flag = NT_HAVE_WGMMA; }

static int g_wgmma_avail = -1;

int attn_wgmma_available(void)
{
    if (g_wgmma_avail < 0) {
        int *dflag = NULL, flag = 0;
        NT_CHECK_CUDA(cudaMalloc(&dflag, sizeof(int)));
        NT_LAUNCH(k_attn_wgmma_probe, 1, 1, 0, NULL, dflag);
        NT_CHECK_CUDA(cudaMemcpy(&flag, dflag, sizeof(int), cudaMemcpyDeviceToHost));
        NT_CHECK_CUDA(cudaFree(dflag));
        g_wgmma_avail = flag == 1;
    }
    return g_wgmma_avail;
}

template <int HD, int BK>
static void launch_fwd_wgmma(nt_bf16 *out, float *lse, const nt_bf16 *qkv, const AttnDims &d, nt_stream stream)
{
    auto k = k_attn_fwd_wgmma<HD, BK>;
    const size_t smem = WgFwdCfg<HD, BK>::smem;
    NT_SET_SMEM(k, smem);
    const dim3 grid((d.T + 127) / 128, d.H, d.B);
    NT_LAUNCH(k, grid, 256, smem, stream, out, lse, qkv, d);
}

bool attn_fwd_wgmma(nt_bf16 *out, float *lse, const nt_bf16 *qkv, const AttnDims &d, nt_stream stream)
{
    if (((uintptr_t)out & 15u) || ((uintptr_t)qkv & 15u))
        return false;
    switch (d.hd) {
    case 64: launch_fwd_wgmma<64, 128>(out, lse, qkv, d, stream); return true;
    case 128: launch_fwd_wgmma<128, 128>(out, lse, qkv, d, stream); return true;
    case 192: launch_fwd_wgmma<192, 64>(out, lse, qkv, d, stream); return true;
    default: return false;
    }
}

template <int HD>
static void launch_dkdv_wgmma(float *wdk, float *wdv, uint16_t *dsT, const nt_bf16 *qkv, const nt_bf16 *dout,
                              const float *lse, const float *Dbuf, const AttnDims &d, nt_stream stream)
{
    auto k = k_attn_dkdv_wgmma<HD>;
    const size_t smem = WgDkdvCfg<HD>::smem;
    NT_SET_SMEM(k, smem);
    NT_LAUNCH(k, dim3((d.T + 63) / 64, d.H, d.B), 256, smem, stream, wdk, wdv, dsT, qkv, dout, lse, Dbuf, d);
}

bool attn_dkdv_wgmma(float *wdk, float *wdv, uint16_t *dsT, const nt_bf16 *qkv, const nt_bf16 *dout,
                     const float *lse, const float *Dbuf, const AttnDims &d, nt_stream stream)
{
    if (((uintptr_t)qkv & 15u) || ((uintptr_t)dout & 15u))
        return false;
    switch (d.hd) {
    case 64: launch_dkdv_wgmma<64>(wdk, wdv, dsT, qkv, dout, lse, Dbuf, d, stream); return true;
    case 128: launch_dkdv_wgmma<128>(wdk, wdv, dsT, qkv, dout, lse, Dbuf, d, stream); return true;
    case 192: launch_dkdv_wgmma<192>(wdk, wdv, dsT, qkv, dout, lse, Dbuf, d, stream); return true;
    default: return false;
    }
}

template <int HD>
static void launch_dq_wgmma(nt_bf16 *dqkv, const nt_bf16 *qkv, const uint16_t *dsT, const AttnDims &d,
                            nt_stream stream)
{
    auto k = k_attn_dq_wgmma<HD>;
    const size_t smem = WgDqCfg<HD>::smem;
    NT_SET_SMEM(k, smem);
    NT_LAUNCH(k, dim3((d.T + 63) / 64, d.H, d.B), 256, smem, stream, dqkv, qkv, dsT, d);
}

bool attn_dq_wgmma(nt_bf16 *dqkv, const nt_bf16 *qkv, const uint16_t *dsT, const AttnDims &d, nt_stream stream)
{
    if (((uintptr_t)dqkv & 15u) || ((uintptr_t)qkv & 15u))
        return false;
    switch (d.hd) {
    case 64: launch_dq_wgmma<64>(dqkv, qkv, dsT, d, stream); return true;
    case 128: launch_dq_wgmma<128>(dqkv, qkv, dsT, d, stream); return true;
    case 192: launch_dq_wgmma<192>(dqkv, qkv, dsT, d, stream); return true;
    default: return false;
    }
}
