/* sqrelu.c — squared ReLU of the Nemotron MLP: cpu_sqrelu_fwd
 * (out = max(x,0)^2) and cpu_sqrelu_bwd (din = dout * 2*max(x,0), overwrite). */
#include "kernels_cpu.h"

void cpu_sqrelu_fwd(float *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = in[i] > 0.0f ? in[i] : 0.0f;
        out[i] = x * x;
    }
}

void cpu_sqrelu_bwd(float *din, const float *dout, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = in[i] > 0.0f ? in[i] : 0.0f;
        din[i] = dout[i] * (2.0f * x);
    }
}
