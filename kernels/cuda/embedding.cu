/* embedding.cu — vocab-parallel token embedding on bf16 tables.
 *
 * cuda_embedding_fwd: one block per token row copies table row
 *   tok-vocab_lo (bf16, exact) or writes zeros for tokens of other shards.
 * cuda_embedding_bwd: dtable (fp32) += dout rows, bitwise equal to
 *   cpu_embedding_bwd (which adds the rows of a repeated token in token
 *   order), deterministic, no atomics, in two kernels:
 *     k_emb_sort  the tokens' stable order by table row (a token's rank =
 *                 how many tokens have a smaller row, or the same row and a
 *                 smaller index; tokens of other shards last): perm[rank] = i,
 *                 skey[rank] = its row
 *     k_emb_rows  one block per run of equal rows in that order (the blocks
 *                 of other positions return at once): each thread keeps up
 *                 to EMB_COLS columns of the table row in registers, adds
 *                 the run's dout rows in token order and stores them.
 *   Parallel over rows and columns, where one thread per column walking all
 *   n tokens (the earlier kernel) was bound by one dependent load-add-store
 *   per token on 18 blocks at hidden 2304. */
#include "nt_device.cuh"

#define EMB_SORT_THREADS 256
#define EMB_THREADS 128
#define EMB_COLS 8 /* columns per thread: a block covers EMB_THREADS*EMB_COLS columns */
#define EMB_UNROLL 8 /* tokens of a run loaded together */

__global__ void k_embedding_fwd(uint16_t *__restrict__ out, const int32_t *__restrict__ tok,
                                const uint16_t *__restrict__ table, int vocab_lo, int rows, int C)
{
    const int i = blockIdx.x;
    const long long r = (long long)tok[i] - vocab_lo;
    uint16_t *o = out + (size_t)i * C;
    if (r >= 0 && r < rows) {
        const uint16_t *t = table + (size_t)r * C;
        for (int c = threadIdx.x; c < C; c += blockDim.x)
            o[c] = t[c];
    } else {
        for (int c = threadIdx.x; c < C; c += blockDim.x)
            o[c] = 0;
    }
}

/* the token's table row, or rows (sorts last, skipped) for another shard */
__device__ __forceinline__ int emb_key(const int32_t *tok, int i, int vocab_lo, int rows)
{
    const long long r = (long long)tok[i] - vocab_lo;
    return (r >= 0 && r < rows) ? (int)r : rows;
}

__global__ void __launch_bounds__(EMB_SORT_THREADS)
k_emb_sort(int32_t *__restrict__ perm, int32_t *__restrict__ skey, const int32_t *__restrict__ tok, int n,
           int vocab_lo, int rows)
{
    __shared__ int keys[EMB_SORT_THREADS];
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    const int ki = i < n ? emb_key(tok, i, vocab_lo, rows) : 0;
    int rank = 0;
    for (int j0 = 0; j0 < n; j0 += EMB_SORT_THREADS) {
        __syncthreads();
        if (j0 + threadIdx.x < n)
            keys[threadIdx.x] = emb_key(tok, j0 + threadIdx.x, vocab_lo, rows);
        __syncthreads();
        const int m = nt_imin(EMB_SORT_THREADS, n - j0);
        for (int t = 0; t < m; t++) {
            const int kj = keys[t];
            rank += (kj < ki) | ((kj == ki) & (j0 + t < i));
        }
    }
    if (i < n) {
        perm[rank] = i;
        skey[rank] = ki;
    }
}

__global__ void __launch_bounds__(EMB_THREADS)
k_emb_rows(float *__restrict__ dtable, const int32_t *__restrict__ perm, const int32_t *__restrict__ skey,
           const uint16_t *__restrict__ dout, int n, int rows, int C)
{
    const int p = blockIdx.x;
    const int r = skey[p];
    if (r == rows || (p > 0 && skey[p - 1] == r))
        return; /* another shard's token, or not the first of its run */
    const int c0 = blockIdx.y * (EMB_THREADS * EMB_COLS) + threadIdx.x;
    float *d = dtable + (size_t)r * C;
    float acc[EMB_COLS];
#pragma unroll
    for (int k = 0; k < EMB_COLS; k++) {
        const int c = c0 + k * EMB_THREADS;
        acc[k] = c < C ? d[c] : 0.0f;
    }
    /* long runs (a padding token, a frequent word) EMB_UNROLL tokens at a time,
     * their loads issued together, added in token order as one at a time: the
     * keys are sorted, so skey[q + EMB_UNROLL - 1] == r means the whole group is r */
    int q = p;
    for (; q + EMB_UNROLL <= n && skey[q + EMB_UNROLL - 1] == r; q += EMB_UNROLL) {
        const uint16_t *g[EMB_UNROLL];
#pragma unroll
        for (int u = 0; u < EMB_UNROLL; u++)
            g[u] = dout + (size_t)perm[q + u] * C;
#pragma unroll
        for (int k = 0; k < EMB_COLS; k++) {
            const int c = c0 + k * EMB_THREADS;
            if (c < C) {
                float v[EMB_UNROLL];
#pragma unroll
                for (int u = 0; u < EMB_UNROLL; u++)
                    v[u] = nt_bf2f(g[u][c]);
#pragma unroll
                for (int u = 0; u < EMB_UNROLL; u++)
                    acc[k] += v[u];
            }
        }
    }
    for (; q < n && skey[q] == r; q++) {
        const uint16_t *g = dout + (size_t)perm[q] * C;
#pragma unroll
        for (int k = 0; k < EMB_COLS; k++) {
            const int c = c0 + k * EMB_THREADS;
            if (c < C)
                acc[k] += nt_bf2f(g[c]);
        }
    }
#pragma unroll
    for (int k = 0; k < EMB_COLS; k++) {
        const int c = c0 + k * EMB_THREADS;
        if (c < C)
            d[c] = acc[k];
    }
}

extern "C" void cuda_embedding_fwd(nt_bf16 *out, const int32_t *tok, const nt_bf16 *table, int n,
                                   int vocab_lo, int rows, int C, nt_stream stream)
{
    if (n <= 0 || C <= 0)
        return;
    NT_LAUNCH(k_embedding_fwd, n, 256, 0, stream, out, tok, table, vocab_lo, rows, C);
}

extern "C" void cuda_embedding_bwd(float *dtable, const int32_t *tok, const nt_bf16 *dout, int n,
                                   int vocab_lo, int rows, int C, nt_stream stream)
{
    if (n <= 0 || C <= 0 || rows <= 0)
        return;
    int32_t *perm = NULL; /* perm[n], then the sorted keys skey[n] */
    NT_CHECK_CUDA(cudaMallocAsync((void **)&perm, (size_t)2 * n * sizeof(int32_t), (cudaStream_t)stream));
    NT_LAUNCH(k_emb_sort, (n + EMB_SORT_THREADS - 1) / EMB_SORT_THREADS, EMB_SORT_THREADS, 0, stream,
              perm, perm + n, tok, n, vocab_lo, rows);
    const int cblocks = (C + EMB_THREADS * EMB_COLS - 1) / (EMB_THREADS * EMB_COLS);
    NT_LAUNCH(k_emb_rows, dim3(n, cblocks), EMB_THREADS, 0, stream, dtable, (const int32_t *)perm,
              (const int32_t *)perm + n, dout, n, rows, C);
    NT_CHECK_CUDA(cudaFreeAsync(perm, (cudaStream_t)stream));
}
