/* check.h — error handling: exit codes and the checked-call macros.
 *
 * Every library call goes through one of these macros, which print
 * file:line, the call and the library's own error text, then exit.
 * Bad user input (deck, data file, checkpoint, flags) exits with
 * NT_EXIT_INPUT; everything else with NT_EXIT_FAIL.
 */
#ifndef NTRON_CHECK_H
#define NTRON_CHECK_H

#include <stdio.h>
#include <stdlib.h>

enum {
    NT_EXIT_OK = 0,
    NT_EXIT_FAIL = 1,      /* internal or system failure */
    NT_EXIT_INPUT = 2,     /* bad deck, data file, checkpoint or flags */
    NT_EXIT_REQUEUE = 3    /* saved on a signal or time limit: requeue me */
};

/* Print "ntron: <message>" to stderr and exit(status).  Under MPI with more
 * than one rank, aborts the job with that status. */
void nt_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* Bad input: one line "ntron: <message>", exit NT_EXIT_INPUT. */
#define nt_input_error(...) nt_die(NT_EXIT_INPUT, __VA_ARGS__)

/* Rank 0 prints, everyone else stays quiet. */
int nt_rank0(void);

#define NT_CHECK(cond, ...) do { if (!(cond)) nt_die(NT_EXIT_FAIL, __VA_ARGS__); } while (0)

/* System calls returning -1 / NULL with errno set. */
#define NT_CHECK_SYS(call) do { if ((call) < 0) nt_check_sys_fail(#call, __FILE__, __LINE__); } while (0)
void nt_check_sys_fail(const char *call, const char *file, int line) __attribute__((noreturn));

/* MPI: prints MPI_Error_string. */
#define NT_CHECK_MPI(call) do { int nt_rc_ = (call); if (nt_rc_ != 0) nt_check_mpi_fail(nt_rc_, #call, __FILE__, __LINE__); } while (0)
void nt_check_mpi_fail(int rc, const char *call, const char *file, int line) __attribute__((noreturn));

/* HDF5 (herr_t / hid_t < 0): prints the innermost message of the HDF5 error stack. */
#define NT_CHECK_H5(call) do { if ((long long)(call) < 0) nt_check_h5_fail(#call, __FILE__, __LINE__); } while (0)
void nt_check_h5_fail(const char *call, const char *file, int line) __attribute__((noreturn));

/* NCCL (only where nccl.h is included): prints ncclGetErrorString and the
 * library's last error text. */
#define NT_CHECK_NCCL(call) do { ncclResult_t nt_nr_ = (call); if (nt_nr_ != ncclSuccess) \
    nt_die(NT_EXIT_FAIL, "%s:%d: %s: %s (%s)", __FILE__, __LINE__, #call, ncclGetErrorString(nt_nr_), \
           ncclGetLastError(NULL)); } while (0)

/* malloc that never returns NULL; reports what and how much on failure. */
void *nt_malloc(size_t bytes, const char *what);
void *nt_calloc(size_t n, size_t size, const char *what);

#endif
