/* comm_mpi.c — the comm API over MPI (see comm.h).  Host buffers go to MPI
 * directly; a device buffer of a communicator with a device path
 * (comm_dev.h) goes to the path's own collective when it has one (NCCL),
 * else is staged through host memory around the MPI call.  bf16 sums on the
 * host are formed in fp32 and rounded once.  Large counts are split into
 * chunks below INT_MAX elements. */
#include "comm.h"
#include "comm_dev.h"
#include "check.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#define CHUNK ((size_t)1 << 30)

void nt_comm_from_mpi(nt_comm *c, MPI_Comm mpi, const char *label)
{
    c->mpi = mpi;
    c->label = label;
    c->dev = NULL;
    c->dev_state = NULL;
    NT_CHECK_MPI(MPI_Comm_rank(mpi, &c->rank));
    NT_CHECK_MPI(MPI_Comm_size(mpi, &c->size));
}

void nt_comm_detach(nt_comm *c)
{
    if (c->dev && c->dev->release) c->dev->release(c);
    c->dev = NULL;
    c->dev_state = NULL;
}

void nt_comm_free(nt_comm *c)
{
    nt_comm_detach(c);
    if (c->mpi != MPI_COMM_NULL && c->mpi != MPI_COMM_WORLD && c->mpi != MPI_COMM_SELF)
        NT_CHECK_MPI(MPI_Comm_free(&c->mpi));
    c->mpi = MPI_COMM_NULL;
}

size_t nt_dtype_size(nt_dtype t)
{
    switch (t) {
    case NT_BF16: return 2;
    case NT_F64: return 8;
    default: return 4;
    }
}

static MPI_Datatype mpi_type(nt_dtype t)
{
    switch (t) {
    case NT_BF16: return MPI_UINT16_T;   /* moved, never reduced, as raw bits */
    case NT_F64: return MPI_DOUBLE;
    case NT_I32: return MPI_INT;
    default: return MPI_FLOAT;
    }
}

static MPI_Op mpi_op(nt_redop op) { return op == NT_MAX ? MPI_MAX : MPI_SUM; }

/* ---- host scratch: one buffer for device staging, one for bf16 <-> fp32 ---- */

typedef struct scratch { void *p; size_t bytes; } scratch;
static scratch stage_buf, cvt_buf;

static void *scratch_get(scratch *s, size_t bytes, const char *what)
{
    if (bytes > s->bytes) {
        free(s->p);
        s->p = nt_malloc(bytes, what);
        s->bytes = bytes;
    }
    return s->p;
}

static float bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint16_t f32_to_bf16(float f)   /* round to nearest even; NaN stays NaN */
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static void widen(float *dst, const uint16_t *src, size_t n) { for (size_t i = 0; i < n; i++) dst[i] = bf16_to_f32(src[i]); }
static void narrow(uint16_t *dst, const float *src, size_t n) { for (size_t i = 0; i < n; i++) dst[i] = f32_to_bf16(src[i]); }

/* ---- host collectives ------------------------------------------------------ */

static void host_allreduce(const nt_comm *c, void *buf, size_t n, nt_dtype t, nt_redop op)
{
    if (t == NT_BF16) {
        float *w = scratch_get(&cvt_buf, n * sizeof(float), "bf16 all-reduce buffer");
        widen(w, buf, n);
        host_allreduce(c, w, n, NT_F32, op);
        narrow(buf, w, n);
        return;
    }
    size_t esz = nt_dtype_size(t);
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t k = n - off < CHUNK ? n - off : CHUNK;
        NT_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, (char *)buf + off * esz, (int)k, mpi_type(t), mpi_op(op), c->mpi));
    }
}

static void host_reduce_scatter(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t)
{
    size_t blk = n / (size_t)c->size;
    NT_CHECK(blk < INT_MAX, "reduce-scatter block too large (%zu)", blk);
    NT_CHECK(t == NT_F32 || t == NT_F64 || t == NT_BF16, "reduce-scatter over %s: unsupported type", c->label);
    if (t == NT_BF16) {
        float *w = scratch_get(&cvt_buf, (n + blk) * sizeof(float), "bf16 reduce-scatter buffer");
        widen(w, send, n);
        NT_CHECK_MPI(MPI_Reduce_scatter_block(w, w + n, (int)blk, MPI_FLOAT, MPI_SUM, c->mpi));
        narrow(recv, w + n, blk);
        return;
    }
    NT_CHECK_MPI(MPI_Reduce_scatter_block(send, recv, (int)blk, mpi_type(t), MPI_SUM, c->mpi));
}

static void host_allgather(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t)
{
    NT_CHECK(n < INT_MAX, "all-gather block too large (%zu)", n);
    const void *sb = send == (const char *)recv + (size_t)c->rank * n * nt_dtype_size(t) ? MPI_IN_PLACE : send;
    NT_CHECK_MPI(MPI_Allgather(sb, (int)n, mpi_type(t), recv, (int)n, mpi_type(t), c->mpi));
}

static void host_bcast(const nt_comm *c, void *buf, size_t bytes, int root)
{
    for (size_t off = 0; off < bytes; off += CHUNK) {
        size_t k = bytes - off < CHUNK ? bytes - off : CHUNK;
        NT_CHECK_MPI(MPI_Bcast((char *)buf + off, (int)k, MPI_BYTE, root, c->mpi));
    }
}

/* ---- dispatch --------------------------------------------------------------- */

static int on_device(const nt_comm *c, const void *p) { return c->dev && p && c->dev->is_device(p); }

/* the kind of a two-buffer call's memory; both must agree */
static int pair_on_device(const nt_comm *c, const void *send, const void *recv, const char *what)
{
    int s = on_device(c, send), r = on_device(c, recv);
    NT_CHECK(s == r, "%s over %s: send buffer in %s memory, receive buffer in %s memory", what, c->label,
             s ? "device" : "host", r ? "device" : "host");
    return r;
}

void nt_comm_allreduce(const nt_comm *c, void *buf, size_t n, nt_dtype t, nt_redop op)
{
    if (c->size == 1 || n == 0) return;
    if (!on_device(c, buf)) { host_allreduce(c, buf, n, t, op); return; }
    if (c->dev->allreduce) { c->dev->allreduce(c, buf, n, t, op); return; }
    size_t bytes = n * nt_dtype_size(t);
    void *h = scratch_get(&stage_buf, bytes, "all-reduce host staging");
    c->dev->d2h(h, buf, bytes);
    host_allreduce(c, h, n, t, op);
    c->dev->h2d(buf, h, bytes);
}

/* a one-rank group's reduce-scatter or all-gather: recv = send */
static void copy_self(const nt_comm *c, int dev, void *recv, const void *send, size_t bytes)
{
    if (recv == send) return;
    if (dev) c->dev->d2d(recv, send, bytes);
    else memmove(recv, send, bytes);
}

void nt_comm_reduce_scatter(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t)
{
    size_t blk = n / (size_t)c->size, esz = nt_dtype_size(t);
    NT_CHECK(blk * (size_t)c->size == n, "reduce-scatter over %s: %zu not divisible by %d", c->label, n, c->size);
    int dev = pair_on_device(c, send, recv, "reduce-scatter");
    if (c->size == 1) { copy_self(c, dev, recv, send, n * esz); return; }
    if (!dev) { host_reduce_scatter(c, send, recv, n, t); return; }
    if (c->dev->reduce_scatter) { c->dev->reduce_scatter(c, send, recv, n, t); return; }
    char *h = scratch_get(&stage_buf, (n + blk) * esz, "reduce-scatter host staging");
    c->dev->d2h(h, send, n * esz);
    host_reduce_scatter(c, h, h + n * esz, n, t);
    c->dev->h2d(recv, h + n * esz, blk * esz);
}

void nt_comm_allgather(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t)
{
    size_t esz = nt_dtype_size(t), all = n * (size_t)c->size;
    int dev = pair_on_device(c, send, recv, "all-gather");
    if (c->size == 1) { copy_self(c, dev, recv, send, n * esz); return; }
    if (!dev) { host_allgather(c, send, recv, n, t); return; }
    if (c->dev->allgather) { c->dev->allgather(c, send, recv, n, t); return; }
    char *h = scratch_get(&stage_buf, all * esz, "all-gather host staging");
    char *mine = h + (size_t)c->rank * n * esz;
    c->dev->d2h(mine, send, n * esz);
    host_allgather(c, mine, h, n, t);   /* in place */
    c->dev->h2d(recv, h, all * esz);
}

void nt_comm_allreduce_f32(const nt_comm *c, float *b, size_t n, nt_redop op) { nt_comm_allreduce(c, b, n, NT_F32, op); }
void nt_comm_allreduce_f64(const nt_comm *c, double *b, size_t n, nt_redop op) { nt_comm_allreduce(c, b, n, NT_F64, op); }
void nt_comm_allreduce_i32(const nt_comm *c, int *b, size_t n, nt_redop op) { nt_comm_allreduce(c, b, n, NT_I32, op); }
void nt_comm_reduce_scatter_f32(const nt_comm *c, const float *send, float *recv, size_t n)
{
    nt_comm_reduce_scatter(c, send, recv, n, NT_F32);
}
void nt_comm_allgather_f32(const nt_comm *c, const float *send, float *recv, size_t n)
{
    nt_comm_allgather(c, send, recv, n, NT_F32);
}

void nt_comm_bcast(const nt_comm *c, void *buf, size_t bytes, int root)
{
    if (c->size == 1 || bytes == 0) return;
    if (!on_device(c, buf)) { host_bcast(c, buf, bytes, root); return; }
    if (c->dev->bcast) { c->dev->bcast(c, buf, bytes, root); return; }
    void *h = scratch_get(&stage_buf, bytes, "broadcast host staging");
    if (c->rank == root) c->dev->d2h(h, buf, bytes);
    host_bcast(c, h, bytes, root);
    if (c->rank != root) c->dev->h2d(buf, h, bytes);
}

/* ---- point-to-point (MPI with tags; device buffers staged through host) ---- */

void nt_comm_send_f32(const nt_comm *c, const float *buf, size_t n, int peer, int tag)
{
    NT_CHECK(n < INT_MAX, "send too large (%zu)", n);
    const void *b = buf;
    if (on_device(c, buf)) {
        void *h = scratch_get(&stage_buf, n * sizeof(float), "send host staging");
        c->dev->d2h(h, buf, n * sizeof(float));
        b = h;
    }
    NT_CHECK_MPI(MPI_Send(b, (int)n, MPI_FLOAT, peer, tag, c->mpi));
}

void nt_comm_recv_f32(const nt_comm *c, float *buf, size_t n, int peer, int tag)
{
    NT_CHECK(n < INT_MAX, "recv too large (%zu)", n);
    int dev = on_device(c, buf);
    void *b = dev ? scratch_get(&stage_buf, n * sizeof(float), "receive host staging") : (void *)buf;
    NT_CHECK_MPI(MPI_Recv(b, (int)n, MPI_FLOAT, peer, tag, c->mpi, MPI_STATUS_IGNORE));
    if (dev) c->dev->h2d(buf, b, n * sizeof(float));
}

/* host copies of device buffers sent with isend, by request, until waitall */
typedef struct staged_send { MPI_Request req; void *buf; } staged_send;
static staged_send *staged;
static int nstaged, capstaged;

void nt_comm_isend_f32(const nt_comm *c, const float *buf, size_t n, int peer, int tag, MPI_Request *req)
{
    NT_CHECK(n < INT_MAX, "send too large (%zu)", n);
    if (!on_device(c, buf)) {
        NT_CHECK_MPI(MPI_Isend(buf, (int)n, MPI_FLOAT, peer, tag, c->mpi, req));
        return;
    }
    void *h = nt_malloc(n * sizeof(float), "isend host staging");
    c->dev->d2h(h, buf, n * sizeof(float));
    NT_CHECK_MPI(MPI_Isend(h, (int)n, MPI_FLOAT, peer, tag, c->mpi, req));
    if (nstaged == capstaged) {
        capstaged = capstaged ? 2 * capstaged : 16;
        staged = realloc(staged, (size_t)capstaged * sizeof *staged);
        NT_CHECK(staged, "out of memory for staged sends");
    }
    staged[nstaged++] = (staged_send){*req, h};
}

void nt_comm_waitall(int n, MPI_Request *reqs)
{
    if (n <= 0) return;
    /* host copies whose requests are among these: freed once they complete
     * (an active request's handle is unique, so it names its copy) */
    void **done = NULL;
    int ndone = 0;
    for (int i = 0; i < nstaged;) {
        int hit = 0;
        for (int k = 0; k < n && !hit; k++) hit = reqs[k] != MPI_REQUEST_NULL && reqs[k] == staged[i].req;
        if (!hit) { i++; continue; }
        if (!done) done = nt_malloc((size_t)nstaged * sizeof *done, "staged send list");
        done[ndone++] = staged[i].buf;
        staged[i] = staged[--nstaged];
    }
    NT_CHECK_MPI(MPI_Waitall(n, reqs, MPI_STATUSES_IGNORE));
    for (int i = 0; i < ndone; i++) free(done[i]);
    free(done);
}

void nt_comm_barrier(const nt_comm *c)
{
    if (c->size > 1) NT_CHECK_MPI(MPI_Barrier(c->mpi));
}
