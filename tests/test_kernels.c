// test_kernels.c — standalone test of the CPU reference kernels (every
// kernels/cpu/<op>.c against kernels_cpu.h).  Exit 0 when every check passes,
// 1 otherwise; one "PASS: name ..." / "FAIL: name ..." line per check with
// the measured error and its tolerance.  Build from the repository root:
//   gcc -std=c11 -O2 -Wall -Wextra -I kernels/cpu kernels/cpu/*.c tests/test_kernels.c -lopenblas -lm
/*
 * Forward checks: every kernel against a naive double-precision reference
 * written here (triple-loop GEMM, full TxT softmax attention with an explicit
 * causal mask, two-pass LayerNorm, ...).  Error = max|kernel - ref| /
 * max|ref|, tolerance 1e-5 (~170 fp32 ulps: fp32 storage and
 * sgemm / expf rounding give ~1e-7..1e-6, so a 1e-5 bound has 10x headroom
 * while a semantic slip — wrong scale, mask, head pairing, variance — is >= 1e-3).
 * Integer-indexed copies (embedding, zero rows, out-of-shard tgt) must be exact.
 *
 * Backward checks: gradient of the scalar L = sum(w .* f(x)) with random w
 * and random non-zero inputs, for every input and parameter of the op.  The
 * analytic gradient is the kernel's backward with dout = w; the reference is
 * a central finite difference (L(x+h e_i) - L(x-h e_i)) / (x_i^+ - x_i^-),
 * where the forward runs in fp32 (the kernels themselves), L is accumulated
 * in double, and the denominator uses the fp32-rounded perturbed values
 * actually fed to the kernel.  Error = max_i |analytic - FD| / max(1, max|analytic|).
 *   - ops that are linear, bilinear or piecewise quadratic in the perturbed
 *     input (matmul, embedding, rope, sqrelu, add, scale, sumsq): the central
 *     difference is exact in exact arithmetic, so only fp32 forward rounding
 *     remains: ~ k*6e-8*|affected outputs| / 2h <= ~1e-5 with h = 1e-2.
 *     Tolerance 1e-3 (>= 30x headroom; a wrong transpose/sign/index is O(1)).
 *   - smooth nonlinear ops (layernorm, attention, cross-entropy): truncation
 *     error h^2/6 |f'''| plus rounding ~ 1e-7 |L_affected| / 2h.  Steps chosen
 *     so both terms stay ~1e-4 at most: layernorm h = 4e-3 (rstd ~ 1.7 makes
 *     f''' ~ 10), attention h = 1e-2, CE h = 1e-2.  Tolerance 2e-3.
 * Accumulating backwards (layernorm din/dgamma/dbeta, embedding dtable) start
 * from random non-zero buffers and the analytic gradient is (after - before);
 * overwriting ones (attention dqkv, sqrelu din) start from garbage.
 *
 * Sizes are odd and small (T=7, C=13, hd=6 with rot=4, G=2, qpg=3, V=11) so
 * that the whole program runs well under a second; one attention case uses
 * T=67 to cross the kernel's 64-row query block. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_cpu.h"

/* ------------------------------------------------------------------ harness */

static int g_fail = 0, g_checks = 0;

static void report(const char *name, double err, double tol, const char *extra)
{
    int ok = err <= tol; /* NaN fails */
    g_checks++;
    if (!ok)
        g_fail++;
    printf("%s: %-44s err=%.3e tol=%.1e%s%s\n", ok ? "PASS" : "FAIL", name, err, tol,
           extra ? "  " : "", extra ? extra : "");
}

static uint64_t g_rng = 0x243F6A8885A308D3ull;
static double urand(void) /* [0,1) */
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) * (1.0 / 9007199254740992.0);
}
/* non-zero: magnitude in [0.1, 1] * s, random sign */
static float rnz(float s)
{
    double m = 0.1 + 0.9 * urand();
    return (float)((urand() < 0.5 ? -m : m) * s);
}
static void fill(float *x, size_t n, float s)
{
    for (size_t i = 0; i < n; i++)
        x[i] = rnz(s);
}
static float *falloc(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p)
        abort();
    return p;
}
static double *dalloc(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof(double));
    if (!p)
        abort();
    return p;
}
static float *fdup(const float *x, size_t n)
{
    float *p = falloc(n);
    memcpy(p, x, n * sizeof(float));
    return p;
}

static double wdot(const float *w, const float *y, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)w[i] * (double)y[i];
    return s;
}

typedef double (*loss_fn)(void *ctx);

/* central FD of f() w.r.t. every element of x (x is restored) */
static void fd_grad(double *g, float *x, size_t n, float h, loss_fn f, void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        float x0 = x[i], xp = x0 + h, xm = x0 - h;
        x[i] = xp;
        double lp = f(ctx);
        x[i] = xm;
        double lm = f(ctx);
        x[i] = x0;
        g[i] = (lp - lm) / ((double)xp - (double)xm);
    }
}

/* max|a - fd| / max(1, max|a|) */
static void check_grad(const char *name, const double *a, const double *fd, size_t n, double tol)
{
    double e = 0.0, amax = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - fd[i]);
        e = d > e || isnan(d) ? d : e;
        amax = fabs(a[i]) > amax ? fabs(a[i]) : amax;
    }
    char extra[64];
    snprintf(extra, sizeof extra, "(max|grad|=%.3g, n=%zu)", amax, n);
    report(name, e / (amax > 1.0 ? amax : 1.0), tol, extra);
}

/* max|a - ref| / max|ref| */
static double rel_err(const float *a, const double *ref, size_t n)
{
    double e = 0.0, rmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        e = d > e || isnan(d) ? d : e;
        rmax = fabs(ref[i]) > rmax ? fabs(ref[i]) : rmax;
    }
    return e / (rmax > 0.0 ? rmax : 1e-300);
}
static void check_fwd(const char *name, const float *a, const double *ref, size_t n, double tol)
{
    report(name, rel_err(a, ref, n), tol, NULL);
}
static double max_abs_diff_ff(const float *a, const float *b, size_t n)
{
    double e = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        e = d > e || isnan(d) ? d : e;
    }
    return e;
}
static double rel_err_ff(const float *a, const float *b, size_t n)
{
    double e = max_abs_diff_ff(a, b, n), m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fabs((double)b[i]) > m ? fabs((double)b[i]) : m;
    return e / (m > 0.0 ? m : 1e-300);
}
static double *f2d(const float *x, size_t n) /* caller frees */
{
    double *d = dalloc(n);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}
static double *diff2d(const float *after, const float *before, size_t n)
{
    double *d = dalloc(n);
    for (size_t i = 0; i < n; i++)
        d[i] = (double)after[i] - (double)before[i];
    return d;
}

#define TOL_FWD 1e-5
#define TOL_LIN 1e-3
#define TOL_NL 2e-3

/* ------------------------------------------------------------------ matmul */

typedef struct {
    float *A, *B, *C0, *C, *w;
    int M, N, K, ta, tb;
    float alpha, beta;
} mm_ctx;

static double mm_loss(void *p)
{
    mm_ctx *c = p;
    memcpy(c->C, c->C0, (size_t)c->M * c->N * sizeof(float));
    cpu_matmul(c->C, c->A, c->B, c->M, c->N, c->K, c->ta, c->tb, c->alpha, c->beta);
    return wdot(c->w, c->C, (size_t)c->M * c->N);
}

static void test_matmul(void)
{
    const int M = 5, N = 7, K = 3;
    const float alpha = 0.7f, beta = 0.5f;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            char name[64];
            float *A = falloc((size_t)M * K), *B = falloc((size_t)K * N);
            float *C0 = falloc((size_t)M * N), *C = falloc((size_t)M * N), *w = falloc((size_t)M * N);
            fill(A, (size_t)M * K, 1);
            fill(B, (size_t)K * N, 1);
            fill(C0, (size_t)M * N, 1);
            fill(w, (size_t)M * N, 1);
            /* A stored [M,K] or [K,M]; B stored [K,N] or [N,K] */
#define AOP(i, k) ((double)(ta ? A[(size_t)(k) * M + (i)] : A[(size_t)(i) * K + (k)]))
#define BOP(k, j) ((double)(tb ? B[(size_t)(j) * K + (k)] : B[(size_t)(k) * N + (j)]))
            double *ref = dalloc((size_t)M * N), *ref0 = dalloc((size_t)M * N);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double s = 0.0;
                    for (int k = 0; k < K; k++)
                        s += AOP(i, k) * BOP(k, j);
                    ref[(size_t)i * N + j] = alpha * s + beta * (double)C0[(size_t)i * N + j];
                    ref0[(size_t)i * N + j] = s;
                }
            mm_ctx c = {A, B, C0, C, w, M, N, K, ta, tb, alpha, beta};
            mm_loss(&c);
            snprintf(name, sizeof name, "matmul.fwd ta=%d tb=%d alpha,beta", ta, tb);
            check_fwd(name, C, ref, (size_t)M * N, TOL_FWD);
            for (size_t i = 0; i < (size_t)M * N; i++)
                C[i] = NAN; /* beta = 0 must overwrite */
            cpu_matmul(C, A, B, M, N, K, ta, tb, 1.0f, 0.0f);
            snprintf(name, sizeof name, "matmul.fwd ta=%d tb=%d beta=0 over NaN", ta, tb);
            check_fwd(name, C, ref0, (size_t)M * N, TOL_FWD);

            /* gradients through cpu_matmul itself, as the model computes them:
             * d op(A) = alpha dC op(B)^T ; d op(B) = alpha op(A)^T dC */
            float *dA = falloc((size_t)M * K), *dB = falloc((size_t)K * N);
            if (!ta)
                cpu_matmul(dA, w, B, M, K, N, 0, tb ? 0 : 1, alpha, 0.0f);
            else
                cpu_matmul(dA, B, w, K, M, N, tb ? 1 : 0, 1, alpha, 0.0f);
            if (!tb)
                cpu_matmul(dB, A, w, K, N, M, ta ? 0 : 1, 0, alpha, 0.0f);
            else
                cpu_matmul(dB, w, A, N, K, M, 1, ta ? 1 : 0, alpha, 0.0f);
            double *fd = dalloc((size_t)M * K + (size_t)K * N), *an;
            fd_grad(fd, A, (size_t)M * K, 1e-2f, mm_loss, &c);
            an = f2d(dA, (size_t)M * K);
            snprintf(name, sizeof name, "matmul.bwd dA ta=%d tb=%d", ta, tb);
            check_grad(name, an, fd, (size_t)M * K, TOL_LIN);
            free(an);
            fd_grad(fd, B, (size_t)K * N, 1e-2f, mm_loss, &c);
            an = f2d(dB, (size_t)K * N);
            snprintf(name, sizeof name, "matmul.bwd dB ta=%d tb=%d", ta, tb);
            check_grad(name, an, fd, (size_t)K * N, TOL_LIN);
            free(an);
#undef AOP
#undef BOP
            free(A), free(B), free(C0), free(C), free(w), free(ref), free(ref0);
            free(dA), free(dB), free(fd);
        }
}

/* --------------------------------------------------------------- embedding */

typedef struct {
    float *table, *out, *w;
    const int32_t *tok;
    int n, lo, rows, C;
} emb_ctx;

static double emb_loss(void *p)
{
    emb_ctx *c = p;
    cpu_embedding_fwd(c->out, c->tok, c->table, c->n, c->lo, c->rows, c->C);
    return wdot(c->w, c->out, (size_t)c->n * c->C);
}

static void test_embedding(void)
{
    /* shard [6, 15) of a 20-token vocab; tokens below, inside (repeated), above */
    const int n = 11, lo = 6, rows = 9, C = 13;
    const int32_t tok[11] = {7, 0, 14, 6, 7, 19, 15, 5, 10, 7, 12};
    float *table = falloc((size_t)rows * C), *out = falloc((size_t)n * C), *w = falloc((size_t)n * C);
    fill(table, (size_t)rows * C, 1);
    fill(w, (size_t)n * C, 1);
    for (size_t i = 0; i < (size_t)n * C; i++)
        out[i] = 123.0f;
    emb_ctx c = {table, out, w, tok, n, lo, rows, C};
    emb_loss(&c);
    double e_in = 0.0, e_out = 0.0;
    for (int i = 0; i < n; i++) {
        int r = tok[i] - lo;
        for (int j = 0; j < C; j++) {
            double v = out[(size_t)i * C + j];
            if (r >= 0 && r < rows)
                e_in = fmax(e_in, fabs(v - table[(size_t)r * C + j]));
            else
                e_out = fmax(e_out, fabs(v));
        }
    }
    report("embedding.fwd rows in shard (exact)", e_in, 0.0, NULL);
    report("embedding.fwd out-of-shard rows zero", e_out, 0.0, NULL);

    float *dt0 = falloc((size_t)rows * C), *dt = falloc((size_t)rows * C);
    fill(dt0, (size_t)rows * C, 1);
    memcpy(dt, dt0, (size_t)rows * C * sizeof(float));
    cpu_embedding_bwd(dt, tok, w, n, lo, rows, C);
    double *an = diff2d(dt, dt0, (size_t)rows * C), *fd = dalloc((size_t)rows * C);
    fd_grad(fd, table, (size_t)rows * C, 1e-2f, emb_loss, &c);
    check_grad("embedding.bwd dtable (accumulating)", an, fd, (size_t)rows * C, TOL_LIN);
    free(table), free(out), free(w), free(dt0), free(dt), free(an), free(fd);
}

/* ------------------------------------------------------------- layernorm1p */

typedef struct {
    float *in, *gamma, *beta, *out, *mean, *rstd, *w;
    int n, C;
    float eps;
} ln_ctx;

static double ln_loss(void *p)
{
    ln_ctx *c = p;
    cpu_layernorm1p_fwd(c->out, c->mean, c->rstd, c->in, c->gamma, c->beta, c->n, c->C, c->eps);
    return wdot(c->w, c->out, (size_t)c->n * c->C);
}

static void test_layernorm(void)
{
    const int n = 5, C = 13;
    const float eps = 1e-5f;
    size_t nc = (size_t)n * C;
    float *in = falloc(nc), *gamma = falloc(C), *beta = falloc(C), *out = falloc(nc);
    float *mean = falloc(n), *rstd = falloc(n), *w = falloc(nc);
    fill(in, nc, 1);
    for (size_t i = 0; i < nc; i++)
        in[i] += 0.3f * (float)(i / C); /* row means differ from zero */
    fill(gamma, C, 0.5f);
    fill(beta, C, 1);
    fill(w, nc, 1);
    ln_ctx c = {in, gamma, beta, out, mean, rstd, w, n, C, eps};
    ln_loss(&c);
    double *ref = dalloc(nc), *rm = dalloc(n), *rr = dalloc(n);
    for (int i = 0; i < n; i++) {
        double mu = 0.0, var = 0.0;
        for (int j = 0; j < C; j++)
            mu += in[(size_t)i * C + j];
        mu /= C;
        for (int j = 0; j < C; j++)
            var += (in[(size_t)i * C + j] - mu) * (in[(size_t)i * C + j] - mu);
        var /= C; /* biased */
        double r = 1.0 / sqrt(var + eps);
        rm[i] = mu;
        rr[i] = r;
        for (int j = 0; j < C; j++)
            ref[(size_t)i * C + j] = (in[(size_t)i * C + j] - mu) * r * (1.0 + gamma[j]) + beta[j];
    }
    check_fwd("layernorm1p.fwd out", out, ref, nc, TOL_FWD);
    check_fwd("layernorm1p.fwd mean", mean, rm, n, TOL_FWD);
    check_fwd("layernorm1p.fwd rstd", rstd, rr, n, TOL_FWD);

    float *din0 = falloc(nc), *dg0 = falloc(C), *db0 = falloc(C);
    fill(din0, nc, 1);
    fill(dg0, C, 1);
    fill(db0, C, 1);
    float *din = fdup(din0, nc), *dg = fdup(dg0, C), *db = fdup(db0, C);
    cpu_layernorm1p_bwd(din, dg, db, w, in, mean, rstd, gamma, n, C);
    const float h = 4e-3f;
    double *fd = dalloc(nc), *an;
    fd_grad(fd, in, nc, h, ln_loss, &c);
    an = diff2d(din, din0, nc);
    check_grad("layernorm1p.bwd din (accumulating)", an, fd, nc, TOL_NL);
    free(an);
    fd_grad(fd, gamma, C, h, ln_loss, &c);
    an = diff2d(dg, dg0, C);
    check_grad("layernorm1p.bwd dgamma (accumulating)", an, fd, C, TOL_NL);
    free(an);
    fd_grad(fd, beta, C, h, ln_loss, &c);
    an = diff2d(db, db0, C);
    check_grad("layernorm1p.bwd dbeta (accumulating)", an, fd, C, TOL_NL);
    free(an);
    free(in), free(gamma), free(beta), free(out), free(mean), free(rstd), free(w);
    free(ref), free(rm), free(rr), free(din0), free(dg0), free(db0), free(din), free(dg), free(db);
    free(fd);
}

/* -------------------------------------------------------------------- rope */

typedef struct {
    float *qkv, *tmp, *w;
    int B, T, G, qpg, hd, rot, pos0;
    float base;
    const int32_t *pos;   /* packed rows: positions inside samples, or NULL */
} rope_ctx;

/* pos [B*T] of packed rows: row b holds the samples of lengths lens[b][0..], 0-terminated, summing to T */
static int32_t *packed_pos(int B, int T, const int lens[][8])
{
    int32_t *pos = malloc((size_t)B * T * sizeof(int32_t));
    for (int b = 0; b < B; b++) {
        int t = 0;
        for (int k = 0; lens[b][k] > 0; k++)
            for (int i = 0; i < lens[b][k]; i++) pos[(size_t)b * T + t++] = i;
        if (t != T) abort();
    }
    return pos;
}

static double rope_loss(void *p)
{
    rope_ctx *c = p;
    size_t len = (size_t)c->B * c->T * c->G * (c->qpg + 2) * c->hd;
    memcpy(c->tmp, c->qkv, len * sizeof(float));
    cpu_rope_fwd(c->tmp, c->B, c->T, c->G, c->qpg, c->hd, c->rot, c->base, c->pos0, c->pos);
    return wdot(c->w, c->tmp, len);
}

/* double reference; fp32_angle: the angle rounded as PyTorch's fp32 path */
static void rope_ref(double *y, const float *x, int B, int T, int G, int qpg, int hd, int rot,
                     float base, int pos0, const int32_t *pos, int fp32_angle)
{
    size_t W = (size_t)G * (qpg + 2) * hd;
    int half = rot / 2;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int g = 0; g < G; g++)
                for (int j = 0; j < qpg + 2; j++) {
                    size_t o = ((size_t)b * T + t) * W + ((size_t)g * (qpg + 2) + j) * hd;
                    for (int d = 0; d < hd; d++)
                        y[o + d] = x[o + d];
                    if (j == qpg + 1)
                        continue; /* V head */
                    int p = pos0 + (pos ? pos[(size_t)b * T + t] : t);
                    for (int i = 0; i < half; i++) {
                        double ang;
                        if (fp32_angle) {
                            float inv = 1.0f / powf(base, (float)(2 * i) / (float)rot);
                            ang = (double)((float)p * inv);
                        } else {
                            ang = p * pow((double)base, -2.0 * i / rot);
                        }
                        double a = x[o + i], bb = x[o + i + half];
                        y[o + i] = a * cos(ang) - bb * sin(ang);
                        y[o + i + half] = bb * cos(ang) + a * sin(ang);
                    }
                }
}

static void test_rope(void)
{
    const int B = 2, T = 7, G = 2, qpg = 3, hd = 6, rot = 4, pos0 = 5;
    const float base = 10000.0f;
    size_t len = (size_t)B * T * G * (qpg + 2) * hd;
    float *qkv = falloc(len), *tmp = falloc(len), *w = falloc(len);
    fill(qkv, len, 1);
    fill(w, len, 1);
    rope_ctx c = {qkv, tmp, w, B, T, G, qpg, hd, rot, pos0, base, NULL};
    rope_loss(&c);
    double *ref = dalloc(len);
    rope_ref(ref, qkv, B, T, G, qpg, hd, rot, base, pos0, NULL, 0);
    check_fwd("rope.fwd (V heads and dims>=rot untouched)", tmp, ref, len, TOL_FWD);
    float *back = fdup(tmp, len);
    cpu_rope_bwd(back, B, T, G, qpg, hd, rot, base, pos0, NULL);
    report("rope.bwd(fwd(x)) == x", rel_err_ff(back, qkv, len), 1e-6, NULL);

    float *g = fdup(w, len);
    cpu_rope_bwd(g, B, T, G, qpg, hd, rot, base, pos0, NULL);
    double *an = f2d(g, len), *fd = dalloc(len);
    fd_grad(fd, qkv, len, 1e-2f, rope_loss, &c);
    check_grad("rope.bwd dqkv (q,k rotated; v identity)", an, fd, len, TOL_LIN);

    /* packed rows: positions restart at every sample (row 0: samples of 3, 1, 3 tokens; row 1: one of 7) */
    {
        static const int lens[2][8] = {{3, 1, 3, 0}, {7, 0}};
        int32_t *pos = packed_pos(B, T, lens);
        rope_ctx cp = {qkv, tmp, w, B, T, G, qpg, hd, rot, 0, base, pos};
        rope_loss(&cp);
        double *rp = dalloc(len);
        rope_ref(rp, qkv, B, T, G, qpg, hd, rot, base, 0, pos, 0);
        check_fwd("rope.fwd packed (positions restart per sample)", tmp, rp, len, TOL_FWD);
        float *gp = fdup(w, len);
        cpu_rope_bwd(gp, B, T, G, qpg, hd, rot, base, 0, pos);
        double *anp = f2d(gp, len), *fdp = dalloc(len);
        fd_grad(fdp, qkv, len, 1e-2f, rope_loss, &cp);
        check_grad("rope.bwd dqkv packed", anp, fdp, len, TOL_LIN);
        free(pos), free(rp), free(gp), free(anp), free(fdp);
    }

    /* fp32 angle semantics at long positions (PyTorch: fp32 inv_freq and
     * fp32 pos*inv_freq): reference = exact cos/sin of that fp32 angle.  The
     * double-angle reference differs here by ~1e-5, so this discriminates. */
    {
        const int B2 = 1, T2 = 3, G2 = 1, q2 = 1, hd2 = 16, rot2 = 8, p2 = 4093;
        size_t l2 = (size_t)B2 * T2 * G2 * (q2 + 2) * hd2;
        float *x2 = falloc(l2), *y2 = falloc(l2);
        double *r32 = dalloc(l2), *r64 = dalloc(l2);
        fill(x2, l2, 1);
        memcpy(y2, x2, l2 * sizeof(float));
        cpu_rope_fwd(y2, B2, T2, G2, q2, hd2, rot2, base, p2, NULL);
        rope_ref(r32, x2, B2, T2, G2, q2, hd2, rot2, base, p2, NULL, 1);
        rope_ref(r64, x2, B2, T2, G2, q2, hd2, rot2, base, p2, NULL, 0);
        char extra[96];
        snprintf(extra, sizeof extra, "(vs double-angle ref: %.2e)", rel_err(y2, r64, l2));
        report("rope.fwd fp32 angles at pos 4093..4095", rel_err(y2, r32, l2), 2e-6, extra);
        free(x2), free(y2), free(r32), free(r64);
    }
    free(qkv), free(tmp), free(w), free(ref), free(back), free(g), free(an), free(fd);
}

/* --------------------------------------------------------------- attention */

typedef struct {
    float *qkv, *out, *lse, *w;
    int B, T, G, qpg, hd;
    const int32_t *pos;   /* packed rows, or NULL */
} att_ctx;

static double att_loss(void *p)
{
    att_ctx *c = p;
    cpu_attention_fwd(c->out, c->lse, c->qkv, c->B, c->T, c->G, c->qpg, c->hd, c->pos);
    return wdot(c->w, c->out, (size_t)c->B * c->T * c->G * c->qpg * c->hd);
}

/* naive: full TxT score matrix, explicit causal mask (packed: and block-diagonal), double */
static void att_ref(double *out, double *lse, const float *qkv, int B, int T, int G, int qpg, int hd,
                    const int32_t *pos)
{
    size_t W = (size_t)G * (qpg + 2) * hd, Wo = (size_t)G * qpg * hd;
    int H = G * qpg;
    double *S = dalloc((size_t)T * T);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            int g = h / qpg, j = h % qpg;
            size_t qo = ((size_t)g * (qpg + 2) + j) * hd, ko = ((size_t)g * (qpg + 2) + qpg) * hd,
                   vo = ko + hd;
            for (int t = 0; t < T; t++)
                for (int s = 0; s < T; s++) {
                    double d = 0.0;
                    for (int e = 0; e < hd; e++)
                        d += (double)qkv[((size_t)b * T + t) * W + qo + e] *
                             (double)qkv[((size_t)b * T + s) * W + ko + e];
                    int start = pos ? t - pos[(size_t)b * T + t] : 0;
                    S[(size_t)t * T + s] = s <= t && s >= start ? d / sqrt((double)hd) : -INFINITY;
                }
            for (int t = 0; t < T; t++) {
                double *r = S + (size_t)t * T, mx = -INFINITY, sum = 0.0;
                for (int s = 0; s < T; s++)
                    mx = r[s] > mx ? r[s] : mx;
                for (int s = 0; s < T; s++)
                    sum += exp(r[s] - mx);
                lse[((size_t)b * H + h) * T + t] = mx + log(sum);
                for (int e = 0; e < hd; e++) {
                    double o = 0.0;
                    for (int s = 0; s < T; s++)
                        o += exp(r[s] - mx) / sum * (double)qkv[((size_t)b * T + s) * W + vo + e];
                    out[((size_t)b * T + t) * Wo + (size_t)h * hd + e] = o;
                }
            }
        }
    free(S);
}

static void test_attention_case(int B, int T, int G, int qpg, int hd, const int32_t *pos)
{
    char name[128], cfg[64];
    snprintf(cfg, sizeof cfg, "B=%d T=%d G=%d qpg=%d hd=%d%s", B, T, G, qpg, hd, pos ? " packed" : "");
    size_t W = (size_t)G * (qpg + 2) * hd, len = (size_t)B * T * W;
    size_t lo = (size_t)B * T * G * qpg * hd, ll = (size_t)B * G * qpg * T;
    float *qkv = falloc(len), *out = falloc(lo), *lse = falloc(ll), *w = falloc(lo);
    fill(qkv, len, 1);
    fill(w, lo, 1);
    att_ctx c = {qkv, out, lse, w, B, T, G, qpg, hd, pos};
    att_loss(&c);
    double *ro = dalloc(lo), *rl = dalloc(ll);
    att_ref(ro, rl, qkv, B, T, G, qpg, hd, pos);
    snprintf(name, sizeof name, "attention.fwd out %s", cfg);
    check_fwd(name, out, ro, lo, TOL_FWD);
    snprintf(name, sizeof name, "attention.fwd lse %s", cfg);
    check_fwd(name, lse, rl, ll, TOL_FWD);

    float *dqkv = falloc(len);
    for (size_t i = 0; i < len; i++)
        dqkv[i] = 1e3f; /* overwritten */
    float *out_s = fdup(out, lo), *lse_s = fdup(lse, ll);
    cpu_attention_bwd(dqkv, w, out_s, lse_s, qkv, B, T, G, qpg, hd, pos);
    double *fd = dalloc(len), *an = f2d(dqkv, len);
    fd_grad(fd, qkv, len, 1e-2f, att_loss, &c);
    /* report q, k, v parts separately */
    const char *part[3] = {"dq", "dk", "dv"};
    for (int p = 0; p < 3; p++) {
        size_t m = 0;
        double *a2 = dalloc(len), *f2 = dalloc(len);
        for (size_t i = 0; i < len; i++) {
            int j = (int)((i % W) / hd) % (qpg + 2);
            int which = j < qpg ? 0 : j == qpg ? 1 : 2;
            if (which == p)
                a2[m] = an[i], f2[m] = fd[i], m++;
        }
        snprintf(name, sizeof name, "attention.bwd %s %s", part[p], cfg);
        check_grad(name, a2, f2, m, TOL_NL);
        free(a2), free(f2);
    }
    free(qkv), free(out), free(lse), free(w), free(ro), free(rl), free(dqkv), free(out_s);
    free(lse_s), free(fd), free(an);
}

/* a packed row's attention outputs and gradients for each sample equal that sample run alone
 * (fp32: only the blocking of the sums differs) */
static void test_attention_packed_alone(void)
{
    const int T = 70, G = 1, qpg = 2, hd = 5;
    static const int lens[1][8] = {{9, 1, 50, 10, 0}};   /* the 50-token sample straddles the 64-row block */
    int32_t *pos = packed_pos(1, T, lens);
    size_t W = (size_t)G * (qpg + 2) * hd, Wo = (size_t)G * qpg * hd, H = (size_t)G * qpg;
    float *qkv = falloc((size_t)T * W), *dout = falloc((size_t)T * Wo);
    fill(qkv, (size_t)T * W, 1);
    fill(dout, (size_t)T * Wo, 1);
    float *out = falloc((size_t)T * Wo), *lse = falloc(H * T), *dq = falloc((size_t)T * W);
    cpu_attention_fwd(out, lse, qkv, 1, T, G, qpg, hd, pos);
    cpu_attention_bwd(dq, dout, out, lse, qkv, 1, T, G, qpg, hd, pos);
    double eo = 0, eg = 0;
    for (int k = 0, t0 = 0; lens[0][k] > 0; t0 += lens[0][k++]) {
        int n = lens[0][k];
        float *o1 = falloc((size_t)n * Wo), *l1 = falloc(H * n), *d1 = falloc((size_t)n * W);
        cpu_attention_fwd(o1, l1, qkv + (size_t)t0 * W, 1, n, G, qpg, hd, NULL);
        cpu_attention_bwd(d1, dout + (size_t)t0 * Wo, o1, l1, qkv + (size_t)t0 * W, 1, n, G, qpg, hd, NULL);
        double x = rel_err_ff(out + (size_t)t0 * Wo, o1, (size_t)n * Wo), y = rel_err_ff(dq + (size_t)t0 * W, d1, (size_t)n * W);
        eo = x > eo ? x : eo;
        eg = y > eg ? y : eg;
        free(o1), free(l1), free(d1);
    }
    report("attention packed row == each sample alone (out)", eo, 1e-6, "(samples 9,1,50,10 in T=70)");
    report("attention packed row == each sample alone (dqkv)", eg, 1e-6, NULL);
    free(pos), free(qkv), free(dout), free(out), free(lse), free(dq);
}

static void test_attention(void)
{
    test_attention_case(2, 7, 2, 3, 6, NULL);
    test_attention_case(1, 67, 1, 2, 5, NULL); /* crosses the 64-row query block */
    {
        static const int l7[2][8] = {{3, 1, 3, 0}, {2, 5, 0}};
        static const int l67[1][8] = {{40, 20, 1, 6, 0}};   /* a sample across the 64-row block */
        int32_t *p7 = packed_pos(2, 7, l7), *p67 = packed_pos(1, 67, l67);
        test_attention_case(2, 7, 2, 3, 6, p7);
        test_attention_case(1, 67, 1, 2, 5, p67);
        free(p7), free(p67);
    }
    test_attention_packed_alone();
}

/* ------------------------------------------------------------------ sqrelu */

typedef struct {
    float *in, *out, *w;
    size_t n;
} un_ctx;

static double sq_loss(void *p)
{
    un_ctx *c = p;
    cpu_sqrelu_fwd(c->out, c->in, c->n);
    return wdot(c->w, c->out, c->n);
}

static void test_sqrelu(void)
{
    const size_t n = 29;
    float *in = falloc(n), *out = falloc(n), *w = falloc(n), *din = falloc(n);
    fill(in, n, 2); /* |x| >= 0.2 > h: never straddles the kink */
    fill(w, n, 1);
    un_ctx c = {in, out, w, n};
    sq_loss(&c);
    double *ref = dalloc(n);
    for (size_t i = 0; i < n; i++)
        ref[i] = in[i] > 0 ? (double)in[i] * in[i] : 0.0;
    check_fwd("sqrelu.fwd", out, ref, n, TOL_FWD);
    for (size_t i = 0; i < n; i++)
        din[i] = 1e3f;
    cpu_sqrelu_bwd(din, w, in, n);
    double *an = f2d(din, n), *fd = dalloc(n);
    fd_grad(fd, in, n, 1e-2f, sq_loss, &c);
    check_grad("sqrelu.bwd din (overwrite)", an, fd, n, TOL_LIN);
    free(in), free(out), free(w), free(din), free(ref), free(an), free(fd);
}

/* ------------------------------------------------------------- elementwise */

typedef struct {
    float *x, *y0, *y, *w;
    size_t n;
    float s;
    int op; /* 0 add (y0 + x), 1 scale(x), 2 sumsq(x) */
} ew_ctx;

static double ew_loss(void *p)
{
    ew_ctx *c = p;
    if (c->op == 2)
        return c->s * cpu_sumsq(c->x, c->n); /* L = s * sum x^2 */
    if (c->op == 0) {
        memcpy(c->y, c->y0, c->n * sizeof(float));
        cpu_add(c->y, c->x, c->n);
    } else {
        memcpy(c->y, c->x, c->n * sizeof(float));
        cpu_scale(c->y, c->s, c->n);
    }
    return wdot(c->w, c->y, c->n);
}

static void test_elementwise(void)
{
    const size_t n = 23;
    float *x = falloc(n), *y0 = falloc(n), *y = falloc(n), *w = falloc(n);
    fill(x, n, 1);
    fill(y0, n, 1);
    fill(w, n, 1);
    double *ref = dalloc(n), *fd = dalloc(n), *an = dalloc(n);
    ew_ctx c = {x, y0, y, w, n, -1.7f, 0};

    ew_loss(&c);
    for (size_t i = 0; i < n; i++)
        ref[i] = (double)y0[i] + x[i];
    check_fwd("add.fwd y += x", y, ref, n, TOL_FWD);
    fd_grad(fd, x, n, 1e-2f, ew_loss, &c); /* d/dx (y + x) = dout: identity */
    for (size_t i = 0; i < n; i++)
        an[i] = w[i];
    check_grad("add.bwd dx = dout", an, fd, n, TOL_LIN);
    fd_grad(fd, y0, n, 1e-2f, ew_loss, &c);
    check_grad("add.bwd dy = dout", an, fd, n, TOL_LIN);

    c.op = 1;
    ew_loss(&c);
    for (size_t i = 0; i < n; i++)
        ref[i] = (double)x[i] * c.s;
    check_fwd("scale.fwd x *= s", y, ref, n, TOL_FWD);
    float *g = fdup(w, n);
    cpu_scale(g, c.s, n); /* backward of scale is scale */
    free(an);
    an = f2d(g, n);
    fd_grad(fd, x, n, 1e-2f, ew_loss, &c);
    check_grad("scale.bwd dx = s*dout", an, fd, n, TOL_LIN);

    c.op = 2;
    c.s = 0.6f;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (double)x[i] * x[i];
    report("sumsq vs double sum", fabs(cpu_sumsq(x, n) - ss) / ss, 1e-12, NULL);
    for (size_t i = 0; i < n; i++)
        an[i] = 2.0 * c.s * x[i];
    fd_grad(fd, x, n, 1e-2f, ew_loss, &c);
    check_grad("sumsq.grad 2x (FD)", an, fd, n, TOL_LIN);
    free(x), free(y0), free(y), free(w), free(ref), free(fd), free(an), free(g);
}

/* ----------------------------------------------------------- cross-entropy */

typedef struct {
    float *logits, *rowmax, *sumexp, *tgt, *loss, *w;
    const int32_t *targets;
    int n, V, lo;
} ce_ctx;

static double ce_loss(void *p)
{
    ce_ctx *c = p;
    cpu_ce_rowmax(c->rowmax, c->logits, c->n, c->V);
    cpu_ce_sumexp(c->sumexp, c->tgt, c->logits, c->rowmax, c->targets, c->lo, c->n, c->V);
    cpu_ce_loss(c->loss, c->rowmax, c->sumexp, c->tgt, c->n);
    return wdot(c->w, c->loss, (size_t)c->n);
}

static void test_ce(void)
{
    /* one shard [3, 14) of a 20-token vocab; targets 0, 2, 17, 19 are elsewhere */
    const int n = 7, V = 11, lo = 3;
    const int32_t targets[7] = {5, 0, 13, 17, 3, 2, 19};
    size_t nv = (size_t)n * V;
    float *logits = falloc(nv), *rowmax = falloc(n), *sumexp = falloc(n), *tgt = falloc(n);
    float *loss = falloc(n), *w = falloc(n);
    fill(logits, nv, 3);
    fill(w, n, 1);
    ce_ctx c = {logits, rowmax, sumexp, tgt, loss, w, targets, n, V, lo};
    ce_loss(&c);
    double *ref = dalloc(n), ztgt = 0.0;
    for (int i = 0; i < n; i++) {
        double mx = -INFINITY, s = 0.0;
        for (int j = 0; j < V; j++)
            mx = fmax(mx, logits[(size_t)i * V + j]);
        for (int j = 0; j < V; j++)
            s += exp(logits[(size_t)i * V + j] - mx);
        int t = targets[i] - lo;
        int in = t >= 0 && t < V;
        ref[i] = mx + log(s) - (in ? logits[(size_t)i * V + t] : 0.0);
        if (!in)
            ztgt = fmax(ztgt, fabs(tgt[i]));
    }
    check_fwd("ce.fwd loss (shard, some targets outside)", loss, ref, n, TOL_FWD);
    report("ce.fwd tgt = 0 for targets outside shard", ztgt, 0.0, NULL);

    float *dl = falloc(nv);
    cpu_ce_bwd(dl, logits, rowmax, sumexp, targets, w, lo, n, V);
    float *alias = fdup(logits, nv);
    cpu_ce_bwd(alias, alias, rowmax, sumexp, targets, w, lo, n, V);
    report("ce.bwd in place (dlogits == logits) identical", max_abs_diff_ff(alias, dl, nv), 0.0, NULL);
    double *an = f2d(dl, nv), *fd = dalloc(nv);
    fd_grad(fd, logits, nv, 1e-2f, ce_loss, &c);
    check_grad("ce.bwd dlogits (incl. out-of-shard targets)", an, fd, nv, TOL_NL);
    free(logits), free(rowmax), free(sumexp), free(tgt), free(loss), free(w), free(ref);
    free(dl), free(alias), free(an), free(fd);

    /* vocab-parallel: 2 shards [0,12) and [12,23) combined as an all-reduce
     * would (MAX of rowmax, SUM of sumexp and tgt) vs one shard [0,23). */
    {
        const int Vt = 23, V0 = 12, V1 = 11, m = 6;
        const int32_t tg[6] = {0, 11, 12, 22, 7, 15};
        size_t mv = (size_t)m * Vt;
        float *L = falloc(mv), *d = falloc(m);
        fill(L, mv, 3);
        fill(d, m, 1);
        float *rmx = falloc(m), *se = falloc(m), *tt = falloc(m), *lf = falloc(m), *dL = falloc(mv);
        cpu_ce_rowmax(rmx, L, m, Vt);
        cpu_ce_sumexp(se, tt, L, rmx, tg, 0, m, Vt);
        cpu_ce_loss(lf, rmx, se, tt, m);
        cpu_ce_bwd(dL, L, rmx, se, tg, d, 0, m, Vt);

        float *S[2] = {falloc((size_t)m * V0), falloc((size_t)m * V1)};
        int Vs[2] = {V0, V1}, los[2] = {0, V0};
        for (int i = 0; i < m; i++) {
            memcpy(S[0] + (size_t)i * V0, L + (size_t)i * Vt, V0 * sizeof(float));
            memcpy(S[1] + (size_t)i * V1, L + (size_t)i * Vt + V0, V1 * sizeof(float));
        }
        float *rm2[2] = {falloc(m), falloc(m)}, *se2[2] = {falloc(m), falloc(m)};
        float *tt2[2] = {falloc(m), falloc(m)};
        float *grm = falloc(m), *gse = falloc(m), *gtt = falloc(m), *l2 = falloc(m);
        for (int r = 0; r < 2; r++)
            cpu_ce_rowmax(rm2[r], S[r], m, Vs[r]);
        for (int i = 0; i < m; i++) /* all-reduce MAX */
            grm[i] = fmaxf(rm2[0][i], rm2[1][i]);
        for (int r = 0; r < 2; r++)
            cpu_ce_sumexp(se2[r], tt2[r], S[r], grm, tg, los[r], m, Vs[r]);
        for (int i = 0; i < m; i++) { /* all-reduce SUM */
            gse[i] = se2[0][i] + se2[1][i];
            gtt[i] = tt2[0][i] + tt2[1][i];
        }
        cpu_ce_loss(l2, grm, gse, gtt, m);
        report("ce.vocab-parallel 2 shards: loss == 1 shard", rel_err_ff(l2, lf, m), 1e-6, NULL);
        float *dcat = falloc(mv);
        for (int r = 0; r < 2; r++) {
            cpu_ce_bwd(S[r], S[r], grm, gse, tg, d, los[r], m, Vs[r]);
            for (int i = 0; i < m; i++)
                memcpy(dcat + (size_t)i * Vt + los[r], S[r] + (size_t)i * Vs[r],
                       Vs[r] * sizeof(float));
        }
        report("ce.vocab-parallel 2 shards: dlogits == 1 shard", rel_err_ff(dcat, dL, mv), 1e-6, NULL);
        free(L), free(d), free(rmx), free(se), free(tt), free(lf), free(dL), free(S[0]), free(S[1]);
        for (int r = 0; r < 2; r++)
            free(rm2[r]), free(se2[r]), free(tt2[r]);
        free(grm), free(gse), free(gtt), free(l2), free(dcat);
    }
}

/* ------------------------------------------------------------------- adamw */

static void test_adamw(void)
{
    const size_t n = 17;
    const float lr = 1e-3f, b1 = 0.9f, b2 = 0.95f, eps = 1e-8f, wd = 0.1f, gs = 0.5f;
    float *p = falloc(n), *m = falloc(n), *v = falloc(n), *g = falloc(n);
    fill(p, n, 1);
    /* steps 1..3 from zero moments, then a step 10 from random moments */
    for (int k = 0; k < 4; k++) {
        int step = k < 3 ? k + 1 : 10;
        fill(g, n, 2);
        if (k == 3)
            for (size_t i = 0; i < n; i++) {
                m[i] = rnz(0.5f);
                v[i] = fabsf(rnz(0.3f));
            }
        double *rp = dalloc(n), *rm = dalloc(n), *rv = dalloc(n), *rd = dalloc(n);
        float *p0 = fdup(p, n);
        for (size_t i = 0; i < n; i++) { /* hand-computed step in double */
            double gg = (double)g[i] * gs;
            double mm = (double)b1 * m[i] + (1.0 - b1) * gg;
            double vv = (double)b2 * v[i] + (1.0 - b2) * gg * gg;
            double mh = mm / (1.0 - pow(b1, step)), vh = vv / (1.0 - pow(b2, step));
            double pp = (double)p[i] - (double)lr * wd * p[i];
            pp -= (double)lr * mh / (sqrt(vh) + eps);
            rp[i] = pp, rm[i] = mm, rv[i] = vv, rd[i] = pp - p[i];
        }
        cpu_adamw(p, m, v, g, n, lr, b1, b2, eps, wd, gs, step);
        float *dp = falloc(n);
        for (size_t i = 0; i < n; i++)
            dp[i] = p[i] - p0[i]; /* exact (Sterbenz) */
        char name[64];
        /* p, m, v: a few fp32 roundings (~3e-7 relative) -> tol 1e-6;
         * the update p1-p0 ~ lr carries the fp32 rounding of p (~1e-7/1e-3). */
        snprintf(name, sizeof name, "adamw step=%d param", step);
        check_fwd(name, p, rp, n, 1e-6);
        snprintf(name, sizeof name, "adamw step=%d update p1-p0", step);
        check_fwd(name, dp, rd, n, 1e-3);
        snprintf(name, sizeof name, "adamw step=%d m", step);
        check_fwd(name, m, rm, n, 1e-6);
        snprintf(name, sizeof name, "adamw step=%d v", step);
        check_fwd(name, v, rv, n, 1e-6);
        free(rp), free(rm), free(rv), free(rd), free(p0), free(dp);
    }
    free(p), free(m), free(v), free(g);
}

int main(void)
{
    test_matmul();
    test_embedding();
    test_layernorm();
    test_rope();
    test_attention();
    test_sqrelu();
    test_elementwise();
    test_ce();
    test_adamw();
    printf("%d checks, %d failed\n", g_checks, g_fail);
    return g_fail ? 1 : 0;
}
