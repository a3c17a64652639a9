/* cuda_check.h — the one check-macro family of the GPU libraries, shared by
 * the kernels (kernels/cuda), the CUDA backend, the comm layer and the tests
 * (src/util/check.h has the MPI, HDF5 and system-call macros):
 *
 *   NT_CHECK_CUDA(cudaMalloc(&p, n));   a cudaError_t call: cudaGetErrorString
 *   NT_CHECK_CUDA_LAUNCH();             after a kernel launch: cudaGetLastError()
 *   NT_CHECK_CUBLAS(cublasLtCreate(&h)); a cublasStatus_t call: cublasLtGetStatusString
 *                                       (where cublasLt.h is included)
 *   NT_CHECK_NCCL(ncclCommInitRank(..)); an ncclResult_t call: ncclGetErrorString and
 *                                       ncclGetLastError (where nccl.h is included)
 *
 * Each prints one line "ntron: file:line: call: LIB: <the library's text>"
 * and ends the job through nt_check_lib_fail: in ntron that is nt_die
 * (src/util/check.c), which aborts every rank (MPI_Abort) when MPI runs with more
 * than one, so a GPU failure on one rank never leaves the others waiting in
 * a collective; with one rank it exits 1.  A binary built without src/util/check.c
 * (kernels/cuda/build_test.sh: the kernel test, one process, no MPI) defines
 * NT_CHECK_STANDALONE and gets a local reporter printing the same line and
 * exiting 1.  Usable from C and C++ (nvcc).  With NT_CUDA_EMU defined (the
 * host emulation build) the emulator supplies the runtime: emu/cuda_emu.h
 * for the kernels (C++), emu/c/ (found first on the C include path of a
 * --with-cuda=emulator build) for the C side. */
#ifndef NTRON_CUDA_CHECK_H
#define NTRON_CUDA_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#if defined(NT_CUDA_EMU) && defined(__cplusplus)
#include "emu/cuda_emu.h"
#else
#include <cuda_runtime_api.h>
#endif

#ifdef NT_CHECK_STANDALONE
static inline __attribute__((noreturn)) void nt_check_lib_fail(const char *lib, const char *text, const char *call,
                                                               const char *file, int line)
{
    fprintf(stderr, "ntron: %s:%d: %s: %s: %s\n", file, line, call, lib, text);
    fflush(stderr);
    exit(1);
}
#else
#ifdef __cplusplus
extern "C"
#endif
void nt_check_lib_fail(const char *lib, const char *text, const char *call, const char *file, int line)
    __attribute__((noreturn));
#endif

#define NT_CHECK_CUDA(call)                                                               \
    do {                                                                                  \
        cudaError_t nt_ce_ = (call);                                                      \
        if (nt_ce_ != cudaSuccess)                                                        \
            nt_check_lib_fail("CUDA", cudaGetErrorString(nt_ce_), #call, __FILE__, __LINE__); \
    } while (0)

#define NT_CHECK_CUDA_LAUNCH()                                                            \
    do {                                                                                  \
        cudaError_t nt_ce_ = cudaGetLastError();                                          \
        if (nt_ce_ != cudaSuccess)                                                        \
            nt_check_lib_fail("CUDA", cudaGetErrorString(nt_ce_), "kernel launch", __FILE__, __LINE__); \
    } while (0)

#define NT_CHECK_CUBLAS(call)                                                             \
    do {                                                                                  \
        cublasStatus_t nt_bs_ = (call);                                                   \
        if (nt_bs_ != CUBLAS_STATUS_SUCCESS)                                              \
            nt_check_lib_fail("cuBLAS", cublasLtGetStatusString(nt_bs_), #call, __FILE__, __LINE__); \
    } while (0)

#define NT_CHECK_NCCL(call)                                                               \
    do {                                                                                  \
        ncclResult_t nt_nr_ = (call);                                                     \
        if (nt_nr_ != ncclSuccess) {                                                      \
            char nt_nt_[768];                                                             \
            snprintf(nt_nt_, sizeof nt_nt_, "%s (%s)", ncclGetErrorString(nt_nr_), ncclGetLastError(NULL)); \
            nt_check_lib_fail("NCCL", nt_nt_, #call, __FILE__, __LINE__);                 \
        }                                                                                 \
    } while (0)

#endif
