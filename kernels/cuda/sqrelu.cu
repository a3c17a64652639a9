/* sqrelu.cu — squared ReLU of the Nemotron MLP on bf16 tensors, fp32 math:
 * cuda_sqrelu_fwd: out = max(x,0)^2;  cuda_sqrelu_bwd: din = dout*2*max(x,0)
 * (overwrites din).  Elementwise maps of nt_device.cuh (16-byte accesses on
 * aligned buffers). */
#include "nt_device.cuh"

struct SqFwd {
    __device__ __forceinline__ float operator()(float x) const
    {
        x = x > 0.0f ? x : 0.0f;
        return x * x;
    }
};
struct SqBwd { /* (dout, x) */
    __device__ __forceinline__ float operator()(float dy, float x) const
    {
        x = x > 0.0f ? x : 0.0f;
        return dy * (2.0f * x);
    }
};

extern "C" void cuda_sqrelu_fwd(nt_bf16 *out, const nt_bf16 *in, size_t n, nt_stream stream)
{
    nt_map_bf16<1>(out, in, NULL, n, SqFwd(), stream);
}

extern "C" void cuda_sqrelu_bwd(nt_bf16 *din, const nt_bf16 *dout, const nt_bf16 *in, size_t n,
                                nt_stream stream)
{
    nt_map_bf16<2>(din, dout, in, n, SqBwd(), stream);
}
