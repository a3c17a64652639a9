/* bench.h — `ntron bench DECK`: throughput of the deck's model on the
 * allocated ranks with synthetic data (warm-up + N timed steps, nccl-tests /
 * HPL-style rows, a correctness verdict, a JSON copy), and `--comm`:
 * all-reduce, reduce-scatter, all-gather and send/recv bandwidth over the
 * TP, DP and PP communicators with nccl-tests' algbw/busbw and a data check. */
#ifndef NTRON_BENCH_H
#define NTRON_BENCH_H

#include "parallel/grid.h"
#include "backend/backend.h"

#include <stddef.h>

/* The command; returns the exit status (0 PASSED, 1 FAILED, 2 bad input). */
int nt_bench_main(int argc, char **argv);

/* The --comm benchmark on grid g (collective over the world): message
 * sizes from 4 KiB up to max_bytes (x4), `iters` timed iterations after
 * 2 warm-ups each; rank 0 prints the rows and writes JSON (if json != NULL).
 * Returns the total number of wrong elements (the same on every rank).
 * fault != 0 (test hook) corrupts one received element on world rank 0 per
 * row before the data check, which must then report it.  The buffers are
 * the backend's (ops): device memory on the CUDA backend, moved by the
 * communicators' device path (NCCL when every rank has a GPU of its own,
 * else staged through the host); sendrecv is one grouped exchange
 * (comm.h nt_comm_exchange), the form the pipeline uses. */
long nt_bench_comm(const nt_grid *g, const nt_ops *ops, size_t max_bytes, int iters, const char *json, int fault);

#endif
