/* comm.h — the one collective/p2p API the model, schedules and optimizer
 * use.  comm_mpi.c implements it over MPI on host memory.  A communicator
 * of the CUDA backend also carries a device path (comm_dev.h, set up by
 * comm_device.c): comm_mpi.c hands a device buffer to NCCL
 * (comm_nccl.c) or stages it through host memory around the MPI call.
 * Buffers may be host or device memory in every call; the two buffers of
 * one call must be of the same kind.  A communicator of size 1 makes every
 * collective a no-op (or a copy).
 *
 * Every blocking call on a communicator of more than one rank (the
 * collectives, send, receive, wait) is a watchdog region (signals.h) named
 * after the operation and the communicator, e.g. "all-reduce (sum, f32,
 * 4096 elements) on the tp communicator"; regions nest, so a call inside a
 * caller's own region is covered by both.  Fault injection for the tests:
 * NTRON_FAULT_HANG_COMM=RANK:LABEL:N makes world rank RANK sleep forever
 * inside its Nth collective (counted from 1, communicators of one rank not
 * counted) on the communicator labelled LABEL. */
#ifndef NTRON_COMM_H
#define NTRON_COMM_H

#include <mpi.h>
#include <stddef.h>

typedef enum { NT_SUM = 0, NT_MAX = 1, NT_MIN = 2 } nt_redop;
/* element types of the typed calls; NT_BF16 is the CUDA backend's activation
 * dtype (sums of bf16 on the host path are formed in fp32, rounded once);
 * NT_U64 sums wrap modulo 2^64 (checksums) */
typedef enum { NT_F32 = 0, NT_BF16 = 1, NT_F64 = 2, NT_I32 = 3, NT_I64 = 4, NT_U64 = 5 } nt_dtype;

struct nt_comm_dev;

typedef struct nt_comm {
    MPI_Comm mpi;
    int rank, size;
    const char *label;     /* "tp", "dp", "pp", "mp", "emb", "world" (for messages) */
    const struct nt_comm_dev *dev;   /* device path (CUDA backend), NULL: host buffers only */
    void *dev_state;                 /* the device path's state for this communicator */
} nt_comm;

void nt_comm_from_mpi(nt_comm *c, MPI_Comm mpi, const char *label);
/* releases the device path's state, then the MPI communicator (not WORLD/SELF) */
void nt_comm_free(nt_comm *c);
/* releases only the device path's state (for a communicator the caller does not own) */
void nt_comm_detach(nt_comm *c);

size_t nt_dtype_size(nt_dtype t);
/* "f32", "bf16", ... (for messages) */
const char *nt_dtype_name(nt_dtype t);
/* the activation dtype of a backend with act_bytes bytes per element */
static inline nt_dtype nt_dtype_of_act(size_t act_bytes) { return act_bytes == 2 ? NT_BF16 : NT_F32; }

/* typed collectives: n elements of type t */
void nt_comm_allreduce(const nt_comm *c, void *buf, size_t n, nt_dtype t, nt_redop op);
/* recv[n/size] = sum over ranks of send[rank block]; n divisible by size */
void nt_comm_reduce_scatter(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t);
/* recv[n*size] = concat over ranks of send[n]; send may be recv + rank*n (in place) */
void nt_comm_allgather(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t);

void nt_comm_allreduce_f32(const nt_comm *c, float *buf, size_t n, nt_redop op);
void nt_comm_allreduce_f64(const nt_comm *c, double *buf, size_t n, nt_redop op);
void nt_comm_allreduce_i32(const nt_comm *c, int *buf, size_t n, nt_redop op);
void nt_comm_reduce_scatter_f32(const nt_comm *c, const float *send, float *recv, size_t n);
void nt_comm_allgather_f32(const nt_comm *c, const float *send, float *recv, size_t n);
/* recv[n*size] on root = concat over ranks of send[n]; recv is ignored on the
 * other ranks (may be NULL); on root send may be recv + root*n (in place) */
void nt_comm_gather(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t, int root);
/* exclusive prefix sum over ranks: recv[i] = sum of send[i] over the ranks
 * below this one (zero on rank 0); host buffers, send may equal recv */
void nt_comm_exscan(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t);
/* broadcast from root: `bytes` raw bytes, or n typed elements */
void nt_comm_bcast(const nt_comm *c, void *buf, size_t bytes, int root);
void nt_comm_bcast_typed(const nt_comm *c, void *buf, size_t n, nt_dtype t, int root);
void nt_comm_bcast_f64(const nt_comm *c, double *buf, size_t n, int root);
void nt_comm_bcast_i32(const nt_comm *c, int *buf, size_t n, int root);
/* tagged point-to-point travels over MPI; a device buffer is staged through
 * host memory (see nt_comm_exchange for the grouped form NCCL can carry) */
void nt_comm_send_f32(const nt_comm *c, const float *buf, size_t n, int peer, int tag);
void nt_comm_recv_f32(const nt_comm *c, float *buf, size_t n, int peer, int tag);
/* non-blocking send; the buffer must stay valid until the request completes
 * (a device buffer is copied to host at once; nt_comm_waitall frees the copy) */
void nt_comm_isend_f32(const nt_comm *c, const float *buf, size_t n, int peer, int tag, MPI_Request *req);
void nt_comm_waitall(int n, MPI_Request *reqs);
/* Grouped point-to-point, with NCCL's semantics (ncclGroupStart, ncclSend /
 * ncclRecv, ncclGroupEnd): every transfer of the group progresses together
 * and the group is done when all are.  No tags: between two ranks, sends
 * and receives match in the order they are issued.  A send is done only
 * once its receive has started (MPI_Issend on the host path), so a program
 * that completes here does not rely on buffering NCCL lacks.  Device
 * buffers go to the device path's grouped send/receive (NCCL: no host
 * copy; stream-ordered, so "done" means for the kernels after it) or are
 * staged through host memory; host buffers go to MPI.  All buffers of one
 * group are of one kind.  nops = 0 only makes the device path ready
 * (NCCL: builds the communicator; collective over c). */
typedef struct nt_p2p {
    int send;          /* 1: send buf to peer; 0: receive into buf from peer */
    void *buf;
    size_t n;          /* elements of type t */
    nt_dtype t;
    int peer;          /* rank in c */
} nt_p2p;
void nt_comm_exchange(const nt_comm *c, const nt_p2p *ops, int nops);
/* "nccl" when exchanges of device buffers on c need no host copy, else
 * "host-staged" (device buffers) or "mpi" (host buffers only) */
const char *nt_comm_exchange_path(const nt_comm *c);
void nt_comm_barrier(const nt_comm *c);
/* The start of a collective built outside this file (comm_async.c) that
 * blocks: the named watchdog region every collective here opens ("%s on the
 * LABEL communicator") and the NTRON_FAULT_HANG_COMM point, counted like
 * the collectives of c.  End it with nt_watchdog_leave() (signals.h). */
void nt_comm_region_enter(const nt_comm *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The agreed error exit.  Collective over c, which must span every rank of
 * the job (the world): each rank passes its own message, or NULL / "" when
 * it found nothing wrong.  Returns when no rank has a message; otherwise the
 * lowest rank with one prints it and every rank exits with `status`
 * together (nt_exit_agreed: no MPI_Abort).  The way out of errors that are
 * found on some ranks only but must end the job cleanly (bad input: 2). */
void nt_comm_agree(const nt_comm *c, int status, const char *err);
/* The agreement without the exit, for a caller with collective clean-up to
 * do first (e.g. closing an MPI-IO file): collective over c; the lowest rank
 * of c whose err is non-empty, or -1 when none.  Then every rank calls
 * nt_exit_agreed(status, c->rank == who, "%s", err). */
int nt_comm_first_error(const nt_comm *c, const char *err);

#endif
