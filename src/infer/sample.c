/* sample.c — vocab-parallel greedy / temperature / top-k / top-p sampling
 * from counter-based Gumbel noise (see sample.h). */
#include "infer/sample.h"
#include "util/check.h"
#include "util/rng.h"

#include <math.h>
#include <string.h>

uint64_t nt_sample_key(uint64_t seed, uint64_t prompt, uint64_t sample, uint64_t step)
{
    uint64_t k = nt_rng_key(seed, "generate.sample");
    k = nt_rng_u64(k, prompt);
    k = nt_rng_u64(k, sample);
    return nt_rng_u64(k, step);
}

static double gumbel(uint64_t key, int id) { return -log(-log(nt_rng_uniform(key, (uint64_t)id))); }

/* float -> unsigned key with the same order (finite values) */
static uint32_t fkey(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/* (value, id) pairs: a beats b by value, then by the lower id */
static int beats(double va, double ia, double vb, double ib) { return va > vb || (va == vb && ia < ib); }

/* the best pair of every row over the TP group: in/out best[2n] (value, id) */
static void reduce_best(const nt_comm *tp, double *best, int n)
{
    if (tp->size <= 1) return;
    double *all = nt_malloc((size_t)2 * n * tp->size * sizeof(double), "sampling reduction");
    nt_comm_allgather(tp, best, all, (size_t)2 * n, NT_F64);
    for (int r = 0; r < tp->size; r++)
        for (int i = 0; i < n; i++) {
            const double *p = all + ((size_t)r * n + i) * 2;
            if (r == 0 || beats(p[0], p[1], best[2 * i], best[2 * i + 1])) { best[2 * i] = p[0]; best[2 * i + 1] = p[1]; }
        }
    free(all);
}

static int cmp_pair_desc(const void *a, const void *b)
{
    const double *x = a, *y = b;
    if (beats(x[0], x[1], y[0], y[1])) return -1;
    if (beats(y[0], y[1], x[0], x[1])) return 1;
    return 0;
}

void nt_sample(const nt_sampling *sp, const float *logits, int n, int V, int vocab_lo, const nt_comm *tp,
               const uint64_t *keys, int32_t *tok, float *logp)
{
    if (n <= 0) return;
    double tau = sp->temperature;
    int greedy = tau <= 0.0;
    float *z = nt_malloc((size_t)(V > 0 ? V : 1) * sizeof(float), "sampling row");
    uint8_t *keep = nt_malloc((size_t)n * (V > 0 ? V : 1), "sampling set");
    double *stat = nt_malloc((size_t)4 * n * sizeof(double), "sampling statistics");
    double *best = nt_malloc((size_t)2 * n * sizeof(double), "sampling candidates");

    /* log-prob statistics at temperature 1: global max, then sum of exp */
    for (int i = 0; i < n; i++) {
        const float *l = logits + (size_t)i * V;
        double mx = -INFINITY;
        for (int c = 0; c < V; c++) mx = l[c] > mx ? l[c] : mx;
        stat[i] = mx;
    }
    if (tp->size > 1) nt_comm_allreduce_f64(tp, stat, (size_t)n, NT_MAX);
    for (int i = 0; i < n; i++) {
        const float *l = logits + (size_t)i * V;
        double s = 0;
        for (int c = 0; c < V; c++) s += exp((double)l[c] - stat[i]);
        stat[n + i] = s;
    }
    if (tp->size > 1) nt_comm_allreduce_f64(tp, stat + n, (size_t)n, NT_SUM);

    /* the kept set: every finite logit, then top-k, then top-p */
    memset(keep, 0, (size_t)n * V);
    for (int i = 0; i < n; i++)
        for (int c = 0; c < V; c++) keep[(size_t)i * V + c] = isfinite(logits[(size_t)i * V + c]) != 0;
    if (!greedy && sp->top_k > 0) {
        int k = sp->top_k;
        double *cand = nt_malloc((size_t)2 * k * n * sizeof(double), "top-k candidates");
        double *row = nt_malloc((size_t)2 * (V > 0 ? V : 1) * sizeof(double), "top-k row");
        for (int i = 0; i < n; i++) {
            const float *l = logits + (size_t)i * V;
            int m = 0;
            for (int c = 0; c < V; c++)
                if (isfinite(l[c])) { row[2 * m] = (float)(l[c] / tau); row[2 * m + 1] = vocab_lo + c; m++; }
            qsort(row, (size_t)m, 2 * sizeof(double), cmp_pair_desc);
            for (int j = 0; j < k; j++) {
                cand[((size_t)i * k + j) * 2] = j < m ? row[2 * j] : -INFINITY;
                cand[((size_t)i * k + j) * 2 + 1] = j < m ? row[2 * j + 1] : 1e18;
            }
        }
        double *all = cand;
        if (tp->size > 1) {
            all = nt_malloc((size_t)2 * k * n * tp->size * sizeof(double), "top-k gather");
            nt_comm_allgather(tp, cand, all, (size_t)2 * k * n, NT_F64);
        }
        double *merged = nt_malloc((size_t)2 * k * tp->size * sizeof(double), "top-k merge");
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < tp->size; r++)
                memcpy(merged + (size_t)2 * k * r, all + ((size_t)r * n + i) * 2 * k, (size_t)2 * k * sizeof(double));
            qsort(merged, (size_t)k * tp->size, 2 * sizeof(double), cmp_pair_desc);
            double tv = merged[2 * (k - 1)], ti = merged[2 * (k - 1) + 1];   /* the k-th best */
            const float *l = logits + (size_t)i * V;
            for (int c = 0; c < V; c++) {
                uint8_t *kp = &keep[(size_t)i * V + c];
                if (*kp) {
                    double v = (float)(l[c] / tau);
                    *kp = !beats(tv, ti, v, vocab_lo + c);   /* kept unless the k-th best beats it */
                }
            }
        }
        free(merged);
        if (all != cand) free(all);
        free(cand);
        free(row);
    }
    if (!greedy && sp->top_p < 1.0) {
        /* the kept set's max and sum of exp(z - max) */
        for (int i = 0; i < n; i++) {
            double mx = -INFINITY, mn = INFINITY;
            for (int c = 0; c < V; c++)
                if (keep[(size_t)i * V + c]) {
                    double v = (float)(logits[(size_t)i * V + c] / tau);
                    mx = v > mx ? v : mx;
                    mn = v < mn ? v : mn;
                }
            stat[2 * n + i] = mx;
            best[i] = -mn;
        }
        if (tp->size > 1) {
            nt_comm_allreduce_f64(tp, stat + 2 * n, (size_t)n, NT_MAX);
            nt_comm_allreduce_f64(tp, best, (size_t)n, NT_MAX);
        }
        double *mass = nt_malloc((size_t)2 * n * sizeof(double), "top-p mass");
        uint32_t *lo = nt_malloc((size_t)n * sizeof(uint32_t), "top-p bisection"), *hi = nt_malloc((size_t)n * sizeof(uint32_t), "top-p bisection");
        for (int i = 0; i < n; i++) {
            lo[i] = fkey((float)-best[i]);
            hi[i] = fkey((float)stat[2 * n + i]);
        }
        /* mass(t) = sum over kept z >= t of exp(z - max); the total first */
        for (int it = 0; it < 40; it++) {
            int open = 0;
            for (int i = 0; i < n; i++) {
                uint32_t mid = it == 0 ? lo[i] : lo[i] + (hi[i] - lo[i] + 1) / 2;
                double s = 0;
                if (it == 0 || lo[i] < hi[i])
                    for (int c = 0; c < V; c++)
                        if (keep[(size_t)i * V + c]) {
                            float v = (float)(logits[(size_t)i * V + c] / tau);
                            if (fkey(v) >= mid) s += exp((double)v - stat[2 * n + i]);
                        }
                mass[i] = s;
                open |= lo[i] < hi[i];
            }
            if (it > 0 && !open) break;
            if (tp->size > 1) nt_comm_allreduce_f64(tp, mass, (size_t)n, NT_SUM);
            for (int i = 0; i < n; i++) {
                if (it == 0) { stat[3 * n + i] = mass[i]; continue; }
                if (lo[i] >= hi[i]) continue;
                uint32_t mid = lo[i] + (hi[i] - lo[i] + 1) / 2;
                if (mass[i] >= sp->top_p * stat[3 * n + i]) lo[i] = mid;
                else hi[i] = mid - 1;
            }
        }
        for (int i = 0; i < n; i++)
            for (int c = 0; c < V; c++) {
                uint8_t *kp = &keep[(size_t)i * V + c];
                if (*kp && fkey((float)(logits[(size_t)i * V + c] / tau)) < lo[i]) *kp = 0;
            }
        free(mass);
        free(lo);
        free(hi);
    }
    /* the winner: greedy argmax, or Gumbel-max over the kept set */
    for (int i = 0; i < n; i++) {
        const float *l = logits + (size_t)i * V;
        double bv = -INFINITY, bi = 1e18;
        for (int c = 0; c < V; c++) {
            if (!keep[(size_t)i * V + c]) continue;
            double v = greedy ? (double)l[c] : (double)(float)(l[c] / tau) + gumbel(keys[i], vocab_lo + c);
            if (beats(v, vocab_lo + c, bv, bi)) { bv = v; bi = vocab_lo + c; }
        }
        best[2 * i] = bv;
        best[2 * i + 1] = bi;
    }
    reduce_best(tp, best, n);
    /* the winner's logit (on the rank that owns it) for its log-prob */
    double *lw = stat + 2 * n;
    for (int i = 0; i < n; i++) {
        int id = (int)best[2 * i + 1], c = id - vocab_lo;
        tok[i] = id;
        lw[i] = c >= 0 && c < V ? (double)logits[(size_t)i * V + c] : 0.0;
    }
    if (tp->size > 1) nt_comm_allreduce_f64(tp, lw, (size_t)n, NT_SUM);
    if (logp)
        for (int i = 0; i < n; i++) logp[i] = (float)(lw[i] - stat[i] - log(stat[n + i]));
    free(z);
    free(keep);
    free(stat);
    free(best);
}
