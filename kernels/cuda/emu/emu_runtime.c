/* emu_runtime.c — the host emulator's CUDA runtime for the C side of ntron
 * (declared in emu/c/cuda_runtime_api.h; --with-cuda=emulator): emulated
 * GPUs (NTRON_EMU_GPUS), device memory as recorded host allocations, copies
 * checked against the direction they claim, synchronous streams and
 * events.  The error text of the last failure names what was wrong. */
#include "cuda_runtime_api.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EMU_TOTAL_BYTES ((size_t)80 << 30)   /* an 80 GB card, as the H100 the plan assumes */

/* the last failure: its code and what the emulator found */
static cudaError_t last_code;
static char last_text[320];

static cudaError_t failed(cudaError_t e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static cudaError_t failed(cudaError_t e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_text, sizeof last_text, fmt, ap);
    va_end(ap);
    last_code = e;
    return e;
}

const char *cudaGetErrorString(cudaError_t e)
{
    static char buf[400];
    const char *base;
    switch (e) {
    case cudaSuccess: return "no error (emulated)";
    case cudaErrorInvalidValue: base = "invalid argument"; break;
    case cudaErrorMemoryAllocation: base = "out of memory"; break;
    case cudaErrorNoDevice: base = "no CUDA-capable device is detected"; break;
    case cudaErrorInvalidDevice: base = "invalid device ordinal"; break;
    case cudaErrorInvalidResourceHandle: base = "invalid resource handle"; break;
    case cudaErrorNotReady: base = "device not ready"; break;
    default: base = "unknown error"; break;
    }
    if (e == last_code && last_text[0]) snprintf(buf, sizeof buf, "%s (emulated: %s)", base, last_text);
    else snprintf(buf, sizeof buf, "%s (emulated)", base);
    return buf;
}

cudaError_t cudaGetLastError(void)
{
    cudaError_t e = last_code;
    last_code = cudaSuccess;
    return e;
}

/* ---- devices ------------------------------------------------------------ */
static int current = 0;

cudaError_t cudaGetDeviceCount(int *n)
{
    const char *s = getenv("NTRON_EMU_GPUS");
    char *end = NULL;
    long v = s && *s ? strtol(s, &end, 10) : 0;
    *n = 0;
    if (s && *s && (*end || v < 0 || v > 64)) return failed(cudaErrorInvalidValue, "NTRON_EMU_GPUS=%s: want 0 to 64", s);
    if (v == 0) return failed(cudaErrorNoDevice, "no emulated GPU: set NTRON_EMU_GPUS=N");
    *n = (int)v;
    return cudaSuccess;
}

static cudaError_t check_device(int d)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) return e;
    if (d < 0 || d >= n) return failed(cudaErrorInvalidDevice, "device %d of %d emulated GPUs", d, n);
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int d)
{
    cudaError_t e = check_device(d);
    if (e == cudaSuccess) current = d;
    return e;
}
cudaError_t cudaGetDevice(int *d) { *d = current; return cudaSuccess; }
int nt_emu_current_device(void) { return current; }

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *p, int d)
{
    cudaError_t e = check_device(d);
    if (e != cudaSuccess) return e;
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "ntron host emulator");
    /* one UUID per device index: processes on this host that pick the same index share a GPU */
    memcpy(p->uuid.bytes, "ntron-emu-gpu", 13);
    p->uuid.bytes[15] = (char)d;
    p->totalGlobalMem = EMU_TOTAL_BYTES;
    p->major = 9;
    p->minor = 0;
    p->multiProcessorCount = 1;
    return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }

/* ---- device memory: recorded allocations, sorted by address --------------- */
typedef struct { char *p; size_t n; int dev; } block;
static block *blocks;
static size_t nblocks, cap_blocks, held;

/* index of the last block starting at or below p, or -1 */
static long block_below(const char *p)
{
    long lo = 0, hi = (long)nblocks - 1, at = -1;
    while (lo <= hi) {
        long mid = (lo + hi) / 2;
        if ((uintptr_t)blocks[mid].p <= (uintptr_t)p) { at = mid; lo = mid + 1; }
        else hi = mid - 1;
    }
    return at;
}

int nt_emu_is_device(const void *p, size_t n)
{
    uintptr_t c = (uintptr_t)p;
    long i = block_below(p);
    if (i < 0) return 0;
    uintptr_t end = (uintptr_t)blocks[i].p + blocks[i].n;
    return c < end && n <= end - c;
}

cudaError_t cudaMalloc(void **p, size_t n)
{
    *p = NULL;
    if (held + n > EMU_TOTAL_BYTES)
        return failed(cudaErrorMemoryAllocation, "%zu bytes asked, %zu of %zu held", n, held, EMU_TOTAL_BYTES);
    char *m = malloc(n ? n : 1);
    if (!m) return failed(cudaErrorMemoryAllocation, "host malloc of %zu bytes failed", n);
    memset(m, 0xFF, n);   /* NaN in bf16 and fp32: reads of unwritten memory show */
    if (nblocks == cap_blocks) {
        size_t c = cap_blocks ? 2 * cap_blocks : 256;
        block *b = realloc(blocks, c * sizeof *b);
        if (!b) { free(m); return failed(cudaErrorMemoryAllocation, "allocation table"); }
        blocks = b;
        cap_blocks = c;
    }
    long at = block_below(m) + 1;
    memmove(blocks + at + 1, blocks + at, (nblocks - (size_t)at) * sizeof *blocks);
    blocks[at] = (block){m, n ? n : 1, current};
    nblocks++;
    held += n;
    *p = m;
    return cudaSuccess;
}

cudaError_t cudaFree(void *p)
{
    if (!p) return cudaSuccess;
    long i = block_below(p);
    if (i < 0 || blocks[i].p != p) return failed(cudaErrorInvalidValue, "cudaFree of %p: not the start of an allocation", p);
    held -= blocks[i].n;
    free(blocks[i].p);
    memmove(blocks + i, blocks + i + 1, (nblocks - (size_t)i - 1) * sizeof *blocks);
    nblocks--;
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes)
{
    *total_bytes = EMU_TOTAL_BYTES;
    *free_bytes = EMU_TOTAL_BYTES - held;
    return cudaSuccess;
}

cudaError_t cudaPointerGetAttributes(struct cudaPointerAttributes *a, const void *p)
{
    memset(a, 0, sizeof *a);
    long i = block_below(p);
    if (i >= 0 && (uintptr_t)p < (uintptr_t)blocks[i].p + blocks[i].n) {
        a->type = cudaMemoryTypeDevice;
        a->device = blocks[i].dev;
        a->devicePointer = (void *)p;
    } else {
        a->type = cudaMemoryTypeUnregistered;
        a->device = -1;
        a->hostPointer = (void *)p;
    }
    return cudaSuccess;
}

/* ---- copies: the kind must match where the pointers are ------------------- */
static const char *kind_name(cudaMemcpyKind k)
{
    static const char *n[] = {"HostToHost", "HostToDevice", "DeviceToHost", "DeviceToDevice", "Default"};
    return k >= 0 && k <= 4 ? n[k] : "unknown kind";
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, cudaMemcpyKind kind)
{
    if (n == 0) return cudaSuccess;
    int dd = nt_emu_is_device(dst, n), sd = nt_emu_is_device(src, n);
    int want_d = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    int want_s = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (kind < 0 || kind > 4) return failed(cudaErrorInvalidValue, "cudaMemcpy kind %d", (int)kind);
    if (kind != cudaMemcpyDefault && (dd != want_d || sd != want_s))
        return failed(cudaErrorInvalidValue, "cudaMemcpy%s of %zu bytes: destination %p is %s, source %p is %s",
                      kind_name(kind), n, dst, dd ? "device memory" : "not device memory", src,
                      sd ? "device memory" : "not device memory");
    memmove(dst, src, n);
    return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, cudaMemcpyKind kind, cudaStream_t s)
{
    (void)s;
    return cudaMemcpy(dst, src, n, kind);
}
cudaError_t cudaMemset(void *d, int v, size_t n)
{
    if (n && !nt_emu_is_device(d, n)) return failed(cudaErrorInvalidValue, "cudaMemset of %zu bytes at %p: not device memory", n, d);
    memset(d, v, n);
    return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t s)
{
    (void)s;
    return cudaMemset(d, v, n);
}

/* ---- streams and events: synchronous ----------------------------------- */
struct CUstream_st { unsigned flags; };
struct CUevent_st { double ms; int recorded; unsigned flags; };

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags)
{
    *s = calloc(1, sizeof **s);
    if (!*s) return failed(cudaErrorMemoryAllocation, "stream");
    (*s)->flags = flags;
    return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) { free(s); return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t s) { (void)s; return cudaSuccess; }
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned flags)
{
    (void)s;
    (void)flags;
    return e ? cudaSuccess : failed(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent on a null event");
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned flags)
{
    *e = calloc(1, sizeof **e);
    if (!*e) return failed(cudaErrorMemoryAllocation, "event");
    (*e)->flags = flags;
    return cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t *e) { return cudaEventCreateWithFlags(e, cudaEventDefault); }
cudaError_t cudaEventDestroy(cudaEvent_t e) { free(e); return cudaSuccess; }
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s)
{
    (void)s;
    if (!e) return failed(cudaErrorInvalidResourceHandle, "cudaEventRecord on a null event");
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    e->ms = (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
    e->recorded = 1;
    return cudaSuccess;
}
cudaError_t cudaEventQuery(cudaEvent_t e) { return e ? cudaSuccess : failed(cudaErrorInvalidResourceHandle, "cudaEventQuery on a null event"); }
cudaError_t cudaEventSynchronize(cudaEvent_t e) { return cudaEventQuery(e); }
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b)
{
    if (!a || !b || !a->recorded || !b->recorded)
        return failed(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime on an event never recorded");
    if ((a->flags | b->flags) & cudaEventDisableTiming)
        return failed(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime on an event created without timing");
    *ms = (float)(b->ms - a->ms);
    return cudaSuccess;
}
