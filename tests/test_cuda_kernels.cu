/* test_cuda_kernels.cu — every CUDA kernel (kernels/cuda) against its CPU
 * reference (kernels/cpu), forward and backward, at several shapes including
 * odd sizes; plus timing of the fused attention at the 340B head shape and
 * the bandwidth of the memory-bound kernels at the bench deck's shapes.
 *
 * Inputs are random (fixed seed, never zero), generated in fp32 on the host
 * and rounded to bf16 where the GPU takes bf16, so both sides see exactly the
 * same values; the CPU reference runs on the rounded fp32 values.
 * Per case it prints
 *   PASS|FAIL: <kernel> <shape> err=<e> tol=<t>
 * with err = max|gpu - cpu| / max|cpu| over the output (absolute if the CPU
 * output is all zero; infinite if the GPU output has a NaN/Inf).
 * Tolerances by output dtype: bf16 outputs 2e-2; fp32 outputs and statistics
 * 1e-3; AdamW fp32 master/m/v 1e-6; sumsq (fp64 result) 1e-6.
 * Attention runs both implementations where the tensor-core one applies.
 *
 * Exit status: 0 all passed, 1 any failure, 77 (automake SKIP) when
 * cudaGetDeviceCount reports no device or fails.
 *
 * Build (see kernels/cuda/README):
 *   nvcc -std=c++17 -O3 -gencode arch=compute_90a,code=sm_90a -I kernels/cpu -I kernels/cuda \
 *        -c tests/test_cuda_kernels.cu
 * and link with the kernels/cuda objects, the CPU kernels (gcc) and -lopenblas -lm. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

extern "C" {
#include "kernels_cpu.h"
}
#include "cuda_check.h"
#include "kernels_cuda.h"
#include "nt_wgmma.cuh" /* the wgmma layout probe below */

#ifndef NT_CUDA_EMU
#include <cuda_runtime.h>
#endif

#ifdef NT_CUDA_EMU
static const bool EMU = true; /* host emulation: smaller shapes, no timing */
#else
static const bool EMU = false;
#endif

static const double TOL_BF16 = 2e-2;
static const double TOL_F32 = 1e-3;
static const double TOL_ADAM = 1e-6;
static const double TOL_F64 = 1e-6;

static int g_pass = 0, g_fail = 0;
/* NT_TEST_WGMMA: unset = everything; "skip" = all but the wgmma kernels;
 * "only" = the wgmma layout probe and the wgmma attention checks and timings
 * (tests/device_check.sh runs the two in separate processes, so a fault in
 * untried sm_90a code cannot take the other results down with it) */
static int g_wgmma_mode = 0; /* 0 all, 1 skip, 2 only */

/* ---- host bf16 (round to nearest even) ----------------------------------- */
static uint16_t f2bf(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}
static float bf2f(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- random numbers (splitmix64) ------------------------------------------ */
struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed) {}
    uint64_t next()
    {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    /* uniform in (-1, 1), never 0: (2r+1 - 2^24) / 2^24 with r < 2^24 */
    float sym()
    {
        const double r = (double)(next() >> 40);
        return (float)((2.0 * r + 1.0 - 16777216.0) / 16777216.0);
    }
    int range(int lo, int hi) { return lo + (int)(next() % (uint64_t)(hi - lo)); }
};

/* bf16 values (bits) and the same values as fp32 */
struct HB {
    std::vector<uint16_t> h;
    std::vector<float> f;
};
static HB rand_bf16(Rng &r, size_t n, float amp, float off = 0.0f)
{
    HB v;
    v.h.resize(n);
    v.f.resize(n);
    for (size_t i = 0; i < n; i++) {
        v.h[i] = f2bf(off + amp * r.sym());
        v.f[i] = bf2f(v.h[i]);
    }
    return v;
}
static std::vector<float> rand_f32(Rng &r, size_t n, float amp, float off = 0.0f)
{
    std::vector<float> v(n);
    for (size_t i = 0; i < n; i++)
        v[i] = off + amp * r.sym();
    return v;
}
static HB to_bf16(const std::vector<float> &f)
{
    HB v;
    v.h.resize(f.size());
    v.f.resize(f.size());
    for (size_t i = 0; i < f.size(); i++) {
        v.h[i] = f2bf(f[i]);
        v.f[i] = bf2f(v.h[i]);
    }
    return v;
}

/* ---- device buffers --------------------------------------------------------- */
template <class T> struct Dev {
    T *p = nullptr;
    size_t n = 0;
    explicit Dev(size_t n_) : n(n_)
    {
        NT_CHECK_CUDA(cudaMalloc((void **)&p, (n ? n : 1) * sizeof(T)));
        poison();
    }
    Dev(const std::vector<T> &h) : Dev(h.size()) { up(h); }
    Dev(const Dev &) = delete;
    Dev &operator=(const Dev &) = delete;
    ~Dev() { cudaFree(p); }
    void up(const std::vector<T> &h) { NT_CHECK_CUDA(cudaMemcpy(p, h.data(), n * sizeof(T), cudaMemcpyHostToDevice)); }
    std::vector<T> down() const
    {
        NT_CHECK_CUDA(cudaDeviceSynchronize());
        std::vector<T> h(n);
        NT_CHECK_CUDA(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
        return h;
    }
    /* all-ones bytes: NaN as bf16 and fp32, so unwritten outputs fail */
    void poison() { NT_CHECK_CUDA(cudaMemset(p, 0xFF, (n ? n : 1) * sizeof(T))); }
};

/* ---- comparison --------------------------------------------------------------- */
struct Err {
    double maxd = 0.0, maxc = 0.0;
    bool bad = false;
    void add(double g, double c)
    {
        if (!std::isfinite(g) || !std::isfinite(c)) {
            if (!(std::isinf(c) && g == c)) /* equal infinities (masked logits) match */
                bad = true;
            return;
        }
        maxd = std::max(maxd, std::fabs(g - c));
        maxc = std::max(maxc, std::fabs(c));
    }
    double rel() const { return bad ? INFINITY : (maxc > 0.0 ? maxd / maxc : maxd); }
};
static double err_bf16(const std::vector<uint16_t> &g, const std::vector<float> &c)
{
    Err e;
    for (size_t i = 0; i < c.size(); i++)
        e.add(bf2f(g[i]), c[i]);
    return e.rel();
}
/* the largest error of any element relative to that element (an exact zero
 * must come out zero; equal infinities match): for outputs whose elements
 * span many orders of magnitude, such as the cross-entropy gradient, where
 * one target element per row dwarfs the softmax terms a max-relative check
 * would leave unchecked */
static double err_bf16_each(const std::vector<uint16_t> &g, const std::vector<float> &c)
{
    double worst = 0.0;
    for (size_t i = 0; i < c.size(); i++) {
        const double x = bf2f(g[i]), y = c[i];
        if (std::isinf(y) && x == y)
            continue;
        if (!std::isfinite(x) || !std::isfinite(y))
            return INFINITY;
        const double e = y == 0.0 ? (x == 0.0 ? 0.0 : INFINITY) : std::fabs(x - y) / std::fabs(y);
        worst = std::max(worst, e);
    }
    return worst;
}
static double err_f32(const std::vector<float> &g, const std::vector<float> &c)
{
    Err e;
    for (size_t i = 0; i < c.size(); i++)
        e.add(g[i], c[i]);
    return e.rel();
}

static void report(const char *kernel, const std::string &shape, double err, double tol)
{
    const bool ok = err <= tol; /* NaN/Inf fail */
    printf("%s: %s %s err=%.3e tol=%.0e\n", ok ? "PASS" : "FAIL", kernel, shape.c_str(), err, tol);
    fflush(stdout);
    if (ok)
        g_pass++;
    else
        g_fail++;
}

static std::string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static std::string fmt(const char *f, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

/* ============================================================================ */

static void test_cast(Rng &r)
{
    const size_t sizes[] = {1, 7, 1000, 100003};
    for (size_t n : sizes) {
        std::string sh = fmt("n=%zu", n);
        std::vector<float> x = rand_f32(r, n, 100.0f);
        Dev<float> dx(x);
        Dev<uint16_t> dy(n);
        cuda_f32_to_bf16(dy.p, dx.p, n, NULL);
        std::vector<uint16_t> y = dy.down();
        report("cast_f32_to_bf16", sh, err_bf16(y, x), TOL_BF16);
        size_t mism = 0;
        for (size_t i = 0; i < n; i++)
            mism += y[i] != f2bf(x[i]);
        report("cast_f32_to_bf16.rne_exact(mismatch fraction)", sh, (double)mism / (double)n, 0.0);

        HB b = rand_bf16(r, n, 100.0f);
        Dev<uint16_t> db(b.h);
        Dev<float> df(n);
        cuda_bf16_to_f32(df.p, db.p, n, NULL);
        report("cast_bf16_to_f32", sh, err_f32(df.down(), b.f), TOL_F32);
    }
}

static void test_sqrelu(Rng &r)
{
    const size_t sizes[] = {1, 7, 1000, 100003};
    for (size_t n : sizes) {
        std::string sh = fmt("n=%zu", n);
        HB x = rand_bf16(r, n, 2.0f);
        HB dy = rand_bf16(r, n, 1.0f);
        std::vector<float> out(n), din(n);
        cpu_sqrelu_fwd(out.data(), x.f.data(), n);
        cpu_sqrelu_bwd(din.data(), dy.f.data(), x.f.data(), n);
        Dev<uint16_t> dx(x.h), ddy(dy.h), dout(n), ddin(n);
        cuda_sqrelu_fwd(dout.p, dx.p, n, NULL);
        cuda_sqrelu_bwd(ddin.p, ddy.p, dx.p, n, NULL);
        report("sqrelu_fwd", sh, err_bf16(dout.down(), out), TOL_BF16);
        report("sqrelu_bwd", sh, err_bf16(ddin.down(), din), TOL_BF16);
        /* one element off 16-byte alignment: the one-element path */
        Dev<uint16_t> ux(n + 1), udy(n + 1), uout(n + 1), udin(n + 1);
        NT_CHECK_CUDA(cudaMemcpy(ux.p + 1, x.h.data(), n * 2, cudaMemcpyHostToDevice));
        NT_CHECK_CUDA(cudaMemcpy(udy.p + 1, dy.h.data(), n * 2, cudaMemcpyHostToDevice));
        cuda_sqrelu_fwd(uout.p + 1, ux.p + 1, n, NULL);
        cuda_sqrelu_bwd(udin.p + 1, udy.p + 1, ux.p + 1, n, NULL);
        std::vector<uint16_t> go = uout.down(), gd = udin.down();
        report("sqrelu_fwd(unaligned)", sh, err_bf16(std::vector<uint16_t>(go.begin() + 1, go.end()), out), TOL_BF16);
        report("sqrelu_bwd(unaligned)", sh, err_bf16(std::vector<uint16_t>(gd.begin() + 1, gd.end()), din), TOL_BF16);
    }
}

static void test_elementwise(Rng &r)
{
    const size_t sizes[] = {1, 7, 1000, 100003};
    for (size_t n : sizes) {
        std::string sh = fmt("n=%zu", n);
        {
            HB y = rand_bf16(r, n, 1.0f), x = rand_bf16(r, n, 1.0f);
            std::vector<float> c = y.f;
            cpu_add(c.data(), x.f.data(), n);
            Dev<uint16_t> dy(y.h), dx(x.h);
            cuda_add(dy.p, dx.p, n, NULL);
            report("add(bf16)", sh, err_bf16(dy.down(), c), TOL_BF16);
            Dev<uint16_t> uy(n + 1), ux(n + 1); /* one element off 16-byte alignment */
            NT_CHECK_CUDA(cudaMemcpy(uy.p + 1, y.h.data(), n * 2, cudaMemcpyHostToDevice));
            NT_CHECK_CUDA(cudaMemcpy(ux.p + 1, x.h.data(), n * 2, cudaMemcpyHostToDevice));
            cuda_add(uy.p + 1, ux.p + 1, n, NULL);
            std::vector<uint16_t> g = uy.down();
            report("add(bf16, unaligned)", sh, err_bf16(std::vector<uint16_t>(g.begin() + 1, g.end()), c), TOL_BF16);
        }
        {
            HB x = rand_bf16(r, n, 1.0f);
            std::vector<float> c = x.f;
            cpu_scale(c.data(), 0.37f, n);
            Dev<uint16_t> dx(x.h);
            cuda_scale(dx.p, 0.37f, n, NULL);
            report("scale(bf16)", sh, err_bf16(dx.down(), c), TOL_BF16);
        }
        {
            std::vector<float> y = rand_f32(r, n, 1.0f), x = rand_f32(r, n, 1.0f), c = y;
            cpu_add(c.data(), x.data(), n);
            Dev<float> dy(y), dx(x);
            cuda_add_f32(dy.p, dx.p, n, NULL);
            report("add_f32", sh, err_f32(dy.down(), c), TOL_F32);
        }
        {
            std::vector<float> x = rand_f32(r, n, 1.0f), c = x;
            cpu_scale(c.data(), -1.7f, n);
            Dev<float> dx(x);
            cuda_scale_f32(dx.p, -1.7f, n, NULL);
            report("scale_f32", sh, err_f32(dx.down(), c), TOL_F32);
        }
    }
    {
        struct M {
            int n, V, c0;
            float value;
        };
        const M mc[] = {{1, 7, 5, -INFINITY}, {3, 1000, 900, -INFINITY}, {64, 4099, -3, 0.5f}, {5, 130, 130, 1.0f}};
        for (const M &m : mc) {
            std::string sh = fmt("n=%d V=%d c0=%d value=%g", m.n, m.V, m.c0, m.value);
            HB x = rand_bf16(r, (size_t)m.n * m.V, 1.0f);
            std::vector<float> c = x.f;
            cpu_mask_cols(c.data(), m.n, m.V, m.c0, m.value);
            Dev<uint16_t> dx(x.h);
            cuda_mask_cols(dx.p, m.n, m.V, m.c0, m.value, NULL);
            report("mask_cols(bf16)", sh, err_bf16(dx.down(), c), TOL_BF16);
        }
    }
    const size_t ssizes[] = {1, 7, 1000, 100003, EMU ? (size_t)300001 : (size_t)3000001};
    for (size_t n : ssizes) {
        std::string sh = fmt("n=%zu", n);
        std::vector<float> x = rand_f32(r, n, 1.0f);
        const double c = cpu_sumsq(x.data(), n);
        Dev<float> dx(x);
        Dev<double> out(1);
        cuda_sumsq(out.p, dx.p, n, 0, NULL);
        double g = out.down()[0];
        report("sumsq(fp64 result)", sh, std::isfinite(g) ? std::fabs(g - c) / c : INFINITY, TOL_F64);
        cuda_sumsq(out.p, dx.p, n, 1, NULL);
        g = out.down()[0];
        report("sumsq(accumulate)", sh, std::isfinite(g) ? std::fabs(g - 2.0 * c) / (2.0 * c) : INFINITY,
               TOL_F64);
    }
}

static void test_embedding(Rng &r)
{
    struct C {
        int n, rows, C, vocab_lo;
    };
    /* {2000, 5, ...}, {1500, 1, ...}: runs of hundreds of equal tokens; C 2100: two column blocks */
    const C cases[] = {{1, 10, 5, 0},     {37, 50, 64, 100}, {256, 40, 1001, 5000},
                       {300, 1000, 130, 7}, {2000, 5, 300, 0}, {600, 3000, 2100, 11},
                       {1500, 1, 40, 3}}; /* one row: a run of ~500 tokens, as a padding token's */
    for (const C &c : cases) {
        std::string sh = fmt("n=%d rows=%d C=%d vocab_lo=%d", c.n, c.rows, c.C, c.vocab_lo);
        HB table = rand_bf16(r, (size_t)c.rows * c.C, 1.0f);
        std::vector<int32_t> tok(c.n);
        const int pad = c.rows / 4 + 1;
        for (int i = 0; i < c.n; i++)
            tok[i] = r.range(c.vocab_lo - pad, c.vocab_lo + c.rows + pad);
        tok[0] = c.vocab_lo + c.rows / 2; /* at least one in the shard */
        std::vector<float> out((size_t)c.n * c.C);
        cpu_embedding_fwd(out.data(), tok.data(), table.f.data(), c.n, c.vocab_lo, c.rows, c.C);
        Dev<int32_t> dtok(tok);
        Dev<uint16_t> dtab(table.h), dout((size_t)c.n * c.C);
        cuda_embedding_fwd(dout.p, dtok.p, dtab.p, c.n, c.vocab_lo, c.rows, c.C, NULL);
        report("embedding_fwd", sh, err_bf16(dout.down(), out), TOL_BF16);

        HB dy = rand_bf16(r, (size_t)c.n * c.C, 1.0f);
        std::vector<float> dtable = rand_f32(r, (size_t)c.rows * c.C, 1.0f), ct = dtable;
        cpu_embedding_bwd(ct.data(), tok.data(), dy.f.data(), c.n, c.vocab_lo, c.rows, c.C);
        Dev<uint16_t> ddy(dy.h);
        Dev<float> ddt(dtable);
        cuda_embedding_bwd(ddt.p, dtok.p, ddy.p, c.n, c.vocab_lo, c.rows, c.C, NULL);
        /* the same fp32 additions in the same order as the CPU: bitwise */
        report("embedding_bwd(dtable fp32, bitwise)", sh, err_f32(ddt.down(), ct), 0.0);
    }
}

static void test_layernorm(Rng &r)
{
    struct C {
        int n, C;
    };
    const C cases[] = {{1, 7}, {3, 128}, {64, 1000}, {17, 4096}, {130, 18432}};
    const float eps = 1e-5f;
    for (const C &c : cases) {
        if (EMU && c.n * c.C > 200000)
            continue;
        std::string sh = fmt("n=%d C=%d", c.n, c.C);
        const size_t nc = (size_t)c.n * c.C;
        HB x = rand_bf16(r, nc, 2.0f, 0.5f);
        HB gamma = rand_bf16(r, c.C, 0.1f), beta = rand_bf16(r, c.C, 0.1f);
        std::vector<float> out(nc), mean(c.n), rstd(c.n);
        cpu_layernorm1p_fwd(out.data(), mean.data(), rstd.data(), x.f.data(), gamma.f.data(),
                            beta.f.data(), c.n, c.C, eps);
        Dev<uint16_t> dx(x.h), dg(gamma.h), db(beta.h), dout(nc);
        Dev<float> dmean(c.n), drstd(c.n);
        cuda_layernorm1p_fwd(dout.p, dmean.p, drstd.p, dx.p, dg.p, db.p, c.n, c.C, eps, NULL);
        report("layernorm1p_fwd.out", sh, err_bf16(dout.down(), out), TOL_BF16);
        report("layernorm1p_fwd.mean", sh, err_f32(dmean.down(), mean), TOL_F32);
        report("layernorm1p_fwd.rstd", sh, err_f32(drstd.down(), rstd), TOL_F32);

        /* backward on identical inputs (the CPU's mean/rstd on both sides) */
        HB dy = rand_bf16(r, nc, 1.0f), din0 = rand_bf16(r, nc, 1.0f);
        std::vector<float> dgam = rand_f32(r, c.C, 1.0f), dbet = rand_f32(r, c.C, 1.0f);
        std::vector<float> cdin = din0.f, cdg = dgam, cdb = dbet;
        cpu_layernorm1p_bwd(cdin.data(), cdg.data(), cdb.data(), dy.f.data(), x.f.data(), mean.data(),
                            rstd.data(), gamma.f.data(), c.n, c.C);
        Dev<uint16_t> ddy(dy.h), ddin(din0.h);
        Dev<float> ddg(dgam), ddb(dbet);
        dmean.up(mean);
        drstd.up(rstd);
        cuda_layernorm1p_bwd(ddin.p, ddg.p, ddb.p, ddy.p, dx.p, dmean.p, drstd.p, dg.p, c.n, c.C, NULL);
        report("layernorm1p_bwd.din", sh, err_bf16(ddin.down(), cdin), TOL_BF16);
        report("layernorm1p_bwd.dgamma", sh, err_f32(ddg.down(), cdg), TOL_F32);
        report("layernorm1p_bwd.dbeta", sh, err_f32(ddb.down(), cdb), TOL_F32);
    }
}

/* positions of packed rows of T tokens: samples of lengths L, 1, L/2+1, 3L, L, 1, ... (the last one cut at T);
 * L = 0: empty (no packing) */
static std::vector<int32_t> packed_pos(int B, int T, int L)
{
    std::vector<int32_t> pos(L ? (size_t)B * T : 1, 0);
    if (!L) return pos;
    const int cyc[4] = {L, 1, L / 2 + 1, 3 * L};
    for (int b = 0; b < B; b++)
        for (int t = 0, k = b, left = cyc[b % 4], p = 0; t < T; t++, p++, left--) {
            if (left == 0) { k++; left = cyc[k % 4]; p = 0; }
            pos[(size_t)b * T + t] = p;
        }
    return pos;
}

static void test_rope(Rng &r)
{
    struct C {
        int B, T, G, qpg, hd, rot, pos0, pack;
    };
    const C cases[] = {{1, 1, 1, 1, 6, 6, 0, 0},       {2, 7, 2, 3, 6, 3, 0, 0},    {1, 33, 1, 6, 64, 32, 0, 0},
                       {2, 17, 2, 3, 192, 96, 4000, 0}, {1, 5, 1, 1, 128, 128, 7, 0}, {1, 64, 2, 6, 192, 96, 0, 0},
                       {2, 33, 1, 6, 64, 32, 0, 5},     {1, 64, 2, 6, 192, 96, 0, 20}};
    for (const C &c : cases) {
        std::string sh = fmt("B=%d T=%d G=%d qpg=%d hd=%d rot=%d pos0=%d%s", c.B, c.T, c.G, c.qpg, c.hd,
                             c.rot, c.pos0, c.pack ? " packed" : "");
        const size_t n = (size_t)c.B * c.T * c.G * (c.qpg + 2) * c.hd;
        HB x = rand_bf16(r, n, 1.0f);
        std::vector<float> f = x.f, bk = x.f;
        std::vector<int32_t> pos = packed_pos(c.B, c.T, c.pack);
        const int32_t *hp = c.pack ? pos.data() : NULL;
        cpu_rope_fwd(f.data(), c.B, c.T, c.G, c.qpg, c.hd, c.rot, 10000.0f, c.pos0, hp);
        cpu_rope_bwd(bk.data(), c.B, c.T, c.G, c.qpg, c.hd, c.rot, 10000.0f, c.pos0, hp);
        Dev<uint16_t> d1(x.h), d2(x.h);
        Dev<int32_t> dpos(pos);
        const int32_t *dp = c.pack ? dpos.p : NULL;
        cuda_rope_fwd(d1.p, c.B, c.T, c.G, c.qpg, c.hd, c.rot, 10000.0f, c.pos0, dp, NULL);
        cuda_rope_bwd(d2.p, c.B, c.T, c.G, c.qpg, c.hd, c.rot, 10000.0f, c.pos0, dp, NULL);
        report("rope_fwd", sh, err_bf16(d1.down(), f), TOL_BF16);
        report("rope_bwd", sh, err_bf16(d2.down(), bk), TOL_BF16);
    }
}

/* generation: K/V cache append + one-query attention over the cache, against
 * the CPU reference on the same bf16 inputs (slots permuted, lengths mixed,
 * one empty sequence) */
static void test_attention_decode(Rng &r)
{
    struct C {
        int B, G, qpg, hd, Tmax;
    };
    const C cases[] = {{3, 1, 1, 6, 9}, {4, 2, 3, 64, 40}, {2, 2, 6, 192, EMU ? 70 : 300}, {5, 1, 2, 128, 33}};
    for (const C &c : cases) {
        std::string sh = fmt("B=%d G=%d qpg=%d hd=%d Tmax=%d", c.B, c.G, c.qpg, c.hd, c.Tmax);
        const int S = c.B + 1; /* one more slot than sequences */
        const size_t W = (size_t)c.G * (c.qpg + 2) * c.hd, ncache = (size_t)S * c.G * c.Tmax * c.hd;
        std::vector<int32_t> slot(c.B), pos(c.B), len(c.B);
        for (int b = 0; b < c.B; b++) {
            slot[b] = c.B - b; /* reversed, slot 0 unused; (2b+1) % S was no permutation for even S: two sequences shared a slot */
            len[b] = b == 1 ? 0 : 1 + (int)((r.next() >> 11) % (uint64_t)c.Tmax);
            pos[b] = len[b] > 0 ? len[b] - 1 : 0;
        }
        HB cache_k = rand_bf16(r, ncache, 1.0f), cache_v = rand_bf16(r, ncache, 1.0f);
        HB qkv = rand_bf16(r, (size_t)c.B * W, 1.0f);
        std::vector<float> kc = cache_k.f, vc = cache_v.f, out((size_t)c.B * c.G * c.qpg * c.hd);
        cpu_kv_append(kc.data(), vc.data(), qkv.f.data(), slot.data(), pos.data(), c.B, 1, c.G, c.qpg, c.hd, c.Tmax);
        cpu_attention_decode(out.data(), qkv.f.data(), kc.data(), vc.data(), slot.data(), len.data(), c.B, c.G, c.qpg,
                             c.hd, c.Tmax);
        Dev<uint16_t> dk(cache_k.h), dv(cache_v.h), dq(qkv.h), dout(out.size());
        Dev<int32_t> dslot(slot), dpos(pos), dlen(len);
        cuda_kv_append(dk.p, dv.p, dq.p, dslot.p, dpos.p, c.B, 1, c.G, c.qpg, c.hd, c.Tmax, NULL);
        cuda_attention_decode(dout.p, dq.p, dk.p, dv.p, dslot.p, dlen.p, c.B, c.G, c.qpg, c.hd, c.Tmax, NULL);
        report("kv_append(k)", sh, err_bf16(dk.down(), kc), 0.0);
        report("kv_append(v)", sh, err_bf16(dv.down(), vc), 0.0);
        report("attention_decode", sh, err_bf16(dout.down(), out), TOL_BF16);
    }
}

static void test_cross_entropy(Rng &r)
{
    struct C {
        int n, V, vocab_lo, inplace, npad; /* npad: last columns masked to -inf (padded vocab) */
    };
    const C cases[] = {{1, 7, 0, 0, 0},         {5, 1000, 1000, 0, 0}, {3, 4099, 123, 1, 0},
                       {7, 1000, 3000, 0, 100}, {9, 2048, 500, 1, 8},  {64, 32000, 64000, 1, 0},
                       {16, 32000, 224000, 1, 256}};
    for (const C &c : cases) {
        if (EMU && c.V > 10000)
            continue;
        std::string sh = fmt("n=%d V=%d vocab_lo=%d%s%s", c.n, c.V, c.vocab_lo, c.inplace ? " in-place" : "",
                             c.npad ? fmt(" padded(-inf)=%d", c.npad).c_str() : "");
        const size_t nv = (size_t)c.n * c.V;
        HB lg = rand_bf16(r, nv, 4.0f);
        std::vector<int32_t> tg(c.n);
        const int pad = c.V / 8 + 1;
        for (int i = 0; i < c.n; i++)
            tg[i] = r.range(c.vocab_lo - pad, c.vocab_lo + c.V + pad);
        tg[0] = c.vocab_lo + c.V / 3; /* at least one target in the shard */
        for (int i = 0; i < c.n; i++) {
            for (int j = c.V - c.npad; j < c.V; j++) {
                lg.h[(size_t)i * c.V + j] = f2bf(-INFINITY);
                lg.f[(size_t)i * c.V + j] = -INFINITY;
            }
            if (tg[i] - c.vocab_lo >= c.V - c.npad && tg[i] - c.vocab_lo < c.V)
                tg[i] = c.vocab_lo - 1; /* padded ids are never targets */
        }
        std::vector<float> dloss = rand_f32(r, c.n, 0.5f, 1.0f);

        std::vector<float> rm(c.n), se(c.n), tt(c.n), loss(c.n), dl(nv);
        cpu_ce_rowmax(rm.data(), lg.f.data(), c.n, c.V);
        cpu_ce_sumexp(se.data(), tt.data(), lg.f.data(), rm.data(), tg.data(), c.vocab_lo, c.n, c.V);
        cpu_ce_loss(loss.data(), rm.data(), se.data(), tt.data(), c.n);
        cpu_ce_bwd(dl.data(), lg.f.data(), rm.data(), se.data(), tg.data(), dloss.data(), c.vocab_lo,
                   c.n, c.V);

        Dev<uint16_t> dlg(lg.h), ddl(nv);
        Dev<int32_t> dtg(tg);
        Dev<float> drm(c.n), dse(c.n), dtt(c.n), dlo(c.n), ddloss(dloss);
        cuda_ce_rowmax(drm.p, dlg.p, c.n, c.V, NULL);
        cuda_ce_sumexp(dse.p, dtt.p, dlg.p, drm.p, dtg.p, c.vocab_lo, c.n, c.V, NULL);
        cuda_ce_loss(dlo.p, drm.p, dse.p, dtt.p, c.n, NULL);
        uint16_t *dst = c.inplace ? dlg.p : ddl.p;
        cuda_ce_bwd(dst, dlg.p, drm.p, dse.p, dtg.p, ddloss.p, c.vocab_lo, c.n, c.V, NULL);
        report("ce_rowmax", sh, err_f32(drm.down(), rm), TOL_F32);
        report("ce_sumexp.sumexp", sh, err_f32(dse.down(), se), TOL_F32);
        report("ce_sumexp.tgt", sh, err_f32(dtt.down(), tt), TOL_F32);
        report("ce_loss", sh, err_f32(dlo.down(), loss), TOL_F32);
        const std::vector<uint16_t> got = c.inplace ? dlg.down() : ddl.down();
        report("ce_bwd(dlogits bf16)", sh, err_bf16(got, dl), TOL_BF16);
        /* each element against itself: bf16 rounding is <= 2^-8 relative
         * (measured 3.9e-3), so 1e-2 leaves room for the fp32 exp and the
         * target's p - 1; a 5% error in the softmax terms alone, which the
         * max-relative check above misses on most shapes, fails it */
        report("ce_bwd(dlogits bf16, each element)", sh, err_bf16_each(got, dl), 1e-2);
        /* both statistics in one pass, on the original logits */
        Dev<uint16_t> dlg2(lg.h);
        Dev<float> srm(c.n), sse(c.n), stt(c.n);
        cuda_ce_stats(srm.p, sse.p, stt.p, dlg2.p, dtg.p, c.vocab_lo, c.n, c.V, NULL);
        report("ce_stats.rowmax", sh, err_f32(srm.down(), rm), TOL_F32);
        report("ce_stats.sumexp", sh, err_f32(sse.down(), se), TOL_F32);
        report("ce_stats.tgt", sh, err_f32(stt.down(), tt), TOL_F32);
    }
    /* rising logits: every thread's maximum grows at each step, so each step rescales its sum */
    for (int V : {3000, 3001}) {
        const int n = 4;
        std::string sh = fmt("n=%d V=%d rising logits", n, V);
        std::vector<float> f((size_t)n * V);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < V; j++)
                f[(size_t)i * V + j] = -20.0f + 40.0f * (float)j / (float)V + 0.05f * r.sym();
        HB lg = to_bf16(f);
        std::vector<int32_t> tg = {0, V - 1, V / 2, V + 5};
        std::vector<float> rm(n), se(n), tt(n);
        cpu_ce_rowmax(rm.data(), lg.f.data(), n, V);
        cpu_ce_sumexp(se.data(), tt.data(), lg.f.data(), rm.data(), tg.data(), 0, n, V);
        Dev<uint16_t> dlg(lg.h);
        Dev<int32_t> dtg(tg);
        Dev<float> srm(n), sse(n), stt(n);
        cuda_ce_stats(srm.p, sse.p, stt.p, dlg.p, dtg.p, 0, n, V, NULL);
        report("ce_stats.rowmax", sh, err_f32(srm.down(), rm), TOL_F32);
        report("ce_stats.sumexp", sh, err_f32(sse.down(), se), TOL_F32);
        report("ce_stats.tgt", sh, err_f32(stt.down(), tt), TOL_F32);
    }
}

static void test_adamw(Rng &r)
{
    const size_t sizes[] = {1, 1000, 100003};
    const int steps[] = {1, 7};
    for (size_t n : sizes)
        for (int step : steps) {
            std::string sh = fmt("n=%zu step=%d", n, step);
            std::vector<float> p = rand_f32(r, n, 1.0f), m = rand_f32(r, n, 0.01f);
            std::vector<float> v = rand_f32(r, n, 0.5e-4f, 1e-4f), g = rand_f32(r, n, 0.02f);
            const float lr = 1e-2f, b1 = 0.9f, b2 = 0.95f, eps = 1e-8f, wd = 0.1f, gs = 0.5f;
            std::vector<float> cp = p, cm = m, cv = v;
            cpu_adamw(cp.data(), cm.data(), cv.data(), g.data(), n, lr, b1, b2, eps, wd, gs, step);
            Dev<float> dp(p), dm(m), dv(v), dg(g);
            Dev<uint16_t> dpar(n);
            cuda_adamw(dp.p, dpar.p, dm.p, dv.p, dg.p, n, lr, b1, b2, eps, wd, gs, step, NULL);
            report("adamw.master(fp32)", sh, err_f32(dp.down(), cp), TOL_ADAM);
            report("adamw.m(fp32)", sh, err_f32(dm.down(), cm), TOL_ADAM);
            report("adamw.v(fp32)", sh, err_f32(dv.down(), cv), TOL_ADAM);
            report("adamw.param(bf16)", sh, err_bf16(dpar.down(), cp), TOL_BF16);
        }
}

/* ---- attention ------------------------------------------------------------------- */

/* cuda_attention_set_impl: 0 tensor-core mma.sync (default), 1 generic fp32,
 * 2 warpgroup MMA (sm_90a) for the forward and the backward's dK/dV pass */
static const char *attn_tag(int impl) { return impl == 0 ? "mma" : impl == 1 ? "generic" : "wgmma"; }
/* impl runs its own kernels for this hd here (else skipped: it would repeat another) */
static bool attn_impl_runs(int impl, int hd)
{
    if ((g_wgmma_mode == 1 && impl == 2) || (g_wgmma_mode == 2 && impl != 2))
        return false;
    cuda_attention_set_impl(impl);
    return impl == 1 || (impl == 0 && cuda_attention_uses_mma(hd)) || (impl == 2 && cuda_attention_uses_wgmma(hd));
}

struct AttnCase {
    int B, T, G, qpg, hd;
    int pack; /* 0: causal rows; L > 0: packed rows of samples L, 1, L/2+1, 3L, ... (see packed_pos) */
};

/* max|gpu-cpu| and max|cpu| over the q, k or v part (part 0, 1, 2) of dqkv */
static Err err_qkv_part(const std::vector<uint16_t> &g, const std::vector<float> &c,
                        const AttnCase &a, int part)
{
    const size_t W = (size_t)a.G * (a.qpg + 2) * a.hd;
    Err e;
    for (size_t bt = 0; bt < (size_t)a.B * a.T; bt++)
        for (int grp = 0; grp < a.G; grp++) {
            const int h0 = part == 0 ? 0 : (part == 1 ? a.qpg : a.qpg + 1);
            const int nh = part == 0 ? a.qpg : 1;
            const size_t off = bt * W + ((size_t)grp * (a.qpg + 2) + h0) * a.hd;
            for (size_t i = 0; i < (size_t)nh * a.hd; i++)
                e.add(bf2f(g[off + i]), c[off + i]);
        }
    return e;
}

static void test_attention_case(Rng &r, const AttnCase &a)
{
    const int H = a.G * a.qpg;
    const size_t W = (size_t)a.G * (a.qpg + 2) * a.hd, Wo = (size_t)H * a.hd;
    const size_t nqkv = (size_t)a.B * a.T * W, nout = (size_t)a.B * a.T * Wo;
    const size_t nlse = (size_t)a.B * H * a.T;
    std::string sh = fmt("B=%d T=%d G=%d qpg=%d hd=%d", a.B, a.T, a.G, a.qpg, a.hd);
    if (a.pack) sh += fmt(" packed(L=%d)", a.pack);
    std::vector<int32_t> pos = packed_pos(a.B, a.T, a.pack);
    const int32_t *hp = a.pack ? pos.data() : NULL;
    Dev<int32_t> dpos(pos);
    const int32_t *dp = a.pack ? dpos.p : NULL;

    HB qkv = rand_bf16(r, nqkv, 2.0f);
    HB dout = rand_bf16(r, nout, 1.0f);
    std::vector<float> out_c(nout), lse_c(nlse), dqkv_c(nqkv);
    cpu_attention_fwd(out_c.data(), lse_c.data(), qkv.f.data(), a.B, a.T, a.G, a.qpg, a.hd, hp);
    /* backward inputs identical on both sides: out rounded to bf16, CPU lse */
    HB out_r = to_bf16(out_c);
    cpu_attention_bwd(dqkv_c.data(), dout.f.data(), out_r.f.data(), lse_c.data(), qkv.f.data(), a.B,
                      a.T, a.G, a.qpg, a.hd, hp);

    Dev<uint16_t> dqkv_in(qkv.h), ddout(dout.h), dout_r(out_r.h), dout_g(nout), ddqkv(nqkv);
    Dev<float> dlse_g(nlse), dlse_c(lse_c);

    for (int impl = 0; impl < 3; impl++) {
        if (!attn_impl_runs(impl, a.hd))
            continue; /* generic or mma would run again */
        const char *tag = attn_tag(impl);
        dout_g.poison();
        dlse_g.poison();
        cuda_attention_fwd(dout_g.p, dlse_g.p, dqkv_in.p, a.B, a.T, a.G, a.qpg, a.hd, dp, NULL);
        report(fmt("attention_fwd.out[%s]", tag).c_str(), sh, err_bf16(dout_g.down(), out_c), TOL_BF16);
        report(fmt("attention_fwd.lse[%s]", tag).c_str(), sh, err_f32(dlse_g.down(), lse_c), TOL_F32);

        ddqkv.poison();
        cuda_attention_bwd(ddqkv.p, ddout.p, dout_r.p, dlse_c.p, dqkv_in.p, a.B, a.T, a.G, a.qpg, a.hd,
                           dp, NULL, NULL);
        std::vector<uint16_t> g = ddqkv.down();
        const Err eq = err_qkv_part(g, dqkv_c, a, 0), ek = err_qkv_part(g, dqkv_c, a, 1);
        const Err ev = err_qkv_part(g, dqkv_c, a, 2);
        if (a.T == 1) {
            /* one key: P = 1, dS = dO.(V - O) = 0, so dq = dk = 0 exactly and
             * both sides hold rounding noise; measure against max|dv| instead */
            const double nrm = ev.maxc > 0.0 ? ev.maxc : 1.0;
            report(fmt("attention_bwd.dq[%s](exact 0 at T=1: err/max|dv|)", tag).c_str(), sh,
                   eq.bad ? INFINITY : eq.maxd / nrm, TOL_BF16);
            report(fmt("attention_bwd.dk[%s](exact 0 at T=1: err/max|dv|)", tag).c_str(), sh,
                   ek.bad ? INFINITY : ek.maxd / nrm, TOL_BF16);
        } else {
            report(fmt("attention_bwd.dq[%s]", tag).c_str(), sh, eq.rel(), TOL_BF16);
            report(fmt("attention_bwd.dk[%s]", tag).c_str(), sh, ek.rel(), TOL_BF16);
        }
        report(fmt("attention_bwd.dv[%s]", tag).c_str(), sh, ev.rel(), TOL_BF16);
    }
    cuda_attention_set_impl(0);
}

static void test_attention(Rng &r)
{
    std::vector<AttnCase> cases;
    if (EMU) {
        const AttnCase emu_cases[] = {{1, 1, 2, 3, 6, 0},    {2, 7, 1, 6, 6, 0},    {1, 130, 2, 3, 6, 0},
                                      {1, 7, 2, 3, 64, 0},   {2, 130, 1, 2, 64, 0}, {1, 70, 1, 2, 128, 0},
                                      {1, 1, 1, 6, 192, 0},  {1, 100, 2, 1, 192, 0}, {1, 200, 1, 3, 128, 0},
                                      {1, 260, 1, 2, 192, 0},
                                      {2, 130, 2, 3, 6, 9},  {1, 200, 1, 2, 64, 30}, {1, 200, 1, 3, 128, 70},
                                      {1, 260, 1, 2, 192, 45}};
        cases.assign(emu_cases, emu_cases + sizeof emu_cases / sizeof emu_cases[0]);
    } else {
        const int Ts[] = {1, 7, 64, 130, 512};
        const int hds[] = {6, 64, 128, 192};
        const int gq[][2] = {{2, 3}, {1, 6}};
        for (int hd : hds)
            for (int T : Ts)
                for (int B = 1; B <= 2; B++)
                    for (const auto &x : gq)
                        cases.push_back(AttnCase{B, T, x[0], x[1], hd, 0});
        cases.push_back(AttnCase{1, 4096, 2, 6, 192, 0}); /* 340B head shape, 12 q heads, 2 groups */
        /* packed rows: samples crossing every tile size, single-token samples, 340B head shape */
        for (int hd : hds)
            for (int L : {9, 45, 70})
                cases.push_back(AttnCase{2, 512, 2, 3, hd, L});
        cases.push_back(AttnCase{1, 4096, 2, 6, 192, 700});
    }
    for (const AttnCase &a : cases)
        test_attention_case(r, a);
}

/* ---- wgmma layout probe ------------------------------------------------------------ */
/* One m64n64k16 product through wgmma (A 64x16, B 16x64 bf16, D fp32), the
 * operands in shared memory in nt_wgmma.cuh's no-swizzle layouts with LBO =
 * 128 B (next 8 along K) and SBO = 256 B (next 8 along M/N).  mode 0: A and
 * B K-major from shared memory; 1: B N-major (the P V operand); 2: A from
 * registers, B N-major; 3: A M-major, B N-major (the dQ pass's operands).  swap = 1 puts LBO and SBO into each other's
 * descriptor field: not expected to match, printed as information so a
 * failing GPU run tells at once whether the two fields are read the other
 * way round. */
__global__ void k_wgmma_probe(float *D, const uint16_t *A, const uint16_t *B, int mode, int swap)
{
#if NT_HAVE_WGMMA
    NT_DYN_SMEM(smem);
    uint16_t *As = (uint16_t *)smem, *Bs = As + 64 * 16;
    const int t = threadIdx.x;
    for (int i = t; i < 64 * 16; i += 128) {
        const int m = i / 16, k = i % 16;
        As[mode == 3 ? (m >> 3) * 128 + (k >> 3) * 64 + (k & 7) * 8 + (m & 7)
                     : (m >> 3) * 128 + (k >> 3) * 64 + (m & 7) * 8 + (k & 7)] = A[i];
    }
    for (int i = t; i < 16 * 64; i += 128) {
        const int k = i / 64, n = i % 64;
        Bs[mode == 0 ? (n >> 3) * 128 + (k >> 3) * 64 + (n & 7) * 8 + (k & 7)
                     : (n >> 3) * 128 + (k >> 3) * 64 + (k & 7) * 8 + (n & 7)] = B[i];
    }
    nt_fence_proxy_async();
    __syncthreads();
    const uint32_t lbo = swap ? 256 : 128, sbo = swap ? 128 : 256;
    const int w = t >> 5, l = t & 31, g = l >> 2, q = l & 3;
    float d[32];
    for (int i = 0; i < 32; i++)
        d[i] = 0.0f;
    uint32_t a[4];
    for (int r = 0; r < 4; r++) {
        const int m = 16 * w + g + (r & 1) * 8, k = 2 * q + (r >> 1) * 8;
        a[r] = (uint32_t)A[m * 16 + k] | ((uint32_t)A[m * 16 + k + 1] << 16);
    }
    const uint64_t da = nt_wgmma_desc(As, lbo, sbo), db = nt_wgmma_desc(Bs, lbo, sbo);
    nt_wgmma_fence();
    if (mode == 0)
        NtWgmma<64>::template ss<0>(d, da, db, 1);
    else if (mode == 1)
        NtWgmma<64>::template ss<1>(d, da, db, 1);
    else if (mode == 2)
        NtWgmma<64>::template rs<1>(d, a, db, 1);
    else
        NtWgmma<64>::template ss<1, 1>(d, da, db, 1);
    nt_wgmma_commit();
    nt_wgmma_wait0();
    for (int i = 0; i < 8; i++)
        for (int e = 0; e < 4; e++)
            D[(16 * w + g + (e >= 2 ? 8 : 0)) * 64 + 8 * i + 2 * q + (e & 1)] = d[4 * i + e];
#else
    (void)D; (void)A; (void)B; (void)mode; (void)swap;
#endif
}

static void test_wgmma_probe(Rng &r)
{
    cuda_attention_set_impl(2);
    const bool have = cuda_attention_uses_wgmma(64);
    cuda_attention_set_impl(0);
    if (!have) {
        printf("SKIP: wgmma probe: this build or GPU has no sm_90a code\n");
        return;
    }
    HB A = rand_bf16(r, 64 * 16, 1.0f), B = rand_bf16(r, 16 * 64, 1.0f);
    std::vector<float> ref(64 * 64);
    for (int m = 0; m < 64; m++)
        for (int n = 0; n < 64; n++) {
            double s = 0.0;
            for (int k = 0; k < 16; k++)
                s += (double)A.f[m * 16 + k] * B.f[k * 64 + n];
            ref[m * 64 + n] = (float)s;
        }
    Dev<uint16_t> dA(A.h), dB(B.h);
    Dev<float> dD(64 * 64);
    static const char *names[] = {"A,B K-major (smem)", "A K-major, B N-major (smem)", "A registers, B N-major",
                                  "A M-major, B N-major (smem)"};
    for (int mode = 0; mode < 4; mode++)
        for (int swap = 0; swap < 2; swap++) {
            dD.poison();
            float *pd = dD.p;
            const uint16_t *pa = dA.p, *pb = dB.p;
            NT_LAUNCH(k_wgmma_probe, 1, 128, 64 * 16 * 2 + 16 * 64 * 2, NULL, pd, pa, pb, mode, swap);
            const double e = err_f32(dD.down(), ref);
            if (swap == 0)
                report("wgmma_probe", fmt("m64n64k16 %s", names[mode]), e, TOL_F32);
            else
                printf("INFO: wgmma_probe m64n64k16 %s with LBO/SBO exchanged in the descriptor: err=%.3e\n",
                       names[mode], e);
        }
}

/* ---- attention timing ---------------------------------------------------------------- */

/* one shape: T = 4096, G KV groups of qpg query heads of hd, batches B = 1 .. maxB */
static void time_attention_shape(Rng &r, int G, int qpg, int hd, int maxB)
{
    const int T = 4096, H = G * qpg;
    const size_t W = (size_t)G * (qpg + 2) * hd, Wo = (size_t)H * hd;
    printf("TIMING: causal attention, T=%d, %d query heads, %d KV groups, hd=%d (bf16).\n", T, H, G, hd);
    printf("TIMING: FLOPs(fwd) = 4*B*heads*T*T*hd/2 (causal half); FLOPs(fwd+bwd) = 2.5 x FLOPs(fwd) as "
           "specified; [3.5x] = also counting fwd+bwd as fwd + 2.5x fwd (FlashAttention convention).\n");
    const int Bs[] = {1, 2, 4, 8};
    for (int B : Bs) {
        if (B > maxB) break;
        const size_t nqkv = (size_t)B * T * W, nout = (size_t)B * T * Wo, nlse = (size_t)B * H * T;
        const size_t wsb = cuda_attention_bwd_workspace_bytes(B, T, G, qpg, hd);
        const size_t need = (2 * nqkv + 2 * nout) * 2 + nlse * 4 + wsb;
        size_t fr = 0, tot = 0;
        NT_CHECK_CUDA(cudaMemGetInfo(&fr, &tot));
        if (need > fr / 2) {
            printf("TIMING: B=%d skipped (needs %.1f GB)\n", B, need / 1e9);
            continue;
        }
        HB qkv = rand_bf16(r, nqkv, 2.0f), dout = rand_bf16(r, nout, 1.0f);
        Dev<uint16_t> dq(qkv.h), ddo(dout.h), dout_(nout), ddq(nqkv);
        Dev<float> dl(nlse);
        Dev<unsigned char> ws(wsb);
        cudaEvent_t e0, e1;
        NT_CHECK_CUDA(cudaEventCreate(&e0));
        NT_CHECK_CUDA(cudaEventCreate(&e1));
        const double ffwd = 4.0 * B * H * (double)T * T * hd / 2.0;
        for (int impl = 0; impl < 3; impl++) {
            if (!attn_impl_runs(impl, hd))
                continue;
            if (impl == 1 && B > 1)
                continue; /* generic path: B=1 only, for reference */
            const char *tag = attn_tag(impl);
            const int nf = impl != 1 ? 10 : 2, nb = impl != 1 ? 5 : 1;
            /* warm-up */
            cuda_attention_fwd(dout_.p, dl.p, dq.p, B, T, G, qpg, hd, NULL, NULL);
            cuda_attention_bwd(ddq.p, ddo.p, dout_.p, dl.p, dq.p, B, T, G, qpg, hd, NULL, ws.p, NULL);
            NT_CHECK_CUDA(cudaDeviceSynchronize());
            NT_CHECK_CUDA(cudaEventRecord(e0, NULL));
            for (int i = 0; i < nf; i++)
                cuda_attention_fwd(dout_.p, dl.p, dq.p, B, T, G, qpg, hd, NULL, NULL);
            NT_CHECK_CUDA(cudaEventRecord(e1, NULL));
            NT_CHECK_CUDA(cudaEventSynchronize(e1));
            float ms = 0.0f;
            NT_CHECK_CUDA(cudaEventElapsedTime(&ms, e0, e1));
            const double tf = ms / nf;
            printf("TIME: attention_fwd[%s] B=%d T=%d heads=%d G=%d hd=%d: %.3f ms, %.1f TFLOP/s\n", tag, B, T,
                   H, G, hd, tf, ffwd / (tf * 1e-3) / 1e12);
            NT_CHECK_CUDA(cudaEventRecord(e0, NULL));
            for (int i = 0; i < nb; i++) {
                cuda_attention_fwd(dout_.p, dl.p, dq.p, B, T, G, qpg, hd, NULL, NULL);
                cuda_attention_bwd(ddq.p, ddo.p, dout_.p, dl.p, dq.p, B, T, G, qpg, hd, NULL, ws.p, NULL);
            }
            NT_CHECK_CUDA(cudaEventRecord(e1, NULL));
            NT_CHECK_CUDA(cudaEventSynchronize(e1));
            NT_CHECK_CUDA(cudaEventElapsedTime(&ms, e0, e1));
            const double tfb = ms / nb;
            printf("TIME: attention_fwd+bwd[%s] B=%d T=%d heads=%d G=%d hd=%d: %.3f ms, %.1f TFLOP/s "
                   "(2.5x fwd FLOPs) [%.1f TFLOP/s at 3.5x]\n",
                   tag, B, T, H, G, hd, tfb, 2.5 * ffwd / (tfb * 1e-3) / 1e12,
                   3.5 * ffwd / (tfb * 1e-3) / 1e12);
            fflush(stdout);
        }
        cuda_attention_set_impl(0);
        NT_CHECK_CUDA(cudaEventDestroy(e0));
        NT_CHECK_CUDA(cudaEventDestroy(e1));
    }
}

/* ---- memory-bound kernels' bandwidth ------------------------------------------------- */

/* the bench deck's shapes (inputs/gpu/bench-24l.deck: 4096 tokens, hidden 2304, FFN 9216,
 * vocab 256000): ms per call (median-free mean of `reps` after one warm-up) and the
 * bandwidth of the bytes the kernel must move at least (each input read once, each output
 * written once), to compare with the card's HBM bandwidth */
template <class F> static void time_bw(const char *name, const std::string &sh, double bytes, int reps, F f)
{
    cudaEvent_t e0, e1;
    NT_CHECK_CUDA(cudaEventCreate(&e0));
    NT_CHECK_CUDA(cudaEventCreate(&e1));
    f();
    NT_CHECK_CUDA(cudaDeviceSynchronize());
    NT_CHECK_CUDA(cudaEventRecord(e0, NULL));
    for (int i = 0; i < reps; i++)
        f();
    NT_CHECK_CUDA(cudaEventRecord(e1, NULL));
    NT_CHECK_CUDA(cudaEventSynchronize(e1));
    float ms = 0.0f;
    NT_CHECK_CUDA(cudaEventElapsedTime(&ms, e0, e1));
    const double t = ms / reps;
    printf("TIME: %s %s: %.3f ms, %.0f GB/s (%.1f MB moved at least)\n", name, sh.c_str(), t, bytes / (t * 1e-3) / 1e9,
           bytes / 1e6);
    fflush(stdout);
    NT_CHECK_CUDA(cudaEventDestroy(e0));
    NT_CHECK_CUDA(cudaEventDestroy(e1));
}

static void time_memory_bound(Rng &r)
{
    const int n = 4096, C = 2304, F = 9216, V = 256000, reps = 20;
    printf("TIMING: memory-bound kernels at the bench deck's shapes (%d tokens, hidden %d, FFN %d, vocab %d)\n", n, C,
           F, V);
    {
        const size_t nc = (size_t)n * C;
        HB x = rand_bf16(r, nc, 2.0f, 0.5f), g = rand_bf16(r, C, 0.1f);
        Dev<uint16_t> dx(x.h), dg(g.h), db(g.h), dy(x.h), ddy(x.h), ddin(x.h);
        Dev<float> mean(n), rstd(n), dgam(C), dbet(C);
        const std::string sh = fmt("n=%d C=%d", n, C);
        time_bw("layernorm1p_fwd", sh, 4.0 * nc, reps,
                [&] { cuda_layernorm1p_fwd(dy.p, mean.p, rstd.p, dx.p, dg.p, db.p, n, C, 1e-5f, NULL); });
        time_bw("layernorm1p_bwd", sh, 8.0 * nc, reps, [&] {
            cuda_layernorm1p_bwd(ddin.p, dgam.p, dbet.p, ddy.p, dx.p, mean.p, rstd.p, dg.p, n, C, NULL);
        });
        time_bw("add(bf16)", fmt("n=%zu", nc), 6.0 * nc, reps, [&] { cuda_add(dy.p, dx.p, nc, NULL); });
    }
    {
        const size_t nf = (size_t)n * F;
        HB x = rand_bf16(r, nf, 2.0f);
        Dev<uint16_t> dx(x.h), dy(x.h), dd(x.h);
        const std::string sh = fmt("n=%zu", nf);
        time_bw("sqrelu_fwd", sh, 4.0 * nf, reps, [&] { cuda_sqrelu_fwd(dy.p, dx.p, nf, NULL); });
        time_bw("sqrelu_bwd", sh, 6.0 * nf, reps, [&] { cuda_sqrelu_bwd(dd.p, dy.p, dx.p, nf, NULL); });
    }
    {
        const int G = 2, qpg = 6, hd = 192; /* 12 heads of 192 in 2 KV groups, half the dims rotated */
        const size_t nq = (size_t)n * G * (qpg + 2) * hd;
        HB x = rand_bf16(r, nq, 1.0f);
        Dev<uint16_t> dx(x.h);
        const double moved = 4.0 * n * G * (qpg + 1) * (hd / 2); /* the rotated half of q and k heads, read + write */
        const std::string sh = fmt("T=%d G=%d qpg=%d hd=%d rot=%d", n, G, qpg, hd, hd / 2);
        time_bw("rope_fwd", sh, moved, reps,
                [&] { cuda_rope_fwd(dx.p, 1, n, G, qpg, hd, hd / 2, 10000.0f, 0, NULL, NULL); });
        time_bw("rope_bwd", sh, moved, reps,
                [&] { cuda_rope_bwd(dx.p, 1, n, G, qpg, hd, hd / 2, 10000.0f, 0, NULL, NULL); });
    }
    {
        std::vector<int32_t> tok(n);
        for (int i = 0; i < n; i++)
            tok[i] = r.range(0, V);
        HB g = rand_bf16(r, (size_t)n * C, 1.0f);
        Dev<int32_t> dtok(tok);
        Dev<uint16_t> dg(g.h);
        Dev<float> dtab((size_t)V * C);
        NT_CHECK_CUDA(cudaMemset(dtab.p, 0, (size_t)V * C * sizeof(float)));
        time_bw("embedding_bwd", fmt("n=%d rows=%d C=%d (random tokens)", n, V, C), 2.0 * n * C + 8.0 * n * C, reps,
                [&] { cuda_embedding_bwd(dtab.p, dtok.p, dg.p, n, 0, V, C, NULL); });
    }
    {
        const size_t nv = (size_t)n * V;
        size_t fr = 0, tot = 0;
        NT_CHECK_CUDA(cudaMemGetInfo(&fr, &tot));
        if (4 * nv > fr / 2) {
            printf("TIMING: cross-entropy skipped (needs %.1f GB)\n", 4.0 * nv / 1e9);
            return;
        }
        std::vector<uint16_t> lg(nv);
        for (size_t i = 0; i < nv; i++)
            lg[i] = f2bf(4.0f * r.sym());
        std::vector<int32_t> tg(n);
        for (int i = 0; i < n; i++)
            tg[i] = r.range(0, V);
        std::vector<float> dl(n, 1.0f / n);
        Dev<uint16_t> dlg(lg), dd(nv);
        Dev<int32_t> dtg(tg);
        Dev<float> rm(n), se(n), tt(n), ddl(dl);
        const std::string sh = fmt("n=%d V=%d", n, V);
        time_bw("ce_rowmax", sh, 2.0 * nv, reps / 4, [&] { cuda_ce_rowmax(rm.p, dlg.p, n, V, NULL); });
        time_bw("ce_sumexp", sh, 2.0 * nv, reps / 4,
                [&] { cuda_ce_sumexp(se.p, tt.p, dlg.p, rm.p, dtg.p, 0, n, V, NULL); });
        time_bw("ce_stats", sh, 2.0 * nv, reps / 4,
                [&] { cuda_ce_stats(rm.p, se.p, tt.p, dlg.p, dtg.p, 0, n, V, NULL); });
        time_bw("ce_bwd", sh, 4.0 * nv, reps / 4,
                [&] { cuda_ce_bwd(dd.p, dlg.p, rm.p, se.p, dtg.p, ddl.p, 0, n, V, NULL); });
    }
}

/* the Nemotron shape (hd 192: 12 heads in 2 groups, as inputs/gpu/bench-24l.deck),
 * and hd 128 (16 heads in 2 groups) */
static void time_attention(Rng &r)
{
    time_attention_shape(r, 2, 6, 192, 8);
    time_attention_shape(r, 2, 8, 128, 4);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int ndev = 0;
    cudaError_t e = cudaGetDeviceCount(&ndev);
    if (e != cudaSuccess || ndev <= 0) {
        printf("SKIP: no GPU (cudaGetDeviceCount: %s, %d devices)\n",
               e != cudaSuccess ? cudaGetErrorString(e) : "no error", e != cudaSuccess ? 0 : ndev);
        return 77;
    }
    cudaDeviceProp prop;
    NT_CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
    printf("device: %s (sm_%d%d, %d SMs)%s\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount,
           EMU ? " [host emulation: reduced shapes, no timing]" : "");
    printf("err = max|gpu-cpu| / max|cpu|; tolerances: bf16 outputs %.0e, fp32 outputs/statistics %.0e, "
           "AdamW fp32 state %.0e (rel), sumsq fp64 %.0e (rel)\n",
           TOL_BF16, TOL_F32, TOL_ADAM, TOL_F64);

    const char *wm = getenv("NT_TEST_WGMMA");
    if (wm && *wm) {
        if (!strcmp(wm, "skip"))
            g_wgmma_mode = 1;
        else if (!strcmp(wm, "only"))
            g_wgmma_mode = 2;
        else {
            fprintf(stderr, "NT_TEST_WGMMA=%s: want skip or only (or unset: everything)\n", wm);
            return 2;
        }
        printf("NT_TEST_WGMMA=%s: %s\n", wm, g_wgmma_mode == 1 ? "the wgmma kernels are not run" : "only the wgmma kernels run");
    }

    Rng r(20240611ull);
    if (g_wgmma_mode != 2) {
        test_cast(r);
        test_sqrelu(r);
        test_elementwise(r);
        test_embedding(r);
        test_layernorm(r);
        test_rope(r);
        test_cross_entropy(r);
        test_adamw(r);
    }
    if (g_wgmma_mode != 1)
        test_wgmma_probe(r);
    test_attention(r);
    if (g_wgmma_mode != 2)
        test_attention_decode(r);
    if (!EMU) {
        if (g_fail)
            printf("TIMING: note: %d correctness failures above\n", g_fail);
        time_attention(r);
        if (g_wgmma_mode != 2)
            time_memory_bound(r);
    }

    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
