/* cuda_runtime_api.h — the host emulator's CUDA runtime, C face: what the
 * C side of ntron (src/backend/backend_cuda.c, the comm layer, the tests)
 * calls, for a build configured with --with-cuda=emulator.  The kernels
 * (C++) keep emu/cuda_emu.h; this header is found first on the include
 * path of the C files only.  Device memory is host memory from malloc,
 * filled with 0xFF (NaN) as the kernel emulator does, and every
 * allocation is recorded, so a copy, GEMM or collective handed a host
 * pointer where device memory belongs fails with a message naming it.
 * Streams and events are synchronous: everything is complete on return.
 * GPUs: NTRON_EMU_GPUS=N (0..64; unset: none, so an emulator build runs the
 * CPU backend unless a test asks for emulated GPUs).  Implemented in
 * emu/emu_runtime.c. */
#ifndef NTRON_EMU_CUDA_RUNTIME_API_H
#define NTRON_EMU_CUDA_RUNTIME_API_H
#ifdef __cplusplus
#error "emu/c/cuda_runtime_api.h is the C face of the emulator; C++ uses emu/cuda_emu.h"
#endif
#include <stddef.h>

typedef int cudaError_t;   /* the values of emu/cuda_emu.h, plus the ones only the C side returns */
enum {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorNoDevice = 100,
    cudaErrorInvalidDevice = 101,
    cudaErrorInvalidResourceHandle = 400,
    cudaErrorNotReady = 600,
};
typedef enum {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4,
} cudaMemcpyKind;
typedef struct CUstream_st *cudaStream_t;   /* == nt_stream of kernels_cuda.h */
typedef struct CUevent_st *cudaEvent_t;
typedef struct { char bytes[16]; } cudaUUID_t;
struct cudaDeviceProp {
    char name[256];
    cudaUUID_t uuid;
    size_t totalGlobalMem;
    int major, minor, multiProcessorCount;
};
enum cudaMemoryType { cudaMemoryTypeUnregistered = 0, cudaMemoryTypeHost = 1, cudaMemoryTypeDevice = 2, cudaMemoryTypeManaged = 3 };
struct cudaPointerAttributes {
    enum cudaMemoryType type;
    int device;
    void *devicePointer, *hostPointer;
};
#define cudaStreamDefault 0x00
#define cudaStreamNonBlocking 0x01
#define cudaEventDefault 0x00
#define cudaEventDisableTiming 0x02

const char *cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetLastError(void);
cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaSetDevice(int d);
cudaError_t cudaGetDevice(int *d);
cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *p, int d);
cudaError_t cudaDeviceSynchronize(void);
cudaError_t cudaMalloc(void **p, size_t n);
cudaError_t cudaFree(void *p);
cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, cudaMemcpyKind kind, cudaStream_t s);
cudaError_t cudaMemset(void *d, int v, size_t n);
cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t s);
cudaError_t cudaPointerGetAttributes(struct cudaPointerAttributes *a, const void *p);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned flags);
cudaError_t cudaEventCreate(cudaEvent_t *e);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s);
cudaError_t cudaEventQuery(cudaEvent_t e);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b);

/* for the emulated cuBLASLt and NCCL (emu_cublaslt.c, emu_nccl.c): 1 when
 * [p, p + n) lies inside one device allocation of this process */
int nt_emu_is_device(const void *p, size_t n);
/* the device a process is on (cudaSetDevice; 0 before it) */
int nt_emu_current_device(void);
#endif
