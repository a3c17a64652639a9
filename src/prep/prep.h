/* prep.h — `ntron prep`: text / JSON lines -> HDF5 datasets (parallel over
 * MPI ranks, one file written collectively), and `ntron prep --inspect`. */
#ifndef NTRON_PREP_H
#define NTRON_PREP_H

int nt_prep_main(int argc, char **argv);
/* `ntron prep --inspect FILE [--tokenizer SPEC]` (serial). */
int nt_prep_inspect(const char *path, const char *tokspec);

#endif
