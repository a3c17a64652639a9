/* adamw.c — AdamW step on fp32 master weights and moments, PyTorch
 * torch.optim.AdamW semantics (decoupled weight decay applied to the param
 * before the Adam update; bias corrections 1 - beta^step computed in double
 * like PyTorch's Python floats):
 *   g = grad*grad_scale; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2
 *   p *= 1 - lr*wd;  p -= (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps) */
#include <math.h>

#include "kernels_cpu.h"

/* The update is elementwise: split over the CPU kernel threads
 * (cpu_parallel_for), results equal the serial loop's. */
#define ADAMW_GRAIN 16384

struct adamw_job {
    float *param, *m, *v;
    const float *grad;
    float grad_scale, b1, c1, b2, c2, bc2_sqrt, eps, decay, step_size;
};

static void adamw_range(void *p, size_t i0, size_t i1)
{
    const struct adamw_job *j = p;
    float *param = j->param, *m = j->m, *v = j->v;
    const float *grad = j->grad;
    const float grad_scale = j->grad_scale, b1 = j->b1, c1 = j->c1, b2 = j->b2, c2 = j->c2;
    const float bc2_sqrt = j->bc2_sqrt, eps = j->eps, decay = j->decay, step_size = j->step_size;
    for (size_t i = i0; i < i1; i++) {
        float g = grad[i] * grad_scale;
        float mi = b1 * m[i] + c1 * g;
        float vi = b2 * v[i] + c2 * (g * g);
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        param[i] = param[i] * decay - step_size * (mi / denom);
    }
}

void cpu_adamw(float *param, float *m, float *v, const float *grad, size_t n, float lr,
               float beta1, float beta2, float eps, float wd, float grad_scale, int step)
{
    if (step < 1)
        step = 1;
    const double bc1 = 1.0 - pow((double)beta1, step);
    const double bc2 = 1.0 - pow((double)beta2, step);
    const float step_size = (float)((double)lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float decay = (float)(1.0 - (double)lr * (double)wd);
    const float b1 = beta1, c1 = (float)(1.0 - (double)beta1);
    const float b2 = beta2, c2 = (float)(1.0 - (double)beta2);
    struct adamw_job j = { param, m, v, grad, grad_scale, b1, c1, b2, c2, bc2_sqrt, eps, decay,
                           step_size };
    cpu_parallel_for(n, ADAMW_GRAIN, adamw_range, &j);
}
