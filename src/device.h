/* device.h — what accelerators this build can see (CUDA runtime probe). */
#ifndef NTRON_DEVICE_H
#define NTRON_DEVICE_H
#include <stddef.h>
/* Number of CUDA devices visible (0 without CUDA or without a GPU); msg
 * receives a one-line description (device names, or why none). */
int nt_device_count(char *msg, size_t n);
#endif
