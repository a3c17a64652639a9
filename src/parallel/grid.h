/* grid.h — the TP x DP x PP rank grid (Megatron order: TP fastest, then DP,
 * then PP: rank = tp + TP*(dp + DP*pp)) and its communicators. */
#ifndef NTRON_GRID_H
#define NTRON_GRID_H

#include "parallel/comm.h"

typedef struct nt_grid {
    int TP, DP, PP;
    int tp, dp, pp;          /* this rank's coordinates */
    nt_comm world;
    nt_comm tp_comm;         /* same dp, pp */
    nt_comm dp_comm;         /* same tp, pp */
    nt_comm pp_comm;         /* same tp, dp; rank in it = pp stage */
    nt_comm mp_comm;         /* model-parallel: same dp (TP x PP ranks) */
    nt_comm emb_comm;        /* first and last pipeline stage of the same tp, dp */
} nt_grid;

/* Builds the grid over `world`; exits with a clear error (status 2) when the
 * world size is not TP x PP x DP. */
void nt_grid_init(nt_grid *g, MPI_Comm world, int TP, int PP);
void nt_grid_free(nt_grid *g);

#endif
