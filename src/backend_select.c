/* backend_select.c — run.backend resolved to an ops table, shared by every
 * command that trains (run, bench): cuda needs a CUDA build, a visible GPU
 * and (in this version) one rank; auto takes cuda when all hold, else the
 * CPU, and rank 0 says why. */
#include "backend.h"
#include "check.h"
#include "deck.h"
#include "device.h"

#include <mpi.h>
#include <stdio.h>
#include <string.h>

const nt_ops *nt_backend_select(const nt_config *cfg, const nt_deck_info *info)
{
    char msg[1024], w[1200];
    int world = 1, rank = 0;
    NT_CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &world));
    NT_CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    if (!strcmp(cfg->backend, "cpu")) return nt_backend_cpu();
    int ngpu = nt_device_count(msg, sizeof msg);
    if (!strcmp(cfg->backend, "cuda")) {
        if (ngpu == 0) nt_input_error("%s: run.backend = cuda: %s", nt_deck_where(info, "run.backend", w, sizeof w), msg);
        if (world > 1)
            nt_input_error("%s: run.backend = cuda runs on one rank in this version (this job has %d)",
                           nt_deck_where(info, "run.backend", w, sizeof w), world);
        return nt_backend_cuda(0);   /* one rank: local rank 0, so GPU 0 */
    }
    if (ngpu > 0 && world == 1) return nt_backend_cuda(0);
    if (rank == 0)
        printf("backend auto: cpu (%s)\n",
               ngpu > 0 ? "more than one rank: the CUDA backend runs on one rank in this version" : msg);
    return nt_backend_cpu();
}
