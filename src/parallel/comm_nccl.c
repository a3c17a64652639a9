/* comm_nccl.c — the NCCL device path of a communicator (comm_dev.h):
 * all-reduce, reduce-scatter, all-gather and broadcast of device buffers on
 * the CUDA backend's stream (the default stream).  Each communicator of
 * the grid (tp, dp, pp, mp, emb, world) gets its own NCCL communicator when
 * it first carries a device buffer: the group's rank 0 creates the
 * ncclUniqueId, a broadcast over MPI (host memory) sends it to the group, and
 * every member calls ncclCommInitRank.  That first call is a collective of
 * the group, so every member reaches it at the same point; groups that only
 * ever see host scalars (loss, gradient norm) never build one.
 * Grouped point-to-point (nt_comm_exchange: the pipeline's transfers when
 * every rank has a GPU of its own, bench --comm's sendrecv) is one NCCL
 * group of ncclSend/ncclRecv on device buffers; tagged point-to-point stays
 * on MPI (comm_mpi.c stages device buffers through host memory).
 * Built only when configure finds NCCL.  Checked on GPU buffers by
 * tests/test_comm_nccl.c (one rank on the H100 lent so far; several ranks
 * need one GPU each) and, in training, by tests/test_cuda_layouts.sh. */
#include "parallel/comm.h"
#include "parallel/comm_dev.h"
#include "util/check.h"
#include "cuda_check.h"

#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct nccl_state { ncclComm_t comm; int ready; } nccl_state;

static void n_attach(nt_comm *c) { c->dev_state = nt_calloc(1, sizeof(nccl_state), "NCCL communicator state"); }

static void n_release(nt_comm *c)
{
    nccl_state *s = c->dev_state;
    if (s && s->ready) NT_CHECK_NCCL(ncclCommDestroy(s->comm));
    free(s);
    c->dev_state = NULL;
}

/* the group's NCCL communicator, built on first use (collective over c) */
static ncclComm_t comm_of(const nt_comm *c)
{
    nccl_state *s = c->dev_state;
    NT_CHECK(s, "internal: communicator %s has no NCCL state", c->label);
    if (!s->ready) {
        ncclUniqueId id;
        if (c->rank == 0) NT_CHECK_NCCL(ncclGetUniqueId(&id));
        nt_comm_bcast(c, &id, sizeof id, 0);   /* host memory: the MPI path */
        NT_CHECK_NCCL(ncclCommInitRank(&s->comm, c->size, id, c->rank));
        s->ready = 1;
    }
    return s->comm;
}

static ncclDataType_t nccl_type(nt_dtype t)
{
    switch (t) {
    case NT_BF16: return ncclBfloat16;
    case NT_F64: return ncclFloat64;
    case NT_I32: return ncclInt32;
    case NT_I64: return ncclInt64;
    case NT_U64: return ncclUint64;
    default: return ncclFloat32;
    }
}

/* 1 when [a, a+na) and [b, b+nb) share a byte */
static int overlap(const void *a, size_t na, const void *b, size_t nb)
{
    const char *x = a, *y = b;
    return x < y + nb && y < x + na;
}

static void n_allreduce(const nt_comm *c, void *buf, size_t n, nt_dtype t, nt_redop op)
{
    ncclRedOp_t nop = op == NT_MAX ? ncclMax : op == NT_MIN ? ncclMin : ncclSum;
    NT_CHECK_NCCL(ncclAllReduce(buf, buf, n, nccl_type(t), nop, comm_of(c), 0));
}

static void n_reduce_scatter(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t)
{
    size_t blk = n / (size_t)c->size, esz = nt_dtype_size(t);
    /* NCCL's in-place form is recv = send + rank*blk; any other overlap is undefined */
    NT_CHECK((const char *)recv == (const char *)send + (size_t)c->rank * blk * esz || !overlap(send, n * esz, recv, blk * esz),
             "reduce-scatter over %s: receive buffer overlaps the send buffer", c->label);
    NT_CHECK_NCCL(ncclReduceScatter(send, recv, blk, nccl_type(t), ncclSum, comm_of(c), 0));
}

static void n_allgather(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t)
{
    size_t esz = nt_dtype_size(t);
    NT_CHECK((const char *)send == (const char *)recv + (size_t)c->rank * n * esz ||
                 !overlap(send, n * esz, recv, n * (size_t)c->size * esz),
             "all-gather over %s: send buffer overlaps the receive buffer", c->label);
    NT_CHECK_NCCL(ncclAllGather(send, recv, n, nccl_type(t), comm_of(c), 0));
}

static void n_bcast(const nt_comm *c, void *buf, size_t bytes, int root)
{
    NT_CHECK_NCCL(ncclBroadcast(buf, buf, bytes, ncclUint8, root, comm_of(c), 0));
}

/* one NCCL group: the sends and receives progress together, so two ranks
 * sending to each other in the same group cannot deadlock */
static void n_exchange(const nt_comm *c, const nt_p2p *ops, int nops)
{
    ncclComm_t comm = comm_of(c);
    if (nops == 0) return;
    NT_CHECK_NCCL(ncclGroupStart());
    for (int i = 0; i < nops; i++) {
        const nt_p2p *o = &ops[i];
        if (o->send) NT_CHECK_NCCL(ncclSend(o->buf, o->n, nccl_type(o->t), o->peer, comm, 0));
        else NT_CHECK_NCCL(ncclRecv(o->buf, o->n, nccl_type(o->t), o->peer, comm, 0));
    }
    NT_CHECK_NCCL(ncclGroupEnd());
}

void nt_comm_nccl_version(char *buf, size_t n)
{
    int v = 0;
    NT_CHECK_NCCL(ncclGetVersion(&v));
#ifdef NT_CUDA_EMU
    (void)v;
    snprintf(buf, n, "NCCL host emulator over MPI");
#else
    /* codes since 2.9: major*10000 + minor*100 + patch */
    snprintf(buf, n, "NCCL %d.%d.%d", v / 10000, v / 100 % 100, v % 100);
#endif
}

const nt_comm_dev nt_comm_dev_nccl = {
    .name = "nccl",
    .is_device = nt_cuda_mem_is_device,
    .d2h = nt_cuda_mem_d2h, .h2d = nt_cuda_mem_h2d, .d2d = nt_cuda_mem_d2d,
    .allreduce = n_allreduce, .reduce_scatter = n_reduce_scatter, .allgather = n_allgather, .bcast = n_bcast,
    .exchange = n_exchange,
    .attach = n_attach, .release = n_release,
};
