/* elementwise.c — small fp32 vector helpers: cpu_add (y += x), cpu_scale
 * (x *= s) and cpu_sumsq (sum of squares accumulated in double, fixed
 * summation order so that gradient-norm clipping is bitwise reproducible). */
#include "kernels_cpu.h"

#define EW_GRAIN 32768

struct ew_job { float *y; const float *x; float s; };

static void add_range(void *p, size_t i0, size_t i1)
{
    const struct ew_job *j = p;
    for (size_t i = i0; i < i1; i++)
        j->y[i] += j->x[i];
}

static void scale_range(void *p, size_t i0, size_t i1)
{
    const struct ew_job *j = p;
    for (size_t i = i0; i < i1; i++)
        j->y[i] *= j->s;
}

/* add and scale are split over the CPU kernel threads (elementwise: the
 * results equal the serial loop's); sumsq stays serial (its order is fixed). */
void cpu_add(float *y, const float *x, size_t n)
{
    struct ew_job j = { y, x, 0.0f };
    cpu_parallel_for(n, EW_GRAIN, add_range, &j);
}

void cpu_scale(float *x, float s, size_t n)
{
    struct ew_job j = { x, NULL, s };
    cpu_parallel_for(n, EW_GRAIN, scale_range, &j);
}

double cpu_sumsq(const float *x, size_t n)
{
    /* Four independent double partial sums (the same order on every run),
     * combined at the end. */
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        double a = x[i], b = x[i + 1], c = x[i + 2], d = x[i + 3];
        s0 += a * a;
        s1 += b * b;
        s2 += c * c;
        s3 += d * d;
    }
    for (; i < n; i++) {
        double a = x[i];
        s0 += a * a;
    }
    return (s0 + s1) + (s2 + s3);
}

void cpu_mask_cols(float *x, int n, int V, int c0, float value)
{
    if (c0 < 0) c0 = 0;
    for (int i = 0; i < n; i++)
        for (int c = c0; c < V; c++) x[(size_t)i * (size_t)V + (size_t)c] = value;
}
