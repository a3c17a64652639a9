/* adamw.cu — AdamW step on fp32 master weights, moments and gradients, with
 * the bf16 working copy of the parameters written alongside (GPU backend:
 * bf16 weights, fp32 master).  Same semantics and operation order as
 * kernels/cpu/adamw.c (PyTorch AdamW): the scalar factors are computed on the
 * host in double exactly as there, and the per-element arithmetic uses
 * explicitly rounded operations (no FMA contraction, IEEE sqrt and divide),
 * so the fp32 results match the CPU's bit for bit when the CPU build does
 * not contract either:
 *   g = grad*grad_scale; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2
 *   p = p*(1 - lr*wd) - (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps);  param = bf16(p) */
#include "nt_device.cuh"

__global__ void k_adamw(float *__restrict__ master, uint16_t *__restrict__ param,
                        float *__restrict__ m, float *__restrict__ v,
                        const float *__restrict__ grad, size_t n, float b1, float c1, float b2,
                        float c2, float eps, float step_size, float bc2_sqrt, float decay,
                        float grad_scale)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        const float g = __fmul_rn(grad[i], grad_scale);
        const float mi = __fadd_rn(__fmul_rn(b1, m[i]), __fmul_rn(c1, g));
        const float vi = __fadd_rn(__fmul_rn(b2, v[i]), __fmul_rn(c2, __fmul_rn(g, g)));
        m[i] = mi;
        v[i] = vi;
        const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), bc2_sqrt), eps);
        const float p = __fsub_rn(__fmul_rn(master[i], decay), __fmul_rn(step_size, __fdiv_rn(mi, denom)));
        master[i] = p;
        param[i] = nt_f2bf(p);
    }
}

extern "C" void cuda_adamw(float *master, nt_bf16 *param, float *m, float *v, const float *grad,
                           size_t n, float lr, float beta1, float beta2, float eps, float wd,
                           float grad_scale, int step, nt_stream stream)
{
    if (n == 0)
        return;
    if (step < 1)
        step = 1;
    const double bc1 = 1.0 - pow((double)beta1, step);
    const double bc2 = 1.0 - pow((double)beta2, step);
    const float step_size = (float)((double)lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float decay = (float)(1.0 - (double)lr * (double)wd);
    const float c1 = (float)(1.0 - (double)beta1);
    const float c2 = (float)(1.0 - (double)beta2);
    NT_LAUNCH(k_adamw, nt_grid_for(n, 256), 256, 0, stream, master, param, m, v, grad, n, beta1,
              c1, beta2, c2, eps, step_size, bc2_sqrt, decay, grad_scale);
}
