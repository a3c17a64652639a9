/* elementwise.cu — vector helpers with fp32 arithmetic: cuda_add (an
 * elementwise map of nt_device.cuh: 16-byte accesses when aligned) /
 * cuda_scale on bf16, cuda_add_f32 / cuda_scale_f32
 * on fp32, cuda_mask_cols (fill the columns c0.. of a bf16 [n, V] matrix,
 * e.g. -inf on padded-vocab logits), and cuda_sumsq, the sum of squares of
 * an fp32 vector accumulated in double (gradient-norm clipping).
 *
 * cuda_sumsq is deterministic: pass 1 uses a grid whose size depends on n
 * only (at most SUMSQ_BLOCKS blocks, grid-stride, double per thread, fixed
 * tree in the block) and writes one double per block; pass 2, one block,
 * adds the partials in a fixed order and writes (or adds to) *out. */
#include "nt_device.cuh"

#define SUMSQ_THREADS 256
#define SUMSQ_BLOCKS 1024

struct AddOp {
    __device__ __forceinline__ float operator()(float y, float x) const { return y + x; }
};

__global__ void k_add_f32(float *__restrict__ y, const float *__restrict__ x, size_t n)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        y[i] += x[i];
}

__global__ void k_scale_bf16(uint16_t *__restrict__ x, float s, size_t n)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        x[i] = nt_f2bf(nt_bf2f(x[i]) * s);
}

__global__ void k_scale_f32(float *__restrict__ x, float s, size_t n)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        x[i] *= s;
}

__global__ void k_mask_cols(uint16_t *__restrict__ x, int n, int V, int c0, float value)
{
    const uint16_t v = nt_f2bf(value);
    const size_t w = (size_t)(V - c0), total = (size_t)n * w;
    for (size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x)
        x[(idx / w) * (size_t)V + c0 + idx % w] = v;
}

__global__ void __launch_bounds__(SUMSQ_THREADS)
k_sumsq_partial(double *__restrict__ part, const float *__restrict__ x, size_t n)
{
    __shared__ double red[32];
    double s = 0.0;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        double v = (double)x[i];
        s += v * v;
    }
    s = nt_block_reduce(s, NtSum(), 0.0, red);
    if (threadIdx.x == 0)
        part[blockIdx.x] = s;
}

__global__ void __launch_bounds__(SUMSQ_THREADS)
k_sumsq_final(double *__restrict__ out, const double *__restrict__ part, int nparts, int accumulate)
{
    __shared__ double red[32];
    double s = 0.0;
    for (int i = threadIdx.x; i < nparts; i += blockDim.x)
        s += part[i];
    s = nt_block_reduce(s, NtSum(), 0.0, red);
    if (threadIdx.x == 0)
        *out = accumulate ? *out + s : s;
}

extern "C" void cuda_add(nt_bf16 *y, const nt_bf16 *x, size_t n, nt_stream stream)
{
    nt_map_bf16<2>(y, y, x, n, AddOp(), stream);
}

extern "C" void cuda_add_f32(float *y, const float *x, size_t n, nt_stream stream)
{
    if (n == 0)
        return;
    NT_LAUNCH(k_add_f32, nt_grid_for(n, 256), 256, 0, stream, y, x, n);
}

extern "C" void cuda_scale(nt_bf16 *x, float s, size_t n, nt_stream stream)
{
    if (n == 0)
        return;
    NT_LAUNCH(k_scale_bf16, nt_grid_for(n, 256), 256, 0, stream, x, s, n);
}

extern "C" void cuda_scale_f32(float *x, float s, size_t n, nt_stream stream)
{
    if (n == 0)
        return;
    NT_LAUNCH(k_scale_f32, nt_grid_for(n, 256), 256, 0, stream, x, s, n);
}

extern "C" void cuda_mask_cols(nt_bf16 *x, int n, int V, int c0, float value, nt_stream stream)
{
    if (c0 < 0)
        c0 = 0;
    if (n <= 0 || c0 >= V)
        return;
    const size_t total = (size_t)n * (size_t)(V - c0);
    NT_LAUNCH(k_mask_cols, nt_grid_for(total, 256), 256, 0, stream, x, n, V, c0, value);
}

extern "C" void cuda_sumsq(double *out, const float *x, size_t n, int accumulate, nt_stream stream)
{
    size_t nb = (n + SUMSQ_THREADS - 1) / SUMSQ_THREADS;
    int nparts = (int)(nb < SUMSQ_BLOCKS ? nb : SUMSQ_BLOCKS);
    double *part = NULL;
    if (nparts > 0) {
        NT_CHECK_CUDA(cudaMallocAsync((void **)&part, (size_t)nparts * sizeof(double),
                                      (cudaStream_t)stream));
        NT_LAUNCH(k_sumsq_partial, nparts, SUMSQ_THREADS, 0, stream, part, x, n);
    }
    NT_LAUNCH(k_sumsq_final, 1, SUMSQ_THREADS, 0, stream, out, (const double *)part, nparts,
              accumulate);
    if (part)
        NT_CHECK_CUDA(cudaFreeAsync(part, (cudaStream_t)stream));
}
