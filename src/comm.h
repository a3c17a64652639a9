/* comm.h — the one collective/p2p API the model, schedules and optimizer
 * use.  The MPI implementation (comm_mpi.c) works on host memory (CPU
 * backend); an NCCL implementation fills the same calls for device memory.
 * A communicator of size 1 makes every collective a no-op (or a copy). */
#ifndef NTRON_COMM_H
#define NTRON_COMM_H

#include <mpi.h>
#include <stddef.h>

typedef enum { NT_SUM = 0, NT_MAX = 1 } nt_redop;

typedef struct nt_comm {
    MPI_Comm mpi;
    int rank, size;
    const char *label;     /* "tp", "dp", "pp", "mp", "emb", "world" (for messages) */
} nt_comm;

void nt_comm_from_mpi(nt_comm *c, MPI_Comm mpi, const char *label);
void nt_comm_free(nt_comm *c);

void nt_comm_allreduce_f32(const nt_comm *c, float *buf, size_t n, nt_redop op);
void nt_comm_allreduce_f64(const nt_comm *c, double *buf, size_t n, nt_redop op);
void nt_comm_allreduce_i32(const nt_comm *c, int *buf, size_t n, nt_redop op);
/* recv[n/size] = sum over ranks of send[rank block]; n divisible by size */
void nt_comm_reduce_scatter_f32(const nt_comm *c, const float *send, float *recv, size_t n);
/* recv[n*size] = concat over ranks of send[n]; send may be recv + rank*n (in place) */
void nt_comm_allgather_f32(const nt_comm *c, const float *send, float *recv, size_t n);
void nt_comm_bcast(const nt_comm *c, void *buf, size_t bytes, int root);
void nt_comm_send_f32(const nt_comm *c, const float *buf, size_t n, int peer, int tag);
void nt_comm_recv_f32(const nt_comm *c, float *buf, size_t n, int peer, int tag);
/* non-blocking send; the buffer must stay valid until the request completes */
void nt_comm_isend_f32(const nt_comm *c, const float *buf, size_t n, int peer, int tag, MPI_Request *req);
void nt_comm_waitall(int n, MPI_Request *reqs);
void nt_comm_barrier(const nt_comm *c);

#endif
