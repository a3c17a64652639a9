/* check.c — implementation of the error exits and checked-call reporters
 * declared in check.h. */
#include "check.h"

#include <errno.h>
#include <hdf5.h>
#include <mpi.h>
#include <stdarg.h>
#include <string.h>

int nt_rank0(void)
{
    int init = 0, rank = 0;
    MPI_Initialized(&init);
    if (init) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank == 0;
}

void nt_die(int status, const char *fmt, ...)
{
    va_list ap;
    char msg[2048];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ntron: %s\n", msg);
    fflush(stderr);
    int init = 0, fin = 0, size = 1;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) {
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        if (size > 1) MPI_Abort(MPI_COMM_WORLD, status);
        MPI_Finalize();
    }
    exit(status);
}

void nt_check_sys_fail(const char *call, const char *file, int line)
{
    nt_die(NT_EXIT_FAIL, "%s:%d: %s: %s", file, line, call, strerror(errno));
}

void nt_check_mpi_fail(int rc, const char *call, const char *file, int line)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS) snprintf(s, sizeof s, "MPI error %d", rc);
    nt_die(NT_EXIT_FAIL, "%s:%d: %s: %s", file, line, call, s);
}

/* Walk the HDF5 error stack and keep the innermost (first) description. */
static herr_t h5_walk(unsigned n, const H5E_error2_t *e, void *data)
{
    char *out = data;
    if (n == 0) snprintf(out, 512, "%s (in %s)", e->desc, e->func_name);
    return 0;
}

void nt_check_h5_fail(const char *call, const char *file, int line)
{
    char desc[512] = "unknown HDF5 error";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, h5_walk, desc);
    nt_die(NT_EXIT_FAIL, "%s:%d: %s: %s", file, line, call, desc);
}

void *nt_malloc(size_t bytes, const char *what)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) nt_die(NT_EXIT_FAIL, "out of memory allocating %zu bytes for %s", bytes, what);
    return p;
}

void *nt_calloc(size_t n, size_t size, const char *what)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) nt_die(NT_EXIT_FAIL, "out of memory allocating %zu x %zu bytes for %s", n, size, what);
    return p;
}
