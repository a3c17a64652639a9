/* matmul.c — cpu_matmul: the fp32 GEMM of the CPU backend, a wrapper
 * around OpenBLAS cblas_sgemm (row-major).  With more than one kernel-pool
 * thread (parallel.c) a large GEMM is split into row (or column) blocks over
 * the pool, each a single-threaded sgemm, and OpenBLAS itself is set to one
 * thread: its own workers and the pool's would otherwise spin against each
 * other on the same cores.  A block keeps every element's whole K sum, so
 * the result is the unsplit GEMM's.  Owns only the argument mapping
 * (leading dimensions for the transposed/untransposed operands) and the
 * degenerate K == 0 case, which BLAS would reject through its lda check;
 * and who threads it (cpu_gemm_pool). */
#include <cblas.h>
#include <stddef.h>

#include "kernels_cpu.h"
/* configure's findings; a build without configure (kernels/cuda/build_test.sh)
 * has none and takes the portable paths */
#if defined(__has_include)
#if __has_include("build_config.h")
#include "build_config.h"
#endif
#endif

#if defined(HAVE_OPENBLAS_SET_NUM_THREADS) && defined(HAVE_OPENBLAS_GET_NUM_THREADS)
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

static int blas_threads_set(int n)
{
    int was = openblas_get_num_threads();
    if (n != was)
        openblas_set_num_threads(n);
    return was;
}
#else
static int blas_threads_set(int n)
{
    (void)n;
    return -1;
}
#endif

/* one sgemm, row-major */
static void sgemm(float *C, const float *A, const float *B, int M, int N, int K, int transA, int transB, float alpha,
                  float beta, int lda, int ldb, int ldc)
{
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, M, N, K, alpha,
                A, lda, B, ldb, beta, C, ldc);
}

/* the split of one GEMM over the kernel pool: blocks of rows of C (or of
 * columns when C has fewer rows than columns), each one single-threaded
 * sgemm; every element keeps its whole K sum in one call */
typedef struct mm_args {
    float *C;
    const float *A, *B;
    int M, N, K, transA, transB, by_cols;
    float alpha, beta;
} mm_args;

static void mm_part(void *ctx, size_t i0, size_t i1)
{
    const mm_args *a = ctx;
    int lda = a->transA ? a->M : a->K, ldb = a->transB ? a->K : a->N, k = (int)(i1 - i0);
    if (!a->by_cols) {
        const float *A = a->transA ? a->A + i0 : a->A + i0 * (size_t)a->K;
        sgemm(a->C + i0 * (size_t)a->N, A, a->B, k, a->N, a->K, a->transA, a->transB, a->alpha, a->beta, lda, ldb, a->N);
    } else {
        const float *B = a->transB ? a->B + i0 * (size_t)a->K : a->B + i0;
        sgemm(a->C + i0, a->A, B, a->M, k, a->K, a->transA, a->transB, a->alpha, a->beta, lda, ldb, a->N);
    }
}

int cpu_gemm_pool(void)
{
    static int split = -1;   /* a benign race: every caller decides the same */
    if (split < 0)
        split = cpu_parallel_threads() > 1 && blas_threads_set(1) > 0;
    return split;
}

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
    if ((double)M * N * K >= (double)(1 << 20) && cpu_gemm_pool()) {
        mm_args a = {C, A, B, M, N, K, transA, transB, M < N, alpha, beta};
        cpu_parallel_for((size_t)(a.by_cols ? N : M), 16, mm_part, &a);
        return;
    }
    sgemm(C, A, B, M, N, K, transA, transB, alpha, beta, transA ? M : K, transB ? K : N, N);
}
