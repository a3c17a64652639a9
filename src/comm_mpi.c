/* comm_mpi.c — the comm API over MPI (host buffers).  Large counts are
 * split into chunks below INT_MAX elements. */
#include "comm.h"
#include "check.h"

#include <limits.h>
#include <string.h>

#define CHUNK ((size_t)1 << 30)

void nt_comm_from_mpi(nt_comm *c, MPI_Comm mpi, const char *label)
{
    c->mpi = mpi;
    c->label = label;
    NT_CHECK_MPI(MPI_Comm_rank(mpi, &c->rank));
    NT_CHECK_MPI(MPI_Comm_size(mpi, &c->size));
}

void nt_comm_free(nt_comm *c)
{
    if (c->mpi != MPI_COMM_NULL && c->mpi != MPI_COMM_WORLD && c->mpi != MPI_COMM_SELF)
        NT_CHECK_MPI(MPI_Comm_free(&c->mpi));
    c->mpi = MPI_COMM_NULL;
}

static MPI_Op mpi_op(nt_redop op) { return op == NT_MAX ? MPI_MAX : MPI_SUM; }

static void allreduce(const nt_comm *c, void *buf, size_t n, size_t esz, MPI_Datatype t, nt_redop op)
{
    if (c->size == 1) return;
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t k = n - off < CHUNK ? n - off : CHUNK;
        NT_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, (char *)buf + off * esz, (int)k, t, mpi_op(op), c->mpi));
    }
}

void nt_comm_allreduce_f32(const nt_comm *c, float *b, size_t n, nt_redop op) { allreduce(c, b, n, 4, MPI_FLOAT, op); }
void nt_comm_allreduce_f64(const nt_comm *c, double *b, size_t n, nt_redop op) { allreduce(c, b, n, 8, MPI_DOUBLE, op); }
void nt_comm_allreduce_i32(const nt_comm *c, int *b, size_t n, nt_redop op) { allreduce(c, b, n, 4, MPI_INT, op); }

void nt_comm_reduce_scatter_f32(const nt_comm *c, const float *send, float *recv, size_t n)
{
    size_t blk = n / (size_t)c->size;
    NT_CHECK(blk * (size_t)c->size == n, "reduce-scatter over %s: %zu not divisible by %d", c->label, n, c->size);
    if (c->size == 1) { if (recv != send) memmove(recv, send, n * sizeof(float)); return; }
    NT_CHECK(blk < INT_MAX, "reduce-scatter block too large (%zu)", blk);
    NT_CHECK_MPI(MPI_Reduce_scatter_block(send, recv, (int)blk, MPI_FLOAT, MPI_SUM, c->mpi));
}

void nt_comm_allgather_f32(const nt_comm *c, const float *send, float *recv, size_t n)
{
    if (c->size == 1) { if (recv != send) memmove(recv, send, n * sizeof(float)); return; }
    NT_CHECK(n < INT_MAX, "all-gather block too large (%zu)", n);
    const void *sb = send == recv + (size_t)c->rank * n ? MPI_IN_PLACE : (const void *)send;
    NT_CHECK_MPI(MPI_Allgather(sb, (int)n, MPI_FLOAT, recv, (int)n, MPI_FLOAT, c->mpi));
}

void nt_comm_bcast(const nt_comm *c, void *buf, size_t bytes, int root)
{
    if (c->size == 1) return;
    for (size_t off = 0; off < bytes; off += CHUNK) {
        size_t k = bytes - off < CHUNK ? bytes - off : CHUNK;
        NT_CHECK_MPI(MPI_Bcast((char *)buf + off, (int)k, MPI_BYTE, root, c->mpi));
    }
}

void nt_comm_send_f32(const nt_comm *c, const float *buf, size_t n, int peer, int tag)
{
    NT_CHECK(n < INT_MAX, "send too large (%zu)", n);
    NT_CHECK_MPI(MPI_Send(buf, (int)n, MPI_FLOAT, peer, tag, c->mpi));
}

void nt_comm_recv_f32(const nt_comm *c, float *buf, size_t n, int peer, int tag)
{
    NT_CHECK(n < INT_MAX, "recv too large (%zu)", n);
    NT_CHECK_MPI(MPI_Recv(buf, (int)n, MPI_FLOAT, peer, tag, c->mpi, MPI_STATUS_IGNORE));
}

void nt_comm_isend_f32(const nt_comm *c, const float *buf, size_t n, int peer, int tag, MPI_Request *req)
{
    NT_CHECK(n < INT_MAX, "send too large (%zu)", n);
    NT_CHECK_MPI(MPI_Isend(buf, (int)n, MPI_FLOAT, peer, tag, c->mpi, req));
}

void nt_comm_waitall(int n, MPI_Request *reqs)
{
    if (n > 0) NT_CHECK_MPI(MPI_Waitall(n, reqs, MPI_STATUSES_IGNORE));
}

void nt_comm_barrier(const nt_comm *c)
{
    if (c->size > 1) NT_CHECK_MPI(MPI_Barrier(c->mpi));
}
