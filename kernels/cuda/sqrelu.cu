/* sqrelu.cu — squared ReLU of the Nemotron MLP on bf16 tensors, fp32 math:
 * cuda_sqrelu_fwd: out = max(x,0)^2;  cuda_sqrelu_bwd: din = dout*2*max(x,0)
 * (overwrites din).  Grid-stride, one element per step. */
#include "nt_device.cuh"

__global__ void k_sqrelu_fwd(uint16_t *__restrict__ out, const uint16_t *__restrict__ in, size_t n)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float x = nt_bf2f(in[i]);
        x = x > 0.0f ? x : 0.0f;
        out[i] = nt_f2bf(x * x);
    }
}

__global__ void k_sqrelu_bwd(uint16_t *__restrict__ din, const uint16_t *__restrict__ dout,
                             const uint16_t *__restrict__ in, size_t n)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float x = nt_bf2f(in[i]);
        x = x > 0.0f ? x : 0.0f;
        din[i] = nt_f2bf(nt_bf2f(dout[i]) * (2.0f * x));
    }
}

extern "C" void cuda_sqrelu_fwd(nt_bf16 *out, const nt_bf16 *in, size_t n, nt_stream stream)
{
    if (n == 0)
        return;
    NT_LAUNCH(k_sqrelu_fwd, nt_grid_for(n, 256), 256, 0, stream, out, in, n);
}

extern "C" void cuda_sqrelu_bwd(nt_bf16 *din, const nt_bf16 *dout, const nt_bf16 *in, size_t n,
                                nt_stream stream)
{
    if (n == 0)
        return;
    NT_LAUNCH(k_sqrelu_bwd, nt_grid_for(n, 256), 256, 0, stream, din, dout, in, n);
}
