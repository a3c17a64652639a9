/* sdg.h — `ntron sdg DECK` and run.phase = sdg: the synthetic-data
 * pipeline of the report run in process on ntron's own generator and
 * reward model (src/sdg: sdg_run.c drives the stages of sdg_stages.c). */
#ifndef NTRON_SDG_H
#define NTRON_SDG_H

#include "deck/config.h"
#include "deck/deck.h"

#include <stdio.h>

/* deck checks (through the phase registry's driver row); bad input: exit 2 */
void nt_sdg_deck_check(const nt_config *cfg, const nt_deck_info *info);
/* the driver, after MPI_Init and a valid deck; returns the exit status */
int nt_sdg_run(const nt_config *cfg, const nt_deck_info *info);
/* `ntron sdg DECK [--set ...]` */
int nt_sdg_main(int argc, char **argv);
/* `ntron help sdg`: the stage table */
void nt_sdg_print_help(FILE *f);

#endif
