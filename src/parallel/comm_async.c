/* comm_async.c — the nonblocking, fixed-order transfers of comm_async.h:
 * the chain reduction of a range to its owner and the strided in-place
 * all-gather, each a small state machine over MPI requests on a duplicate
 * of the caller's communicator. */
#include "parallel/comm_async.h"
#include "util/check.h"
#include "util/signals.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum { OP_RECV, OP_SEND, OP_GATHER, OP_DONE };

struct nt_async_op {
    int state;
    MPI_Request req;
    const float *src;      /* this rank's values */
    float *dst;            /* owner: the sum */
    float *tmp;            /* relaying rank: the partial sum received, then sent on */
    size_t n;
    int next, tag, owner;  /* owner: 1 when this rank is the last of the chain */
};

void nt_async_init(nt_async *a, const nt_comm *c)
{
    memset(a, 0, sizeof *a);
    MPI_Comm dup;
    NT_CHECK_MPI(MPI_Comm_dup(c->mpi, &dup));
    nt_comm_from_mpi(&a->comm, dup, c->label);
    int *ub = NULL, flag = 0;
    NT_CHECK_MPI(MPI_Comm_get_attr(dup, MPI_TAG_UB, &ub, &flag));
    a->tag_ub = flag && ub ? *ub : 32767;
}

void nt_async_free(nt_async *a)
{
    NT_CHECK(a->n == 0, "internal: %d asynchronous transfers still open on the %s communicator", a->n, a->comm.label);
    free(a->op);
    nt_comm_free(&a->comm);
    memset(a, 0, sizeof *a);
}

static nt_async_op *op_new(nt_async *a)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 64;
        a->op = realloc(a->op, (size_t)a->cap * sizeof *a->op);
        NT_CHECK(a->op, "out of memory for the asynchronous transfer list");
    }
    nt_async_op *o = &a->op[a->n++];
    memset(o, 0, sizeof *o);
    o->req = MPI_REQUEST_NULL;
    return o;
}

void nt_async_reduce(nt_async *a, const float *src, float *dst, size_t n, int owner, int tag)
{
    int S = a->comm.size, me = a->comm.rank;
    NT_CHECK(owner >= 0 && owner < S, "internal: reduction to rank %d of %d", owner, S);
    NT_CHECK(n < INT_MAX, "internal: reduction of %zu elements in one piece", n);
    NT_CHECK(tag >= 0 && tag <= a->tag_ub, "internal: tag %d outside MPI's range [0, %d]", tag, a->tag_ub);
    if (n == 0) return;
    if (S == 1) {
        if (dst != src) memmove(dst, src, n * sizeof(float));
        return;
    }
    int pos = ((me - owner - 1) % S + S) % S, prev = (me - 1 + S) % S;
    nt_async_op *o = op_new(a);
    o->src = src;
    o->n = n;
    o->tag = tag;
    o->next = (me + 1) % S;
    if (pos == 0) {   /* first of the chain: its own values travel on */
        o->state = OP_SEND;
        NT_CHECK_MPI(MPI_Isend(src, (int)n, MPI_FLOAT, o->next, tag, a->comm.mpi, &o->req));
    } else if (pos == S - 1) {   /* the owner: receives the others' sum straight into dst */
        NT_CHECK(dst && (dst + n <= src || src + n <= dst), "internal: reduction result overlaps its input");
        o->owner = 1;
        o->dst = dst;
        o->state = OP_RECV;
        NT_CHECK_MPI(MPI_Irecv(dst, (int)n, MPI_FLOAT, prev, tag, a->comm.mpi, &o->req));
    } else {
        o->tmp = nt_malloc(n * sizeof(float), "partial sum of a gradient bucket");
        o->state = OP_RECV;
        NT_CHECK_MPI(MPI_Irecv(o->tmp, (int)n, MPI_FLOAT, prev, tag, a->comm.mpi, &o->req));
    }
}

void nt_async_allgather_slice(nt_async *a, float *buf, size_t off, size_t n, size_t stride, int tag)
{
    int S = a->comm.size, me = a->comm.rank;
    NT_CHECK(n <= stride && n < INT_MAX, "internal: all-gather slice of %zu elements at stride %zu", n, stride);
    NT_CHECK(tag >= 0 && tag <= a->tag_ub, "internal: tag %d outside MPI's range [0, %d]", tag, a->tag_ub);
    if (n == 0 || S == 1) return;
    /* every rank sends its slice to every other one: each sends and receives
     * (S-1) slices, the volume of a ring all-gather, in one step */
    for (int k = 1; k < S; k++) {
        int to = (me + k) % S, from = (me - k + S) % S;
        nt_async_op *r = op_new(a);
        r->state = OP_GATHER;
        r->n = n;
        NT_CHECK_MPI(MPI_Irecv(buf + (size_t)from * stride + off, (int)n, MPI_FLOAT, from, tag, a->comm.mpi, &r->req));
        nt_async_op *o = op_new(a);
        o->state = OP_GATHER;
        o->n = n;
        NT_CHECK_MPI(MPI_Isend(buf + (size_t)me * stride + off, (int)n, MPI_FLOAT, to, tag, a->comm.mpi, &o->req));
    }
}

/* the request of o has completed: the next step of its chain */
static void op_advance(nt_async *a, nt_async_op *o)
{
    switch (o->state) {
    case OP_RECV:
        if (o->owner) {
            float *d = o->dst;
            const float *s = o->src;
            for (size_t i = 0; i < o->n; i++) d[i] = d[i] + s[i];
            o->state = OP_DONE;
        } else {
            float *t = o->tmp;
            const float *s = o->src;
            for (size_t i = 0; i < o->n; i++) t[i] = t[i] + s[i];
            o->state = OP_SEND;
            NT_CHECK_MPI(MPI_Isend(t, (int)o->n, MPI_FLOAT, o->next, o->tag, a->comm.mpi, &o->req));
        }
        break;
    case OP_SEND:
        free(o->tmp);
        o->tmp = NULL;
        o->state = OP_DONE;
        break;
    default:
        o->state = OP_DONE;
        break;
    }
}

/* drop the finished requests, keeping the order of the rest */
static void compact(nt_async *a)
{
    int k = 0;
    for (int i = 0; i < a->n; i++)
        if (a->op[i].state != OP_DONE) a->op[k++] = a->op[i];
    a->n = k;
}

int nt_async_test(nt_async *a)
{
    for (int i = 0; i < a->n; i++) {
        nt_async_op *o = &a->op[i];
        while (o->state != OP_DONE) {
            int done = 0;
            NT_CHECK_MPI(MPI_Test(&o->req, &done, MPI_STATUS_IGNORE));
            if (!done) break;
            op_advance(a, o);
        }
    }
    compact(a);
    return a->n;
}

void nt_async_wait(nt_async *a, const char *what)
{
    if (a->comm.size == 1) return;
    nt_comm_region_enter(&a->comm, "%s", what);
    MPI_Request *req = a->n ? nt_malloc((size_t)a->n * sizeof *req, "request list") : NULL;
    int *who = a->n ? nt_malloc((size_t)a->n * sizeof *who, "request list") : NULL;
    for (;;) {
        int k = 0;
        for (int i = 0; i < a->n; i++)
            if (a->op[i].state != OP_DONE) { req[k] = a->op[i].req; who[k++] = i; }
        if (k == 0) break;
        int idx = MPI_UNDEFINED;
        NT_CHECK_MPI(MPI_Waitany(k, req, &idx, MPI_STATUS_IGNORE));
        NT_CHECK(idx != MPI_UNDEFINED, "internal: no open request among %d", k);
        a->op[who[idx]].req = MPI_REQUEST_NULL;
        op_advance(a, &a->op[who[idx]]);
    }
    free(req);
    free(who);
    a->n = 0;
    nt_watchdog_leave();
}
