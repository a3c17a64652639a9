/* data_check.h — the checks a dataset's readers run as it is opened, before
 * anything is written (issue #20 point 3): each dataset's dtype exactly as
 * the format says (README "Data preparation": /tokens uint32, /doc_offsets
 * uint64, /loss_mask uint8, /ranges uint64, /labels int8, /rewards
 * float32; any byte order), never converted; every token id below the
 * vocabulary; offsets non-decreasing.
 *
 * The scans read the dataset in chunks.  Under MPI each rank of the job
 * checks its 1/size share (world rank r: elements [r*n/size, (r+1)*n/size)),
 * so the readers must be opened on every rank and the ranks then agree
 * (nt_comm_agree: the lowest rank with an error reports it; for one file
 * that is its first bad element, as on one rank); without MPI (prep
 * --inspect, the unit tests) one process checks all of it.  Bad input:
 * one line "path: reason", exit 2. */
#ifndef NTRON_DATA_CHECK_H
#define NTRON_DATA_CHECK_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { NT_DT_UINT, NT_DT_INT, NT_DT_FLOAT } nt_dtype_class;

/* Exit 2 unless dataset ds (named name in path) is of class cls and size
 * bytes (e.g. NT_DT_UINT, 4: uint32). */
void nt_data_check_dtype(const char *path, hid_t ds, const char *name, nt_dtype_class cls, size_t bytes);
/* Exit 2 at the first element of 1-D uint32 dataset ds (n elements) that is
 * >= vocab, naming its index and value. */
void nt_data_check_ids(const char *path, hid_t ds, const char *name, uint64_t n, int vocab);
/* Exit 2 at the first element of 1-D uint64 dataset ds (n elements) that
 * is less than the one before it. */
void nt_data_check_sorted(const char *path, hid_t ds, const char *name, uint64_t n);

#endif
