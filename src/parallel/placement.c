/* placement.c — node-local rank, node id and GPU choice (see placement.h). */
#include "parallel/placement.h"
#include "build_config.h"
#include "util/check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef NT_HAVE_PMIX
#include <pmix.h>

/* 1 when PMIx gave local rank, local size and node id */
static int from_pmix(nt_placement *p, char *why, size_t n)
{
    pmix_proc_t me, wild;
    pmix_value_t *v = NULL;
    pmix_status_t rc = PMIx_Init(&me, NULL, 0);
    if (rc != PMIX_SUCCESS) { snprintf(why, n, "PMIx_Init: %s", PMIx_Error_string(rc)); return 0; }
    PMIX_LOAD_PROCID(&wild, me.nspace, PMIX_RANK_WILDCARD);
    int ok = 1;
    if ((rc = PMIx_Get(&me, PMIX_LOCAL_RANK, NULL, 0, &v)) == PMIX_SUCCESS) { p->local_rank = v->data.uint16; PMIX_VALUE_RELEASE(v); }
    else ok = 0;
    if (ok && (rc = PMIx_Get(&wild, PMIX_LOCAL_SIZE, NULL, 0, &v)) == PMIX_SUCCESS) { p->local_size = (int)v->data.uint32; PMIX_VALUE_RELEASE(v); }
    else ok = 0;
    if (ok && (rc = PMIx_Get(&me, PMIX_NODEID, NULL, 0, &v)) == PMIX_SUCCESS) { p->node_id = (long)v->data.uint32; PMIX_VALUE_RELEASE(v); }
    else ok = 0;
    if (!ok) snprintf(why, n, "PMIx_Get: %s", PMIx_Error_string(rc));
    PMIx_Finalize(NULL, 0);
    return ok;
}
#else
static int from_pmix(nt_placement *p, char *why, size_t n)
{
    (void)p;
    snprintf(why, n, "built without PMIx");
    return 0;
}
#endif

void nt_placement_get(nt_placement *p, MPI_Comm world_mpi)
{
    char why[160] = "";
    memset(p, 0, sizeof *p);
    nt_comm world;
    nt_comm_from_mpi(&world, world_mpi, "world");
    p->from_pmix = from_pmix(p, why, sizeof why);
    int ok = p->from_pmix;
    /* every rank must agree on the source, or node ids would not compare */
    nt_comm_allreduce_i32(&world, &ok, 1, NT_MIN);
    if (ok) {
        snprintf(p->how, sizeof p->how, "PMIx: node %ld, local rank %d of %d", p->node_id, p->local_rank,
                 p->local_size);
        return;
    }
    p->from_pmix = 0;
    MPI_Comm local_mpi;
    NT_CHECK_MPI(MPI_Comm_split_type(world_mpi, MPI_COMM_TYPE_SHARED, world.rank, MPI_INFO_NULL, &local_mpi));
    nt_comm local;
    nt_comm_from_mpi(&local, local_mpi, "node");
    p->local_rank = local.rank;
    p->local_size = local.size;
    int first = world.rank;  /* node id: the lowest world rank on the node */
    nt_comm_allreduce_i32(&local, &first, 1, NT_MIN);
    p->node_id = first;
    nt_comm_free(&local);
    snprintf(p->how, sizeof p->how, "MPI shared-memory split (no PMIx: %s): node %ld, local rank %d of %d",
             why[0] ? why : "some ranks had none", p->node_id, p->local_rank, p->local_size);
}

void nt_placement_check_tp(const nt_placement *p, const nt_comm *tp, const nt_comm *world)
{
    if (tp->size <= 1) return;
    int64_t lo = p->node_id, hi = p->node_id;
    nt_comm_allreduce(tp, &lo, 1, NT_I64, NT_MIN);
    nt_comm_allreduce(tp, &hi, 1, NT_I64, NT_MAX);
    int bad = lo != hi;
    nt_comm_allreduce_i32(world, &bad, 1, NT_MAX);
    /* every rank knows from the all-reduce: one message, all leave with status 2 */
    if (bad)
        nt_exit_agreed(NT_EXIT_INPUT, world->rank == 0,
                       "a tensor-parallel group spans nodes (TP %d, %d ranks per node on rank 0's node): "
                       "parallel.tensor must divide the ranks per node, and ranks must be placed by node (block)",
                       tp->size, p->local_size);
}
