/* bench_comm.c — `ntron bench --comm`: collective and point-to-point
 * bandwidth over the grid's TP, DP and PP communicators, reported as
 * nccl-tests does: size (bytes), count (elements), type, time (us),
 * algbw = size / time, busbw = algbw x factor with factor 2(n-1)/n for
 * all-reduce, (n-1)/n for reduce-scatter and all-gather (size = the full
 * gathered / scattered buffer), 1 for send/recv; #wrong = elements that
 * differ from the exactly representable expected values.  The timed
 * buffers are the backend's: on the CUDA backend, device memory moved by
 * NCCL (or staged through the host where ranks share a GPU), as nccl-tests
 * measures; they are filled and checked through host copies outside the
 * timed region. */
#include "bench/bench.h"
#include "util/check.h"
#include "util/json.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

enum { OP_AR, OP_RS, OP_AG, OP_SR, OP_N };
static const char *const op_name[OP_N] = {"all_reduce", "reduce_scatter", "all_gather", "sendrecv"};

/* fill inputs for one iteration; n = elements of the op's "size" */
static void fill(int op, const nt_comm *c, float *send, size_t n)
{
    size_t cnt = op == OP_AG ? n / (size_t)c->size : n;
    for (size_t i = 0; i < cnt; i++) {
        if (op == OP_AR) send[i] = (float)(c->rank + 1) + (float)(i % 7);
        else if (op == OP_RS) send[i] = (float)(c->rank + 1) + (float)(i % 5);
        else send[i] = (float)(c->rank * 1000) + (float)(i % 1000);
    }
}

static long check(int op, const nt_comm *c, const float *send, const float *recv, size_t n)
{
    long wrong = 0;
    int P = c->size, r = c->rank;
    double rsum = (double)P * (P + 1) / 2.0;
    if (op == OP_AR) {
        for (size_t i = 0; i < n; i++) wrong += send[i] != (float)(rsum + (double)P * (double)(i % 7));
    } else if (op == OP_RS) {
        size_t per = n / (size_t)P;
        for (size_t i = 0; i < per; i++) {
            size_t j = (size_t)r * per + i;
            wrong += recv[i] != (float)(rsum + (double)P * (double)(j % 5));
        }
    } else if (op == OP_AG) {
        size_t per = n / (size_t)P;
        for (int q = 0; q < P; q++)
            for (size_t i = 0; i < per; i++) wrong += recv[(size_t)q * per + i] != (float)(q * 1000) + (float)(i % 1000);
    } else {
        int prev = (r - 1 + P) % P;
        for (size_t i = 0; i < n; i++) wrong += recv[i] != (float)(prev * 1000) + (float)(i % 1000);
    }
    return wrong;
}

static void run_op(int op, const nt_comm *c, float *send, float *recv, size_t n)
{
    switch (op) {
    case OP_AR: nt_comm_allreduce_f32(c, send, n, NT_SUM); break;
    case OP_RS: nt_comm_reduce_scatter_f32(c, send, recv, n); break;
    case OP_AG: nt_comm_allgather_f32(c, send, recv, n / (size_t)c->size); break;
    default: {
        /* a ring step: one grouped exchange, as the pipeline's rounds */
        nt_p2p x[2] = {{1, send, n, NT_F32, (c->rank + 1) % c->size}, {0, recv, n, NT_F32, (c->rank - 1 + c->size) % c->size}};
        nt_comm_exchange(c, x, 2);
    }
    }
}

long nt_bench_comm(const nt_grid *g, const nt_ops *ops, size_t max_bytes, int iters, const char *json, int fault)
{
    const nt_comm *comms[3] = {&g->tp_comm, &g->dp_comm, &g->pp_comm};
    int rank0 = g->world.rank == 0;
    long total_wrong = 0;
    cJSON *rows = nt_json_array();
    size_t maxn = max_bytes / sizeof(float) + 64;
    /* host copies for filling and checking; the timed buffers are the backend's */
    float *send = nt_malloc(maxn * sizeof(float), "comm benchmark send buffer");
    float *recv = nt_malloc(maxn * sizeof(float), "comm benchmark receive buffer");
    int dev = !ops->host_resident;
    float *dsend = dev ? ops->alloc(maxn * sizeof(float), "comm benchmark device send buffer") : send;
    float *drecv = dev ? ops->alloc(maxn * sizeof(float), "comm benchmark device receive buffer") : recv;
    const char *path = !dev ? "host buffers, MPI" : !strcmp(nt_comm_exchange_path(&g->world), "nccl")
                                                        ? "device buffers, NCCL"
                                                        : "device buffers staged through host memory, MPI";
    if (rank0) {
        printf("================================================================================\n");
        printf("ntron bench --comm: world %d = TP %d x DP %d x PP %d, fp32, %s (%s), %d iterations per size "
               "(+2 warm-up), time = mean over iterations of the slowest rank\n",
               g->world.size, g->TP, g->DP, g->PP, ops->name, path, iters);
        printf("%-4s %-15s %12s %12s %6s %10s %10s %10s %7s\n", "comm", "op", "size(B)", "count", "type", "time(us)",
               "algbw GB/s", "busbw GB/s", "#wrong");
    }
    for (int ci = 0; ci < 3; ci++) {
        const nt_comm *c = comms[ci];
        if (c->size == 1) {
            if (rank0) printf("%-4s (size 1: nothing to measure)\n", c->label);
            continue;
        }
        double P = c->size;
        for (int op = 0; op < OP_N; op++) {
            for (size_t bytes = 4096; bytes <= max_bytes; bytes *= 4) {
                size_t n = bytes / sizeof(float);
                n = (n + (size_t)c->size - 1) / (size_t)c->size * (size_t)c->size;
                double tsum = 0;
                long wrong = 0;
                for (int it = 0; it < iters + 2; it++) {
                    fill(op, c, send, n);
                    memset(recv, 0, n * sizeof(float));
                    if (dev) {
                        ops->to_f32(dsend, send, n);
                        ops->to_f32(drecv, recv, n);
                        ops->sync();
                    }
                    nt_comm_barrier(&g->world);
                    double t0 = MPI_Wtime();
                    run_op(op, c, dsend, drecv, n);
                    ops->sync();   /* a device path is stream-ordered: done means done on the GPU */
                    double dt = MPI_Wtime() - t0;
                    if (dev) {
                        ops->from_f32(send, dsend, n);   /* the all-reduce result is in place */
                        ops->from_f32(recv, drecv, n);
                    }
                    nt_comm_allreduce_f64(&g->world, &dt, 1, NT_MAX);
                    if (it >= 2) tsum += dt;
                    if (it == iters + 1) {
                        if (fault && rank0) (op == OP_AR ? send : recv)[0] += 1.0f;
                        wrong = check(op, c, send, recv, n);
                    }
                }
                int64_t w = wrong;
                nt_comm_allreduce(&g->world, &w, 1, NT_I64, NT_SUM);
                total_wrong += w;
                double t = tsum / iters, size = (double)n * sizeof(float);
                double factor = op == OP_AR ? 2 * (P - 1) / P : op == OP_SR ? 1.0 : (P - 1) / P;
                double algbw = size / t / 1e9, busbw = algbw * factor;
                if (rank0) {
                    printf("%-4s %-15s %12.0f %12zu %6s %10.1f %10.3f %10.3f %7ld\n", c->label, op_name[op], size, n,
                           "float", t * 1e6, algbw, busbw, (long)w);
                    cJSON *o = nt_json_object();
                    nt_json_str(o, "comm", c->label);
                    nt_json_num(o, "ranks", P);
                    nt_json_str(o, "op", op_name[op]);
                    nt_json_num(o, "size_bytes", size);
                    nt_json_num(o, "count", (double)n);
                    nt_json_num(o, "time_us", t * 1e6);
                    nt_json_num(o, "algbw_gbs", algbw);
                    nt_json_num(o, "busbw_gbs", busbw);
                    nt_json_num(o, "busbw_factor", factor);
                    nt_json_num(o, "wrong", (double)w);
                    nt_json_push(rows, o);
                }
            }
        }
    }
    if (rank0) {
        printf("--------------------------------------------------------------------------------\n");
        printf("data check: %ld wrong elements: %s\n", total_wrong, total_wrong ? "FAILED" : "PASSED");
        printf("================================================================================\n");
        if (json) {
            cJSON *root = nt_json_object();
            nt_json_str(root, "mode", "comm");
            nt_json_num(root, "world", g->world.size);
            nt_json_num(root, "tp", g->TP);
            nt_json_num(root, "dp", g->DP);
            nt_json_num(root, "pp", g->PP);
            nt_json_str(root, "backend", ops->name);
            nt_json_str(root, "path", path);
            nt_json_add(root, "rows", rows);
            nt_json_num(root, "wrong", (double)total_wrong);
            nt_json_str(root, "verdict", total_wrong ? "FAILED" : "PASSED");
            nt_json_save(json, root);
            cJSON_Delete(root);
            rows = NULL;
        }
    }
    if (rows) cJSON_Delete(rows);
    if (dev) {
        ops->free(dsend);
        ops->free(drecv);
    }
    free(send);
    free(recv);
    return total_wrong;
}
