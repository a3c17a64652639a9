/* test_comm_nccl.c — the NCCL device path (src/parallel/comm_nccl.c) on real GPU
 * buffers: communicator set-up (unique id over MPI, ncclCommInitRank), and
 * every collective it implements — all-reduce (bf16 sum and max, fp32,
 * fp64, int32), reduce-scatter (in place and into a separate buffer),
 * all-gather (in place and separate), broadcast — against exact expected
 * values (small integers, exact in bf16).  The collectives are called
 * through the device path itself, so they run on NCCL even with one rank
 * (the comm API skips one-rank groups); with one GPU per rank and several
 * ranks the public comm API is checked too.  NCCL refuses ranks that share a
 * GPU, so with more ranks than GPUs the test skips.
 * Without a GPU: "SKIP: no GPU", exit 77. */
#include "util/check.h"
#include "parallel/comm.h"
#include "parallel/comm_dev.h"

#include "cuda_check.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int fails;
#define EXPECT(cond, ...) do { if (!(cond)) { if (fails++ < 20) { printf("FAIL: " __VA_ARGS__); printf("\n"); } } } while (0)

static uint16_t bf(float f) { uint32_t u; memcpy(&u, &f, 4); return (uint16_t)(u >> 16); } /* exact for small ints */
static float unbf(uint16_t h) { uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f; }

static void *dev_from(const void *host, size_t bytes)
{
    void *d;
    NT_CHECK_CUDA(cudaMalloc(&d, bytes));
    NT_CHECK_CUDA(cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice));
    return d;
}
static void down(void *host, const void *dev, size_t bytes)
{
    NT_CHECK_CUDA(cudaDeviceSynchronize());
    NT_CHECK_CUDA(cudaMemcpy(host, dev, bytes, cudaMemcpyDeviceToHost));
}

/* one round of every collective; api = 1 goes through the public comm API */
static void run(const nt_comm *c, int api)
{
    const nt_comm_dev *D = &nt_comm_dev_nccl;
    const int P = c->size, r = c->rank;
    const char *how = api ? "comm API" : "device path";
    const size_t blk = 1000, n = blk * (size_t)P; /* odd-ish sizes: not a multiple of 128 */
    const float rsum = (float)(P * (P + 1) / 2);
    uint16_t *hb = nt_malloc(2 * n * sizeof(uint16_t), "host bf16");
    float *hf = nt_malloc(2 * n * sizeof(float), "host f32");

    /* bf16 all-reduce, sum then max */
    for (size_t i = 0; i < n; i++) hb[i] = bf((float)((r + 1) * (int)(i % 7 + 1)));
    uint16_t *db = dev_from(hb, 2 * n * sizeof(uint16_t));
    if (api) nt_comm_allreduce(c, db, n, NT_BF16, NT_SUM); else D->allreduce(c, db, n, NT_BF16, NT_SUM);
    down(hb, db, n * sizeof(uint16_t));
    for (size_t i = 0; i < n; i++) EXPECT(unbf(hb[i]) == rsum * (float)(i % 7 + 1), "%s bf16 sum [%zu] %g", how, i, unbf(hb[i]));
    for (size_t i = 0; i < n; i++) hb[i] = bf((float)(r + (int)(i % 5)));
    NT_CHECK_CUDA(cudaMemcpy(db, hb, n * sizeof(uint16_t), cudaMemcpyHostToDevice));
    if (api) nt_comm_allreduce(c, db, n, NT_BF16, NT_MAX); else D->allreduce(c, db, n, NT_BF16, NT_MAX);
    down(hb, db, n * sizeof(uint16_t));
    for (size_t i = 0; i < n; i++) EXPECT(unbf(hb[i]) == (float)(P - 1 + (int)(i % 5)), "%s bf16 max [%zu] %g", how, i, unbf(hb[i]));

    /* fp32 all-reduce */
    for (size_t i = 0; i < n; i++) hf[i] = (float)(r + 1) * (float)(i % 3 + 1);
    float *df = dev_from(hf, 2 * n * sizeof(float));
    if (api) nt_comm_allreduce_f32(c, df, n, NT_SUM); else D->allreduce(c, df, n, NT_F32, NT_SUM);
    down(hf, df, n * sizeof(float));
    for (size_t i = 0; i < n; i++) EXPECT(hf[i] == rsum * (float)(i % 3 + 1), "%s f32 sum [%zu] %g", how, i, hf[i]);

    /* fp64 max, int32 sum */
    double hd[3] = {r + 0.5, -r, 1e300 * (r == 0)};
    double *dd = dev_from(hd, sizeof hd);
    if (api) nt_comm_allreduce_f64(c, dd, 3, NT_MAX); else D->allreduce(c, dd, 3, NT_F64, NT_MAX);
    down(hd, dd, sizeof hd);
    EXPECT(hd[0] == P - 0.5 && hd[1] == 0.0 && hd[2] == 1e300, "%s f64 max %g %g %g", how, hd[0], hd[1], hd[2]);
    int hi[2] = {r, 1};
    int *di = dev_from(hi, sizeof hi);
    if (api) nt_comm_allreduce_i32(c, di, 2, NT_SUM); else D->allreduce(c, di, 2, NT_I32, NT_SUM);
    down(hi, di, sizeof hi);
    EXPECT(hi[0] == P * (P - 1) / 2 && hi[1] == P, "%s i32 sum %d %d", how, hi[0], hi[1]);

    /* fp32 reduce-scatter into a separate buffer, then bf16 in place (recv = send + r*blk) */
    for (size_t i = 0; i < n; i++) hf[i] = (float)(r + 1) + (float)(i % 11);
    NT_CHECK_CUDA(cudaMemcpy(df, hf, n * sizeof(float), cudaMemcpyHostToDevice));
    if (api) nt_comm_reduce_scatter_f32(c, df, df + n, n); else D->reduce_scatter(c, df, df + n, n, NT_F32);
    down(hf, df + n, blk * sizeof(float));
    for (size_t i = 0; i < blk; i++)
        EXPECT(hf[i] == rsum + (float)P * (float)(((size_t)r * blk + i) % 11), "%s f32 reduce-scatter [%zu] %g", how, i, hf[i]);
    for (size_t i = 0; i < n; i++) hb[i] = bf((float)(r + 1));
    NT_CHECK_CUDA(cudaMemcpy(db, hb, n * sizeof(uint16_t), cudaMemcpyHostToDevice));
    uint16_t *mine = db + (size_t)r * blk;
    if (api) nt_comm_reduce_scatter(c, db, mine, n, NT_BF16); else D->reduce_scatter(c, db, mine, n, NT_BF16);
    down(hb, mine, blk * sizeof(uint16_t));
    for (size_t i = 0; i < blk; i++) EXPECT(unbf(hb[i]) == rsum, "%s bf16 reduce-scatter in place [%zu] %g", how, i, unbf(hb[i]));

    /* bf16 all-gather in place (send = recv + r*blk), fp32 into a separate buffer */
    for (size_t i = 0; i < blk; i++) hb[i] = bf((float)(10 * r + (int)(i % 9)));
    NT_CHECK_CUDA(cudaMemcpy(mine, hb, blk * sizeof(uint16_t), cudaMemcpyHostToDevice));
    if (api) nt_comm_allgather(c, mine, db, blk, NT_BF16); else D->allgather(c, mine, db, blk, NT_BF16);
    down(hb, db, n * sizeof(uint16_t));
    for (int q = 0; q < P; q++)
        for (size_t i = 0; i < blk; i++)
            EXPECT(unbf(hb[(size_t)q * blk + i]) == (float)(10 * q + (int)(i % 9)), "%s bf16 all-gather [%d,%zu]", how, q, i);
    for (size_t i = 0; i < blk; i++) hf[i] = (float)(100 * r) + (float)i;
    NT_CHECK_CUDA(cudaMemcpy(df, hf, blk * sizeof(float), cudaMemcpyHostToDevice));
    if (api) nt_comm_allgather_f32(c, df, df + n, blk); else D->allgather(c, df, df + n, blk, NT_F32);
    down(hf, df + n, n * sizeof(float));
    for (int q = 0; q < P; q++)
        for (size_t i = 0; i < blk; i++)
            EXPECT(hf[(size_t)q * blk + i] == (float)(100 * q) + (float)i, "%s f32 all-gather [%d,%zu]", how, q, i);

    /* broadcast from the last rank */
    hi[0] = r == P - 1 ? 4242 : -1;
    NT_CHECK_CUDA(cudaMemcpy(di, hi, sizeof(int), cudaMemcpyHostToDevice));
    if (api) nt_comm_bcast(c, di, sizeof(int), P - 1); else D->bcast(c, di, sizeof(int), P - 1);
    down(hi, di, sizeof(int));
    EXPECT(hi[0] == 4242, "%s bcast %d", how, hi[0]);

    NT_CHECK_CUDA(cudaFree(db)); NT_CHECK_CUDA(cudaFree(df)); NT_CHECK_CUDA(cudaFree(dd)); NT_CHECK_CUDA(cudaFree(di));
    free(hb); free(hf);
}

int main(void)
{
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    nt_comm c;
    nt_comm_from_mpi(&c, MPI_COMM_WORLD, "world");
    int ngpu = 0;
    if (cudaGetDeviceCount(&ngpu) != cudaSuccess) ngpu = 0;
    int skip = ngpu == 0 ? 1 : ngpu < c.size ? 2 : 0;
    if (skip) {
        if (c.rank == 0) {
            if (skip == 1) printf("SKIP: no GPU\n");
            else printf("SKIP: %d ranks share %d GPU(s); NCCL needs one GPU per rank\n", c.size, ngpu);
        }
        NT_CHECK_MPI(MPI_Finalize());
        return 77;
    }
    MPI_Comm node;
    int lr;
    NT_CHECK_MPI(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
    NT_CHECK_MPI(MPI_Comm_rank(node, &lr));
    NT_CHECK_CUDA(cudaSetDevice(lr % ngpu));
    char ver[64];
    nt_comm_nccl_version(ver, sizeof ver);
    c.dev = &nt_comm_dev_nccl;
    nt_comm_dev_nccl.attach(&c);
    run(&c, 0);
    if (c.size > 1) run(&c, 1);
    nt_comm_dev_nccl.release(&c);
    c.dev = NULL;
    int bad = fails;
    NT_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    if (c.rank == 0)
        printf("%s: NCCL collectives on device buffers (%s), %d rank(s) on %d GPU(s): %d failures\n", bad ? "FAIL" : "PASS",
               ver, c.size, ngpu, bad);
    NT_CHECK_MPI(MPI_Comm_free(&node));
    nt_comm_free(&c);
    NT_CHECK_MPI(MPI_Finalize());
    return bad ? 1 : 0;
}
