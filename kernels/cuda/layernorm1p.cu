/* layernorm1p.cu — Nemotron LayerNorm1P on bf16 rows, fp32 math:
 *   out = (x - mean) * rstd * (1 + gamma) + beta,  rstd = 1/sqrt(var + eps),
 * biased variance, two passes (mean, then sum of squared deviations).
 * Rows of C % 8 == 0 on 16-byte aligned buffers are read and written eight
 * bf16 (16 bytes) per access; others one element per access.
 *
 * Forward: one block per row; mean and rstd (fp32) saved for backward.
 * Backward, three kernels, deterministic (no atomics):
 *   k_ln_bwd_rows   one block per row: din += rstd*(g - mean(g) - xh*mean(g*xh)),
 *                   g = dout*(1+gamma), xh = (x-mean)*rstd   (din is bf16)
 *   k_ln_bwd_cols   partial column sums of dout*xh and dout over chunks of
 *                   LN_ROWS_PER_CHUNK rows into a scratch buffer
 *   k_ln_bwd_final  dgamma += sum of partials, dbeta += ... (fixed order) */
#include "nt_device.cuh"

#define LN_THREADS 256
#define LN_COL_THREADS 128
#define LN_ROWS_PER_CHUNK 64

template <int W>
__global__ void __launch_bounds__(LN_THREADS)
k_ln_fwd(uint16_t *__restrict__ out, float *__restrict__ mean, float *__restrict__ rstd,
         const uint16_t *__restrict__ in, const uint16_t *__restrict__ gamma,
         const uint16_t *__restrict__ beta, int C, float eps)
{
    __shared__ float red[32];
    const size_t row = blockIdx.x;
    const uint16_t *x = in + row * C;
    uint16_t *y = out + row * C;
    float s = 0.0f;
    for (int j = W * threadIdx.x; j < C; j += W * blockDim.x) {
        float v[W];
        nt_ld_bf16w<W>(v, x + j);
#pragma unroll
        for (int k = 0; k < W; k++)
            s += v[k];
    }
    s = nt_block_reduce(s, NtSum(), 0.0f, red);
    const float m = s / (float)C;
    float ss = 0.0f;
    for (int j = W * threadIdx.x; j < C; j += W * blockDim.x) {
        float v[W];
        nt_ld_bf16w<W>(v, x + j);
#pragma unroll
        for (int k = 0; k < W; k++) {
            const float d = v[k] - m;
            ss += d * d;
        }
    }
    ss = nt_block_reduce(ss, NtSum(), 0.0f, red);
    const float r = 1.0f / sqrtf(ss / (float)C + eps);
    if (threadIdx.x == 0) {
        mean[row] = m;
        rstd[row] = r;
    }
    for (int j = W * threadIdx.x; j < C; j += W * blockDim.x) {
        float v[W], g[W], b[W];
        nt_ld_bf16w<W>(v, x + j);
        nt_ld_bf16w<W>(g, gamma + j);
        nt_ld_bf16w<W>(b, beta + j);
#pragma unroll
        for (int k = 0; k < W; k++)
            v[k] = (v[k] - m) * r * (1.0f + g[k]) + b[k];
        nt_st_bf16w<W>(y + j, v);
    }
}

/* the backward's per-element terms: xh = (x - mean) * rstd, g = dout * (1 + gamma) */
template <int W>
__device__ __forceinline__ void ln_bwd_terms(float xh[W], float g[W], const uint16_t *x, const uint16_t *dy,
                                             const uint16_t *gamma, float mu, float r)
{
    float v[W], d[W], ga[W];
    nt_ld_bf16w<W>(v, x);
    nt_ld_bf16w<W>(d, dy);
    nt_ld_bf16w<W>(ga, gamma);
#pragma unroll
    for (int k = 0; k < W; k++) {
        xh[k] = (v[k] - mu) * r;
        g[k] = d[k] * (1.0f + ga[k]);
    }
}

template <int W>
__global__ void __launch_bounds__(LN_THREADS)
k_ln_bwd_rows(uint16_t *__restrict__ din, const uint16_t *__restrict__ dout,
              const uint16_t *__restrict__ in, const float *__restrict__ mean,
              const float *__restrict__ rstd, const uint16_t *__restrict__ gamma, int C)
{
    __shared__ float red[32];
    const size_t row = blockIdx.x;
    const uint16_t *x = in + row * C, *dy = dout + row * C;
    uint16_t *dx = din + row * C;
    const float mu = mean[row], r = rstd[row];
    float sg = 0.0f, sgx = 0.0f;
    for (int j = W * threadIdx.x; j < C; j += W * blockDim.x) {
        float xh[W], g[W];
        ln_bwd_terms<W>(xh, g, x + j, dy + j, gamma + j, mu, r);
#pragma unroll
        for (int k = 0; k < W; k++) {
            sg += g[k];
            sgx += g[k] * xh[k];
        }
    }
    sg = nt_block_reduce(sg, NtSum(), 0.0f, red);
    sgx = nt_block_reduce(sgx, NtSum(), 0.0f, red);
    const float a = sg / (float)C, b = sgx / (float)C;
    for (int j = W * threadIdx.x; j < C; j += W * blockDim.x) {
        float xh[W], g[W], o[W];
        ln_bwd_terms<W>(xh, g, x + j, dy + j, gamma + j, mu, r);
        nt_ld_bf16w<W>(o, dx + j);
#pragma unroll
        for (int k = 0; k < W; k++)
            o[k] += r * (g[k] - a - xh[k] * b);
        nt_st_bf16w<W>(dx + j, o);
    }
}

/* part[(2*chunk+0)*C + j] = sum over the chunk's rows of dout*xh, [(2*chunk+1)*C + j] of dout;
 * each thread owns W consecutive columns */
template <int W>
__global__ void __launch_bounds__(LN_COL_THREADS)
k_ln_bwd_cols(float *__restrict__ part, const uint16_t *__restrict__ dout,
              const uint16_t *__restrict__ in, const float *__restrict__ mean,
              const float *__restrict__ rstd, int n, int C)
{
    const int j = W * (blockIdx.x * blockDim.x + threadIdx.x);
    const int chunk = blockIdx.y;
    if (j >= C)
        return;
    const int i0 = chunk * LN_ROWS_PER_CHUNK;
    const int i1 = nt_imin(n, i0 + LN_ROWS_PER_CHUNK);
    float dg[W], db[W];
#pragma unroll
    for (int k = 0; k < W; k++)
        dg[k] = db[k] = 0.0f;
    for (int i = i0; i < i1; i++) {
        float d[W], v[W];
        nt_ld_bf16w<W>(d, dout + (size_t)i * C + j);
        nt_ld_bf16w<W>(v, in + (size_t)i * C + j);
        const float mu = mean[i], r = rstd[i];
#pragma unroll
        for (int k = 0; k < W; k++) {
            dg[k] += d[k] * ((v[k] - mu) * r);
            db[k] += d[k];
        }
    }
#pragma unroll
    for (int k = 0; k < W; k++) {
        part[(size_t)(2 * chunk) * C + j + k] = dg[k];
        part[(size_t)(2 * chunk + 1) * C + j + k] = db[k];
    }
}

__global__ void __launch_bounds__(LN_COL_THREADS)
k_ln_bwd_final(float *__restrict__ dgamma, float *__restrict__ dbeta,
               const float *__restrict__ part, int nchunks, int C)
{
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= C)
        return;
    double g = 0.0, b = 0.0;
    for (int c = 0; c < nchunks; c++) {
        g += part[(size_t)(2 * c) * C + j];
        b += part[(size_t)(2 * c + 1) * C + j];
    }
    dgamma[j] += (float)g;
    dbeta[j] += (float)b;
}

/* the 16-byte path: C % 8 == 0 and every buffer aligned (then every row is) */
static int ln_width(int C, const void *a, const void *b, const void *c, const void *d)
{
    return C % 8 == 0 && nt_aligned16(a, b, c) && nt_aligned16(d) ? 8 : 1;
}

extern "C" void cuda_layernorm1p_fwd(nt_bf16 *out, float *mean, float *rstd, const nt_bf16 *in,
                                     const nt_bf16 *gamma, const nt_bf16 *beta, int n, int C,
                                     float eps, nt_stream stream)
{
    if (n <= 0 || C <= 0)
        return;
    auto k = ln_width(C, out, in, gamma, beta) == 8 ? k_ln_fwd<8> : k_ln_fwd<1>;
    NT_LAUNCH(k, n, LN_THREADS, 0, stream, out, mean, rstd, in, gamma, beta, C, eps);
}

extern "C" void cuda_layernorm1p_bwd(nt_bf16 *din, float *dgamma, float *dbeta,
                                     const nt_bf16 *dout, const nt_bf16 *in, const float *mean,
                                     const float *rstd, const nt_bf16 *gamma, int n, int C,
                                     nt_stream stream)
{
    if (n <= 0 || C <= 0)
        return;
    const int W = ln_width(C, din, dout, in, gamma);
    const int nchunks = (n + LN_ROWS_PER_CHUNK - 1) / LN_ROWS_PER_CHUNK;
    NT_REQUIRE(nchunks <= 65535, "cuda_layernorm1p_bwd: too many rows (n > 65535*64)");
    float *part = NULL;
    NT_CHECK_CUDA(cudaMallocAsync((void **)&part, (size_t)2 * nchunks * C * sizeof(float),
                                  (cudaStream_t)stream));
    auto kr = W == 8 ? k_ln_bwd_rows<8> : k_ln_bwd_rows<1>;
    auto kc = W == 8 ? k_ln_bwd_cols<8> : k_ln_bwd_cols<1>;
    NT_LAUNCH(kr, n, LN_THREADS, 0, stream, din, dout, in, mean, rstd, gamma, C);
    const int cw = (C / W + LN_COL_THREADS - 1) / LN_COL_THREADS; /* column blocks of W-wide threads */
    NT_LAUNCH(kc, dim3(cw, nchunks), LN_COL_THREADS, 0, stream, part, dout, in, mean, rstd, n, C);
    const int cb = (C + LN_COL_THREADS - 1) / LN_COL_THREADS;
    NT_LAUNCH(k_ln_bwd_final, cb, LN_COL_THREADS, 0, stream, dgamma, dbeta, (const float *)part,
              nchunks, C);
    NT_CHECK_CUDA(cudaFreeAsync(part, (cudaStream_t)stream));
}
