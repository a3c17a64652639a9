/* placement.h — where this rank runs: node-local rank and size and a node
 * id, from PMIx (launched by srun --mpi=pmix or mpirun) or, without a PMIx
 * server, from MPI_Comm_split_type(MPI_COMM_TYPE_SHARED).  Chooses the GPU
 * (local rank mod GPUs on the node) and checks that every tensor-parallel
 * group sits inside one node. */
#ifndef NTRON_PLACEMENT_H
#define NTRON_PLACEMENT_H

#include "parallel/comm.h"

typedef struct nt_placement {
    int local_rank, local_size;
    long node_id;            /* the same on every rank of a node */
    int from_pmix;           /* 1: PMIx answered; 0: MPI shared-memory split */
    char how[256];           /* one line for the log */
} nt_placement;

void nt_placement_get(nt_placement *p, MPI_Comm world);
/* exits with a clear error (status 2) when the ranks of a TP group are on
 * different nodes */
void nt_placement_check_tp(const nt_placement *p, const nt_comm *tp, const nt_comm *world);

#endif
