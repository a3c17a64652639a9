/* sqrelu.c — squared ReLU of the Nemotron MLP: cpu_sqrelu_fwd
 * (out = max(x,0)^2) and cpu_sqrelu_bwd (din = dout * 2*max(x,0), overwrite).
 * Split over the CPU kernel threads (cpu_parallel_for; elementwise, so the
 * results equal the serial loop's). */
#include "kernels_cpu.h"

#define SQ_GRAIN 32768

struct sq_job { float *out; const float *in, *dout; };

static void sq_fwd_range(void *p, size_t i0, size_t i1)
{
    const struct sq_job *j = p;
    for (size_t i = i0; i < i1; i++) {
        float x = j->in[i] > 0.0f ? j->in[i] : 0.0f;
        j->out[i] = x * x;
    }
}

static void sq_bwd_range(void *p, size_t i0, size_t i1)
{
    const struct sq_job *j = p;
    for (size_t i = i0; i < i1; i++) {
        float x = j->in[i] > 0.0f ? j->in[i] : 0.0f;
        j->out[i] = j->dout[i] * (2.0f * x);
    }
}

void cpu_sqrelu_fwd(float *out, const float *in, size_t n)
{
    struct sq_job j = { out, in, NULL };
    cpu_parallel_for(n, SQ_GRAIN, sq_fwd_range, &j);
}

void cpu_sqrelu_bwd(float *din, const float *dout, const float *in, size_t n)
{
    struct sq_job j = { din, in, dout };
    cpu_parallel_for(n, SQ_GRAIN, sq_bwd_range, &j);
}
