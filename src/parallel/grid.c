/* grid.c — rank coordinates and communicators of the 3D layout. */
#include "parallel/grid.h"
#include "util/check.h"

static void split(nt_comm *c, MPI_Comm world, int color, int key, const char *label)
{
    MPI_Comm m;
    NT_CHECK_MPI(MPI_Comm_split(world, color, key, &m));
    if (m == MPI_COMM_NULL) {
        c->mpi = MPI_COMM_NULL; c->rank = -1; c->size = 0; c->label = label; c->dev = NULL; c->dev_state = NULL;
        return;
    }
    nt_comm_from_mpi(c, m, label);
}

void nt_grid_init(nt_grid *g, MPI_Comm world, int TP, int PP)
{
    nt_comm_from_mpi(&g->world, world, "world");
    int W = g->world.size;
    if (W % (TP * PP) != 0)
        nt_input_error("world size %d is not divisible by parallel.tensor (%d) x parallel.pipeline (%d) = %d; "
                       "world size must be TP x PP x DP",
                       W, TP, PP, TP * PP);
    g->TP = TP;
    g->PP = PP;
    g->DP = W / (TP * PP);
    int r = g->world.rank;
    g->tp = r % TP;
    g->dp = (r / TP) % g->DP;
    g->pp = r / (TP * g->DP);
    split(&g->tp_comm, world, g->dp + g->DP * g->pp, g->tp, "tp");
    split(&g->dp_comm, world, g->tp + TP * g->pp, g->dp, "dp");
    split(&g->pp_comm, world, g->tp + TP * g->dp, g->pp, "pp");
    split(&g->mp_comm, world, g->dp, g->tp + TP * g->pp, "mp");
    int in_emb = g->pp == 0 || g->pp == PP - 1;
    split(&g->emb_comm, world, in_emb ? g->tp + TP * g->dp : MPI_UNDEFINED, g->pp, "emb");
}

void nt_grid_free(nt_grid *g)
{
    nt_comm_detach(&g->world);   /* the caller owns the world communicator */
    nt_comm_free(&g->tp_comm);
    nt_comm_free(&g->dp_comm);
    nt_comm_free(&g->pp_comm);
    nt_comm_free(&g->mp_comm);
    if (g->emb_comm.mpi != MPI_COMM_NULL) nt_comm_free(&g->emb_comm);
}
