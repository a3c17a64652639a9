/* layernorm1p.cu — Nemotron LayerNorm1P on bf16 rows, fp32 math:
 *   out = (x - mean) * rstd * (1 + gamma) + beta,  rstd = 1/sqrt(var + eps),
 * biased variance, two passes (mean, then sum of squared deviations).
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
    for (int j = threadIdx.x; j < C; j += blockDim.x)
        s += nt_bf2f(x[j]);
    s = nt_block_reduce(s, NtSum(), 0.0f, red);
    const float m = s / (float)C;
    float ss = 0.0f;
    for (int j = threadIdx.x; j < C; j += blockDim.x) {
        float d = nt_bf2f(x[j]) - m;
        ss += d * d;
    }
    ss = nt_block_reduce(ss, NtSum(), 0.0f, red);
    const float r = 1.0f / sqrtf(ss / (float)C + eps);
    if (threadIdx.x == 0) {
        mean[row] = m;
        rstd[row] = r;
    }
    for (int j = threadIdx.x; j < C; j += blockDim.x)
        y[j] = nt_f2bf((nt_bf2f(x[j]) - m) * r * (1.0f + nt_bf2f(gamma[j])) + nt_bf2f(beta[j]));
}

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
    for (int j = threadIdx.x; j < C; j += blockDim.x) {
        float xh = (nt_bf2f(x[j]) - mu) * r;
        float g = nt_bf2f(dy[j]) * (1.0f + nt_bf2f(gamma[j]));
        sg += g;
        sgx += g * xh;
    }
    sg = nt_block_reduce(sg, NtSum(), 0.0f, red);
    sgx = nt_block_reduce(sgx, NtSum(), 0.0f, red);
    const float a = sg / (float)C, b = sgx / (float)C;
    for (int j = threadIdx.x; j < C; j += blockDim.x) {
        float xh = (nt_bf2f(x[j]) - mu) * r;
        float g = nt_bf2f(dy[j]) * (1.0f + nt_bf2f(gamma[j]));
        dx[j] = nt_f2bf(nt_bf2f(dx[j]) + r * (g - a - xh * b));
    }
}

/* part[(2*chunk+0)*C + j] = sum over the chunk's rows of dout*xh, [(2*chunk+1)*C + j] of dout */
__global__ void __launch_bounds__(LN_COL_THREADS)
k_ln_bwd_cols(float *__restrict__ part, const uint16_t *__restrict__ dout,
              const uint16_t *__restrict__ in, const float *__restrict__ mean,
              const float *__restrict__ rstd, int n, int C)
{
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    const int chunk = blockIdx.y;
    if (j >= C)
        return;
    const int i0 = chunk * LN_ROWS_PER_CHUNK;
    const int i1 = nt_imin(n, i0 + LN_ROWS_PER_CHUNK);
    float dg = 0.0f, db = 0.0f;
    for (int i = i0; i < i1; i++) {
        float dy = nt_bf2f(dout[(size_t)i * C + j]);
        float xh = (nt_bf2f(in[(size_t)i * C + j]) - mean[i]) * rstd[i];
        dg += dy * xh;
        db += dy;
    }
    part[(size_t)(2 * chunk) * C + j] = dg;
    part[(size_t)(2 * chunk + 1) * C + j] = db;
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

extern "C" void cuda_layernorm1p_fwd(nt_bf16 *out, float *mean, float *rstd, const nt_bf16 *in,
                                     const nt_bf16 *gamma, const nt_bf16 *beta, int n, int C,
                                     float eps, nt_stream stream)
{
    if (n <= 0 || C <= 0)
        return;
    NT_LAUNCH(k_ln_fwd, n, LN_THREADS, 0, stream, out, mean, rstd, in, gamma, beta, C, eps);
}

extern "C" void cuda_layernorm1p_bwd(nt_bf16 *din, float *dgamma, float *dbeta,
                                     const nt_bf16 *dout, const nt_bf16 *in, const float *mean,
                                     const float *rstd, const nt_bf16 *gamma, int n, int C,
                                     nt_stream stream)
{
    if (n <= 0 || C <= 0)
        return;
    NT_LAUNCH(k_ln_bwd_rows, n, LN_THREADS, 0, stream, din, dout, in, mean, rstd, gamma, C);
    const int nchunks = (n + LN_ROWS_PER_CHUNK - 1) / LN_ROWS_PER_CHUNK;
    NT_REQUIRE(nchunks <= 65535, "cuda_layernorm1p_bwd: too many rows (n > 65535*64)");
    float *part = NULL;
    NT_CHECK_CUDA(cudaMallocAsync((void **)&part, (size_t)2 * nchunks * C * sizeof(float),
                                  (cudaStream_t)stream));
    const int cb = (C + LN_COL_THREADS - 1) / LN_COL_THREADS;
    NT_LAUNCH(k_ln_bwd_cols, dim3(cb, nchunks), LN_COL_THREADS, 0, stream, part, dout, in, mean,
              rstd, n, C);
    NT_LAUNCH(k_ln_bwd_final, cb, LN_COL_THREADS, 0, stream, dgamma, dbeta, (const float *)part,
              nchunks, C);
    NT_CHECK_CUDA(cudaFreeAsync(part, (cudaStream_t)stream));
}
