/* prep.h — `ntron prep`: build HDF5 token datasets. */
#ifndef NTRON_PREP_H
#define NTRON_PREP_H
int nt_prep_main(int argc, char **argv);
#endif
