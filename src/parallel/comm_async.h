/* comm_async.h — nonblocking data-parallel transfers of host f32 buffers
 * whose results do not depend on how the work is cut into pieces or when
 * each piece is started: what the overlapped optimizer needs
 * (train/grad_reduce.c, train/optim.c).
 *
 *  - nt_async_reduce: the sum over the ranks of one range [n], delivered
 *    to the range's owner, along the chain of ranks owner+1, owner+2, ...,
 *    owner (mod size): the first sends its values, each next rank adds its
 *    own to the partial sum it receives and passes it on, the owner adds
 *    its own last.  Every element's sum is (((x[o+1] + x[o+2]) + ...) +
 *    x[o]) in fp32 for whatever range it falls in: the order is ntron's,
 *    not the MPI library's (whose reduce-scatter picks its algorithm, and
 *    with it the order of the additions, by message size).  With two ranks
 *    the sum is one addition, so equal to any MPI reduction's.  Started for
 *    the ranges of every owner together it is a ring reduce-scatter: each
 *    rank sends and receives (size-1)/size of the data.
 *  - nt_async_allgather_slice: an in-place all-gather of the slice
 *    [off, off+n) of every rank's shard of a buffer sharded in blocks of
 *    `stride` elements (rank r's slice at r*stride + off): a copy, each rank
 *    sending its slice straight to every other (the volume of a ring).
 *
 * Requests are advanced by nt_async_test (never blocks; also the place
 * where a relaying rank adds and sends on) and completed by nt_async_wait,
 * which is a watchdog region and a fault injection point named like a
 * collective of the communicator (comm.h).  A set works on its own
 * duplicate of the communicator, so its tags meet no other traffic. */
#ifndef NTRON_COMM_ASYNC_H
#define NTRON_COMM_ASYNC_H

#include "parallel/comm.h"

typedef struct nt_async_op nt_async_op;

typedef struct nt_async {
    nt_comm comm;          /* duplicate of the caller's communicator (same label) */
    int tag_ub;            /* largest tag MPI allows */
    nt_async_op *op;       /* started, not yet finished */
    int n, cap;
} nt_async;

/* collective over c */
void nt_async_init(nt_async *a, const nt_comm *c);
/* every request must be finished (nt_async_wait) */
void nt_async_free(nt_async *a);
/* Starts the reduction of this rank's src[0..n) to `owner`; on the owner the
 * sum lands in dst[0..n) (not overlapping src; ignored elsewhere).  Every
 * rank of the communicator starts the same (n, owner, tag), in any order
 * relative to other ranges; tag in [0, tag_ub] unique among the ranges in
 * flight.  src must stay unchanged, and dst untouched, until nt_async_wait. */
void nt_async_reduce(nt_async *a, const float *src, float *dst, size_t n, int owner, int tag);
/* Starts the all-gather of buf[r*stride + off .. +n) from each rank r into
 * the same place on every rank (n <= stride); every rank starts the same
 * slices with the same tags, unique among the transfers in flight. */
void nt_async_allgather_slice(nt_async *a, float *buf, size_t off, size_t n, size_t stride, int tag);
/* Advances what can advance without waiting; returns the requests still open. */
int nt_async_test(nt_async *a);
/* Completes every request started: one watchdog region and fault point
 * named `what` on the communicator (when it has more than one rank). */
void nt_async_wait(nt_async *a, const char *what);

#endif
