/* comm_mpi.c — the comm API over MPI (see comm.h).  Host buffers go to MPI
 * directly; a device buffer of a communicator with a device path
 * (comm_dev.h) goes to the path's own collective when it has one (NCCL),
 * else is staged through host memory around the MPI call.  bf16 sums on the
 * host are formed in fp32 and rounded once.  Large counts are split into
 * chunks below INT_MAX elements.  Every public call that communicates is
 * one watchdog region named after it (signals.h) and passes the fault
 * injection point NTRON_FAULT_HANG_COMM (comm.h). */
#include "parallel/comm.h"
#include "parallel/comm_dev.h"
#include "util/bf16.h"
#include "util/check.h"
#include "util/signals.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    case NT_F64: case NT_I64: case NT_U64: return 8;
    default: return 4;
    }
}

const char *nt_dtype_name(nt_dtype t)
{
    static const char *const name[] = {"f32", "bf16", "f64", "i32", "i64", "u64"};
    return (unsigned)t < sizeof name / sizeof *name ? name[t] : "?";
}

static MPI_Datatype mpi_type(nt_dtype t)
{
    switch (t) {
    case NT_BF16: return MPI_UINT16_T;   /* moved, never reduced, as raw bits */
    case NT_F64: return MPI_DOUBLE;
    case NT_I32: return MPI_INT;
    case NT_I64: return MPI_INT64_T;
    case NT_U64: return MPI_UINT64_T;
    default: return MPI_FLOAT;
    }
}

static MPI_Op mpi_op(nt_redop op) { return op == NT_MAX ? MPI_MAX : op == NT_MIN ? MPI_MIN : MPI_SUM; }
static const char *op_name(nt_redop op) { return op == NT_MAX ? "max" : op == NT_MIN ? "min" : "sum"; }

/* ---- watchdog regions and the fault injection point ------------------------ */

/* NTRON_FAULT_HANG_COMM=RANK:LABEL:N, read once */
static struct { int parsed, rank; char label[16]; long n, seen; } fault = {0, -1, "", 0, 0};

static void fault_parse(void)
{
    fault.parsed = 1;
    const char *f = getenv("NTRON_FAULT_HANG_COMM");
    if (!f || !*f) return;
    int r;
    long n;
    char label[16];
    if (sscanf(f, "%d:%15[a-z]:%ld", &r, label, &n) != 3 || r < 0 || n < 1)
        nt_input_error("NTRON_FAULT_HANG_COMM=%s: expected RANK:LABEL:N (world rank, communicator label, count from 1)", f);
    int me = 0;
    NT_CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &me));
    if (me != r) return;
    fault.rank = r;
    fault.n = n;
    snprintf(fault.label, sizeof fault.label, "%s", label);
}

/* one collective of c: the Nth on the chosen communicator hangs (inside its
 * watchdog region, so this rank's watchdog sees it too) */
static void fault_point(const nt_comm *c, const char *what)
{
    if (!fault.parsed) fault_parse();
    if (fault.rank < 0 || strcmp(c->label, fault.label) != 0 || ++fault.seen != fault.n) return;
    fprintf(stderr, "ntron: fault injection: world rank %d hangs in %s on the %s communicator (its collective %ld there)\n",
            fault.rank, what, c->label, fault.n);
    fflush(stderr);
    for (;;) sleep(60);
}

/* a collective of c: a named watchdog region, then the fault point */
static void coll_begin(const nt_comm *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void coll_begin(const nt_comm *c, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    nt_watchdog_enterf("%s on the %s communicator", what, c->label);
    fault_point(c, what);
}

void nt_comm_region_enter(const nt_comm *c, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    coll_begin(c, "%s", what);
}

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

static void widen(float *dst, const uint16_t *src, size_t n) { for (size_t i = 0; i < n; i++) dst[i] = nt_bf16_to_f32(src[i]); }
static void narrow(uint16_t *dst, const float *src, size_t n) { for (size_t i = 0; i < n; i++) dst[i] = nt_f32_to_bf16(src[i]); }

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

static void host_gather(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t, int root)
{
    NT_CHECK(n < INT_MAX, "gather block too large (%zu)", n);
    const void *sb = c->rank == root && send == (const char *)recv + (size_t)root * n * nt_dtype_size(t) ? MPI_IN_PLACE : send;
    NT_CHECK_MPI(MPI_Gather(sb, (int)n, mpi_type(t), recv, (int)n, mpi_type(t), root, c->mpi));
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

static void allreduce_any(const nt_comm *c, void *buf, size_t n, nt_dtype t, nt_redop op)
{
    if (!on_device(c, buf)) { host_allreduce(c, buf, n, t, op); return; }
    if (c->dev->allreduce) { c->dev->allreduce(c, buf, n, t, op); return; }
    size_t bytes = n * nt_dtype_size(t);
    void *h = scratch_get(&stage_buf, bytes, "all-reduce host staging");
    c->dev->d2h(h, buf, bytes);
    host_allreduce(c, h, n, t, op);
    c->dev->h2d(buf, h, bytes);
}

void nt_comm_allreduce(const nt_comm *c, void *buf, size_t n, nt_dtype t, nt_redop op)
{
    if (c->size == 1 || n == 0) return;
    coll_begin(c, "all-reduce (%s, %s, %zu elements)", op_name(op), nt_dtype_name(t), n);
    allreduce_any(c, buf, n, t, op);
    nt_watchdog_leave();
}

/* a one-rank group's reduce-scatter or all-gather: recv = send */
static void copy_self(const nt_comm *c, int dev, void *recv, const void *send, size_t bytes)
{
    if (recv == send) return;
    if (dev) c->dev->d2d(recv, send, bytes);
    else memmove(recv, send, bytes);
}

static void reduce_scatter_any(const nt_comm *c, int dev, const void *send, void *recv, size_t n, nt_dtype t)
{
    size_t blk = n / (size_t)c->size, esz = nt_dtype_size(t);
    if (!dev) { host_reduce_scatter(c, send, recv, n, t); return; }
    if (c->dev->reduce_scatter) { c->dev->reduce_scatter(c, send, recv, n, t); return; }
    char *h = scratch_get(&stage_buf, (n + blk) * esz, "reduce-scatter host staging");
    c->dev->d2h(h, send, n * esz);
    host_reduce_scatter(c, h, h + n * esz, n, t);
    c->dev->h2d(recv, h + n * esz, blk * esz);
}

void nt_comm_reduce_scatter(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t)
{
    size_t blk = n / (size_t)c->size;
    NT_CHECK(blk * (size_t)c->size == n, "reduce-scatter over %s: %zu not divisible by %d", c->label, n, c->size);
    int dev = pair_on_device(c, send, recv, "reduce-scatter");
    if (c->size == 1) { copy_self(c, dev, recv, send, n * nt_dtype_size(t)); return; }
    coll_begin(c, "reduce-scatter (sum, %s, %zu elements)", nt_dtype_name(t), n);
    reduce_scatter_any(c, dev, send, recv, n, t);
    nt_watchdog_leave();
}

static void allgather_any(const nt_comm *c, int dev, const void *send, void *recv, size_t n, nt_dtype t)
{
    size_t esz = nt_dtype_size(t), all = n * (size_t)c->size;
    if (!dev) { host_allgather(c, send, recv, n, t); return; }
    if (c->dev->allgather) { c->dev->allgather(c, send, recv, n, t); return; }
    char *h = scratch_get(&stage_buf, all * esz, "all-gather host staging");
    char *mine = h + (size_t)c->rank * n * esz;
    c->dev->d2h(mine, send, n * esz);
    host_allgather(c, mine, h, n, t);   /* in place */
    c->dev->h2d(recv, h, all * esz);
}

void nt_comm_allgather(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t)
{
    int dev = pair_on_device(c, send, recv, "all-gather");
    if (c->size == 1) { copy_self(c, dev, recv, send, n * nt_dtype_size(t)); return; }
    coll_begin(c, "all-gather (%s, %zu elements per rank)", nt_dtype_name(t), n);
    allgather_any(c, dev, send, recv, n, t);
    nt_watchdog_leave();
}

void nt_comm_gather(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t, int root)
{
    size_t esz = nt_dtype_size(t);
    NT_CHECK(root >= 0 && root < c->size, "gather over %s: root %d out of range", c->label, root);
    int dev = c->rank == root ? pair_on_device(c, send, recv, "gather") : on_device(c, send);
    if (c->size == 1) { copy_self(c, dev, recv, send, n * esz); return; }
    coll_begin(c, "gather (%s, %zu elements per rank to rank %d)", nt_dtype_name(t), n, root);
    if (!dev) {
        host_gather(c, send, recv, n, t, root);
    } else {   /* no device library gathers: stage through host memory */
        size_t all = n * (size_t)c->size;
        char *h = scratch_get(&stage_buf, (c->rank == root ? all : n) * esz, "gather host staging");
        char *mine = c->rank == root ? h + (size_t)root * n * esz : h;
        c->dev->d2h(mine, send, n * esz);
        host_gather(c, mine, h, n, t, root);
        if (c->rank == root) c->dev->h2d(recv, h, all * esz);
    }
    nt_watchdog_leave();
}

void nt_comm_exscan(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t)
{
    NT_CHECK(n < INT_MAX, "exscan too large (%zu)", n);
    NT_CHECK(!on_device(c, send) && !on_device(c, recv), "exscan over %s: host buffers only", c->label);
    NT_CHECK(t != NT_BF16, "exscan over %s: bf16 is not summed on the host", c->label);
    size_t bytes = n * nt_dtype_size(t);
    if (c->size > 1 && n > 0) {
        coll_begin(c, "exclusive scan (sum, %s, %zu elements)", nt_dtype_name(t), n);
        NT_CHECK_MPI(MPI_Exscan(send == recv ? MPI_IN_PLACE : send, recv, (int)n, mpi_type(t), MPI_SUM, c->mpi));
        nt_watchdog_leave();
    }
    if (c->rank == 0) memset(recv, 0, bytes);   /* MPI leaves rank 0's undefined */
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

static void bcast_any(const nt_comm *c, void *buf, size_t bytes, int root)
{
    if (!on_device(c, buf)) { host_bcast(c, buf, bytes, root); return; }
    if (c->dev->bcast) { c->dev->bcast(c, buf, bytes, root); return; }
    void *h = scratch_get(&stage_buf, bytes, "broadcast host staging");
    if (c->rank == root) c->dev->d2h(h, buf, bytes);
    host_bcast(c, h, bytes, root);
    if (c->rank != root) c->dev->h2d(buf, h, bytes);
}

void nt_comm_bcast(const nt_comm *c, void *buf, size_t bytes, int root)
{
    if (c->size == 1 || bytes == 0) return;
    coll_begin(c, "broadcast (%zu bytes from rank %d)", bytes, root);
    bcast_any(c, buf, bytes, root);
    nt_watchdog_leave();
}

void nt_comm_bcast_typed(const nt_comm *c, void *buf, size_t n, nt_dtype t, int root)
{
    if (c->size == 1 || n == 0) return;
    coll_begin(c, "broadcast (%s, %zu elements from rank %d)", nt_dtype_name(t), n, root);
    bcast_any(c, buf, n * nt_dtype_size(t), root);
    nt_watchdog_leave();
}
void nt_comm_bcast_f64(const nt_comm *c, double *b, size_t n, int root) { nt_comm_bcast_typed(c, b, n, NT_F64, root); }
void nt_comm_bcast_i32(const nt_comm *c, int *b, size_t n, int root) { nt_comm_bcast_typed(c, b, n, NT_I32, root); }

void nt_comm_barrier(const nt_comm *c)
{
    if (c->size == 1) return;
    coll_begin(c, "barrier");
    NT_CHECK_MPI(MPI_Barrier(c->mpi));
    nt_watchdog_leave();
}

int nt_comm_first_error(const nt_comm *c, const char *err)
{
    int who = err && err[0] ? c->rank : c->size;
    nt_comm_allreduce_i32(c, &who, 1, NT_MIN);
    return who == c->size ? -1 : who;
}

void nt_comm_agree(const nt_comm *c, int status, const char *err)
{
    int wsize = 1;
    NT_CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &wsize));
    NT_CHECK(c->size == wsize, "internal: nt_comm_agree over the %s communicator (%d of %d ranks): it must span the job",
             c->label, c->size, wsize);
    int who = nt_comm_first_error(c, err);
    if (who >= 0) nt_exit_agreed(status, c->rank == who, "%s", err ? err : "");
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
    nt_watchdog_enterf("send (f32, %zu elements to rank %d, tag %d) on the %s communicator", n, peer, tag, c->label);
    NT_CHECK_MPI(MPI_Send(b, (int)n, MPI_FLOAT, peer, tag, c->mpi));
    nt_watchdog_leave();
}

void nt_comm_recv_f32(const nt_comm *c, float *buf, size_t n, int peer, int tag)
{
    NT_CHECK(n < INT_MAX, "recv too large (%zu)", n);
    int dev = on_device(c, buf);
    void *b = dev ? scratch_get(&stage_buf, n * sizeof(float), "receive host staging") : (void *)buf;
    nt_watchdog_enterf("receive (f32, %zu elements from rank %d, tag %d) on the %s communicator", n, peer, tag, c->label);
    NT_CHECK_MPI(MPI_Recv(b, (int)n, MPI_FLOAT, peer, tag, c->mpi, MPI_STATUS_IGNORE));
    nt_watchdog_leave();
    if (dev) c->dev->h2d(buf, b, n * sizeof(float));
}

/* every isend until its waitall: the request, the host copy of a device
 * buffer (or NULL) and the communicator's label (for the watchdog) */
typedef struct sent { MPI_Request req; void *buf; const char *label; } sent;
static sent *sends;
static int nsends, capsends;

void nt_comm_isend_f32(const nt_comm *c, const float *buf, size_t n, int peer, int tag, MPI_Request *req)
{
    NT_CHECK(n < INT_MAX, "send too large (%zu)", n);
    void *h = NULL;
    if (on_device(c, buf)) {
        h = nt_malloc(n * sizeof(float), "isend host staging");
        c->dev->d2h(h, buf, n * sizeof(float));
    }
    NT_CHECK_MPI(MPI_Isend(h ? h : buf, (int)n, MPI_FLOAT, peer, tag, c->mpi, req));
    if (nsends == capsends) {
        capsends = capsends ? 2 * capsends : 16;
        sends = realloc(sends, (size_t)capsends * sizeof *sends);
        NT_CHECK(sends, "out of memory for the pending send list");
    }
    sends[nsends++] = (sent){*req, h, c->label};
}

/* grouped transfers travel with one tag of their own, above every tag the
 * pipeline's tagged path uses (p2p_tag is below 32767, MPI's least upper bound) */
#define EXCHANGE_TAG 32767

const char *nt_comm_exchange_path(const nt_comm *c)
{
    if (!c->dev) return "mpi";
    return c->dev->exchange ? "nccl" : "host-staged";
}

void nt_comm_exchange(const nt_comm *c, const nt_p2p *ops, int nops)
{
    if (nops == 0) {
        if (c->dev && c->dev->exchange && c->size > 1) c->dev->exchange(c, NULL, 0);
        return;
    }
    int dev = on_device(c, ops[0].buf), nsend = 0;
    size_t elems = 0;
    for (int i = 0; i < nops; i++) {
        NT_CHECK(ops[i].n < INT_MAX, "exchange on %s: transfer too large (%zu elements)", c->label, ops[i].n);
        NT_CHECK(ops[i].peer >= 0 && ops[i].peer < c->size, "internal: exchange on %s with rank %d of %d", c->label,
                 ops[i].peer, c->size);
        NT_CHECK(on_device(c, ops[i].buf) == dev, "internal: exchange on %s mixes host and device buffers", c->label);
        nsend += ops[i].send != 0;
        elems += ops[i].n;
    }
    coll_begin(c, "exchange (%d sends, %d receives, %zu elements)", nsend, nops - nsend, elems);
    if (dev && c->dev->exchange) {
        c->dev->exchange(c, ops, nops);
        nt_watchdog_leave();
        return;
    }
    MPI_Request *req = nt_malloc((size_t)nops * sizeof *req, "exchange requests");
    void **host = nt_calloc((size_t)nops, sizeof *host, "exchange staging");
    for (int pass = 0; pass < 2; pass++)   /* receives first: every send finds its receive posted soonest */
        for (int i = 0; i < nops; i++) {
            const nt_p2p *o = &ops[i];
            if ((pass == 0) != !o->send) continue;
            size_t bytes = o->n * nt_dtype_size(o->t);
            void *b = o->buf;
            if (dev) {
                b = host[i] = nt_malloc(bytes ? bytes : 1, "exchange host staging");
                if (o->send) c->dev->d2h(b, o->buf, bytes);
            }
            if (o->send) NT_CHECK_MPI(MPI_Issend(b, (int)o->n, mpi_type(o->t), o->peer, EXCHANGE_TAG, c->mpi, &req[i]));
            else NT_CHECK_MPI(MPI_Irecv(b, (int)o->n, mpi_type(o->t), o->peer, EXCHANGE_TAG, c->mpi, &req[i]));
        }
    NT_CHECK_MPI(MPI_Waitall(nops, req, MPI_STATUSES_IGNORE));
    nt_watchdog_leave();
    for (int i = 0; i < nops; i++) {
        if (dev && !ops[i].send) c->dev->h2d(ops[i].buf, host[i], ops[i].n * nt_dtype_size(ops[i].t));
        free(host[i]);
    }
    free(host);
    free(req);
}

void nt_comm_waitall(int n, MPI_Request *reqs)
{
    if (n <= 0) return;
    /* the sends among these requests: their host copies are freed once they
     * complete (an active request's handle is unique, so it names its send) */
    void **done = NULL;
    int ndone = 0, nlabel = 0;
    const char *label = NULL;
    for (int i = 0; i < nsends;) {
        int hit = 0;
        for (int k = 0; k < n && !hit; k++) hit = reqs[k] != MPI_REQUEST_NULL && reqs[k] == sends[i].req;
        if (!hit) { i++; continue; }
        if (!label || strcmp(label, sends[i].label) != 0) nlabel++;
        label = sends[i].label;
        if (sends[i].buf) {
            if (!done) done = nt_malloc((size_t)nsends * sizeof *done, "staged send list");
            done[ndone++] = sends[i].buf;
        }
        sends[i] = sends[--nsends];
    }
    nt_watchdog_enterf("wait for %d sends on the %s communicator%s", n, label ? label : "(unknown)",
                       nlabel > 1 ? " and others" : "");
    NT_CHECK_MPI(MPI_Waitall(n, reqs, MPI_STATUSES_IGNORE));
    nt_watchdog_leave();
    for (int i = 0; i < ndone; i++) free(done[i]);
    free(done);
}
