/* comm_device.h — the CUDA backend's communicators: how device buffers
 * travel between ranks.  NCCL (comm_nccl.c) when every rank has a GPU of
 * its own and the build has NCCL, else staged through host memory around
 * MPI (NCCL refuses two ranks of one communicator on one GPU);
 * parallel.comm = auto | nccl | mpi.  Without CUDA a no-op. */
#ifndef NTRON_COMM_DEVICE_H
#define NTRON_COMM_DEVICE_H

#include "parallel/grid.h"

/* Chooses the device path for `mode` (auto | nccl | mpi) and sets it on
 * every communicator of the grid; exits 2 when nccl is forced and cannot
 * run.  Collective over the grid's world; the current CUDA device must be
 * this rank's.  Rank 0 prints the choice and why (with more than one rank). */
void nt_comm_device_setup(nt_grid *g, const char *mode);

#endif
