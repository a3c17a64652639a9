/* nt_device.cuh — helpers shared by the kernels in kernels/cuda (the .cu files):
 * launch macro, bf16 conversion, warp/block reductions, and the few PTX
 * instructions the tensor-core attention uses (mma.sync, ldmatrix, cp.async).
 *
 * Every CUDA-specific construct used by the kernels goes through this file,
 * so that with -DNT_CUDA_EMU the same sources compile as host C++ against
 * emu/cuda_emu.h (a small fiber-based emulator used to test the kernels'
 * indexing on a machine without a GPU). */
#ifndef NTRON_NT_DEVICE_CUH
#define NTRON_NT_DEVICE_CUH

#include <stdint.h>
#include <stddef.h>
#include <math.h>
#include <string.h>

#ifdef NT_CUDA_EMU
#include "emu/cuda_emu.h"
#else
#include <cuda_runtime.h>
#include <cuda_bf16.h>
#endif

#include "cuda_check.h"
#include "kernels_cuda.h"

/* ---- launching --------------------------------------------------------- */
/* NT_LAUNCH(kernel_fn, grid, block, smem_bytes, stream, args...) launches and
 * checks cudaGetLastError().  kernel_fn must be a single token (take a
 * function pointer first for templates: auto k = my_kernel<64>;). */
#ifdef NT_CUDA_EMU
#define NT_LAUNCH(k, grid, block, smem, stream, ...)                                   \
    do {                                                                               \
        emu::launch((const void *)(k), #k, dim3(grid), dim3(block), (size_t)(smem),   \
                    [=]() { k(__VA_ARGS__); });                                        \
        NT_CHECK_CUDA_LAUNCH();                                                        \
    } while (0)
#define NT_DYN_SMEM(name) unsigned char *name = emu::dyn_smem()
#else
#define NT_LAUNCH(k, grid, block, smem, stream, ...)                                   \
    do {                                                                               \
        k<<<(grid), (block), (smem), (cudaStream_t)(stream)>>>(__VA_ARGS__);           \
        NT_CHECK_CUDA_LAUNCH();                                                        \
    } while (0)
#define NT_DYN_SMEM(name) extern __shared__ __align__(16) unsigned char name[]
#endif

/* Raise a kernel's dynamic shared-memory limit when it needs more than 48 KB. */
#define NT_SET_SMEM(k, bytes)                                                          \
    do {                                                                               \
        if ((size_t)(bytes) > 48 * 1024)                                               \
            NT_CHECK_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, \
                                               (int)(bytes)));                         \
    } while (0)

/* Blocks for a grid-stride loop over n items. */
static inline unsigned nt_grid_for(size_t n, int threads)
{
    size_t b = (n + (size_t)threads - 1) / (size_t)threads;
    if (b > 65535 * 4)
        b = 65535 * 4;
    return b < 1 ? 1u : (unsigned)b;
}

static inline void nt_fatal(const char *file, int line, const char *msg)
{
    fprintf(stderr, "%s:%d: %s\n", file, line, msg);
    fflush(stderr);
    exit(1);
}
#define NT_REQUIRE(cond, msg)                                                          \
    do {                                                                               \
        if (!(cond))                                                                   \
            nt_fatal(__FILE__, __LINE__, msg);                                         \
    } while (0)

__device__ __forceinline__ int nt_imin(int a, int b) { return a < b ? a : b; }
__device__ __forceinline__ int nt_imax(int a, int b) { return a > b ? a : b; }

/* ---- bf16 -------------------------------------------------------------- */
__device__ __forceinline__ float nt_bf2f(uint16_t h) { return __uint_as_float(((uint32_t)h) << 16); }

__device__ __forceinline__ uint16_t nt_f2bf(float f)
{
#ifdef NT_CUDA_EMU
    uint32_t u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40u); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
#else
    return __bfloat16_as_ushort(__float2bfloat16_rn(f));
#endif
}

/* two floats -> bf16x2, lo in the low half (the element with the lower index) */
__device__ __forceinline__ uint32_t nt_pack_bf16x2(float lo, float hi)
{
    return (uint32_t)nt_f2bf(lo) | ((uint32_t)nt_f2bf(hi) << 16);
}

/* 32-bit load/store of two consecutive bf16 (4-byte aligned) */
__device__ __forceinline__ uint32_t nt_ld32(const uint16_t *p)
{
#ifdef NT_CUDA_EMU
    emu::check_align(p, 4, "nt_ld32");
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
#else
    return *reinterpret_cast<const uint32_t *>(p);
#endif
}
__device__ __forceinline__ void nt_st32(uint16_t *p, uint32_t v)
{
#ifdef NT_CUDA_EMU
    emu::check_align(p, 4, "nt_st32");
    memcpy(p, &v, 4);
    emu::smem_written(p, 4); /* shared memory: wgmma must be fenced from it */
#else
    *reinterpret_cast<uint32_t *>(p) = v;
#endif
}
__device__ __forceinline__ void nt_st_f2(float *p, float a, float b)
{
#ifdef NT_CUDA_EMU
    emu::check_align(p, 8, "nt_st_f2");
    p[0] = a;
    p[1] = b;
#else
    *reinterpret_cast<float2 *>(p) = make_float2(a, b);
#endif
}
__device__ __forceinline__ void nt_st_zero16(void *p)
{
#ifdef NT_CUDA_EMU
    emu::check_align(p, 16, "nt_st_zero16");
    memset(p, 0, 16);
    emu::smem_written(p, 16); /* shared memory: wgmma must be fenced from it */
#else
    *reinterpret_cast<uint4 *>(p) = make_uint4(0u, 0u, 0u, 0u);
#endif
}

/* 16-byte load/store of eight consecutive bf16 as fp32 (16-byte aligned; the
 * memory-bound kernels take this path when their rows allow it) */
__device__ __forceinline__ void nt_ld_bf16x8(float f[8], const uint16_t *p)
{
    uint32_t w[4];
#ifdef NT_CUDA_EMU
    emu::check_align(p, 16, "nt_ld_bf16x8");
    memcpy(w, p, 16);
#else
    const uint4 u = *reinterpret_cast<const uint4 *>(p);
    w[0] = u.x; w[1] = u.y; w[2] = u.z; w[3] = u.w;
#endif
#pragma unroll
    for (int k = 0; k < 4; k++) {
        f[2 * k] = __uint_as_float(w[k] << 16);
        f[2 * k + 1] = __uint_as_float(w[k] & 0xffff0000u);
    }
}
__device__ __forceinline__ void nt_st_bf16x8(uint16_t *p, const float f[8])
{
    uint32_t w[4];
#pragma unroll
    for (int k = 0; k < 4; k++)
        w[k] = nt_pack_bf16x2(f[2 * k], f[2 * k + 1]);
#ifdef NT_CUDA_EMU
    emu::check_align(p, 16, "nt_st_bf16x8");
    memcpy(p, w, 16);
#else
    *reinterpret_cast<uint4 *>(p) = make_uint4(w[0], w[1], w[2], w[3]);
#endif
}
/* W consecutive bf16 as fp32: W = 8 one 16-byte access (the aligned path),
 * W = 1 one element (odd sizes, unaligned buffers) */
template <int W> __device__ __forceinline__ void nt_ld_bf16w(float f[W], const uint16_t *p)
{
    if constexpr (W == 8)
        nt_ld_bf16x8(f, p);
    else
        f[0] = nt_bf2f(p[0]);
}
template <int W> __device__ __forceinline__ void nt_st_bf16w(uint16_t *p, const float f[W])
{
    if constexpr (W == 8)
        nt_st_bf16x8(p, f);
    else
        p[0] = nt_f2bf(f[0]);
}
/* every pointer 16-byte aligned (host side: picks the vector path) */
static inline bool nt_aligned16(const void *a, const void *b = NULL, const void *c = NULL)
{
    return (((uintptr_t)a | (uintptr_t)b | (uintptr_t)c) & 15u) == 0;
}

/* ---- elementwise maps over bf16 (fp32 math) ---------------------------- */
/* out[i] = f(a[i]) (NIN 1) or f(a[i], b[i]) (NIN 2), eight elements per
 * 16-byte access where out, a and b are 16-byte aligned, the rest (and
 * unaligned buffers) one element at a time; out may be a (in place). */
template <int NIN, class F> __device__ __forceinline__ float nt_map_apply(F f, float a, float b)
{
    if constexpr (NIN == 1)
        return f(a);
    else
        return f(a, b);
}
/* elements [W*v0, W*nv) in steps of W */
template <int NIN, int W, class F>
__global__ void k_nt_map(uint16_t *out, const uint16_t *a, const uint16_t *__restrict__ b, size_t v0, size_t nv, F f)
{
    for (size_t v = v0 + (size_t)blockIdx.x * blockDim.x + threadIdx.x; v < nv; v += (size_t)gridDim.x * blockDim.x) {
        float x[W], y[W];
        nt_ld_bf16w<W>(x, a + W * v);
        if constexpr (NIN == 2)
            nt_ld_bf16w<W>(y, b + W * v);
#pragma unroll
        for (int k = 0; k < W; k++)
            x[k] = nt_map_apply<NIN>(f, x[k], NIN == 2 ? y[k] : 0.0f);
        nt_st_bf16w<W>(out + W * v, x);
    }
}
template <int NIN, class F>
static inline void nt_map_bf16(uint16_t *out, const uint16_t *a, const uint16_t *b, size_t n, F f, nt_stream stream)
{
    const size_t nv = nt_aligned16(out, a, NIN == 2 ? b : NULL) ? n / 8 : 0;
    if (nv) {
        auto k = k_nt_map<NIN, 8, F>;
        NT_LAUNCH(k, nt_grid_for(nv, 256), 256, 0, stream, out, a, b, (size_t)0, nv, f);
    }
    if (8 * nv < n) {
        auto k = k_nt_map<NIN, 1, F>;
        NT_LAUNCH(k, nt_grid_for(n - 8 * nv, 256), 256, 0, stream, out, a, b, 8 * nv, n, f);
    }
}

/* ---- reductions (blockDim.x a multiple of 32, <= 1024) ----------------- */
struct NtSum {
    template <class T> __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
struct NtMax {
    template <class T> __device__ __forceinline__ T operator()(T a, T b) const { return a > b ? a : b; }
};

template <class T, class Op> __device__ __forceinline__ T nt_warp_reduce(T v, Op op)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
        v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* Reduction over the block; every thread gets the result.  `red` is shared
 * scratch of 32 T; the leading barrier makes back-to-back calls safe. */
template <class T, class Op> __device__ __forceinline__ T nt_block_reduce(T v, Op op, T ident, T *red)
{
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = nt_warp_reduce(v, op);
    __syncthreads();
    if (lane == 0)
        red[w] = v;
    __syncthreads();
    T r = lane < nw ? red[lane] : ident;
    return nt_warp_reduce(r, op);
}

/* ---- PTX: tensor-core MMA, ldmatrix, cp.async (sm_80+) ----------------- */
#ifdef NT_CUDA_EMU
#define nt_mma_bf16_16816 emu::mma_bf16_16816
#define nt_ldsm_x4_trans emu::ldsm_x4_trans
#define nt_ldsm_x4 emu::ldsm_x4
#define nt_cp_async16 emu::cp_async16
#define nt_cp_async4 emu::cp_async4
#define nt_cp_async_commit emu::cp_async_commit
#define nt_cp_async_wait_all emu::cp_async_wait_all
#else
/* D = A*B + D; A 16x16 bf16 (row), B 16x8 bf16 (col), D 16x8 fp32.
 * Fragments (g = lane/4, t = lane%4):
 *   a[0] A[g][2t..2t+1]   a[1] A[g+8][2t..]   a[2] A[g][2t+8..]   a[3] A[g+8][2t+8..]
 *   b[0] B[2t..2t+1][g]   b[1] B[2t+8..2t+9][g]
 *   c[0..1] D[g][2t..2t+1]   c[2..3] D[g+8][2t..2t+1]
 * (pairs packed lower index in the low 16 bits). */
__device__ __forceinline__ void nt_mma_bf16_16816(float c[4], const uint32_t a[4], const uint32_t b[2])
{
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
        "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
/* Four 8x8 b16 matrices, transposed: lane l gives the address of row l%8 of
 * matrix l/8; r[i] of lane (g,t) = {M_i[2t][g], M_i[2t+1][g]}. */
__device__ __forceinline__ void nt_ldsm_x4_trans(uint32_t r[4], const void *smem_row)
{
    uint32_t a = (uint32_t)__cvta_generic_to_shared(smem_row);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a)
                 : "memory");
}
/* Four 8x8 b16 matrices: lane l gives the address of row l%8 of matrix l/8;
 * r[i] of lane (g,t) = {M_i[g][2t], M_i[g][2t+1]}. */
__device__ __forceinline__ void nt_ldsm_x4(uint32_t r[4], const void *smem_row)
{
    uint32_t a = (uint32_t)__cvta_generic_to_shared(smem_row);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a)
                 : "memory");
}
__device__ __forceinline__ void nt_cp_async16(void *smem_dst, const void *gsrc)
{
    uint32_t d = (uint32_t)__cvta_generic_to_shared(smem_dst);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(d), "l"(gsrc) : "memory");
}
__device__ __forceinline__ void nt_cp_async4(void *smem_dst, const void *gsrc)
{
    uint32_t d = (uint32_t)__cvta_generic_to_shared(smem_dst);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(d), "l"(gsrc) : "memory");
}
__device__ __forceinline__ void nt_cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
__device__ __forceinline__ void nt_cp_async_wait_all() { asm volatile("cp.async.wait_all;\n" ::: "memory"); }
#endif

#endif
