/* attention.cu — fused causal GQA attention, forward and backward, on fused
 * QKV in bf16, flash-style: tiled over queries and keys, online softmax,
 * fp32 accumulation, no T x T matrix in memory.  Semantics, layouts and
 * scale exactly as kernels/cpu/attention.c:
 *   qkv [B, T, G*(qpg+2)*hd], per token and KV group g: [qpg q heads | k | v];
 *   query head h = g*qpg + j reads group g;  out [B, T, G*qpg*hd];
 *   lse [B, G*qpg, T] = log sum exp of the scaled scores (natural log);
 *   scale = 1/sqrt(hd); backward recomputes P = exp(S - lse) and forms
 *   D = rowsum(dO*O), dS = P*(dP - D), dQ = scale dS K, dK = scale dS^T Q,
 *   dV = P^T dO; dqkv is overwritten (q, k and v parts).
 *
 * Two implementations, same results within rounding:
 *  - generic (any hd <= 256): fp32 CUDA-core kernels; tiles of 16 queries x
 *    32 keys converted to fp32 in shared memory.
 *  - mma (hd 64, 128, 192; 16-byte aligned pointers): bf16 tensor cores via
 *    mma.sync.m16n8k16 (fp32 accumulators), operands by ldmatrix (.trans
 *    where a transpose is needed), cp.async double buffering.  P and dS are
 *    rounded to bf16 before their products (as FlashAttention does); softmax
 *    statistics, rowsums and all accumulators stay fp32.
 *
 * Backward, deterministic, no atomics:
 *   1. k_attn_D             D[b,h,t] = sum_d dO*O                (fp32, workspace)
 *   2. dK/dV per query head  one block per (key tile, head, batch) walks the
 *                            query tiles at or after its keys and writes that
 *                            head's fp32 partial dK, dV to the workspace (mma:
 *                            and its bf16 dS^T tiles)
 *   3. dQ                    one block per (query tile, head, batch) walks
 *                            the key tiles up to the diagonal: mma reads the
 *                            dS^T tiles (dQ = scale dS K); generic recomputes
 *                            S and dP
 *   4. k_attn_reduce_dkdv    dK, dV of a KV group = sum over its qpg heads in
 *                            head order -> bf16 into dqkv
 * Work is ordered heaviest-first (long causal rows first) for load balance.
 *
 * Packed rows (pos != NULL, device [B*T] positions inside contiguous
 * samples): query q sees keys [q - pos[b,q], q] only.  Every score mask
 * also hides the keys before the query's sample start; the forward and the
 * dQ passes start their key loop at the tile holding the earliest start of
 * their query block (skipped tiles would only add exact zeros); the dK/dV
 * pass walks the same query tiles as unpacked (masked entries are zero, and
 * the dS^T workspace tiles stay complete for the dQ pass). */
#include "attention.cuh"

/* D[b,h,t] = sum_x dout*out over the head's hd values; one warp per (b,t,h). */
__global__ void __launch_bounds__(256)
k_attn_D(float *__restrict__ Dbuf, const uint16_t *__restrict__ dout,
         const uint16_t *__restrict__ out, AttnDims d)
{
    const long long row = (long long)blockIdx.x * 8 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= (long long)d.B * d.T * d.H)
        return; /* whole warp */
    const int h = (int)(row % d.H);
    const long long bt = row / d.H;
    const int t = (int)(bt % d.T), b = (int)(bt / d.T);
    const uint16_t *o = out + (size_t)bt * d.Wo + (size_t)h * d.hd;
    const uint16_t *g = dout + (size_t)bt * d.Wo + (size_t)h * d.hd;
    float s = 0.0f;
    for (int x = lane; x < d.hd; x += 32)
        s += nt_bf2f(o[x]) * nt_bf2f(g[x]);
    s = nt_warp_reduce(s, NtSum());
    if (lane == 0)
        Dbuf[((size_t)b * d.H + h) * d.T + t] = s;
}

/* dK, dV of group g = sum over its qpg query heads of the per-head partials
 * wdk/wdv [B, H, T, hd] (fp32, dK partials already scaled). */
__global__ void k_attn_reduce_dkdv(uint16_t *__restrict__ dqkv, const float *__restrict__ wdk,
                                   const float *__restrict__ wdv, AttnDims d)
{
    const size_t total = (size_t)d.B * d.T * d.G * d.hd;
    for (size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        const int x = (int)(idx % d.hd);
        const size_t r = idx / d.hd;
        const int g = (int)(r % d.G);
        const size_t bt = r / d.G;
        const int t = (int)(bt % d.T), b = (int)(bt / d.T);
        float sk = 0.0f, sv = 0.0f;
        for (int j = 0; j < d.qpg; j++) {
            const size_t o = (((size_t)b * d.H + g * d.qpg + j) * d.T + t) * d.hd + x;
            sk += wdk[o];
            sv += wdv[o];
        }
        uint16_t *dst = dqkv + bt * d.W + ((size_t)g * (d.qpg + 2) + d.qpg) * d.hd + x;
        dst[0] = nt_f2bf(sk);
        dst[d.hd] = nt_f2bf(sv);
    }
}

/* ========================================================================== */
/* Generic path: any hd <= 256, fp32 math in shared memory                     */
/* ========================================================================== */

#define GBQ 16  /* query rows per tile */
#define GBK 32  /* keys per tile (== warp size: one lane per key in the softmax) */
#define GTHREADS 128

static size_t gen_fwd_smem(int hd)
{
    const size_t hp = (size_t)hd + 1;
    return (2 * GBQ * hp + 2 * GBK * hp + (size_t)GBQ * (GBK + 1) + 3 * GBQ) * sizeof(float);
}
static size_t gen_dkdv_smem(int hd)
{
    const size_t hp = (size_t)hd + 1;
    return (4 * GBK * hp + 2 * GBQ * hp + 2 * (size_t)GBQ * (GBK + 1) + 2 * GBQ) * sizeof(float);
}
static size_t gen_dq_smem(int hd)
{
    const size_t hp = (size_t)hd + 1;
    return (3 * GBQ * hp + 2 * GBK * hp + (size_t)GBQ * (GBK + 1) + 2 * GBQ) * sizeof(float);
}

/* rows [r0, r0+nrows) of one head (column offset col) of qkv-like rows of
 * width W -> fp32 smem [nrows][hp], zero rows at or beyond T */
__device__ __forceinline__ void gen_load_rows(float *dst, int hp, const uint16_t *base, long long W,
                                              size_t col, int r0, int nrows, int T, int hd)
{
    for (int e = threadIdx.x; e < nrows * hd; e += blockDim.x) {
        const int r = e / hd, c = e - r * hd, t = r0 + r;
        dst[r * hp + c] = t < T ? nt_bf2f(base[(size_t)t * W + col + c]) : 0.0f;
    }
}

__global__ void __launch_bounds__(GTHREADS)
k_attn_fwd_generic(uint16_t *__restrict__ out, float *__restrict__ lse,
                   const uint16_t *__restrict__ qkv, AttnDims d)
{
    NT_DYN_SMEM(smem);
    const int hd = d.hd, hp = hd + 1, T = d.T;
    float *Qs = (float *)smem;
    float *Os = Qs + GBQ * hp;
    float *Ks = Os + GBQ * hp;
    float *Vs = Ks + GBK * hp;
    float *Ss = Vs + GBK * hp;
    float *mrow = Ss + GBQ * (GBK + 1);
    float *lrow = mrow + GBQ;
    float *arow = lrow + GBQ;
    const int qt = gridDim.x - 1 - blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const int q0 = qt * GBQ;
    const int tid = threadIdx.x, nth = blockDim.x, lane = tid & 31, warp = tid >> 5;
    const uint16_t *base = qkv + (size_t)b * T * d.W;
    const AttnHead ah = attn_head(d, b, h, hd);
    const size_t qoff = ah.q, koff = ah.k, voff = ah.v;

    gen_load_rows(Qs, hp, base, d.W, qoff, q0, GBQ, T, hd);
    for (int e = tid; e < GBQ * hp; e += nth)
        Os[e] = 0.0f;
    if (tid < GBQ) {
        mrow[tid] = -INFINITY;
        lrow[tid] = 0.0f;
        arow[tid] = 0.0f;
    }
    const int kend = nt_imin(q0 + GBQ, T);
    for (int k0 = attn_block_lo(d, b, q0, GBQ) / GBK * GBK; k0 < kend; k0 += GBK) {
        __syncthreads(); /* previous tile fully consumed */
        gen_load_rows(Ks, hp, base, d.W, koff, k0, GBK, T, hd);
        gen_load_rows(Vs, hp, base, d.W, voff, k0, GBK, T, hd);
        __syncthreads();
        for (int e = tid; e < GBQ * GBK; e += nth) {
            const int r = e / GBK, c = e - r * GBK, q = q0 + r, k = k0 + c;
            float s = -INFINITY;
            if (attn_sees(d, b, q, k)) {
                float acc = 0.0f;
                for (int x = 0; x < hd; x++)
                    acc += Qs[r * hp + x] * Ks[c * hp + x];
                s = acc * d.scale;
            }
            Ss[r * (GBK + 1) + c] = s;
        }
        __syncthreads();
        for (int r = warp; r < GBQ; r += nth / 32) {
            const float s = Ss[r * (GBK + 1) + lane];
            const float mx = nt_warp_reduce(s, NtMax());
            const float mold = mrow[r];
            const float mnew = fmaxf(mold, mx);
            const float p = mnew == -INFINITY ? 0.0f : expf(s - mnew);
            Ss[r * (GBK + 1) + lane] = p;
            const float ps = nt_warp_reduce(p, NtSum());
            if (lane == 0) {
                const float a = mold == -INFINITY ? 0.0f : expf(mold - mnew);
                arow[r] = a;
                lrow[r] = lrow[r] * a + ps;
                mrow[r] = mnew;
            }
        }
        __syncthreads();
        for (int e = tid; e < GBQ * hd; e += nth) {
            const int r = e / hd, c = e - r * hd;
            float acc = Os[r * hp + c] * arow[r];
            for (int x = 0; x < GBK; x++)
                acc += Ss[r * (GBK + 1) + x] * Vs[x * hp + c];
            Os[r * hp + c] = acc;
        }
    }
    __syncthreads();
    for (int e = tid; e < GBQ * hd; e += nth) {
        const int r = e / hd, c = e - r * hd, q = q0 + r;
        if (q < T)
            out[((size_t)b * T + q) * d.Wo + (size_t)h * hd + c] = nt_f2bf(Os[r * hp + c] / lrow[r]);
    }
    if (tid < GBQ && q0 + tid < T)
        lse[((size_t)b * d.H + h) * T + q0 + tid] = mrow[tid] + logf(lrow[tid]);
}

/* per-head partial dK (scaled) and dV for keys [k0, k0+GBK) */
__global__ void __launch_bounds__(GTHREADS)
k_attn_dkdv_generic(float *__restrict__ wdk, float *__restrict__ wdv,
                    const uint16_t *__restrict__ qkv, const uint16_t *__restrict__ dout,
                    const float *__restrict__ lse, const float *__restrict__ Dbuf, AttnDims d)
{
    NT_DYN_SMEM(smem);
    const int hd = d.hd, hp = hd + 1, T = d.T;
    float *Ks = (float *)smem;
    float *Vs = Ks + GBK * hp;
    float *dKs = Vs + GBK * hp;
    float *dVs = dKs + GBK * hp;
    float *Qs = dVs + GBK * hp;
    float *dOs = Qs + GBQ * hp;
    float *Ps = dOs + GBQ * hp;
    float *dSs = Ps + GBQ * (GBK + 1);
    float *ls = dSs + GBQ * (GBK + 1);
    float *Ds = ls + GBQ;
    const int kt = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const int k0 = kt * GBK;
    const int tid = threadIdx.x, nth = blockDim.x;
    const uint16_t *base = qkv + (size_t)b * T * d.W;
    const uint16_t *obase = dout + (size_t)b * T * d.Wo;
    const AttnHead ah = attn_head(d, b, h, hd);
    const size_t qoff = ah.q, koff = ah.k, voff = ah.v;
    const float *lrow = lse + ah.stat, *Drow = Dbuf + ah.stat;

    gen_load_rows(Ks, hp, base, d.W, koff, k0, GBK, T, hd);
    gen_load_rows(Vs, hp, base, d.W, voff, k0, GBK, T, hd);
    for (int e = tid; e < GBK * hp; e += nth) {
        dKs[e] = 0.0f;
        dVs[e] = 0.0f;
    }
    for (int q0 = (k0 / GBQ) * GBQ; q0 < T; q0 += GBQ) {
        __syncthreads();
        gen_load_rows(Qs, hp, base, d.W, qoff, q0, GBQ, T, hd);
        gen_load_rows(dOs, hp, obase, d.Wo, (size_t)h * hd, q0, GBQ, T, hd);
        if (tid < GBQ) {
            const int q = q0 + tid;
            ls[tid] = q < T ? lrow[q] : 0.0f;
            Ds[tid] = q < T ? Drow[q] : 0.0f;
        }
        __syncthreads();
        for (int e = tid; e < GBQ * GBK; e += nth) {
            const int r = e / GBK, c = e - r * GBK, q = q0 + r, k = k0 + c;
            float p = 0.0f, ds = 0.0f;
            if (attn_sees(d, b, q, k)) {
                float s = 0.0f, dp = 0.0f;
                for (int x = 0; x < hd; x++) {
                    s += Qs[r * hp + x] * Ks[c * hp + x];
                    dp += dOs[r * hp + x] * Vs[c * hp + x];
                }
                p = expf(s * d.scale - ls[r]);
                ds = p * (dp - Ds[r]);
            }
            Ps[r * (GBK + 1) + c] = p;
            dSs[r * (GBK + 1) + c] = ds;
        }
        __syncthreads();
        for (int e = tid; e < GBK * hd; e += nth) {
            const int c = e / hd, x = e - c * hd;
            float dv = 0.0f, dk = 0.0f;
            for (int r = 0; r < GBQ; r++) {
                dv += Ps[r * (GBK + 1) + c] * dOs[r * hp + x];
                dk += dSs[r * (GBK + 1) + c] * Qs[r * hp + x];
            }
            dVs[c * hp + x] += dv;
            dKs[c * hp + x] += dk;
        }
    }
    __syncthreads();
    for (int e = tid; e < GBK * hd; e += nth) {
        const int c = e / hd, x = e - c * hd, k = k0 + c;
        if (k < T) {
            const size_t o = (((size_t)b * d.H + h) * T + k) * hd + x;
            wdk[o] = dKs[c * hp + x] * d.scale;
            wdv[o] = dVs[c * hp + x];
        }
    }
}

__global__ void __launch_bounds__(GTHREADS)
k_attn_dq_generic(uint16_t *__restrict__ dqkv, const uint16_t *__restrict__ qkv,
                  const uint16_t *__restrict__ dout, const float *__restrict__ lse,
                  const float *__restrict__ Dbuf, AttnDims d)
{
    NT_DYN_SMEM(smem);
    const int hd = d.hd, hp = hd + 1, T = d.T;
    float *Qs = (float *)smem;
    float *dOs = Qs + GBQ * hp;
    float *dQs = dOs + GBQ * hp;
    float *Ks = dQs + GBQ * hp;
    float *Vs = Ks + GBK * hp;
    float *dSs = Vs + GBK * hp;
    float *ls = dSs + GBQ * (GBK + 1);
    float *Ds = ls + GBQ;
    const int qt = gridDim.x - 1 - blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const int q0 = qt * GBQ;
    const int tid = threadIdx.x, nth = blockDim.x;
    const uint16_t *base = qkv + (size_t)b * T * d.W;
    const uint16_t *obase = dout + (size_t)b * T * d.Wo;
    const AttnHead ah = attn_head(d, b, h, hd);
    const size_t qoff = ah.q, koff = ah.k, voff = ah.v;

    gen_load_rows(Qs, hp, base, d.W, qoff, q0, GBQ, T, hd);
    gen_load_rows(dOs, hp, obase, d.Wo, (size_t)h * hd, q0, GBQ, T, hd);
    for (int e = tid; e < GBQ * hp; e += nth)
        dQs[e] = 0.0f;
    if (tid < GBQ) {
        const int q = q0 + tid;
        ls[tid] = q < T ? lse[((size_t)b * d.H + h) * T + q] : 0.0f;
        Ds[tid] = q < T ? Dbuf[((size_t)b * d.H + h) * T + q] : 0.0f;
    }
    const int kend = nt_imin(q0 + GBQ, T);
    for (int k0 = attn_block_lo(d, b, q0, GBQ) / GBK * GBK; k0 < kend; k0 += GBK) {
        __syncthreads();
        gen_load_rows(Ks, hp, base, d.W, koff, k0, GBK, T, hd);
        gen_load_rows(Vs, hp, base, d.W, voff, k0, GBK, T, hd);
        __syncthreads();
        for (int e = tid; e < GBQ * GBK; e += nth) {
            const int r = e / GBK, c = e - r * GBK, q = q0 + r, k = k0 + c;
            float ds = 0.0f;
            if (attn_sees(d, b, q, k)) {
                float s = 0.0f, dp = 0.0f;
                for (int x = 0; x < hd; x++) {
                    s += Qs[r * hp + x] * Ks[c * hp + x];
                    dp += dOs[r * hp + x] * Vs[c * hp + x];
                }
                const float p = expf(s * d.scale - ls[r]);
                ds = p * (dp - Ds[r]);
            }
            dSs[r * (GBK + 1) + c] = ds;
        }
        __syncthreads();
        for (int e = tid; e < GBQ * hd; e += nth) {
            const int r = e / hd, x = e - r * hd;
            float acc = 0.0f;
            for (int c = 0; c < GBK; c++)
                acc += dSs[r * (GBK + 1) + c] * Ks[c * hp + x];
            dQs[r * hp + x] += acc;
        }
    }
    __syncthreads();
    for (int e = tid; e < GBQ * hd; e += nth) {
        const int r = e / hd, x = e - r * hd, q = q0 + r;
        if (q < T)
            dqkv[((size_t)b * T + q) * d.W + qoff + x] = nt_f2bf(dQs[r * hp + x] * d.scale);
    }
}

/* ========================================================================== */
/* Tensor-core path: hd in {64, 128, 192}                                      */
/* ========================================================================== */
/* Shared-memory tiles are bf16 [rows][HD+8] (the 16-byte pad spreads rows
 * over the banks for both the 32-bit fragment loads and ldmatrix). */

/* rows [0, ROWS) of a tile whose row 0 is at src (row stride `stride`
 * elements); rows >= valid are zero-filled. */
template <int ROWS, int HD, int NTH>
__device__ __forceinline__ void mma_load_tile(uint16_t *dst, const uint16_t *src, long long stride,
                                              int valid)
{
    constexpr int CPR = HD / 8, LDS = HD + 8;
    for (int idx = threadIdx.x; idx < ROWS * CPR; idx += NTH) {
        const int r = idx / CPR, c = idx - r * CPR;
        uint16_t *dp = dst + r * LDS + c * 8;
        if (r < valid)
            nt_cp_async16(dp, src + (size_t)r * stride + c * 8);
        else
            nt_st_zero16(dp);
    }
}

/* Fragments through ldmatrix (one x4 load per 16x16 A tile or per two
 * 8-wide B tiles).  Forward: the warp's Q fragments stay in registers for
 * the whole key loop; Q is staged through the second K/V buffer; the running
 * output is rescaled only when some row's maximum moved (exp2(0) = 1
 * exactly, so skipping it changes nothing); scores are scaled inside the
 * exp2's FMA.  Backward: the dK/dV pass also writes dS^T (bf16, as used for
 * dK) into a workspace packed by 64x64 causal tiles, and dQ = scale dS K is a
 * plain tiled product over it (5 products per score instead of the 7 of a
 * dQ pass that recomputes S and dP).
 * dS^T tiles: per (b, h), tile (kb, qb) for key block kb <= query block qb
 * (64 rows each) at ((qb (qb+1)/2) + kb) * 64*64 elements, stored [key][query]. */

/* B fragments for n-tiles n0 and n0+8 where B[k][n] = S[k0+k][n0+n]
 * (S rows are the k index): b[0..1] for n0, b[2..3] for n0+8 */
__device__ __forceinline__ void frag_b_nn2(uint32_t b[4], const uint16_t *S, int ld, int k0, int n0, int lane)
{
    nt_ldsm_x4_trans(b, S + (k0 + (lane & 7) + ((lane >> 3) & 1) * 8) * ld + n0 + (lane >> 4) * 8);
}
/* A fragment (16x16 at rows r0, cols k0) of a row-major bf16 tile */
__device__ __forceinline__ void ldsm_a(uint32_t a[4], const uint16_t *S, int ld, int r0, int k0, int lane)
{
    nt_ldsm_x4(a, S + (r0 + (lane & 7) + ((lane >> 3) & 1) * 8) * ld + k0 + (lane >> 4) * 8);
}
/* B fragments for n-tiles n0 and n0+8 (b[0..1], b[2..3]) where B[k][n] =
 * S[n][k0+k] (S rows are the n index) */
__device__ __forceinline__ void ldsm_b_nt2(uint32_t b[4], const uint16_t *S, int ld, int n0, int k0, int lane)
{
    nt_ldsm_x4(b, S + (n0 + (lane & 7) + (lane >> 4) * 8) * ld + k0 + ((lane >> 3) & 1) * 8);
}
/* A fragment (16x16, rows m0.., k cols k0..) where A[m][k] = S[k][m] (S
 * rows are the k index: a transposed tile) */
__device__ __forceinline__ void ldsm_a_t(uint32_t a[4], const uint16_t *S, int ld, int m0, int k0, int lane)
{
    nt_ldsm_x4_trans(a, S + (k0 + (lane & 7) + ((lane >> 4) & 1) * 8) * ld + m0 + ((lane >> 3) & 1) * 8);
}


/* ---- forward: 4 warps, 64 query rows (16 per warp), BK keys per tile ---- */
template <int HD, int BK> struct FwdCfg {
    static_assert(2 * BK >= 64, "Q is staged in one K/V buffer pair");
    static constexpr int LDS = HD + 8;
    static constexpr size_t smem = (size_t)4 * BK * LDS * sizeof(uint16_t);
};

template <int HD, int BK>
__global__ void __launch_bounds__(128)
k_attn_fwd_mma(uint16_t *__restrict__ out, float *__restrict__ lse,
                const uint16_t *__restrict__ qkv, AttnDims d)
{
    constexpr int BQ = 64, NTH = 128, LDS = HD + 8, NTS = BK / 8, NTO = HD / 8, KK = HD / 16;
    NT_DYN_SMEM(smem);
    uint16_t *buf = (uint16_t *)smem; /* [2][K: BK rows | V: BK rows][LDS] */
    const int qt = gridDim.x - 1 - blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const int T = d.T, q0 = qt * BQ;
    const AttnHead ah = attn_head(d, b, h, HD);
    const uint16_t *base = qkv + (size_t)b * T * d.W;
    const uint16_t *qg = base + ah.q, *kg = base + ah.k, *vg = base + ah.v;
    const int kend = nt_imin(q0 + BQ, T), ntiles = (kend + BK - 1) / BK;
    const int it0 = attn_block_lo(d, b, q0, BQ) / BK, kf = it0 * BK; /* first key tile */

    mma_load_tile<BQ, HD, NTH>(buf + 2 * BK * LDS, qg + (size_t)q0 * d.W, d.W, T - q0);
    mma_load_tile<BK, HD, NTH>(buf, kg + (size_t)kf * d.W, d.W, T - kf);
    mma_load_tile<BK, HD, NTH>(buf + BK * LDS, vg + (size_t)kf * d.W, d.W, T - kf);
    nt_cp_async_commit();

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, tig = lane & 3;
    const int row0 = q0 + warp * 16 + (lane >> 2), row1 = row0 + 8;
    const int ks0 = row0 < T ? attn_kstart(d, b, row0) : 0, ks1 = row1 < T ? attn_kstart(d, b, row1) : 0;
    nt_cp_async_wait_all();
    __syncthreads();
    uint32_t qf[KK][4];
#pragma unroll
    for (int kk = 0; kk < KK; kk++)
        ldsm_a(qf[kk], buf + 2 * BK * LDS, LDS, warp * 16, kk * 16, lane);
    /* the loop's first barrier orders these reads before buffer 1 is refilled */

    float o[NTO][4];
#pragma unroll
    for (int n = 0; n < NTO; n++)
        o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.0f, l1 = 0.0f; /* m: log2 domain, scaled */
    const float sl2 = d.scale_log2;

    for (int it = it0; it < ntiles; it++) {
        nt_cp_async_wait_all();
        __syncthreads(); /* tile `it` visible; the other buffer free */
        if (it + 1 < ntiles) {
            const int kn = (it + 1) * BK;
            uint16_t *nb = buf + ((it + 1 - it0) & 1) * 2 * BK * LDS;
            mma_load_tile<BK, HD, NTH>(nb, kg + (size_t)kn * d.W, d.W, T - kn);
            mma_load_tile<BK, HD, NTH>(nb + BK * LDS, vg + (size_t)kn * d.W, d.W, T - kn);
            nt_cp_async_commit();
        }
        const uint16_t *Kc = buf + ((it - it0) & 1) * 2 * BK * LDS;
        const uint16_t *Vc = Kc + BK * LDS;
        const int k0 = it * BK;

        /* S = Q K^T (unscaled) for this warp's 16 rows x BK keys */
        float s[NTS][4];
#pragma unroll
        for (int n = 0; n < NTS; n++)
            s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < KK; kk++) {
#pragma unroll
            for (int np = 0; np < NTS / 2; np++) {
                uint32_t bb[4];
                ldsm_b_nt2(bb, Kc, LDS, np * 16, kk * 16, lane);
                nt_mma_bf16_16816(s[2 * np], qf[kk], bb);
                nt_mma_bf16_16816(s[2 * np + 1], qf[kk], bb + 2);
            }
        }
        /* causal mask (also hides keys >= T); packed: and the keys before the row's sample */
        if (k0 + BK - 1 > q0 + warp * 16 || d.pos) {
#pragma unroll
            for (int n = 0; n < NTS; n++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const int col = k0 + n * 8 + 2 * tig + (e & 1);
                    if (col > (e < 2 ? row0 : row1) || col < (e < 2 ? ks0 : ks1))
                        s[n][e] = -INFINITY;
                }
        }
        /* online softmax; a row's 4 values per n-tile live in one quad */
        float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
        for (int n = 0; n < NTS; n++) {
            mx0 = fmaxf(mx0, fmaxf(s[n][0], s[n][1]));
            mx1 = fmaxf(mx1, fmaxf(s[n][2], s[n][3]));
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
        for (int n = 0; n < NTS; n++) {
            s[n][0] = exp2f(fmaf(s[n][0], sl2, -mu0));
            s[n][1] = exp2f(fmaf(s[n][1], sl2, -mu0));
            s[n][2] = exp2f(fmaf(s[n][2], sl2, -mu1));
            s[n][3] = exp2f(fmaf(s[n][3], sl2, -mu1));
            rs0 += s[n][0] + s[n][1];
            rs1 += s[n][2] + s[n][3];
        }
        l0 = l0 * al0 + rs0; /* per-thread partial; quad-reduced at the end */
        l1 = l1 * al1 + rs1;
        if (__any_sync(0xffffffffu, moved)) {
#pragma unroll
            for (int n = 0; n < NTO; n++) {
                o[n][0] *= al0;
                o[n][1] *= al0;
                o[n][2] *= al1;
                o[n][3] *= al1;
            }
        }
        /* O += P V : P from the S accumulators (C layout == A layout per k16) */
#pragma unroll
        for (int kk = 0; kk < BK / 16; kk++) {
            uint32_t a[4];
            a[0] = nt_pack_bf16x2(s[2 * kk][0], s[2 * kk][1]);
            a[1] = nt_pack_bf16x2(s[2 * kk][2], s[2 * kk][3]);
            a[2] = nt_pack_bf16x2(s[2 * kk + 1][0], s[2 * kk + 1][1]);
            a[3] = nt_pack_bf16x2(s[2 * kk + 1][2], s[2 * kk + 1][3]);
#pragma unroll
            for (int np = 0; np < HD / 16; np++) {
                uint32_t bb[4];
                frag_b_nn2(bb, Vc, LDS, kk * 16, np * 16, lane);
                nt_mma_bf16_16816(o[2 * np], a, bb);
                nt_mma_bf16_16816(o[2 * np + 1], a, bb + 2);
            }
        }
    }

    l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
    l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
    const float inv0 = 1.0f / l0, inv1 = 1.0f / l1;
    if (row0 < T) {
        uint16_t *orow = out + ((size_t)b * T + row0) * d.Wo + (size_t)h * HD + 2 * tig;
#pragma unroll
        for (int n = 0; n < NTO; n++)
            nt_st32(orow + n * 8, nt_pack_bf16x2(o[n][0] * inv0, o[n][1] * inv0));
        if (tig == 0)
            lse[((size_t)b * d.H + h) * T + row0] = (m0 + log2f(l0)) * NT_LN2;
    }
    if (row1 < T) {
        uint16_t *orow = out + ((size_t)b * T + row1) * d.Wo + (size_t)h * HD + 2 * tig;
#pragma unroll
        for (int n = 0; n < NTO; n++)
            nt_st32(orow + n * 8, nt_pack_bf16x2(o[n][2] * inv1, o[n][3] * inv1));
        if (tig == 0)
            lse[((size_t)b * d.H + h) * T + row1] = (m1 + log2f(l1)) * NT_LN2;
    }
}

/* ---- backward dK/dV: 8 warps, 64 keys per block, BQ queries per step ----
 * phase 1: S^T = K Q^T and dP^T = V dO^T for the 64 x BQ tile, warps 4 (keys)
 *          x 2 (queries); P^T and dS^T -> bf16 shared memory, and the dS^T
 *          tile to the workspace for the dQ pass
 * phase 2: dV += P^T dO and dK += dS^T Q, warps 4 (keys) x 2 (halves of hd) */
template <int HD, int BQ> struct DkdvCfg {
    static constexpr int BKV = 64, NTH = 256, LDS = HD + 8, LDP = BQ + 8;
    static constexpr size_t smem = (size_t)(2 * BKV * LDS + 4 * BQ * LDS + 2 * BKV * LDP) * sizeof(uint16_t) +
                                   (size_t)4 * BQ * sizeof(float);
};

template <int HD, int BQ>
__global__ void __launch_bounds__(256)
k_attn_dkdv_mma(float *__restrict__ wdk, float *__restrict__ wdv, uint16_t *__restrict__ dsT,
                 const uint16_t *__restrict__ qkv, const uint16_t *__restrict__ dout,
                 const float *__restrict__ lse, const float *__restrict__ Dbuf, AttnDims d)
{
    constexpr int BKV = 64, NTH = 256, LDS = HD + 8, LDP = BQ + 8;
    constexpr int NT1 = BQ / 16; /* phase-1 n-tiles per warp (BQ/2 queries) */
    constexpr int NT2 = HD / 16; /* phase-2 n-tiles per warp (HD/2 dims) */
    static_assert(NT1 % 2 == 0 && 64 % BQ == 0, "dkdv tile shape");
    NT_DYN_SMEM(smem);
    uint16_t *Ks = (uint16_t *)smem;
    uint16_t *Vs = Ks + BKV * LDS;
    uint16_t *Qs = Vs + BKV * LDS;     /* [2][BQ][LDS] */
    uint16_t *dOs = Qs + 2 * BQ * LDS; /* [2][BQ][LDS] */
    uint16_t *Pt = dOs + 2 * BQ * LDS; /* [BKV][LDP] */
    uint16_t *dSt = Pt + BKV * LDP;    /* [BKV][LDP] */
    float *ls = (float *)(dSt + BKV * LDP); /* [2][BQ] */
    float *Ds = ls + 2 * BQ;                /* [2][BQ] */

    const int kt = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const int T = d.T, k0 = kt * BKV;
    const AttnHead ah = attn_head(d, b, h, HD);
    const uint16_t *base = qkv + (size_t)b * T * d.W;
    const uint16_t *qg = base + ah.q, *kg = base + ah.k, *vg = base + ah.v;
    const uint16_t *og = dout + (size_t)b * T * d.Wo + (size_t)h * HD;
    const float *lrow = lse + ah.stat, *Drow = Dbuf + ah.stat;
    uint16_t *dsh = dsT + ((size_t)b * d.H + h) * (size_t)dst_tiles(T) * 4096;
    const int qbeg = k0 / BQ, nqt = (T + BQ - 1) / BQ;

    mma_load_tile<BKV, HD, NTH>(Ks, kg + (size_t)k0 * d.W, d.W, T - k0);
    mma_load_tile<BKV, HD, NTH>(Vs, vg + (size_t)k0 * d.W, d.W, T - k0);
    {
        const int qa = qbeg * BQ;
        mma_load_tile<BQ, HD, NTH>(Qs, qg + (size_t)qa * d.W, d.W, T - qa);
        mma_load_tile<BQ, HD, NTH>(dOs, og + (size_t)qa * d.Wo, d.Wo, T - qa);
        attn_load_vec<BQ, NTH>(ls, lrow + qa, T - qa);
        attn_load_vec<BQ, NTH>(Ds, Drow + qa, T - qa);
    }
    nt_cp_async_commit();

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, gid = lane >> 2, tig = lane & 3;
    const int wm = warp & 3, wn = warp >> 2;
    float dk[NT2][4], dv[NT2][4];
#pragma unroll
    for (int n = 0; n < NT2; n++)
#pragma unroll
        for (int e = 0; e < 4; e++)
            dk[n][e] = dv[n][e] = 0.0f;

    for (int it = qbeg; it < nqt; it++) {
        const int buf = (it - qbeg) & 1;
        nt_cp_async_wait_all();
        __syncthreads(); /* tile `it` visible; Pt/dSt and buffer buf^1 free */
        if (it + 1 < nqt) {
            const int qn = (it + 1) * BQ, nb = buf ^ 1;
            mma_load_tile<BQ, HD, NTH>(Qs + nb * BQ * LDS, qg + (size_t)qn * d.W, d.W, T - qn);
            mma_load_tile<BQ, HD, NTH>(dOs + nb * BQ * LDS, og + (size_t)qn * d.Wo, d.Wo, T - qn);
            attn_load_vec<BQ, NTH>(ls + nb * BQ, lrow + qn, T - qn);
            attn_load_vec<BQ, NTH>(Ds + nb * BQ, Drow + qn, T - qn);
            nt_cp_async_commit();
        }
        const uint16_t *Qc = Qs + buf * BQ * LDS, *dOc = dOs + buf * BQ * LDS;
        const float *lc = ls + buf * BQ, *Dc = Ds + buf * BQ;
        const int q0 = it * BQ;

        /* phase 1: S^T and dP^T for keys wm*16.., queries wn*BQ/2.. */
        float st[NT1][4], dpt[NT1][4];
#pragma unroll
        for (int n = 0; n < NT1; n++)
#pragma unroll
            for (int e = 0; e < 4; e++)
                st[n][e] = dpt[n][e] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < HD / 16; kk++) {
            uint32_t ak[4], av[4];
            ldsm_a(ak, Ks, LDS, wm * 16, kk * 16, lane);
            ldsm_a(av, Vs, LDS, wm * 16, kk * 16, lane);
#pragma unroll
            for (int np = 0; np < NT1 / 2; np++) {
                const int qc = wn * (BQ / 2) + np * 16;
                uint32_t bq[4], bo[4];
                ldsm_b_nt2(bq, Qc, LDS, qc, kk * 16, lane);
                ldsm_b_nt2(bo, dOc, LDS, qc, kk * 16, lane);
                nt_mma_bf16_16816(st[2 * np], ak, bq);
                nt_mma_bf16_16816(st[2 * np + 1], ak, bq + 2);
                nt_mma_bf16_16816(dpt[2 * np], av, bo);
                nt_mma_bf16_16816(dpt[2 * np + 1], av, bo + 2);
            }
        }
#pragma unroll
        for (int n = 0; n < NT1; n++) {
            float p[4], ds[4];
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int kl = wm * 16 + gid + (e >= 2 ? 8 : 0);
                const int ql = wn * (BQ / 2) + n * 8 + 2 * tig + (e & 1);
                const int k = k0 + kl, q = q0 + ql;
                p[e] = 0.0f;
                ds[e] = 0.0f;
                if (attn_sees(d, b, q, k)) {
                    p[e] = exp2f(st[n][e] * d.scale_log2 - lc[ql] * NT_LOG2E);
                    ds[e] = p[e] * (dpt[n][e] - Dc[ql]);
                }
            }
            const int col = wn * (BQ / 2) + n * 8 + 2 * tig;
            const int r0 = wm * 16 + gid;
            nt_st32(Pt + r0 * LDP + col, nt_pack_bf16x2(p[0], p[1]));
            nt_st32(Pt + (r0 + 8) * LDP + col, nt_pack_bf16x2(p[2], p[3]));
            nt_st32(dSt + r0 * LDP + col, nt_pack_bf16x2(ds[0], ds[1]));
            nt_st32(dSt + (r0 + 8) * LDP + col, nt_pack_bf16x2(ds[2], ds[3]));
        }
        __syncthreads(); /* Pt, dSt complete */

        /* dS^T tile -> workspace tile (kt, q0/64), columns q0%64.. */
        {
            constexpr int CPR = BQ / 8; /* 16-byte chunks per key row */
            uint16_t *tile = dsh + ((size_t)(q0 / 64) * (q0 / 64 + 1) / 2 + kt) * 4096 + (q0 % 64);
            for (int idx = threadIdx.x; idx < BKV * CPR; idx += NTH) {
                const int r = idx / CPR, c = idx - r * CPR;
                *(uint4 *)(tile + r * 64 + c * 8) = *(const uint4 *)(dSt + r * LDP + c * 8);
            }
        }

        /* phase 2: dV += P^T dO, dK += dS^T Q for keys wm*16.., dims wn*HD/2.. */
#pragma unroll
        for (int kk = 0; kk < BQ / 16; kk++) {
            uint32_t ap[4], as[4];
            ldsm_a(ap, Pt, LDP, wm * 16, kk * 16, lane);
            ldsm_a(as, dSt, LDP, wm * 16, kk * 16, lane);
#pragma unroll
            for (int np = 0; np < NT2 / 2; np++) {
                const int dc = wn * (HD / 2) + np * 16;
                uint32_t bo[4], bq[4];
                frag_b_nn2(bo, dOc, LDS, kk * 16, dc, lane);
                frag_b_nn2(bq, Qc, LDS, kk * 16, dc, lane);
                nt_mma_bf16_16816(dv[2 * np], ap, bo);
                nt_mma_bf16_16816(dv[2 * np + 1], ap, bo + 2);
                nt_mma_bf16_16816(dk[2 * np], as, bq);
                nt_mma_bf16_16816(dk[2 * np + 1], as, bq + 2);
            }
        }
    }

    const int kr0 = k0 + wm * 16 + gid, kr1 = kr0 + 8;
    const size_t hrow = ((size_t)b * d.H + h) * T;
#pragma unroll
    for (int n = 0; n < NT2; n++) {
        const int dc = wn * (HD / 2) + n * 8 + 2 * tig;
        if (kr0 < T) {
            nt_st_f2(wdk + (hrow + kr0) * HD + dc, dk[n][0] * d.scale, dk[n][1] * d.scale);
            nt_st_f2(wdv + (hrow + kr0) * HD + dc, dv[n][0], dv[n][1]);
        }
        if (kr1 < T) {
            nt_st_f2(wdk + (hrow + kr1) * HD + dc, dk[n][2] * d.scale, dk[n][3] * d.scale);
            nt_st_f2(wdv + (hrow + kr1) * HD + dc, dv[n][2], dv[n][3]);
        }
    }
}

/* ---- backward dQ: dQ = scale dS K over the workspace's dS^T tiles;
 * 8 warps, 64 query rows per block, 64 keys per step; warps 4 (rows) x 2
 * (halves of hd) ---- */
template <int HD> struct DqGemmCfg {
    static constexpr int BKV = 64, LDS = HD + 8, LDT = 64 + 8;
    static constexpr size_t smem = (size_t)2 * BKV * (LDS + LDT) * sizeof(uint16_t);
};

template <int HD>
__global__ void __launch_bounds__(256)
k_attn_dq_gemm(uint16_t *__restrict__ dqkv, const uint16_t *__restrict__ qkv,
               const uint16_t *__restrict__ dsT, AttnDims d)
{
    constexpr int BQ = 64, BKV = 64, NTH = 256, LDS = HD + 8, LDT = 64 + 8;
    constexpr int NT2 = HD / 16; /* n-tiles per warp (HD/2 dims) */
    NT_DYN_SMEM(smem);
    uint16_t *Ks = (uint16_t *)smem;   /* [2][BKV][LDS] */
    uint16_t *Ts = Ks + 2 * BKV * LDS; /* [2][BKV][LDT]: dS^T, rows = keys */

    const int qt = gridDim.x - 1 - blockIdx.x, h = blockIdx.y, b = blockIdx.z;
    const int T = d.T, q0 = qt * BQ;
    const AttnHead ah = attn_head(d, b, h, HD);
    const uint16_t *base = qkv + (size_t)b * T * d.W;
    const size_t qoff = ah.q;
    const uint16_t *kg = base + ah.k;
    const uint16_t *tiles = dsT + (((size_t)b * d.H + h) * (size_t)dst_tiles(T) + (size_t)qt * (qt + 1) / 2) * 4096;
    const int ntiles = qt + 1; /* key blocks it0..qt (before it0: all dS zero) */
    const int it0 = attn_block_lo(d, b, q0, BQ) / BKV;

    mma_load_tile<BKV, HD, NTH>(Ks, kg + (size_t)it0 * BKV * d.W, d.W, T - it0 * BKV);
    mma_load_tile<BKV, 64, NTH>(Ts, tiles + (size_t)it0 * 4096, 64, BKV);
    nt_cp_async_commit();

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, gid = lane >> 2, tig = lane & 3;
    const int wm = warp & 3, wn = warp >> 2;
    float dq[NT2][4];
#pragma unroll
    for (int n = 0; n < NT2; n++)
        dq[n][0] = dq[n][1] = dq[n][2] = dq[n][3] = 0.0f;

    for (int it = it0; it < ntiles; it++) {
        nt_cp_async_wait_all();
        __syncthreads(); /* tile `it` visible; the other buffer free */
        if (it + 1 < ntiles) {
            const int kn = (it + 1) * BKV, nb = (it + 1 - it0) & 1;
            mma_load_tile<BKV, HD, NTH>(Ks + nb * BKV * LDS, kg + (size_t)kn * d.W, d.W, T - kn);
            mma_load_tile<BKV, 64, NTH>(Ts + nb * BKV * LDT, tiles + (size_t)(it + 1) * 4096, 64, BKV);
            nt_cp_async_commit();
        }
        const uint16_t *Kc = Ks + ((it - it0) & 1) * BKV * LDS, *Tc = Ts + ((it - it0) & 1) * BKV * LDT;
#pragma unroll
        for (int kk = 0; kk < BKV / 16; kk++) {
            uint32_t a[4];
            ldsm_a_t(a, Tc, LDT, wm * 16, kk * 16, lane);
#pragma unroll
            for (int np = 0; np < NT2 / 2; np++) {
                uint32_t bk[4];
                frag_b_nn2(bk, Kc, LDS, kk * 16, wn * (HD / 2) + np * 16, lane);
                nt_mma_bf16_16816(dq[2 * np], a, bk);
                nt_mma_bf16_16816(dq[2 * np + 1], a, bk + 2);
            }
        }
    }

    const int qr0 = q0 + wm * 16 + gid, qr1 = qr0 + 8;
#pragma unroll
    for (int n = 0; n < NT2; n++) {
        const int dc = wn * (HD / 2) + n * 8 + 2 * tig;
        if (qr0 < T)
            nt_st32(dqkv + ((size_t)b * T + qr0) * d.W + qoff + dc,
                    nt_pack_bf16x2(dq[n][0] * d.scale, dq[n][1] * d.scale));
        if (qr1 < T)
            nt_st32(dqkv + ((size_t)b * T + qr1) * d.W + qoff + dc,
                    nt_pack_bf16x2(dq[n][2] * d.scale, dq[n][3] * d.scale));
    }
}

/* ========================================================================== */
/* Launchers                                                                   */
/* ========================================================================== */

/* impl: 0 mma.sync tensor-core path (default), 1 generic, 2 warpgroup-MMA
 * kernels (attention_wgmma.cu, sm_90a builds on Hopper) for the forward and
 * the backward's products; -1 = not set: NTRON_ATTN=mma|wgmma|generic, or
 * NTRON_ATTN_GENERIC=1 (generic). */
static int g_attn_impl = -1;

extern "C" int cuda_attention_parse_impl(const char *s)
{
    if (!s || !*s || strcmp(s, "mma") == 0)
        return 0;
    if (strcmp(s, "generic") == 0)
        return 1;
    if (strcmp(s, "wgmma") == 0)
        return 2;
    return -1;
}

static int attn_impl(void)
{
    if (g_attn_impl < 0) {
        const char *gen = getenv("NTRON_ATTN_GENERIC");
        g_attn_impl = cuda_attention_parse_impl(getenv("NTRON_ATTN"));
        if (g_attn_impl < 0)
            nt_fatal(__FILE__, __LINE__, "NTRON_ATTN: want mma, wgmma or generic");
        if (gen && *gen && strcmp(gen, "0") != 0)
            g_attn_impl = 1;
    }
    return g_attn_impl;
}

extern "C" int cuda_attention_set_impl(int impl)
{
    int old = attn_impl();
    g_attn_impl = impl;
    return old;
}

static bool attn_mma_hd(int hd) { return hd == 64 || hd == 128 || hd == 192; }

extern "C" int cuda_attention_uses_mma(int hd)
{
    return attn_impl() != 1 && attn_mma_hd(hd);
}

extern "C" int cuda_attention_wgmma_available(void) { return attn_wgmma_available(); }

extern "C" int cuda_attention_uses_wgmma(int hd)
{
    return attn_impl() == 2 && attn_mma_hd(hd) && attn_wgmma_available();
}

static bool al16(const void *p) { return ((uintptr_t)p & 15u) == 0; }

static void attn_check_args(int B, int T, int G, int qpg, int hd)
{
    NT_REQUIRE(hd <= 256, "cuda_attention: head dim > 256 unsupported");
    NT_REQUIRE(B <= 65535 && G * qpg <= 65535, "cuda_attention: B or heads > 65535");
    (void)T;
}

template <int HD, int BK>
static void launch_fwd_mma(nt_bf16 *out, float *lse, const nt_bf16 *qkv, const AttnDims &d,
                            nt_stream stream)
{
    auto k = k_attn_fwd_mma<HD, BK>;
    const size_t smem = FwdCfg<HD, BK>::smem;
    NT_SET_SMEM(k, smem);
    const dim3 grid((d.T + 63) / 64, d.H, d.B);
    NT_LAUNCH(k, grid, 128, smem, stream, out, lse, qkv, d);
}

extern "C" void cuda_attention_fwd(nt_bf16 *out, float *lse, const nt_bf16 *qkv, int B, int T,
                                   int G, int qpg, int hd, const int32_t *pos, nt_stream stream)
{
    if (B <= 0 || T <= 0 || G <= 0 || qpg <= 0 || hd <= 0)
        return;
    attn_check_args(B, T, G, qpg, hd);
    const AttnDims d = attn_dims(B, T, G, qpg, hd, pos);
    if (cuda_attention_uses_wgmma(hd) && attn_fwd_wgmma(out, lse, qkv, d, stream))
        return;
    if (cuda_attention_uses_mma(hd) && al16(out) && al16(qkv)) {
        switch (hd) {
        case 64: launch_fwd_mma<64, 64>(out, lse, qkv, d, stream); return;
        case 128: launch_fwd_mma<128, 64>(out, lse, qkv, d, stream); return;
        case 192: launch_fwd_mma<192, 64>(out, lse, qkv, d, stream); return;
        default: break;
        }
    }
    auto k = k_attn_fwd_generic;
    const size_t smem = gen_fwd_smem(hd);
    NT_SET_SMEM(k, smem);
    const dim3 grid((T + GBQ - 1) / GBQ, d.H, B);
    NT_LAUNCH(k, grid, GTHREADS, smem, stream, out, lse, qkv, d);
}

static size_t al256(size_t x) { return (x + 255) & ~(size_t)255; }

extern "C" size_t cuda_attention_bwd_workspace_bytes(int B, int T, int G, int qpg, int hd)
{
    if (B <= 0 || T <= 0 || G <= 0 || qpg <= 0 || hd <= 0)
        return 0;
    const size_t rows = (size_t)B * G * qpg * T;
    const bool mma = hd == 64 || hd == 128 || hd == 192; /* dS^T tiles: tensor-core path only */
    return al256(rows * sizeof(float)) + 2 * al256(rows * (size_t)hd * sizeof(float)) +
           (mma ? al256((size_t)B * G * qpg * (size_t)dst_tiles(T) * 4096 * sizeof(uint16_t)) : 0);
}

template <int HD, int BQ>
static void launch_bwd_mma(nt_bf16 *dqkv, const nt_bf16 *dout, const float *lse,
                            const nt_bf16 *qkv, const float *Dbuf, float *wdk, float *wdv,
                            uint16_t *dsT, const AttnDims &d, nt_stream stream)
{
    if (!(cuda_attention_uses_wgmma(HD) && attn_dkdv_wgmma(wdk, wdv, dsT, qkv, dout, lse, Dbuf, d, stream))) {
        auto k1 = k_attn_dkdv_mma<HD, BQ>;
        const size_t s1 = DkdvCfg<HD, BQ>::smem;
        NT_SET_SMEM(k1, s1);
        NT_LAUNCH(k1, dim3((d.T + 63) / 64, d.H, d.B), 256, s1, stream, wdk, wdv, dsT, qkv, dout, lse, Dbuf, d);
    }
    if (!(cuda_attention_uses_wgmma(HD) && attn_dq_wgmma(dqkv, qkv, dsT, d, stream))) {
        auto k2 = k_attn_dq_gemm<HD>;
        const size_t s2 = DqGemmCfg<HD>::smem;
        NT_SET_SMEM(k2, s2);
        NT_LAUNCH(k2, dim3((d.T + 63) / 64, d.H, d.B), 256, s2, stream, dqkv, qkv, (const uint16_t *)dsT, d);
    }
}

extern "C" void cuda_attention_bwd(nt_bf16 *dqkv, const nt_bf16 *dout, const nt_bf16 *out,
                                   const float *lse, const nt_bf16 *qkv, int B, int T, int G,
                                   int qpg, int hd, const int32_t *pos, void *workspace, nt_stream stream)
{
    if (B <= 0 || T <= 0 || G <= 0 || qpg <= 0 || hd <= 0)
        return;
    attn_check_args(B, T, G, qpg, hd);
    const AttnDims d = attn_dims(B, T, G, qpg, hd, pos);
    const size_t rows = (size_t)B * d.H * T;
    void *ws = workspace;
    if (!ws)
        NT_CHECK_CUDA(cudaMallocAsync(&ws, cuda_attention_bwd_workspace_bytes(B, T, G, qpg, hd),
                                      (cudaStream_t)stream));
    float *Dbuf = (float *)ws;
    float *wdk = (float *)((char *)ws + al256(rows * sizeof(float)));
    float *wdv = (float *)((char *)wdk + al256(rows * (size_t)hd * sizeof(float)));
    uint16_t *dsT = (uint16_t *)((char *)wdv + al256(rows * (size_t)hd * sizeof(float)));

    NT_LAUNCH(k_attn_D, (unsigned)((rows + 7) / 8), 256, 0, stream, Dbuf, dout, out, d);

    bool done = false;
    if (cuda_attention_uses_mma(hd) && al16(dqkv) && al16(dout) && al16(qkv)) {
        done = true;
        switch (hd) {
        case 64: launch_bwd_mma<64, 64>(dqkv, dout, lse, qkv, Dbuf, wdk, wdv, dsT, d, stream); break;
        case 128: launch_bwd_mma<128, 32>(dqkv, dout, lse, qkv, Dbuf, wdk, wdv, dsT, d, stream); break;
        case 192: launch_bwd_mma<192, 32>(dqkv, dout, lse, qkv, Dbuf, wdk, wdv, dsT, d, stream); break;
        default: done = false; break;
        }
    }
    if (!done) {
        auto k1 = k_attn_dkdv_generic;
        const size_t s1 = gen_dkdv_smem(hd);
        NT_SET_SMEM(k1, s1);
        NT_LAUNCH(k1, dim3((T + GBK - 1) / GBK, d.H, B), GTHREADS, s1, stream, wdk, wdv, qkv, dout,
                  lse, (const float *)Dbuf, d);
        auto k2 = k_attn_dq_generic;
        const size_t s2 = gen_dq_smem(hd);
        NT_SET_SMEM(k2, s2);
        NT_LAUNCH(k2, dim3((T + GBQ - 1) / GBQ, d.H, B), GTHREADS, s2, stream, dqkv, qkv, dout, lse,
                  (const float *)Dbuf, d);
    }
    const size_t total = (size_t)B * T * G * hd;
    NT_LAUNCH(k_attn_reduce_dkdv, nt_grid_for(total, 256), 256, 0, stream, dqkv,
              (const float *)wdk, (const float *)wdv, d);
    if (!workspace)
        NT_CHECK_CUDA(cudaFreeAsync(ws, (cudaStream_t)stream));
}
