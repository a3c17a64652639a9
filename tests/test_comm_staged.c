/* test_comm_staged.c — the comm API's device dispatch on the CPU: a fake
 * device path (comm_dev.h) whose "device memory" is one host arena, moved
 * with memcpy, so comm_mpi.c's staging (device -> host, MPI, host -> device),
 * the bf16 collectives and the isend copies freed by waitall run without a
 * GPU.  Checks every typed collective and p2p on host and "device" buffers
 * against exact expected values (min/max/sum over i32, i64, u64, f64, bf16;
 * gather, exclusive scan, typed broadcast), and the grouped exchange
 * (nt_comm_exchange: f32 and bf16, two transfers to one peer matched in
 * issue order, host-staged, and dispatched to a device path's own exchange
 * as NCCL's would be).  Run under mpirun with 1-4 ranks. */
#include "util/check.h"
#include "parallel/comm.h"
#include "parallel/comm_dev.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static char arena[1 << 20];
static size_t used;
static void *dalloc(size_t bytes) { void *p = arena + used; used += (bytes + 63) & ~(size_t)63; return p; }
static int is_dev(const void *p) { return (const char *)p >= arena && (const char *)p < arena + sizeof arena; }
static void cp(void *d, const void *s, size_t b) { memcpy(d, s, b); }

static const nt_comm_dev fake = {.name = "fake", .is_device = is_dev, .d2h = cp, .h2d = cp, .d2d = cp};

static uint16_t bf(float f) { uint32_t u; memcpy(&u, &f, 4); return (uint16_t)(u >> 16); }   /* exact for small ints */
static float unbf(uint16_t h) { uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f; }

static int fails;
#define EXPECT(cond, ...) do { if (!(cond)) { fails++; printf("FAIL: " __VA_ARGS__); printf("\n"); } } while (0)

static void run(nt_comm *c, int on_dev)
{
    int P = c->size, r = c->rank;
    const char *where = on_dev ? "device" : "host";
    size_t n = 6 * (size_t)P;
    float rsum = (float)(P * (P + 1) / 2);
    float *hf = nt_malloc(3 * n * sizeof(float), "f"), *f = on_dev ? dalloc(3 * n * 4) : hf;
    /* f32 all-reduce */
    for (size_t i = 0; i < n; i++) hf[i] = (float)(r + 1) * (float)(i % 3 + 1);
    if (on_dev) memcpy(f, hf, n * 4);
    nt_comm_allreduce_f32(c, f, n, NT_SUM);
    for (size_t i = 0; i < n; i++) EXPECT(f[i] == rsum * (float)(i % 3 + 1), "%s f32 all-reduce [%zu] %g", where, i, f[i]);
    /* bf16 all-reduce (max) and reduce-scatter, all-gather */
    uint16_t *b = on_dev ? dalloc(2 * n * 2) : nt_malloc(2 * n * 2, "b");
    for (size_t i = 0; i < n; i++) b[i] = bf((float)(r + (int)i % 4));
    nt_comm_allreduce(c, b, n, NT_BF16, NT_MAX);
    for (size_t i = 0; i < n; i++) EXPECT(unbf(b[i]) == (float)(P - 1 + (int)i % 4), "%s bf16 max [%zu] %g", where, i, unbf(b[i]));
    for (size_t i = 0; i < n; i++) b[i] = bf((float)(r + 1));
    nt_comm_reduce_scatter(c, b, b + n, n, NT_BF16);
    for (size_t i = 0; i < n / (size_t)P; i++) EXPECT(unbf(b[n + i]) == rsum, "%s bf16 reduce-scatter [%zu] %g", where, i, unbf(b[n + i]));
    for (size_t i = 0; i < 6; i++) b[(size_t)r * 6 + i] = bf((float)(10 * r + (int)i));
    nt_comm_allgather(c, b + (size_t)r * 6, b, 6, NT_BF16);   /* in place */
    for (int q = 0; q < P; q++)
        for (size_t i = 0; i < 6; i++)
            EXPECT(unbf(b[(size_t)q * 6 + i]) == (float)(10 * q + (int)i), "%s bf16 all-gather [%d,%zu]", where, q, i);
    /* f32 reduce-scatter and all-gather into separate buffers */
    for (size_t i = 0; i < n; i++) f[i] = (float)(r + 1) + (float)i;
    nt_comm_reduce_scatter_f32(c, f, f + n, n);
    for (size_t i = 0; i < 6; i++)
        EXPECT(f[n + i] == rsum + (float)P * (float)((size_t)r * 6 + i), "%s f32 reduce-scatter [%zu] %g", where, i, f[n + i]);
    for (size_t i = 0; i < 6; i++) f[i] = (float)(100 * r) + (float)i;
    nt_comm_allgather_f32(c, f, f + n, 6);
    for (int q = 0; q < P; q++)
        for (size_t i = 0; i < 6; i++) EXPECT(f[n + (size_t)q * 6 + i] == (float)(100 * q) + (float)i, "%s f32 all-gather", where);
    /* f64 / i32 all-reduce, broadcast */
    double *d = on_dev ? dalloc(16) : nt_malloc(16, "d");
    d[0] = r + 0.5; d[1] = -r;
    nt_comm_allreduce_f64(c, d, 2, NT_MAX);
    EXPECT(d[0] == P - 0.5 && d[1] == 0.0, "%s f64 max %g %g", where, d[0], d[1]);
    int *k = on_dev ? dalloc(8) : nt_malloc(8, "k");
    k[0] = r; k[1] = 1;
    nt_comm_allreduce_i32(c, k, 2, NT_SUM);
    EXPECT(k[0] == P * (P - 1) / 2 && k[1] == P, "%s i32 sum", where);
    k[0] = r == P - 1 ? 4242 : 0;
    nt_comm_bcast(c, k, sizeof(int), P - 1);
    EXPECT(k[0] == 4242, "%s bcast %d", where, k[0]);
    /* min (i32, i64, bf16), u64 sums modulo 2^64, gather to the last rank,
     * typed broadcast, exclusive scan (host), the agreement with no error */
    k[0] = 10 - r; k[1] = r;
    nt_comm_allreduce_i32(c, k, 2, NT_MIN);
    EXPECT(k[0] == 10 - (P - 1) && k[1] == 0, "%s i32 min %d %d", where, k[0], k[1]);
    int64_t *q = on_dev ? dalloc(16) : nt_malloc(16, "q");
    q[0] = -(int64_t)r * 3000000000LL; q[1] = (int64_t)r << 40;
    nt_comm_allreduce(c, q, 2, NT_I64, NT_MIN);
    EXPECT(q[0] == -(int64_t)(P - 1) * 3000000000LL && q[1] == 0, "%s i64 min %lld %lld", where, (long long)q[0], (long long)q[1]);
    uint64_t *u = on_dev ? dalloc(8) : nt_malloc(8, "u");
    u[0] = UINT64_MAX;
    nt_comm_allreduce(c, u, 1, NT_U64, NT_SUM);
    EXPECT(u[0] == (uint64_t)0 - (uint64_t)P, "%s u64 sum wraps: %llu", where, (unsigned long long)u[0]);
    for (size_t i = 0; i < n; i++) b[i] = bf((float)(r + (int)i % 4));
    nt_comm_allreduce(c, b, n, NT_BF16, NT_MIN);
    for (size_t i = 0; i < n; i++) EXPECT(unbf(b[i]) == (float)((int)i % 4), "%s bf16 min [%zu] %g", where, i, unbf(b[i]));
    double *g = on_dev ? dalloc((size_t)P * 16 + 16) : nt_malloc((size_t)P * 16 + 16, "g"), *gs = g + 2 * P;
    gs[0] = r; gs[1] = 2.0 * r;
    nt_comm_gather(c, gs, g, 2, NT_F64, P - 1);
    if (r == P - 1)
        for (int w = 0; w < P; w++) EXPECT(g[2 * w] == w && g[2 * w + 1] == 2.0 * w, "%s gather [%d] %g %g", where, w, g[2 * w], g[2 * w + 1]);
    g[2 * r] = 7.0 * r;   /* in place on the root */
    nt_comm_gather(c, g + 2 * r, g, 2, NT_F64, 0);
    if (r == 0)
        for (int w = 0; w < P; w++) EXPECT(g[2 * w] == 7.0 * w, "%s gather in place [%d] %g", where, w, g[2 * w]);
    d[0] = r == 0 ? 3.25 : 0.0;
    nt_comm_bcast_f64(c, d, 1, 0);
    EXPECT(d[0] == 3.25, "%s bcast f64 %g", where, d[0]);
    int64_t ex[2] = {r + 1, 1}, pre[2] = {-1, -1};
    nt_comm_exscan(c, ex, pre, 2, NT_I64);
    EXPECT(pre[0] == (int64_t)r * (r + 1) / 2 && pre[1] == r, "%s exscan %lld %lld", where, (long long)pre[0], (long long)pre[1]);
    nt_comm_exscan(c, ex, ex, 2, NT_I64);   /* in place */
    EXPECT(ex[0] == (int64_t)r * (r + 1) / 2 && ex[1] == r, "%s exscan in place %lld", where, (long long)ex[0]);
    nt_comm_agree(c, NT_EXIT_INPUT, NULL);
    nt_comm_agree(c, NT_EXIT_INPUT, "");
    int who = nt_comm_first_error(c, r >= P / 2 ? "late ranks" : "");
    EXPECT(who == P / 2, "%s first error on rank %d, want %d", where, who, P / 2);
    if (!on_dev) { free(q); free(u); free(g); }
    /* ring: isend + recv + waitall, then blocking send/recv the other way */
    if (P > 1) {
        for (size_t i = 0; i < 8; i++) f[i] = (float)(r * 8 + (int)i);
        MPI_Request req[2];
        nt_comm_isend_f32(c, f, 4, (r + 1) % P, 5, &req[0]);
        nt_comm_isend_f32(c, f + 4, 4, (r + 1) % P, 6, &req[1]);
        if (on_dev) memset(f, 0, 8 * 4);   /* the sends own copies */
        nt_comm_recv_f32(c, f + 16, 4, (r - 1 + P) % P, 6);   /* out of tag order */
        nt_comm_recv_f32(c, f + 12, 4, (r - 1 + P) % P, 5);
        nt_comm_waitall(2, req);
        int prev = (r - 1 + P) % P;
        for (size_t i = 0; i < 8; i++) EXPECT(f[12 + i] == (float)(prev * 8 + (int)i), "%s isend/recv [%zu] %g", where, i, f[12 + i]);
        if (r % 2 == 0) { nt_comm_send_f32(c, f + 12, 8, prev, 9); nt_comm_recv_f32(c, f, 8, (r + 1) % P, 9); }
        else { nt_comm_recv_f32(c, f, 8, (r + 1) % P, 9); nt_comm_send_f32(c, f + 12, 8, prev, 9); }
        if (P % 2 == 0)
            for (size_t i = 0; i < 8; i++) EXPECT(f[i] == (float)(r * 8 + (int)i), "%s send/recv [%zu]", where, i);
    }
    /* grouped exchange (NCCL's semantics): each rank sends two f32 blocks to the next and one bf16 block
     * to the previous rank and receives their counterparts, all in one group; no tags: the two blocks
     * to the same peer arrive in the order they were issued */
    if (P > 1) {
        int next = (r + 1) % P, prev = (r - 1 + P) % P;
        for (size_t i = 0; i < 8; i++) f[i] = (float)(r * 100 + (int)i);
        uint16_t *hb = nt_malloc(8 * sizeof(uint16_t), "bf16"), *bb = on_dev ? dalloc(16) : hb;
        for (size_t i = 0; i < 4; i++) hb[i] = bf((float)(r * 10 + (int)i));
        if (on_dev) memcpy(bb, hb, 8);
        nt_p2p x[6] = {{1, f, 4, NT_F32, next}, {0, f + 8, 4, NT_F32, prev}, {1, f + 4, 4, NT_F32, next},
                       {0, f + 12, 4, NT_F32, prev}, {1, bb, 4, NT_BF16, prev}, {0, bb + 4, 4, NT_BF16, next}};
        nt_comm_exchange(c, x, 6);
        if (on_dev) memcpy(hb, bb, 16);
        for (size_t i = 0; i < 8; i++)
            EXPECT(f[8 + i] == (float)(prev * 100 + (int)i), "%s exchange f32 [%zu] = %g", where, i, f[8 + i]);
        for (size_t i = 0; i < 4; i++)
            EXPECT(unbf(hb[4 + i]) == (float)(next * 10 + (int)i), "%s exchange bf16 [%zu] = %g", where, i, unbf(hb[4 + i]));
        free(hb);
    }
    nt_comm_exchange(c, NULL, 0);   /* readiness only: nothing moves */
    if (!on_dev) { free(hf); free(b); free(d); free(k); }
    else free(hf);
}

/* a device path with its own grouped exchange (as NCCL's): the arena is host memory, so it runs the
 * group over MPI itself, and counts its calls */
static int fake_exchanges, fake_ready;
static void fake_exchange(const nt_comm *c, const nt_p2p *ops, int nops)
{
    if (nops == 0) { fake_ready++; return; }
    fake_exchanges++;
    nt_comm plain = *c;
    plain.dev = NULL;
    nt_comm_exchange(&plain, ops, nops);
}
static const nt_comm_dev fake_direct = {.name = "fake-direct", .is_device = is_dev, .d2h = cp, .h2d = cp, .d2d = cp,
                                        .exchange = fake_exchange};

int main(void)
{
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    nt_comm c;
    nt_comm_from_mpi(&c, MPI_COMM_WORLD, "world");
    run(&c, 0);
    c.dev = &fake;
    run(&c, 0);   /* host buffers of a communicator with a device path */
    run(&c, 1);
    EXPECT(!strcmp(nt_comm_exchange_path(&c), "host-staged"), "exchange path %s", nt_comm_exchange_path(&c));
    c.dev = &fake_direct;
    used = 0;
    run(&c, 1);
    EXPECT(!strcmp(nt_comm_exchange_path(&c), "nccl"), "exchange path %s", nt_comm_exchange_path(&c));
    EXPECT(fake_exchanges == (c.size > 1) && fake_ready == (c.size > 1),
           "device exchange dispatch: %d exchanges, %d readiness calls", fake_exchanges, fake_ready);
    c.dev = NULL;
    EXPECT(!strcmp(nt_comm_exchange_path(&c), "mpi"), "exchange path %s", nt_comm_exchange_path(&c));
    c.dev = &fake;
    nt_comm_detach(&c);
    int bad = fails;
    NT_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    if (c.rank == 0) printf("%s: comm API on host and staged device buffers, %d ranks (%d failures)\n", bad ? "FAIL" : "PASS", c.size, bad);
    NT_CHECK_MPI(MPI_Finalize());
    return bad ? 1 : 0;
}
