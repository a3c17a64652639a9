/* data_check.c — dtype, token-id and offset checks of a dataset as it is
 * opened (see data_check.h). */
#include "data/data_check.h"
#include "util/check.h"

#include <mpi.h>

#define CHUNK ((uint64_t)1 << 20)   /* elements read per H5Dread */

static const char *class_name(nt_dtype_class c)
{
    return c == NT_DT_UINT ? "uint" : c == NT_DT_INT ? "int" : "float";
}

/* "uint32", "int8", "float64", or a class name for anything else */
static void type_name(hid_t t, char *buf, size_t n)
{
    size_t bits = H5Tget_size(t) * 8;
    H5T_class_t c = H5Tget_class(t);
    if (c == H5T_INTEGER) snprintf(buf, n, "%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", bits);
    else if (c == H5T_FLOAT) snprintf(buf, n, "float%zu", bits);
    else snprintf(buf, n, "%s", c == H5T_STRING ? "a string type" : c == H5T_COMPOUND ? "a compound type"
                              : c == H5T_ENUM ? "an enum type" : "a non-numeric type");
}

void nt_data_check_dtype(const char *path, hid_t ds, const char *name, nt_dtype_class cls, size_t bytes)
{
    hid_t t = H5Dget_type(ds);
    NT_CHECK_H5(t);
    H5T_class_t c = H5Tget_class(t);
    int ok = H5Tget_size(t) == bytes &&
             (cls == NT_DT_FLOAT ? c == H5T_FLOAT
                                 : c == H5T_INTEGER && (H5Tget_sign(t) == H5T_SGN_NONE) == (cls == NT_DT_UINT));
    char have[64];
    type_name(t, have, sizeof have);
    NT_CHECK_H5(H5Tclose(t));
    if (!ok)
        nt_input_error("%s: %s is %s, expected %s%zu (the dataset format's type; not converted: re-prep the file)", path,
                       name, have, class_name(cls), bytes * 8);
}

/* this rank's share [lo, hi) of n elements: all of them without MPI */
static void share(uint64_t n, uint64_t *lo, uint64_t *hi)
{
    int up = 0, down = 0, rank = 0, size = 1;
    NT_CHECK_MPI(MPI_Initialized(&up));
    if (up) NT_CHECK_MPI(MPI_Finalized(&down));
    if (up && !down) {
        NT_CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
        NT_CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size));
    }
    *lo = (uint64_t)((unsigned __int128)n * (unsigned)rank / (unsigned)size);
    *hi = (uint64_t)((unsigned __int128)n * (unsigned)(rank + 1) / (unsigned)size);
}

/* elements [start, start + count) of 1-D ds into buf as mtype */
static void read_chunk(const char *path, hid_t ds, const char *name, hid_t mtype, uint64_t start, uint64_t count,
                       void *buf)
{
    hsize_t st = start, cnt = count;
    hid_t fs = H5Dget_space(ds);
    NT_CHECK_H5(fs);
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    NT_CHECK_H5(ms);
    NT_CHECK_H5(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &st, NULL, &cnt, NULL));
    if (H5Dread(ds, mtype, ms, fs, H5P_DEFAULT, buf) < 0)
        nt_input_error("%s: cannot read %s[%llu:%llu] (truncated or corrupt file?)", path, name,
                       (unsigned long long)start, (unsigned long long)(start + count));
    NT_CHECK_H5(H5Sclose(ms));
    NT_CHECK_H5(H5Sclose(fs));
}

void nt_data_check_ids(const char *path, hid_t ds, const char *name, uint64_t n, int vocab)
{
    uint64_t lo, hi;
    share(n, &lo, &hi);
    uint32_t *buf = nt_malloc((size_t)(hi - lo < CHUNK ? hi - lo + 1 : CHUNK) * sizeof *buf, "token id check");
    for (uint64_t a = lo; a < hi; a += CHUNK) {
        uint64_t m = hi - a < CHUNK ? hi - a : CHUNK;
        read_chunk(path, ds, name, H5T_NATIVE_UINT32, a, m, buf);
        for (uint64_t i = 0; i < m; i++)
            if (buf[i] >= (uint32_t)vocab)
                nt_input_error("%s: %s[%llu] = %u is outside the vocabulary (vocab_size = %d)", path, name,
                               (unsigned long long)(a + i), buf[i], vocab);
    }
    free(buf);
}

void nt_data_check_sorted(const char *path, hid_t ds, const char *name, uint64_t n)
{
    uint64_t lo, hi;
    share(n, &lo, &hi);
    if (lo == 0) lo = 1;   /* element i is compared with i - 1 */
    if (lo >= hi) return;
    uint64_t *buf = nt_malloc((size_t)(hi - lo < CHUNK ? hi - lo + 2 : CHUNK + 1) * sizeof *buf, "offset check");
    for (uint64_t a = lo; a < hi; a += CHUNK) {
        uint64_t m = hi - a < CHUNK ? hi - a : CHUNK;
        read_chunk(path, ds, name, H5T_NATIVE_UINT64, a - 1, m + 1, buf);   /* the element before, then m */
        for (uint64_t i = 1; i <= m; i++)
            if (buf[i] < buf[i - 1])
                nt_input_error("%s: %s[%llu] = %llu is less than %s[%llu] = %llu (offsets must not decrease)", path, name,
                               (unsigned long long)(a + i - 1), (unsigned long long)buf[i], name,
                               (unsigned long long)(a + i - 2), (unsigned long long)buf[i - 1]);
    }
    free(buf);
}
