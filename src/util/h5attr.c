/* h5attr.c — scalar HDF5 attribute writers and the string reader (see h5attr.h). */
#include "util/h5attr.h"
#include "util/check.h"

#include <string.h>

static void attr_write(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    NT_CHECK_H5(sp);
    hid_t a = H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(a);
    NT_CHECK_H5(H5Awrite(a, mtype, v));
    NT_CHECK_H5(H5Aclose(a));
    NT_CHECK_H5(H5Sclose(sp));
}

void nt_h5attr_write_i64(hid_t loc, const char *name, long long v) { attr_write(loc, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, &v); }
void nt_h5attr_write_u64(hid_t loc, const char *name, uint64_t v) { attr_write(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v); }
void nt_h5attr_write_f64(hid_t loc, const char *name, double v) { attr_write(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v); }

void nt_h5attr_write_str(hid_t loc, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    NT_CHECK_H5(t);
    NT_CHECK_H5(H5Tset_size(t, strlen(v) + 1));
    attr_write(loc, name, t, t, v);
    NT_CHECK_H5(H5Tclose(t));
}

int nt_h5attr_read_str(hid_t loc, const char *name, char *buf, size_t n)
{
    buf[0] = '\0';
    htri_t has = H5Aexists(loc, name);
    NT_CHECK_H5(has);
    if (!has) return 0;
    int got = 0;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    NT_CHECK_H5(a);
    hid_t t = H5Aget_type(a);
    NT_CHECK_H5(t);
    if (H5Tget_class(t) == H5T_STRING && H5Tget_size(t) < n) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        NT_CHECK_H5(mt);
        NT_CHECK_H5(H5Tset_size(mt, n));
        NT_CHECK_H5(H5Aread(a, mt, buf));
        NT_CHECK_H5(H5Tclose(mt));
        got = 1;
    }
    NT_CHECK_H5(H5Tclose(t));
    NT_CHECK_H5(H5Aclose(a));
    return got;
}
