/* embedding.cu — vocab-parallel token embedding on bf16 tables.
 *
 * cuda_embedding_fwd: one block per token row copies table row
 *   tok-vocab_lo (bf16, exact) or writes zeros for tokens of other shards.
 * cuda_embedding_bwd: dtable (fp32) += dout rows.  Each thread owns one
 *   column and walks the tokens in index order, so repeated tokens are added
 *   in the same order as on the CPU: deterministic and bitwise equal to
 *   cpu_embedding_bwd, no atomics.  Parallel over columns only; for
 *   n = 4096 tokens this is a few ms, fine once per step (a sort-by-row
 *   variant would be faster if it ever matters). */
#include "nt_device.cuh"

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

__global__ void k_embedding_bwd(float *__restrict__ dtable, const int32_t *__restrict__ tok,
                                const uint16_t *__restrict__ dout, int n, int vocab_lo, int rows,
                                int C)
{
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C)
        return;
    for (int i = 0; i < n; i++) {
        const long long r = (long long)tok[i] - vocab_lo;
        if (r < 0 || r >= rows)
            continue;
        dtable[(size_t)r * C + c] += nt_bf2f(dout[(size_t)i * C + c]);
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
    if (n <= 0 || C <= 0)
        return;
    NT_LAUNCH(k_embedding_bwd, (C + 127) / 128, 128, 0, stream, dtable, tok, dout, n, vocab_lo,
              rows, C);
}
