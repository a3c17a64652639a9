/* cast.cu — fp32 <-> bf16 conversion (cuda_f32_to_bf16 rounds to nearest
 * even, cuda_bf16_to_f32 is exact).  Grid-stride, one element per step. */
#include "nt_device.cuh"

__global__ void k_f32_to_bf16(uint16_t *__restrict__ dst, const float *__restrict__ src, size_t n)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        dst[i] = nt_f2bf(src[i]);
}

__global__ void k_bf16_to_f32(float *__restrict__ dst, const uint16_t *__restrict__ src, size_t n)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        dst[i] = nt_bf2f(src[i]);
}

extern "C" void cuda_f32_to_bf16(nt_bf16 *dst, const float *src, size_t n, nt_stream stream)
{
    if (n == 0)
        return;
    NT_LAUNCH(k_f32_to_bf16, nt_grid_for(n, 256), 256, 0, stream, dst, src, n);
}

extern "C" void cuda_bf16_to_f32(float *dst, const nt_bf16 *src, size_t n, nt_stream stream)
{
    if (n == 0)
        return;
    NT_LAUNCH(k_bf16_to_f32, nt_grid_for(n, 256), 256, 0, stream, dst, src, n);
}
