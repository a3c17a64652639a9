/* device.c — CUDA device probe: counts and names the visible GPUs when the
 * build has CUDA; otherwise says the build has none. */
#include "backend/device.h"
#include "build_config.h"

#include <stdio.h>

#ifdef NT_HAVE_CUDA
#include <cuda_runtime_api.h>

int nt_device_count(char *msg, size_t n)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        snprintf(msg, n, "no GPU found (cudaGetDeviceCount: %s)", cudaGetErrorString(e));
        return 0;
    }
    if (count == 0) { snprintf(msg, n, "no GPU found"); return 0; }
    size_t len = (size_t)snprintf(msg, n, "%d GPU%s:", count, count > 1 ? "s" : "");
    for (int i = 0; i < count && len < n; i++) {
        struct cudaDeviceProp p;
        if (cudaGetDeviceProperties(&p, i) == cudaSuccess)
            len += (size_t)snprintf(msg + len, n - len, " [%d] %s (sm_%d%d, %.0f GiB)", i, p.name, p.major, p.minor,
                                    (double)p.totalGlobalMem / (1 << 30));
    }
    return count;
}
#else
int nt_device_count(char *msg, size_t n)
{
    snprintf(msg, n, "built without CUDA");
    return 0;
}
#endif
