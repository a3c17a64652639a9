/* sqrelu.cu — squared ReLU of the Nemotron MLP on bf16 tensors, fp32 math:
 * cuda_sqrelu_fwd: out = max(x,0)^2;  cuda_sqrelu_bwd: din = dout*2*max(x,0)
 * (overwrites din).  Grid-stride; eight elements (16 bytes) per step when
 * the buffers are 16-byte aligned, the remainder and unaligned buffers one
 * element per step.  Same arithmetic on both paths. */
#include "nt_device.cuh"

__device__ __forceinline__ float sq_fwd(float x)
{
    x = x > 0.0f ? x : 0.0f;
    return x * x;
}
__device__ __forceinline__ float sq_bwd(float dy, float x)
{
    x = x > 0.0f ? x : 0.0f;
    return dy * (2.0f * x);
}

/* elements [i0, n) one at a time */
__global__ void k_sqrelu_fwd(uint16_t *__restrict__ out, const uint16_t *__restrict__ in, size_t i0, size_t n)
{
    for (size_t i = i0 + (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        out[i] = nt_f2bf(sq_fwd(nt_bf2f(in[i])));
}

__global__ void k_sqrelu_bwd(uint16_t *__restrict__ din, const uint16_t *__restrict__ dout,
                             const uint16_t *__restrict__ in, size_t i0, size_t n)
{
    for (size_t i = i0 + (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        din[i] = nt_f2bf(sq_bwd(nt_bf2f(dout[i]), nt_bf2f(in[i])));
}

/* nv vectors of 8 */
__global__ void k_sqrelu_fwd8(uint16_t *__restrict__ out, const uint16_t *__restrict__ in, size_t nv)
{
    for (size_t v = (size_t)blockIdx.x * blockDim.x + threadIdx.x; v < nv;
         v += (size_t)gridDim.x * blockDim.x) {
        float x[8];
        nt_ld_bf16x8(x, in + 8 * v);
#pragma unroll
        for (int k = 0; k < 8; k++)
            x[k] = sq_fwd(x[k]);
        nt_st_bf16x8(out + 8 * v, x);
    }
}

__global__ void k_sqrelu_bwd8(uint16_t *__restrict__ din, const uint16_t *__restrict__ dout,
                              const uint16_t *__restrict__ in, size_t nv)
{
    for (size_t v = (size_t)blockIdx.x * blockDim.x + threadIdx.x; v < nv;
         v += (size_t)gridDim.x * blockDim.x) {
        float x[8], dy[8];
        nt_ld_bf16x8(x, in + 8 * v);
        nt_ld_bf16x8(dy, dout + 8 * v);
#pragma unroll
        for (int k = 0; k < 8; k++)
            x[k] = sq_bwd(dy[k], x[k]);
        nt_st_bf16x8(din + 8 * v, x);
    }
}

extern "C" void cuda_sqrelu_fwd(nt_bf16 *out, const nt_bf16 *in, size_t n, nt_stream stream)
{
    const size_t nv = nt_aligned16(out, in) ? n / 8 : 0;
    if (nv)
        NT_LAUNCH(k_sqrelu_fwd8, nt_grid_for(nv, 256), 256, 0, stream, out, in, nv);
    if (8 * nv < n)
        NT_LAUNCH(k_sqrelu_fwd, nt_grid_for(n - 8 * nv, 256), 256, 0, stream, out, in, 8 * nv, n);
}

extern "C" void cuda_sqrelu_bwd(nt_bf16 *din, const nt_bf16 *dout, const nt_bf16 *in, size_t n,
                                nt_stream stream)
{
    const size_t nv = nt_aligned16(din, dout, in) ? n / 8 : 0;
    if (nv)
        NT_LAUNCH(k_sqrelu_bwd8, nt_grid_for(nv, 256), 256, 0, stream, din, dout, in, nv);
    if (8 * nv < n)
        NT_LAUNCH(k_sqrelu_bwd, nt_grid_for(n - 8 * nv, 256), 256, 0, stream, din, dout, in, 8 * nv, n);
}
