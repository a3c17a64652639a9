/* device.h — what accelerators this build can see (CUDA runtime probe). */
#ifndef NTRON_DEVICE_H
#define NTRON_DEVICE_H
#include <stddef.h>
/* The MFU peak of the GPUs ntron targets: H100/H200 SXM dense bf16 tensor
 * cores, TFLOP/s (DESIGN.md).  The one copy of this number. */
#define NT_PEAK_TFLOPS_H100_BF16 989.4
/* Number of CUDA devices visible (0 without CUDA or without a GPU); msg
 * receives a one-line description (device names, or why none). */
int nt_device_count(char *msg, size_t n);
#endif
