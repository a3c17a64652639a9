/* cross_entropy.cu — vocab-parallel softmax cross-entropy in the four steps of
 * kernels/cpu/cross_entropy.c (a TP group all-reduces MAX of rowmax and SUM
 * of sumexp and tgt between them), on bf16 logits [n, V] (this rank's vocab
 * shard, global ids [vocab_lo, vocab_lo+V)) with fp32 statistics:
 *   cuda_ce_rowmax  rowmax[i] = max_j logits[i,j]
 *   cuda_ce_sumexp  sumexp[i] = sum_j exp(logits[i,j]-rowmax[i]) (fp32 per
 *                   thread, fixed tree across the block); tgt[i] = target
 *                   logit if the target is in the shard, else 0
 *   cuda_ce_stats   both in one read of the logits, where a row is not split
 *                   over TP: an online max per thread with its sum rescaled
 *                   when the max grows, pairs merged in a fixed tree
 *   cuda_ce_loss    loss = log(sumexp) + rowmax - tgt (in double, as the CPU)
 *   cuda_ce_bwd     dlogits = dloss*(softmax - onehot), bf16; may run in place
 *                   (each element is read and written by the same thread).
 * One block per row for the reductions and the backward; rows of V % 8 == 0
 * on 16-byte aligned buffers are read (and the backward written) eight bf16
 * per 16-byte access, other rows one element per access. */
#include "nt_device.cuh"

#define CE_THREADS 256

template <int W>
__global__ void __launch_bounds__(CE_THREADS)
k_ce_rowmax(float *__restrict__ rowmax, const uint16_t *__restrict__ logits, int V)
{
    __shared__ float red[32];
    const uint16_t *l = logits + (size_t)blockIdx.x * V;
    float m = -INFINITY;
    for (int j = W * threadIdx.x; j < V; j += W * blockDim.x) {
        float v[W];
        nt_ld_bf16w<W>(v, l + j);
#pragma unroll
        for (int k = 0; k < W; k++)
            m = fmaxf(m, v[k]);
    }
    m = nt_block_reduce(m, NtMax(), -INFINITY, red);
    if (threadIdx.x == 0)
        rowmax[blockIdx.x] = m;
}

template <int W>
__global__ void __launch_bounds__(CE_THREADS)
k_ce_sumexp(float *__restrict__ sumexp, float *__restrict__ tgt, const uint16_t *__restrict__ logits,
            const float *__restrict__ rowmax, const int32_t *__restrict__ targets, int vocab_lo, int V)
{
    __shared__ float red[32];
    const int i = blockIdx.x;
    const uint16_t *l = logits + (size_t)i * V;
    const float m = rowmax[i];
    float s = 0.0f;
    for (int j = W * threadIdx.x; j < V; j += W * blockDim.x) {
        float v[W];
        nt_ld_bf16w<W>(v, l + j);
#pragma unroll
        for (int k = 0; k < W; k++)
            s += expf(v[k] - m);
    }
    s = nt_block_reduce(s, NtSum(), 0.0f, red);
    if (threadIdx.x == 0) {
        sumexp[i] = s;
        const long long t = (long long)targets[i] - vocab_lo;
        tgt[i] = (t >= 0 && t < V) ? nt_bf2f(l[t]) : 0.0f;
    }
}

/* (m, s) pairs of a softmax denominator: s = sum exp(x - m) over the elements
 * seen; two merge into the larger maximum, each sum rescaled to it (a pair
 * that has seen only -inf, m = -inf and s = 0, contributes nothing) */
__device__ __forceinline__ void ce_merge(float &m, float &s, float m2, float s2)
{
    const float M = fmaxf(m, m2);
    if (M == -INFINITY)
        return;
    s = s * expf(m - M) + s2 * expf(m2 - M);
    m = M;
}

/* ce_rowmax and ce_sumexp in one read of the row: each thread keeps an
 * online (max, sum) and rescales its sum when its max grows (once per W
 * elements at most), then the block merges the pairs in a fixed tree */
template <int W>
__global__ void __launch_bounds__(CE_THREADS)
k_ce_stats(float *__restrict__ rowmax, float *__restrict__ sumexp, float *__restrict__ tgt,
           const uint16_t *__restrict__ logits, const int32_t *__restrict__ targets, int vocab_lo, int V)
{
    __shared__ float red_m[32], red_s[32];
    const int i = blockIdx.x;
    const uint16_t *l = logits + (size_t)i * V;
    float m = -INFINITY, s = 0.0f;
    for (int j = W * threadIdx.x; j < V; j += W * blockDim.x) {
        float v[W];
        nt_ld_bf16w<W>(v, l + j);
        float vm = v[0];
#pragma unroll
        for (int k = 1; k < W; k++)
            vm = fmaxf(vm, v[k]);
        if (vm > m) {
            s *= expf(m - vm); /* 0 while m = -inf: s is 0 then */
            m = vm;
        }
        if (m > -INFINITY) {
#pragma unroll
            for (int k = 0; k < W; k++)
                s += expf(v[k] - m);
        }
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float m2 = __shfl_xor_sync(0xffffffffu, m, o), s2 = __shfl_xor_sync(0xffffffffu, s, o);
        ce_merge(m, s, m2, s2);
    }
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    if (lane == 0) {
        red_m[w] = m;
        red_s[w] = s;
    }
    __syncthreads();
    if (w == 0) {
        m = lane < nw ? red_m[lane] : -INFINITY;
        s = lane < nw ? red_s[lane] : 0.0f;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            const float m2 = __shfl_xor_sync(0xffffffffu, m, o), s2 = __shfl_xor_sync(0xffffffffu, s, o);
            ce_merge(m, s, m2, s2);
        }
        if (lane == 0) {
            rowmax[i] = m;
            sumexp[i] = s;
            const long long t = (long long)targets[i] - vocab_lo;
            tgt[i] = (t >= 0 && t < V) ? nt_bf2f(l[t]) : 0.0f;
        }
    }
}

__global__ void k_ce_loss(float *__restrict__ loss, const float *__restrict__ rowmax,
                          const float *__restrict__ sumexp, const float *__restrict__ tgt, int n)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        loss[i] = (float)(log((double)sumexp[i]) + (double)rowmax[i] - (double)tgt[i]);
}

/* no __restrict__ on dlogits/logits: they may alias (each element is read
 * and then written by the same thread) */
template <int W>
__global__ void __launch_bounds__(CE_THREADS)
k_ce_bwd(uint16_t *dlogits, const uint16_t *logits, const float *__restrict__ rowmax,
         const float *__restrict__ sumexp, const int32_t *__restrict__ targets,
         const float *__restrict__ dloss, int vocab_lo, int V)
{
    const int i = blockIdx.x;
    const uint16_t *l = logits + (size_t)i * V;
    uint16_t *d = dlogits + (size_t)i * V;
    const float m = rowmax[i];
    const float inv = (float)(1.0 / (double)sumexp[i]);
    const float g = dloss[i];
    const long long t = (long long)targets[i] - vocab_lo;
    for (int j = W * threadIdx.x; j < V; j += W * blockDim.x) {
        float v[W];
        nt_ld_bf16w<W>(v, l + j);
#pragma unroll
        for (int k = 0; k < W; k++) {
            v[k] = g * (expf(v[k] - m) * inv);
            if (j + k == t)
                v[k] -= g;
        }
        nt_st_bf16w<W>(d + j, v);
    }
}

/* the 16-byte path: every row starts 16-byte aligned */
static bool ce_vec(const void *a, const void *b, int V) { return V % 8 == 0 && nt_aligned16(a, b); }

extern "C" void cuda_ce_rowmax(float *rowmax, const nt_bf16 *logits, int n, int V, nt_stream stream)
{
    if (n <= 0)
        return;
    auto k = ce_vec(logits, NULL, V) ? k_ce_rowmax<8> : k_ce_rowmax<1>;
    NT_LAUNCH(k, n, CE_THREADS, 0, stream, rowmax, logits, V);
}

extern "C" void cuda_ce_sumexp(float *sumexp, float *tgt, const nt_bf16 *logits,
                               const float *rowmax, const int32_t *targets, int vocab_lo, int n,
                               int V, nt_stream stream)
{
    if (n <= 0)
        return;
    auto k = ce_vec(logits, NULL, V) ? k_ce_sumexp<8> : k_ce_sumexp<1>;
    NT_LAUNCH(k, n, CE_THREADS, 0, stream, sumexp, tgt, logits, rowmax, targets, vocab_lo, V);
}

extern "C" void cuda_ce_stats(float *rowmax, float *sumexp, float *tgt, const nt_bf16 *logits,
                              const int32_t *targets, int vocab_lo, int n, int V, nt_stream stream)
{
    if (n <= 0)
        return;
    auto k = ce_vec(logits, NULL, V) ? k_ce_stats<8> : k_ce_stats<1>;
    NT_LAUNCH(k, n, CE_THREADS, 0, stream, rowmax, sumexp, tgt, logits, targets, vocab_lo, V);
}

extern "C" void cuda_ce_loss(float *loss, const float *rowmax, const float *sumexp,
                             const float *tgt, int n, nt_stream stream)
{
    if (n <= 0)
        return;
    NT_LAUNCH(k_ce_loss, (n + 255) / 256, 256, 0, stream, loss, rowmax, sumexp, tgt, n);
}

extern "C" void cuda_ce_bwd(nt_bf16 *dlogits, const nt_bf16 *logits, const float *rowmax,
                            const float *sumexp, const int32_t *targets, const float *dloss,
                            int vocab_lo, int n, int V, nt_stream stream)
{
    if (n <= 0)
        return;
    auto k = ce_vec(dlogits, logits, V) ? k_ce_bwd<8> : k_ce_bwd<1>;
    NT_LAUNCH(k, n, CE_THREADS, 0, stream, dlogits, logits, rowmax, sumexp, targets, dloss, vocab_lo, V);
}
