/* cuda_emu.h — a small host emulator of the CUDA subset used by kernels/cuda.
 *
 * Purpose: run the kernels (and tests/test_cuda_kernels.cu) on a machine
 * without a GPU, to check indexing, tiling, masking, barriers and the
 * tensor-core fragment bookkeeping before the code ever meets a GPU.
 * It is a development tool, not part of the build:
 *
 *   g++ -std=c++17 -O1 -g -DNT_CUDA_EMU -x c++ -I kernels/cpu -I kernels/cuda \
 *       kernels/cuda/[a-z]*.cu tests/test_cuda_kernels.cu <cpu objects> -lopenblas -lm
 *
 * Model: each thread block runs as fibers (ucontext), one per CUDA thread,
 * scheduled cooperatively in a fresh random order every round, so a fiber
 * only yields at a barrier (__syncthreads, or the warp-wide exchange inside
 * shuffles, mma and ldmatrix).  Blocks run one after the other, so static
 * __shared__ variables become function statics.  Dynamic shared memory and
 * cudaMalloc memory are filled with 0xFF (NaN in bf16/fp32) so reads of
 * unwritten data show up.  cp.async copies land only at cp.async.wait_all.
 * Checks: launch limits (block size, grid y/z, dynamic shared memory against
 * the 48 KB default / cudaFuncSetAttribute / 227 KB), alignment of 16-byte,
 * 8-byte and 4-byte accesses, ldmatrix/cp.async addresses inside the block's
 * dynamic shared memory, and deadlock (a barrier some threads never reach).
 * Fragment layouts of mma.m16n8k16 and ldmatrix (plain and .trans) follow the PTX ISA.
 * Hopper warpgroup MMA (wgmma.mma_async m64nNk16, no-swizzle descriptors, see
 * nt_wgmma.cuh) runs as a warpgroup-wide exchange; checked: uniform operands
 * across the warpgroup, wgmma.fence before a wgmma that follows a wait,
 * no wgmma left uncommitted or unwaited at exit, operands inside shared
 * memory, and a fence.proxy.async by every thread whose cp.async copies
 * landed before another thread's wgmma reads shared memory.
 * Build with -fsanitize=address for out-of-bounds checks (fiber switches are
 * annotated for ASan). */
#ifndef NTRON_CUDA_EMU_H
#define NTRON_CUDA_EMU_H

#ifndef __cplusplus
#error "cuda_emu.h is C++ only"
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>
#include <ucontext.h>

#if defined(__SANITIZE_ADDRESS__)
#define EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMU_ASAN 1
#endif
#endif
#ifdef EMU_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

/* ---- types ---------------------------------------------------------------- */
struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint4 { unsigned x, y, z, w; };
struct float2 { float x, y; };
static inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
static inline float2 make_float2(float x, float y) { return float2{x, y}; }

typedef int cudaError_t;
enum {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorNoDevice = 100,
};
struct CUstream_st;
typedef CUstream_st *cudaStream_t;
struct CUevent_st;
typedef CUevent_st *cudaEvent_t;
enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4
};
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
struct cudaDeviceProp {
    char name[256];
    int multiProcessorCount;
    size_t sharedMemPerBlockOptin;
    int major, minor;
};

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)
#define __align__(n) alignas(n)

/* ---- the emulator ---------------------------------------------------------- */
namespace emu {

struct Copy {
    void *dst;
    const void *src;
    int n;
};
/* Fiber switches: on x86-64 a small assembly switch of the callee-saved
 * registers, because swapcontext makes a signal-mask system call on every
 * switch, which dominated the time of an emulated training step; elsewhere
 * (or with -DEMU_UCONTEXT) ucontext.  The SSE/x87 control words are not
 * switched: nothing in the kernels or the emulator changes them. */
#if defined(__x86_64__) && !defined(EMU_UCONTEXT)
#define EMU_FAST_SWITCH 1
extern "C" void nt_emu_ctx_switch(void **save_sp, void *load_sp);
/* weak: the header is in several translation units, the linker keeps one */
asm(".text\n"
    ".weak nt_emu_ctx_switch\n"
    ".type nt_emu_ctx_switch,@function\n"
    "nt_emu_ctx_switch:\n"
    "    pushq %rbp\n    pushq %rbx\n    pushq %r12\n    pushq %r13\n    pushq %r14\n    pushq %r15\n"
    "    movq %rsp, (%rdi)\n    movq %rsi, %rsp\n"
    "    popq %r15\n    popq %r14\n    popq %r13\n    popq %r12\n    popq %rbx\n    popq %rbp\n"
    "    ret\n"
    ".size nt_emu_ctx_switch,.-nt_emu_ctx_switch\n");
#endif

struct Fiber {
#ifdef EMU_FAST_SWITCH
    void *sp = nullptr;
#else
    ucontext_t ctx;
#endif
    char *stack = nullptr;
    size_t stack_size = 0;
    dim3 tidx;
    int lin = 0;
    bool done = false;
    std::vector<Copy> pending;
    std::vector<std::pair<size_t, size_t>> dirty; /* smem written since its last fence.proxy.async */
    bool wg_fenced = false;    /* wgmma.fence since the last wgmma.wait_group */
    int wg_uncommitted = 0, wg_inflight = 0;
    unsigned nshfl = 0; /* shfl_xor calls so far: picks the buffer */
};
struct Barrier {
    int count = 0, arrived = 0;
    unsigned gen = 0;
    std::vector<int> waiters; /* fibers parked here until it opens */
};
struct WarpX {
    uint32_t u[32][12];
    float f[32][4];
    uint64_t v[32];
    uint64_t vx[2][32]; /* shfl_xor's two alternating buffers */
    const void *p[32];
};

inline Fiber *g_cur = nullptr;
#ifdef EMU_FAST_SWITCH
inline void *g_sched_sp = nullptr;
#else
inline ucontext_t g_sched;
#endif
inline const void *g_main_bottom = nullptr;
inline size_t g_main_size = 0;
inline std::vector<Fiber> g_fibers;
struct StackPool {
    ~StackPool()
    {
        for (Fiber &f : g_fibers)
            free(f.stack);
    }
};
inline StackPool g_stack_pool; /* frees the fiber stacks at exit (after g_fibers' users) */
inline Barrier g_block_bar;
inline std::vector<Barrier> g_warp_bar;
inline std::vector<WarpX> g_warpx;
struct WgX {
    uint32_t a[128][4];
    float *d[128];
    uint64_t da[128], db[128];
    int n[128], acc[128], tb[128], ta[128], has_a[128];
};
inline std::vector<Barrier> g_wg_bar;
inline std::vector<WgX> g_wgx;
inline unsigned char *g_smem = nullptr;
inline std::vector<unsigned char> g_smem_unfenced; /* per byte: written, not yet proxy-fenced */
inline size_t g_smem_size = 0;
inline std::function<void()> *g_body = nullptr;
inline long g_progress = 0;
inline dim3 g_blockIdx, g_blockDim, g_gridDim;
inline const char *g_kname = "";
inline cudaError_t g_last_error = cudaSuccess;
inline std::map<const void *, int> g_max_dyn_smem;
/* the scheduling order's generator: xorshift64* (cheap; any fixed-seed stream will do) */
inline uint64_t g_rng_state = 12345;
inline uint32_t rng_next()
{
    g_rng_state ^= g_rng_state >> 12;
    g_rng_state ^= g_rng_state << 25;
    g_rng_state ^= g_rng_state >> 27;
    return (uint32_t)((g_rng_state * 2685821657736338717ull) >> 32);
}
inline size_t g_stack_size = 1u << 19;

/* NT_EMU_STATS=1: time per kernel, printed to stderr at exit (where the emulator's time goes) */
struct KernelStats { long launches = 0; double blocks = 0, ms = 0; int threads = 0; };
struct Stats {
    std::map<std::string, KernelStats> by_name;
    bool on = false;
    ~Stats()
    {
        if (!on)
            return;
        std::vector<std::pair<double, std::string>> rows;
        double total = 0;
        for (auto &kv : by_name) { rows.push_back({kv.second.ms, kv.first}); total += kv.second.ms; }
        std::sort(rows.rbegin(), rows.rend());
        fprintf(stderr, "EMU stats: %.0f ms in kernels\n", total);
        for (auto &r : rows) {
            const KernelStats &k = by_name[r.second];
            fprintf(stderr, "  %-28s %8ld launches %10.0f blocks x %4d threads %9.0f ms\n", r.second.c_str(), k.launches,
                    k.blocks, k.threads, k.ms);
        }
    }
};
inline Stats *stats_init()
{
    const char *e = getenv("NT_EMU_STATS");
    static Stats s;
    s.on = e && *e == '1';
    return s.on ? &s : nullptr;
}
inline double now_ms();
inline Stats *g_stats = stats_init();

[[noreturn]] inline void die(const char *what)
{
    fprintf(stderr, "EMU FAILURE in kernel %s block (%u,%u,%u) thread %d: %s\n", g_kname,
            g_blockIdx.x, g_blockIdx.y, g_blockIdx.z, g_cur ? g_cur->lin : -1, what);
    fflush(stderr);
    abort();
}

inline void check_align(const void *p, size_t a, const char *what)
{
    if ((uintptr_t)p % a) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s: address %p not %zu-byte aligned", what, p, a);
        die(msg);
    }
}
inline void check_smem(const void *p, size_t n, const char *what)
{
    const unsigned char *c = (const unsigned char *)p;
    if (c < g_smem || c + n > g_smem + g_smem_size) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s: %p..+%zu outside dynamic shared memory (%zu bytes)", what, p,
                 n, g_smem_size);
        die(msg);
    }
}

inline unsigned char *dyn_smem() { return g_smem; }
inline const dim3 &cur_tidx() { return g_cur->tidx; }

/* switch from the current fiber to the scheduler */
inline void yield_to_sched()
{
    Fiber *self = g_cur;
#ifdef EMU_ASAN
    void *fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, g_main_bottom, g_main_size);
#endif
#ifdef EMU_FAST_SWITCH
    nt_emu_ctx_switch(&self->sp, g_sched_sp);
#else
    swapcontext(&self->ctx, &g_sched);
#endif
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
    g_cur = self;
}

/* the fibers to run in the scheduler's next round (opened barriers' waiters) */
inline std::vector<int> g_next;

/* the last arrival opens the barrier and goes on; the others park in its
 * waiter list and are resumed, in random order, in the next round */
inline void barrier_wait(Barrier &b)
{
    unsigned gen = b.gen;
    g_progress++;
    if (++b.arrived == b.count) {
        b.arrived = 0;
        b.gen++;
        g_next.insert(g_next.end(), b.waiters.begin(), b.waiters.end());
        b.waiters.clear();
        return;
    }
    b.waiters.push_back(g_cur->lin);
    while (b.gen == gen)
        yield_to_sched();
}

inline void syncthreads() { barrier_wait(g_block_bar); }
inline int lane() { return g_cur->lin & 31; }
inline int warp() { return g_cur->lin >> 5; }
inline void syncwarp()
{
    Barrier &b = g_warp_bar[warp()];
    if (b.count != 32)
        die("warp-collective operation in a partial warp");
    barrier_wait(b);
}

inline void fiber_entry()
{
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &g_main_bottom, &g_main_size);
#endif
    (*g_body)();
    Fiber *self = g_cur;
    if (!self->pending.empty())
        die("thread exited with cp.async copies never waited for");
    if (self->wg_uncommitted || self->wg_inflight)
        die("thread exited with wgmma operations never committed or waited for");
    self->done = true;
#ifdef EMU_ASAN
    __sanitizer_start_switch_fiber(nullptr, g_main_bottom, g_main_size);
#endif
    /* ucontext: returning resumes uc_link = g_sched */
}

#ifdef EMU_FAST_SWITCH
/* a new fiber's first switch returns here, on its own stack */
[[noreturn]] inline void fiber_trampoline()
{
    fiber_entry();
    void *dead = nullptr;
    nt_emu_ctx_switch(&dead, g_sched_sp);   /* done: never resumed */
    __builtin_unreachable();
}
#endif

inline void run_block(int nthreads)
{
    if ((int)g_fibers.size() < nthreads)
        g_fibers.resize(nthreads);
    g_block_bar = Barrier();
    g_block_bar.count = nthreads;
    int nw = (nthreads + 31) / 32;
    g_warp_bar.assign(nw, Barrier());
    for (int w = 0; w < nw; w++)
        g_warp_bar[w].count = std::min(32, nthreads - 32 * w);
    g_warpx.resize(nw);
    int nwg = (nthreads + 127) / 128;
    g_wg_bar.assign(nwg, Barrier());
    for (int w = 0; w < nwg; w++)
        g_wg_bar[w].count = std::min(128, nthreads - 128 * w);
    g_wgx.resize(nwg);
    for (int i = 0; i < nthreads; i++) {
        Fiber &f = g_fibers[i];
        if (!f.stack) {
            f.stack_size = g_stack_size;
            f.stack = (char *)malloc(f.stack_size);
            if (!f.stack)
                die("out of memory for fiber stacks");
        }
        f.lin = i;
        f.tidx = dim3(i % g_blockDim.x, (i / g_blockDim.x) % g_blockDim.y,
                      i / (g_blockDim.x * g_blockDim.y));
        f.done = false;
        f.pending.clear();
        f.dirty.clear();
        f.wg_fenced = false;
        f.wg_uncommitted = f.wg_inflight = 0;
        f.nshfl = 0;
#ifdef EMU_FAST_SWITCH
        /* the frame nt_emu_ctx_switch pops: r15..rbp, then the return
         * address (16-byte aligned slot, so the trampoline starts as if called) */
        /* the stacks' tops are staggered: at one stack-size stride they would
         * all fall into the same cache sets */
        uintptr_t top = ((uintptr_t)f.stack + f.stack_size - 64 - (size_t)i * 1088 % 65536) & ~(uintptr_t)15;
        uint64_t *frame = (uint64_t *)top - 6;
        for (int r = 0; r < 6; r++)
            frame[r] = 0;
        ((void **)top)[0] = (void *)&fiber_trampoline;
        f.sp = frame;
#else
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack;
        f.ctx.uc_stack.ss_size = f.stack_size;
        f.ctx.uc_link = &g_sched;
        makecontext(&f.ctx, (void (*)())fiber_entry, 0);
#endif
    }
    /* rounds: each runs, in a fresh random order, the fibers that can go on
     * (at first all; then those whose barrier opened in the round before) */
    std::vector<int> order(nthreads);
    for (int i = 0; i < nthreads; i++)
        order[i] = i;
    g_next.clear();
    int alive = nthreads;
    while (alive > 0) {
        if (order.empty()) {
            g_cur = nullptr;
            die("deadlock: some threads wait at a barrier that others never reach");
        }
        for (int i = (int)order.size() - 1; i > 0; i--)   /* Fisher-Yates */
            std::swap(order[i], order[(int)(((uint64_t)rng_next() * (uint64_t)(i + 1)) >> 32)]);
        for (int i : order) {
            Fiber &f = g_fibers[i];
            g_cur = &f;
#ifdef EMU_ASAN
            void *fake = nullptr;
            __sanitizer_start_switch_fiber(&fake, f.stack, f.stack_size);
#endif
#ifdef EMU_FAST_SWITCH
            nt_emu_ctx_switch(&g_sched_sp, f.sp);
#else
            swapcontext(&g_sched, &f.ctx);
#endif
#ifdef EMU_ASAN
            __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
            if (f.done) {
                alive--;
                g_progress++;
            }
        }
        order.swap(g_next);
        g_next.clear();
    }
    g_cur = nullptr;
}

template <class F>
inline void launch(const void *fn, const char *name, dim3 grid, dim3 block, size_t smem, F body)
{
    g_kname = name;
    size_t nthreads = (size_t)block.x * block.y * block.z;
    if (nthreads == 0 || nthreads > 1024 || block.z > 64 || grid.x == 0 || grid.y == 0 ||
        grid.z == 0 || grid.y > 65535 || grid.z > 65535 || grid.x > 2147483647u) {
        fprintf(stderr, "EMU: invalid launch configuration of %s: grid (%u,%u,%u) block (%u,%u,%u)\n",
                name, grid.x, grid.y, grid.z, block.x, block.y, block.z);
        g_last_error = cudaErrorInvalidConfiguration;
        return;
    }
    size_t limit = 48 * 1024;
    auto it = g_max_dyn_smem.find(fn);
    if (it != g_max_dyn_smem.end() && (size_t)it->second > limit)
        limit = (size_t)it->second;
    if (smem > limit || smem > 227 * 1024) {
        fprintf(stderr, "EMU: %s launched with %zu bytes of dynamic shared memory (limit %zu)\n",
                name, smem, limit);
        g_last_error = cudaErrorInvalidValue;
        return;
    }
    std::function<void()> f(body);
    double t0 = g_stats ? now_ms() : 0.0;
    g_body = &f;
    g_gridDim = grid;
    g_blockDim = block;
    g_smem_size = smem;
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                g_blockIdx = dim3(bx, by, bz);
                g_smem = (unsigned char *)malloc(smem ? smem : 1);
                memset(g_smem, 0xFF, smem);
                g_smem_unfenced.assign(smem, 0);
                run_block((int)nthreads);
                free(g_smem);
                g_smem = nullptr;
            }
    g_body = nullptr;
    if (g_stats) {
        KernelStats &k = g_stats->by_name[name];
        k.launches++;
        k.blocks += (double)grid.x * grid.y * grid.z;
        k.threads = (int)nthreads;
        k.ms += now_ms() - t0;
    }
}

/* ---- warp-level operations ---- */
template <class T> inline T shfl_xor(T v, int m)
{
    static_assert(sizeof(T) <= 8, "shfl of a large type");
    /* one barrier, two buffers: a lane writes buffer k%2 at its k-th call only
     * after every lane passed call k-1's barrier, so after they all read k-2's */
    WarpX &X = g_warpx[warp()];
    int l = lane();
    uint64_t *buf = X.vx[g_cur->nshfl++ & 1];
    uint64_t bits = 0;
    memcpy(&bits, &v, sizeof(T));
    buf[l] = bits;
    syncwarp();
    uint64_t o = buf[(l ^ m) & 31];
    T r;
    memcpy(&r, &o, sizeof(T));
    return r;
}
inline int any(int pred)
{
    WarpX &X = g_warpx[warp()];
    int l = lane();
    X.v[l] = pred != 0;
    syncwarp();
    int r = 0;
    for (int i = 0; i < 32; i++)
        r |= X.v[i] != 0;
    syncwarp();
    return r;
}
template <class T> inline T shfl_idx(T v, int src)
{
    WarpX &X = g_warpx[warp()];
    int l = lane();
    uint64_t bits = 0;
    memcpy(&bits, &v, sizeof(T));
    X.v[l] = bits;
    syncwarp();
    uint64_t o = X.v[src & 31];
    syncwarp();
    T r;
    memcpy(&r, &o, sizeof(T));
    return r;
}

inline float bf2f_(uint32_t h)
{
    uint32_t u = (h & 0xffffu) << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

inline void mma_bf16_16816(float c[4], const uint32_t a[4], const uint32_t b[2])
{
    WarpX &X = g_warpx[warp()];
    int l = lane();
    for (int i = 0; i < 4; i++) {
        X.u[l][i] = a[i];
        X.f[l][i] = c[i];
    }
    X.u[l][4] = b[0];
    X.u[l][5] = b[1];
    syncwarp();
    auto A = [&](int row, int k) {
        int ln = (row & 7) * 4 + ((k & 7) >> 1);
        int reg = (row >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0);
        uint32_t v = X.u[ln][reg];
        return bf2f_((k & 1) ? v >> 16 : v);
    };
    auto B = [&](int k, int n) {
        int ln = n * 4 + ((k & 7) >> 1);
        uint32_t v = X.u[ln][4 + (k >= 8 ? 1 : 0)];
        return bf2f_((k & 1) ? v >> 16 : v);
    };
    int g = l >> 2, t = l & 3;
    float out[4];
    for (int i = 0; i < 4; i++) {
        int row = g + (i >= 2 ? 8 : 0), col = 2 * t + (i & 1);
        float acc = c[i];
        for (int k = 0; k < 16; k++)
            acc += A(row, k) * B(k, col);
        out[i] = acc;
    }
    syncwarp();
    for (int i = 0; i < 4; i++)
        c[i] = out[i];
}

/* ldmatrix.x4: lane l gives the address of row l%8 of matrix l/8; lane
 * (g,t) receives {M_i[g][2t], M_i[g][2t+1]}, or with .trans
 * {M_i[2t][g], M_i[2t+1][g]} */
inline void ldsm_x4_any(uint32_t r[4], const void *row, bool trans)
{
    check_align(row, 16, "ldmatrix row address");
    check_smem(row, 16, "ldmatrix");
    WarpX &X = g_warpx[warp()];
    int l = lane();
    X.p[l] = row;
    syncwarp();
    int g = l >> 2, t = l & 3;
    uint32_t out[4];
    for (int i = 0; i < 4; i++) {
        uint16_t lo, hi;
        if (trans) {
            lo = ((const uint16_t *)X.p[i * 8 + 2 * t])[g];
            hi = ((const uint16_t *)X.p[i * 8 + 2 * t + 1])[g];
        } else {
            lo = ((const uint16_t *)X.p[i * 8 + g])[2 * t];
            hi = ((const uint16_t *)X.p[i * 8 + g])[2 * t + 1];
        }
        out[i] = (uint32_t)lo | ((uint32_t)hi << 16);
    }
    syncwarp();
    for (int i = 0; i < 4; i++)
        r[i] = out[i];
}
inline void ldsm_x4_trans(uint32_t r[4], const void *row) { ldsm_x4_any(r, row, true); }
inline void ldsm_x4(uint32_t r[4], const void *row) { ldsm_x4_any(r, row, false); }

inline void cp_async16(void *dst, const void *src)
{
    check_align(dst, 16, "cp.async 16 dst");
    check_align(src, 16, "cp.async 16 src");
    check_smem(dst, 16, "cp.async 16");
    g_cur->pending.push_back(Copy{dst, src, 16});
}
inline void cp_async4(void *dst, const void *src)
{
    check_align(dst, 4, "cp.async 4 dst");
    check_align(src, 4, "cp.async 4 src");
    check_smem(dst, 4, "cp.async 4");
    g_cur->pending.push_back(Copy{dst, src, 4});
}
/* a generic-proxy write of shared memory: wgmma (async proxy) may read it
 * only after the writer's fence.proxy.async */
inline void smem_written(void *p, size_t n)
{
    unsigned char *c = (unsigned char *)p;
    if (c < g_smem || c + n > g_smem + g_smem_size)
        return;
    const size_t off = (size_t)(c - g_smem);
    memset(g_smem_unfenced.data() + off, 1, n);
    g_cur->dirty.emplace_back(off, n);
}
inline void cp_async_commit() {}
inline void cp_async_wait_all()
{
    for (const Copy &c : g_cur->pending) {
        memcpy(c.dst, c.src, c.n);
        smem_written(c.dst, c.n);
    }
    g_cur->pending.clear();
}

/* ---- Hopper warpgroup MMA ---- */
inline uint32_t cvta_shared(const void *p)
{
    check_smem(p, 1, "shared-memory address");
    return (uint32_t)((const unsigned char *)p - g_smem);
}
inline void fence_proxy_async()
{
    for (const auto &r : g_cur->dirty)
        memset(g_smem_unfenced.data() + r.first, 0, r.second);
    g_cur->dirty.clear();
}
inline int wgroup() { return g_cur->lin >> 7; }
inline void syncwg()
{
    Barrier &b = g_wg_bar[wgroup()];
    if (b.count != 128)
        die("warpgroup-collective operation in a partial warpgroup");
    barrier_wait(b);
}
inline void wgmma_fence() { g_cur->wg_fenced = true; }
inline void wgmma_commit()
{
    if (g_cur->wg_uncommitted)
        g_cur->wg_inflight++;
    g_cur->wg_uncommitted = 0;
}
inline void wgmma_wait0()
{
    if (g_cur->wg_uncommitted)
        die("wgmma.wait_group with wgmma operations not committed");
    g_cur->wg_inflight = 0;
    g_cur->wg_fenced = false;
}
/* element (mn, k) of a no-swizzle descriptor operand (nt_wgmma.cuh's layouts) */
inline float wgmma_elem(uint64_t desc, bool mn_major, int mn, int k)
{
    if (desc >> 62)
        die("wgmma descriptor: only the no-swizzle layout is emulated");
    if ((desc >> 49) & 7)
        die("wgmma descriptor: base offset must be 0 without swizzling");
    const size_t start = (desc & 0x3FFF) << 4, lbo = ((desc >> 16) & 0x3FFF) << 4,
                 sbo = ((desc >> 32) & 0x3FFF) << 4;
    const size_t off = start + (size_t)(mn >> 3) * sbo + (size_t)(k >> 3) * lbo +
                       (mn_major ? (size_t)(k & 7) * 16 + (size_t)(mn & 7) * 2
                                 : (size_t)(mn & 7) * 16 + (size_t)(k & 7) * 2);
    if (off + 2 > g_smem_size)
        die("wgmma operand outside dynamic shared memory");
    if (g_smem_unfenced[off] || g_smem_unfenced[off + 1])
        die("wgmma reads shared memory written (cp.async / store) without fence.proxy.async");
    uint16_t v;
    memcpy(&v, g_smem + off, 2);
    return bf2f_(v);
}
/* D[64 x n] = (acc ? D : 0) + A[64 x 16] B[16 x n]; A from registers (a) or
 * descriptor da (M-major when ta); B from descriptor db, N-major when tb */
inline void wgmma_m64k16(int n, float *d, const uint32_t *a, uint64_t da, uint64_t db, int acc, int tb, int ta)
{
    Fiber *self = g_cur;
    if (!self->wg_fenced)
        die("wgmma.mma_async without wgmma.fence after the last wgmma.wait_group");
    WgX &X = g_wgx[wgroup()];
    const int t = self->lin & 127;
    X.d[t] = d;
    X.has_a[t] = a != nullptr;
    for (int i = 0; i < 4; i++)
        X.a[t][i] = a ? a[i] : 0;
    X.da[t] = da;
    X.db[t] = db;
    X.n[t] = n;
    X.acc[t] = acc != 0;
    X.tb[t] = tb;
    X.ta[t] = ta;
    syncwg();
    if (t == 0) {
        for (int i = 1; i < 128; i++)
            if (X.n[i] != n || X.has_a[i] != X.has_a[0] || X.da[i] != da || X.db[i] != db ||
                X.acc[i] != X.acc[0] || X.tb[i] != tb || X.ta[i] != ta)
                die("wgmma.mma_async operands differ across the warpgroup");
        std::vector<float> A(64 * 16), B(16 * (size_t)n);
        for (int m = 0; m < 64; m++)
            for (int k = 0; k < 16; k++) {
                if (X.has_a[0]) { /* mma.m16n8k16 A fragment of warp m/16 */
                    const int w = m >> 4, r = m & 15, g = r & 7;
                    const int ln = w * 32 + g * 4 + ((k & 7) >> 1);
                    const int reg = (r >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0);
                    const uint32_t v = X.a[ln][reg];
                    A[m * 16 + k] = bf2f_((k & 1) ? v >> 16 : v);
                } else {
                    A[m * 16 + k] = wgmma_elem(da, ta != 0, m, k);
                }
            }
        for (int k = 0; k < 16; k++)
            for (int c = 0; c < n; c++)
                B[(size_t)k * n + c] = wgmma_elem(db, tb != 0, c, k);
        for (int th = 0; th < 128; th++) {
            const int w = th >> 5, l = th & 31, g = l >> 2, q = l & 3;
            float *dd = X.d[th];
            for (int i = 0; i < n / 8; i++)
                for (int e = 0; e < 4; e++) {
                    const int m = 16 * w + g + (e >= 2 ? 8 : 0), c = 8 * i + 2 * q + (e & 1);
                    float s = X.acc[0] ? dd[4 * i + e] : 0.0f;
                    for (int k = 0; k < 16; k++)
                        s += A[m * 16 + k] * B[(size_t)k * n + c];
                    dd[4 * i + e] = s;
                }
        }
    }
    syncwg();
    self->wg_uncommitted++;
}

inline double now_ms()
{
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

} /* namespace emu */

#define threadIdx (emu::cur_tidx())
#define blockIdx (emu::g_blockIdx)
#define blockDim (emu::g_blockDim)
#define gridDim (emu::g_gridDim)

static inline void __syncthreads() { emu::syncthreads(); }
static inline void __syncwarp(unsigned = 0xffffffffu) { emu::syncwarp(); }
template <class T> static inline T __shfl_xor_sync(unsigned, T v, int m) { return emu::shfl_xor(v, m); }
static inline int __any_sync(unsigned, int pred) { return emu::any(pred); }
template <class T> static inline T __shfl_sync(unsigned, T v, int src) { return emu::shfl_idx(v, src); }

static inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
static inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
static inline float __fmul_rn(float a, float b) { volatile float r = a * b; return r; }
static inline float __fadd_rn(float a, float b) { volatile float r = a + b; return r; }
static inline float __fsub_rn(float a, float b) { volatile float r = a - b; return r; }
static inline float __fdiv_rn(float a, float b) { volatile float r = a / b; return r; }
static inline float __fsqrt_rn(float a) { return sqrtf(a); }

/* ---- runtime API subset ------------------------------------------------------ */
static inline const char *cudaGetErrorString(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return "no error (emulated)";
    case cudaErrorInvalidValue: return "invalid argument (emulated)";
    case cudaErrorMemoryAllocation: return "out of memory (emulated)";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument (emulated)";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected (emulated)";
    default: return "unknown error (emulated)";
    }
}
static inline cudaError_t cudaGetLastError() { cudaError_t e = emu::g_last_error; emu::g_last_error = cudaSuccess; return e; }
static inline cudaError_t cudaPeekAtLastError() { return emu::g_last_error; }
static inline cudaError_t cudaGetDeviceCount(int *n) { *n = 1; return cudaSuccess; }
static inline cudaError_t cudaSetDevice(int) { return cudaSuccess; }
static inline cudaError_t cudaGetDevice(int *d) { *d = 0; return cudaSuccess; }
static inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "host emulator");
    p->multiProcessorCount = 1;
    p->sharedMemPerBlockOptin = 227 * 1024;
    p->major = 9;
    return cudaSuccess;
}
static inline cudaError_t cudaMalloc(void **p, size_t n)
{
    *p = malloc(n ? n : 1);
    if (!*p)
        return cudaErrorMemoryAllocation;
    memset(*p, 0xFF, n);
    return cudaSuccess;
}
template <class T> static inline cudaError_t cudaMalloc(T **p, size_t n) { return cudaMalloc((void **)p, n); }
static inline cudaError_t cudaMallocAsync(void **p, size_t n, cudaStream_t) { return cudaMalloc(p, n); }
template <class T> static inline cudaError_t cudaMallocAsync(T **p, size_t n, cudaStream_t s) { return cudaMallocAsync((void **)p, n, s); }
static inline cudaError_t cudaFree(void *p) { free(p); return cudaSuccess; }
static inline cudaError_t cudaFreeAsync(void *p, cudaStream_t) { free(p); return cudaSuccess; }
static inline cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind) { memcpy(d, s, n); return cudaSuccess; }
static inline cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, cudaMemcpyKind, cudaStream_t = nullptr) { memcpy(d, s, n); return cudaSuccess; }
static inline cudaError_t cudaMemset(void *d, int v, size_t n) { memset(d, v, n); return cudaSuccess; }
static inline cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t = nullptr) { memset(d, v, n); return cudaSuccess; }
static inline cudaError_t cudaMemGetInfo(size_t *fr, size_t *tot) { *fr = (size_t)8 << 30; *tot = (size_t)16 << 30; return cudaSuccess; }
static inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
static inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
static inline cudaError_t cudaEventCreate(cudaEvent_t *e) { *e = (cudaEvent_t) new double(0.0); return cudaSuccess; }
static inline cudaError_t cudaEventDestroy(cudaEvent_t e) { delete (double *)e; return cudaSuccess; }
static inline cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t = nullptr) { *(double *)e = emu::now_ms(); return cudaSuccess; }
static inline cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
static inline cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b) { *ms = (float)(*(double *)b - *(double *)a); return cudaSuccess; }
template <class T> static inline cudaError_t cudaFuncSetAttribute(T *fn, cudaFuncAttribute attr, int value)
{
    if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
        if (value > 227 * 1024)
            return cudaErrorInvalidValue;
        emu::g_max_dyn_smem[(const void *)fn] = value;
    }
    return cudaSuccess;
}

#endif
