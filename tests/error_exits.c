/* error_exits.c — the two error exits of src/util/check.h under MPI, one per
 * run (tests/test_error_exits.sh):
 *   die      rank 1 fails alone (nt_die, status 1) while rank 0 waits in a barrier
 *   input    rank 1 finds bad input alone (nt_input_error, status 2), rank 0 waits
 *   cuda     rank 1's CUDA call fails (NT_CHECK_CUDA of cudaSetDevice on a device
 *            that does not exist), rank 0 waits (CUDA builds; else exit 77)
 *   agreed   rank 1 has an error, rank 0 none: nt_comm_agree, status 2
 * Without the abort the waiting rank would hang: the script bounds the run. */
#include "build_config.h"
#include "util/check.h"
#include "parallel/comm.h"

#include <string.h>

#ifdef NT_HAVE_CUDA
#include "cuda_check.h"
#endif

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
#ifndef NT_HAVE_CUDA
    if (!strcmp(mode, "cuda")) { printf("SKIP: built without CUDA\n"); return 77; }
#endif
    NT_CHECK_MPI(MPI_Init(&argc, &argv));
    nt_comm world;
    nt_comm_from_mpi(&world, MPI_COMM_WORLD, "world");
    int failing = world.rank == world.size - 1;
    if (!strcmp(mode, "agreed")) {
        nt_comm_agree(&world, NT_EXIT_INPUT, failing ? "bad input seen by the last rank only" : NULL);
    } else if (failing) {
        if (!strcmp(mode, "die")) nt_die(NT_EXIT_FAIL, "the last rank fails alone");
        if (!strcmp(mode, "input")) nt_input_error("bad input seen by the last rank only");
#ifdef NT_HAVE_CUDA
        if (!strcmp(mode, "cuda")) NT_CHECK_CUDA(cudaSetDevice(1 << 20));
#endif
        nt_input_error("error_exits: unknown mode '%s' (die, input, cuda, agreed)", mode);
    }
    nt_comm_barrier(&world);   /* the others wait here for the failing rank */
    NT_CHECK_MPI(MPI_Finalize());
    return 0;
}
