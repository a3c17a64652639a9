/* check.h — error handling: exit codes, the two ways out of the program and
 * the checked-call macros.
 *
 * Every library call goes through one of these macros, which print
 * file:line, the call and the library's own error text, then exit: MPI,
 * HDF5 and system calls here; CUDA, cuBLAS and NCCL in one family in
 * kernels/cuda/cuda_check.h (shared with the kernels), which reports through
 * nt_check_lib_fail below.  Bad user input (deck, data file, checkpoint,
 * flags) exits with NT_EXIT_INPUT; everything else with NT_EXIT_FAIL.
 *
 * The two ways out, told apart by what the failing rank knows:
 *  - nt_die (and nt_input_error, every NT_CHECK_* macro): only this rank is
 *    known to fail.  Others may be inside (or about to enter) a collective,
 *    so with MPI initialised and more than one rank the job is aborted
 *    (MPI_Abort with the status: mpirun and srun return it); one rank, or
 *    before MPI_Init: print, exit.  Every rank that gets here prints.
 *  - nt_exit_agreed: every rank of the job is at this point and knows the
 *    job ends, because the ranks agreed by a collective (nt_comm_agree, or an
 *    all-reduce of a flag, as the NaN guard and the checkpoint checks do).
 *    Only the ranks told to print do (normally one: "printed once"); all
 *    finalize MPI and exit with the status (2 for bad input, 1 for an agreed
 *    failure), no MPI_Abort and none of its noise.
 * A check that every rank evaluates identically on identical data but
 * without a collective (e.g. deck parsing) takes the first way: it cannot
 * know that the other ranks reach the same verdict.
 */
#ifndef NTRON_CHECK_H
#define NTRON_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    NT_EXIT_OK = 0,
    NT_EXIT_FAIL = 1,      /* internal or system failure */
    NT_EXIT_INPUT = 2,     /* bad deck, data file, checkpoint or flags */
    NT_EXIT_REQUEUE = 3    /* saved on a signal or time limit: requeue me */
};

/* This rank fails: print "ntron: <message>" to stderr and exit(status).
 * Under MPI with more than one rank, aborts the job with that status. */
void nt_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* Bad input found by this rank: one line "ntron: <message>", status NT_EXIT_INPUT. */
#define nt_input_error(...) nt_die(NT_EXIT_INPUT, __VA_ARGS__)
/* Every rank of the job calls this at the same point after agreeing that
 * the job ends: ranks with print != 0 print "ntron: <message>"; MPI is
 * finalized; exit(status). */
void nt_exit_agreed(int status, int print, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));
/* The error-returning helpers' way out, `return nt_fail(err, errlen, ...)`:
 * formats the message into err[errlen] (nothing when err is NULL or errlen
 * 0) and returns -1, for the caller to report where it knows the file or
 * key (checks that collect a message instead of exiting). */
int nt_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Catching this rank's failures inside a region, for input that every rank
 * checks alike without a collective (the deck): inside NT_TRY, nt_die stores
 * its status and message in the nt_catch and jumps back, NT_TRY then being
 * 0; the ranks agree afterwards by a collective (nt_comm_agree), so the
 * message is printed once and all ranks exit together.  nt_catch_end
 * closes the region when nothing failed.
 *     nt_catch c;
 *     if (NT_TRY(&c)) { ...checks...; nt_catch_end(&c); }
 *     nt_comm_agree(&world, c.status, c.msg);                              */
#include <setjmp.h>
typedef struct nt_catch {
    jmp_buf jb;
    int status;            /* 0: nothing failed */
    char msg[2048];
    struct nt_catch *outer;
} nt_catch;
#define NT_TRY(c) (nt_catch_begin(c), setjmp((c)->jb) == 0)
void nt_catch_begin(nt_catch *c);
void nt_catch_end(nt_catch *c);

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

/* The reporter of kernels/cuda/cuda_check.h's macros (CUDA, cuBLAS, NCCL):
 * "file:line: call: LIB: text", then nt_die(NT_EXIT_FAIL). */
void nt_check_lib_fail(const char *lib, const char *text, const char *call, const char *file, int line)
    __attribute__((noreturn));

/* malloc that never returns NULL; reports what and how much on failure. */
void *nt_malloc(size_t bytes, const char *what);
void *nt_calloc(size_t n, size_t size, const char *what);

#ifdef __cplusplus
}
#endif

#endif
