/* h5attr.h — scalar HDF5 attributes as ntron writes them (checkpoints,
 * prepared datasets, imported checkpoints, preference references): one
 * call per attribute, every HDF5 call checked.  Integers are stored
 * little-endian 64-bit, reals IEEE 64-bit, strings fixed-length with their
 * terminating NUL.  Reading strings is shared too ("" when absent or
 * mistyped); the other readers stay with each format, which knows what a
 * missing or mistyped attribute means for its file. */
#ifndef NTRON_H5ATTR_H
#define NTRON_H5ATTR_H

#include <hdf5.h>
#include <stdint.h>

void nt_h5attr_write_i64(hid_t loc, const char *name, long long v);
void nt_h5attr_write_u64(hid_t loc, const char *name, uint64_t v);
void nt_h5attr_write_f64(hid_t loc, const char *name, double v);
void nt_h5attr_write_str(hid_t loc, const char *name, const char *v);
/* String attribute NAME of an HDF5 object into buf: 1, or 0 with "" when
 * it is absent, not a string or longer than n-1. */
int nt_h5attr_read_str(hid_t loc, const char *name, char *buf, size_t n);

#endif
