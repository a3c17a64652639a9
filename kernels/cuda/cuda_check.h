/* cuda_check.h — checking of CUDA runtime calls and kernel launches.
 *
 *   NT_CUDA_CHECK(cudaMalloc(&p, n));   prints "file:line: CUDA error: <string>
 *                                       (<call>)" on stderr and exits with 1.
 *   NT_CUDA_CHECK_LAUNCH();              after a kernel launch: checks
 *                                       cudaGetLastError() the same way.
 *
 * Usable from C and C++ (nvcc).  With NT_CUDA_EMU defined (the host
 * emulation build, see emu/cuda_emu.h) the emulator supplies the runtime. */
#ifndef NTRON_CUDA_CHECK_H
#define NTRON_CUDA_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#ifdef NT_CUDA_EMU
#include "emu/cuda_emu.h"
#else
#include <cuda_runtime_api.h>
#endif

static inline void nt_cuda_fail(cudaError_t err, const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: CUDA error: %s (%s)\n", file, line, cudaGetErrorString(err), what);
    fflush(stderr);
    exit(1);
}

#define NT_CUDA_CHECK(call)                                                   \
    do {                                                                      \
        cudaError_t nt_err_ = (call);                                         \
        if (nt_err_ != cudaSuccess)                                           \
            nt_cuda_fail(nt_err_, #call, __FILE__, __LINE__);                 \
    } while (0)

#define NT_CUDA_CHECK_LAUNCH()                                                \
    do {                                                                      \
        cudaError_t nt_err_ = cudaGetLastError();                             \
        if (nt_err_ != cudaSuccess)                                           \
            nt_cuda_fail(nt_err_, "kernel launch", __FILE__, __LINE__);       \
    } while (0)

#endif
