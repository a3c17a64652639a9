/* deck_agreed.c — a deck loaded by every rank of the job (the commands that
 * start MPI: run, bench, generate, score, sdg): each rank parses it inside a
 * catch region, the ranks agree over the world, and a bad deck is reported
 * once, by the lowest rank that found it, with every rank exiting 2
 * together (util/check.h's agreed way out). */
#include "deck/deck.h"
#include "parallel/comm.h"
#include "util/check.h"

void nt_deck_load_agreed(nt_config *cfg, nt_deck_info *info, const char *path, int nset, char *const *sets)
{
    nt_catch c;
    if (NT_TRY(&c)) {
        nt_deck_load(cfg, info, path, nset, sets);
        nt_catch_end(&c);
    }
    nt_comm world;
    nt_comm_from_mpi(&world, MPI_COMM_WORLD, "world");
    nt_comm_agree(&world, c.status ? c.status : NT_EXIT_INPUT, c.msg);
}
