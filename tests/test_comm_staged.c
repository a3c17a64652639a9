/* test_comm_staged.c — the comm API's device dispatch on the CPU: a fake
 * device path (comm_dev.h) whose "device memory" is one host arena, moved
 * with memcpy, so comm_mpi.c's staging (device -> host, MPI, host -> device),
 * the bf16 collectives and the isend copies freed by waitall run without a
 * GPU.  Checks every typed collective and p2p on host and "device" buffers
 * against exact expected values.  Run under mpirun with 1-4 ranks. */
#include "check.h"
#include "comm.h"
#include "comm_dev.h"

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
    if (!on_dev) { free(hf); free(b); free(d); free(k); }
    else free(hf);
}

int main(void)
{
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    nt_comm c;
    nt_comm_from_mpi(&c, MPI_COMM_WORLD, "world");
    run(&c, 0);
    c.dev = &fake;
    run(&c, 0);   /* host buffers of a communicator with a device path */
    run(&c, 1);
    nt_comm_detach(&c);
    int bad = fails;
    NT_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    if (c.rank == 0) printf("%s: comm API on host and staged device buffers, %d ranks (%d failures)\n", bad ? "FAIL" : "PASS", c.size, bad);
    NT_CHECK_MPI(MPI_Finalize());
    return bad ? 1 : 0;
}
