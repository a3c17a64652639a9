/* attention_wgmma.cu — the fused causal GQA attention forward on Hopper's
 * warpgroup MMA (wgmma.mma_async, sm_90a): the same semantics, layouts,
 * outputs (out, lse) and masking as the mma.sync forward of attention.cu,
 * for head dims 64, 128 and 192.
 *
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
 * Selected by cuda_attention_set_impl(2) / NTRON_ATTN=wgmma (attention.cu);
 * the backward stays on the mma.sync kernels. */
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
    const int g = h / d.qpg, j = h - g * d.qpg, T = d.T;
    const int q0 = qt * BQ;
    const uint16_t *base = qkv + (size_t)b * T * d.W;
    const uint16_t *qg = base + ((size_t)g * (d.qpg + 2) + j) * HD;
    const uint16_t *kg = base + ((size_t)g * (d.qpg + 2) + d.qpg) * HD;
    const uint16_t *vg = kg + HD;
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
