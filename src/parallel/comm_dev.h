/* comm_dev.h — the device path of a communicator (internal to comm_*.c):
 * how comm_mpi.c recognises a device buffer and moves it, and the
 * collectives a device library (NCCL, comm_nccl.c) runs on device memory
 * directly.  A NULL collective means "stage through host memory": copy the
 * device buffer to the host, run the MPI collective, copy the result back.
 * Everything runs on the CUDA backend's stream (the default stream), so a
 * collective is ordered after the kernels that produced its input and
 * before those that consume its output. */
#ifndef NTRON_COMM_DEV_H
#define NTRON_COMM_DEV_H

#include "parallel/comm.h"

typedef struct nt_comm_dev {
    const char *name;                                          /* "nccl" | "host-staged" */
    int (*is_device)(const void *p);                           /* 1: p is device memory */
    void (*d2h)(void *host, const void *dev, size_t bytes);    /* complete on return */
    void (*h2d)(void *dev, const void *host, size_t bytes);
    void (*d2d)(void *dst, const void *src, size_t bytes);     /* may overlap (memmove) */
    void (*allreduce)(const nt_comm *c, void *buf, size_t n, nt_dtype t, nt_redop op);
    void (*reduce_scatter)(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t);
    void (*allgather)(const nt_comm *c, const void *send, void *recv, size_t n, nt_dtype t);
    void (*bcast)(const nt_comm *c, void *buf, size_t bytes, int root);
    /* grouped send/receive of device buffers (comm.h nt_comm_exchange); nops = 0: get ready */
    void (*exchange)(const nt_comm *c, const nt_p2p *ops, int nops);
    void (*attach)(nt_comm *c);                                /* sets c->dev_state (may be NULL) */
    void (*release)(nt_comm *c);                               /* frees c->dev_state (may be NULL) */
} nt_comm_dev;

/* CUDA memory primitives and the host-staged path (comm_device.c) */
int nt_cuda_mem_is_device(const void *p);
void nt_cuda_mem_d2h(void *host, const void *dev, size_t bytes);
void nt_cuda_mem_h2d(void *dev, const void *host, size_t bytes);
void nt_cuda_mem_d2d(void *dst, const void *src, size_t bytes);
extern const nt_comm_dev nt_comm_dev_staged;
/* NCCL collectives (comm_nccl.c, builds with NCCL only) */
extern const nt_comm_dev nt_comm_dev_nccl;
/* "NCCL x.y.z" of the library loaded at run time */
void nt_comm_nccl_version(char *buf, size_t n);

#endif
