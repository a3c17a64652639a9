/* matmul.c — cpu_matmul: the fp32 GEMM of the CPU backend, a thin wrapper
 * around OpenBLAS cblas_sgemm (row-major).  Owns only the argument mapping
 * (leading dimensions for the transposed/untransposed operands) and the
 * degenerate K == 0 case, which BLAS would reject through its lda check;
 * and the library's own thread count (cpu_blas_threads_set). */
#include <cblas.h>
#include <stddef.h>

#include "kernels_cpu.h"
#include "build_config.h"

#if defined(HAVE_OPENBLAS_SET_NUM_THREADS) && defined(HAVE_OPENBLAS_GET_NUM_THREADS)
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

int cpu_blas_threads_set(int n)
{
    int was = openblas_get_num_threads();
    if (n != was)
        openblas_set_num_threads(n);
    return was;
}
#else
int cpu_blas_threads_set(int n)
{
    (void)n;
    return -1;
}
#endif

void cpu_matmul(float *C, const float *A, const float *B, int M, int N, int K,
                int transA, int transB, float alpha, float beta)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) { /* C = beta*C (beta == 0 overwrites, as BLAS does) */
        size_t len = (size_t)M * (size_t)N;
        for (size_t i = 0; i < len; i++)
            C[i] = beta == 0.0f ? 0.0f : beta * C[i];
        return;
    }
    /* Row-major: op(A) is [M,K]; A is stored [M,K] (lda K) or [K,M] (lda M). */
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, M, N, K, alpha,
                A, transA ? M : K, B, transB ? K : N, beta, C, N);
}
