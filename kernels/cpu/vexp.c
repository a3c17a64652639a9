/* vexp.c — cpu_exp_shift: y = expf(x - shift) over a row, the exponentials
 * of the softmaxes (attention) and of cross-entropy.  On x86-64 with glibc
 * the bulk goes through glibc's vector math library (libmvec: 16-, 8- or
 * 4-wide expf for AVX-512, AVX2 or the SSE2 baseline, chosen once from the
 * CPU; within 4 ulp of the correctly rounded value, as glibc documents);
 * the tail, and other platforms, use scalar expf. */
#include <math.h>

#include "kernels_cpu.h"
/* configure's findings; a build without configure (kernels/cuda/build_test.sh)
 * has none and takes the portable paths */
#if defined(__has_include)
#if __has_include("build_config.h")
#include "build_config.h"
#endif
#endif

#if defined(NT_HAVE_MVEC) && defined(__x86_64__)
#include <immintrin.h>

__m128 _ZGVbN4v_expf(__m128 x);
__m256 _ZGVdN8v_expf(__m256 x);
__m512 _ZGVeN16v_expf(__m512 x);

static void exp_tail(float *y, const float *x, int i, int n, float shift)
{
    for (; i < n; i++) y[i] = expf(x[i] - shift);
}

__attribute__((target("avx512f"))) static void exp_avx512(float *y, const float *x, int n, float shift)
{
    int i = 0;
    __m512 s = _mm512_set1_ps(shift);
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _ZGVeN16v_expf(_mm512_sub_ps(_mm512_loadu_ps(x + i), s)));
    exp_tail(y, x, i, n, shift);
}

__attribute__((target("avx2"))) static void exp_avx2(float *y, const float *x, int n, float shift)
{
    int i = 0;
    __m256 s = _mm256_set1_ps(shift);
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _ZGVdN8v_expf(_mm256_sub_ps(_mm256_loadu_ps(x + i), s)));
    exp_tail(y, x, i, n, shift);
}

static void exp_sse2(float *y, const float *x, int n, float shift)
{
    int i = 0;
    __m128 s = _mm_set1_ps(shift);
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(y + i, _ZGVbN4v_expf(_mm_sub_ps(_mm_loadu_ps(x + i), s)));
    exp_tail(y, x, i, n, shift);
}

typedef void (*exp_fn)(float *, const float *, int, float);

static exp_fn pick(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return exp_avx512;
    if (__builtin_cpu_supports("avx2")) return exp_avx2;
    return exp_sse2;
}

void cpu_exp_shift(float *y, const float *x, int n, float shift)
{
    static exp_fn fn;   /* a benign race: every thread picks the same function */
    if (!fn) fn = pick();
    fn(y, x, n, shift);
}
#else
void cpu_exp_shift(float *y, const float *x, int n, float shift)
{
    for (int i = 0; i < n; i++) y[i] = expf(x[i] - shift);
}
#endif
