/* check.c — implementation of the error exits (nt_die: this rank fails,
 * abort the job; nt_exit_agreed: all ranks leave together) and the
 * checked-call reporters declared in check.h. */
#include "util/check.h"

#include <errno.h>
#include <hdf5.h>
#include <mpi.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

int nt_rank0(void)
{
    int init = 0, fin = 0, rank = 0;
    NT_CHECK_MPI(MPI_Initialized(&init));
    NT_CHECK_MPI(MPI_Finalized(&fin));
    if (init && !fin) NT_CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    return rank == 0;
}

/* MPI's state for the exits: these must not fail themselves (no checks:
 * a failing MPI call here would recurse), they only ask */
static int mpi_running(int *size)
{
    int init = 0, fin = 0;
    *size = 1;
    if (MPI_Initialized(&init) != MPI_SUCCESS || !init) return 0;
    if (MPI_Finalized(&fin) != MPI_SUCCESS || fin) return 0;
    if (MPI_Comm_size(MPI_COMM_WORLD, size) != MPI_SUCCESS) *size = 1;
    return 1;
}

static void say(const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "ntron: %s\n", msg);
    fflush(stderr);
}

static nt_catch *catching;   /* innermost open NT_TRY region of this rank */

void nt_catch_begin(nt_catch *c)
{
    c->status = 0;
    c->msg[0] = 0;
    c->outer = catching;
    catching = c;
}

void nt_catch_end(nt_catch *c)
{
    if (catching == c) catching = c->outer;
}

int nt_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

void nt_die(int status, const char *fmt, ...)
{
    static volatile int dying;
    va_list ap;
    if (catching) {   /* inside NT_TRY: hand the failure back */
        nt_catch *c = catching;
        catching = c->outer;
        va_start(ap, fmt);
        vsnprintf(c->msg, sizeof c->msg, fmt, ap);
        va_end(ap);
        c->status = status ? status : NT_EXIT_FAIL;
        longjmp(c->jb, 1);
    }
    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
    int size;
    /* a second failure while leaving (an atexit handler, MPI_Finalize) exits at once */
    if (dying++) _exit(status);
    /* MPI_Abort and MPI_Finalize unchecked on purpose: a failure here has
     * nowhere to be reported but this exit, which follows anyway */
    if (mpi_running(&size)) {
        if (size > 1) MPI_Abort(MPI_COMM_WORLD, status);   /* does not return */
        MPI_Finalize();
    }
    exit(status);
}

void nt_exit_agreed(int status, int print, const char *fmt, ...)
{
    if (print) {
        va_list ap;
        va_start(ap, fmt);
        say(fmt, ap);
        va_end(ap);
    }
    int size;
    if (mpi_running(&size)) MPI_Finalize();   /* unchecked: see nt_die */
    exit(status);
}

void nt_check_lib_fail(const char *lib, const char *text, const char *call, const char *file, int line)
{
    nt_die(NT_EXIT_FAIL, "%s:%d: %s: %s: %s", file, line, call, lib, text);
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
    (void)H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, h5_walk, desc);   /* on failure: the default text */
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
