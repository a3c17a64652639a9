/* backend_select.c — run.backend resolved to an ops table, shared by every
 * command that trains (run, bench): cuda needs a CUDA build and a visible
 * GPU; auto takes cuda when both hold, else the CPU, and rank 0 says why.
 * Each rank takes GPU (node-local rank mod GPUs visible), the node-local
 * rank from PMIx or the MPI shared-memory split (placement.c); how ranks
 * sharing a GPU communicate is comm_device.c's choice. */
#include "backend/backend.h"
#include "util/check.h"
#include "parallel/comm.h"
#include "deck/deck.h"
#include "backend/device.h"
#include "parallel/placement.h"

#include <stdio.h>
#include <string.h>

static const nt_ops *cuda_on_local_gpu(const nt_comm *world, int ngpu)
{
    nt_placement p;
    nt_placement_get(&p, MPI_COMM_WORLD);
    const nt_ops *ops = nt_backend_cuda(p.local_rank % ngpu);
    nt_backend_cuda_env(world);
    return ops;
}

const nt_ops *nt_backend_select(const nt_config *cfg, const nt_deck_info *info)
{
    char msg[1024], w[1200];
    if (!strcmp(cfg->backend, "cpu")) return nt_backend_cpu();
    nt_comm world;
    nt_comm_from_mpi(&world, MPI_COMM_WORLD, "world");
    int ngpu = nt_device_count(msg, sizeof msg);
    /* every rank must take the same backend: the CPU unless all see a GPU */
    int least = ngpu;
    nt_comm_allreduce_i32(&world, &least, 1, NT_MIN);
    if (!strcmp(cfg->backend, "cuda")) {
        /* every rank knows (the all-reduce) that the job cannot run: one message, exit 2 together */
        if (least == 0)
            nt_exit_agreed(NT_EXIT_INPUT, world.rank == 0, "%s: run.backend = cuda: %s",
                           nt_deck_where(info, "run.backend", w, sizeof w), ngpu == 0 ? msg : "some ranks see no GPU");
        return cuda_on_local_gpu(&world, ngpu);
    }
    if (least > 0) {
        /* the deck check refuses it with run.backend = cuda; auto finds out here */
        if (cfg->overlap_grad_reduce)
            nt_exit_agreed(NT_EXIT_INPUT, world.rank == 0,
                           "%s: parallel.overlap_grad_reduce = true needs the CPU backend, and run.backend = auto "
                           "found a GPU on every rank: set it false, or run.backend = cpu",
                           nt_deck_where(info, "parallel.overlap_grad_reduce", w, sizeof w));
        return cuda_on_local_gpu(&world, ngpu);
    }
    if (world.rank == 0) printf("backend auto: cpu (%s)\n", ngpu > 0 ? "some ranks see no GPU" : msg);
    return nt_backend_cpu();
}
