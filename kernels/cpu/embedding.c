/* embedding.c — vocab-parallel token embedding: cpu_embedding_fwd (gather rows
 * of this rank's shard [vocab_lo, vocab_lo+rows), zero rows for tokens owned by
 * other ranks, so a TP all-reduce SUM completes the lookup) and
 * cpu_embedding_bwd (scatter-add of the output gradient into the shard). */
#include <string.h>

#include "kernels_cpu.h"

void cpu_embedding_fwd(float *out, const int32_t *tok, const float *table, int n,
                       int vocab_lo, int rows, int C)
{
    for (int i = 0; i < n; i++) {
        float *o = out + (size_t)i * C;
        long r = (long)tok[i] - vocab_lo;
        if (r >= 0 && r < rows)
            memcpy(o, table + (size_t)r * C, (size_t)C * sizeof(float));
        else
            memset(o, 0, (size_t)C * sizeof(float));
    }
}

void cpu_embedding_bwd(float *dtable, const int32_t *tok, const float *dout, int n,
                       int vocab_lo, int rows, int C)
{
    /* Serial on purpose: repeated tokens hit the same row, and a fixed
     * accumulation order keeps the result bitwise deterministic. */
    for (int i = 0; i < n; i++) {
        long r = (long)tok[i] - vocab_lo;
        if (r < 0 || r >= rows)
            continue;
        float *d = dtable + (size_t)r * C;
        const float *g = dout + (size_t)i * C;
        for (int j = 0; j < C; j++)
            d[j] += g[j];
    }
}
