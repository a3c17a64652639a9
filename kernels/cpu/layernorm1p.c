/* layernorm1p.c — Nemotron LayerNorm1P (zero-centred gamma):
 *   out = (x - mean) * rstd * (1 + gamma) + beta,  rstd = 1/sqrt(var + eps),
 * biased variance, i.e. F.layer_norm(x, C, 1+gamma, beta, eps) as in Hugging
 * Face NemotronLayerNorm1P.  Mean and variance are accumulated in double (two
 * passes); mean and rstd are saved for the backward.  The backward
 * accumulates into din (pre-norm residual stream), dgamma and dbeta, with
 * per-row and per-column sums in double; its rows (din) and then its
 * column blocks (dgamma, dbeta, each column summed over the rows in order)
 * are split over the CPU kernel threads, bitwise the serial result. */
#include <math.h>
#include <stdlib.h>

#include "kernels_cpu.h"

struct ln_fwd_job {
    float *out, *mean, *rstd;
    const float *in, *gamma, *beta;
    int C;
    float eps;
};

/* Rows [i0, i1) of the forward (rows are independent: split over the CPU
 * kernel threads by cpu_parallel_for, results equal the serial loop's). */
static void ln_fwd_rows(void *p, size_t i0, size_t i1)
{
    const struct ln_fwd_job *jb = p;
    const int C = jb->C;
    const float *gamma = jb->gamma, *beta = jb->beta;
    for (size_t i = i0; i < i1; i++) {
        const float *x = jb->in + i * C;
        float *y = jb->out + i * C;
        double s = 0.0;
        for (int j = 0; j < C; j++)
            s += x[j];
        double mu = s / C;
        double ss = 0.0;
        for (int j = 0; j < C; j++) {
            double d = x[j] - mu;
            ss += d * d;
        }
        double var = ss / C;
        float m = (float)mu;
        float r = (float)(1.0 / sqrt(var + (double)jb->eps));
        jb->mean[i] = m;
        jb->rstd[i] = r;
        for (int j = 0; j < C; j++)
            y[j] = (x[j] - m) * r * (1.0f + gamma[j]) + beta[j];
    }
}

void cpu_layernorm1p_fwd(float *out, float *mean, float *rstd, const float *in,
                         const float *gamma, const float *beta, int n, int C, float eps)
{
    if (n <= 0 || C <= 0)
        return;
    struct ln_fwd_job jb = { out, mean, rstd, in, gamma, beta, C, eps };
    cpu_parallel_for((size_t)n, (size_t)(16384 / C + 1), ln_fwd_rows, &jb);
}

struct ln_bwd_job {
    float *din;
    double *dg, *db;
    const float *dout, *in, *mean, *rstd, *gamma;
    size_t n;
    int C;
};

/* Rows [i0, i1): din (each row needs only its own sums). */
static void ln_bwd_rows(void *p, size_t i0, size_t i1)
{
    const struct ln_bwd_job *jb = p;
    const int C = jb->C;
    const float *gamma = jb->gamma;
    for (size_t i = i0; i < i1; i++) {
        const float *x = jb->in + i * C;
        const float *dy = jb->dout + i * C;
        float *dx = jb->din + i * C;
        double mu = jb->mean[i], r = jb->rstd[i];
        double sg = 0.0, sgx = 0.0;
        for (int j = 0; j < C; j++) {
            double xh = (x[j] - mu) * r;
            double g = (double)dy[j] * (1.0 + (double)gamma[j]);
            sg += g;
            sgx += g * xh;
        }
        double a = sg / C, b = sgx / C;
        for (int j = 0; j < C; j++) {
            double xh = (x[j] - mu) * r;
            double g = (double)dy[j] * (1.0 + (double)gamma[j]);
            dx[j] += (float)(r * (g - a - xh * b));
        }
    }
}

/* Columns [j0, j1): dgamma/dbeta's sums over every row, rows in order (each
 * column's sum is the serial loop's, whichever thread forms it). */
static void ln_bwd_cols(void *p, size_t j0, size_t j1)
{
    const struct ln_bwd_job *jb = p;
    const size_t C = (size_t)jb->C;
    double *dg = jb->dg, *db = jb->db;
    for (size_t i = 0; i < jb->n; i++) {
        const float *x = jb->in + i * C;
        const float *dy = jb->dout + i * C;
        double mu = jb->mean[i], r = jb->rstd[i];
        for (size_t j = j0; j < j1; j++) {
            double xh = (x[j] - mu) * r;
            dg[j] += dy[j] * xh;
            db[j] += dy[j];
        }
    }
}

void cpu_layernorm1p_bwd(float *din, float *dgamma, float *dbeta, const float *dout,
                         const float *in, const float *mean, const float *rstd,
                         const float *gamma, int n, int C)
{
    if (n <= 0 || C <= 0)
        return;
    /* column sums dgamma/dbeta in double, rows in order; added once at the end */
    double *acc = calloc(2 * (size_t)C, sizeof(double));
    if (!acc)
        abort();
    struct ln_bwd_job jb = { din, acc, acc + C, dout, in, mean, rstd, gamma, (size_t)n, C };
    cpu_parallel_for((size_t)n, (size_t)(16384 / C + 1), ln_bwd_rows, &jb);
    /* a column block per thread: at least 64 columns (a few cache lines of each row) */
    cpu_parallel_for((size_t)C, 64, ln_bwd_cols, &jb);
    for (int j = 0; j < C; j++) {
        dgamma[j] += (float)jb.dg[j];
        dbeta[j] += (float)jb.db[j];
    }
    free(acc);
}
