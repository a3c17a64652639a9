/* prep.h — `ntron prep`: text / JSON lines -> HDF5 datasets (parallel over
 * MPI ranks, one file written collectively), and `ntron prep --inspect`. */
#ifndef NTRON_PREP_H
#define NTRON_PREP_H

int nt_prep_main(int argc, char **argv);
/* one dataset: INPUT (format text|jsonl|chat|preference|reward; sep blank|line
 * for text) tokenized with tokspec into out, collectively over MPI_COMM_WORLD
 * (MPI started here when it is not yet); bad input: one line, exit 2 */
int nt_prep_file(const char *in, const char *out, const char *tokspec, const char *format, const char *sep);
/* `ntron prep --inspect FILE [--tokenizer SPEC]` (serial). */
int nt_prep_inspect(const char *path, const char *tokspec);

#endif
