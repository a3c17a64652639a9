/* test_sample.c — the vocab-parallel sampler (src/infer/sample.c).
 *  1. statistics (rank 0 alone): on fixed logits (64 ids, the last 14
 *     padding at -inf), 20000 draws per mode (keys of sample index j) give
 *     counts within 4 sigma (binomial, sqrt(N p (1-p))) of the truncated,
 *     tempered softmax computed here independently (sort, top-k prefix,
 *     smallest prefix of mass >= top_p), and 0 for every id outside it;
 *     greedy always gives the argmax; the log-probs equal the untempered
 *     log-softmax (1e-6 absolute).
 *  2. layout: with the vocabulary split over the world's ranks (TP = world
 *     size), every draw of every mode equals the one-rank draw. */
#include "infer/sample.h"
#include "util/check.h"
#include "util/rng.h"

#include <math.h>
#include <mpi.h>
#include <string.h>

enum { VT = 64, VREAL = 50, NDRAW = 20000 };

typedef struct { const char *name; nt_sampling s; } mode;
static const mode modes[] = {
    {"greedy", {0.0, 0, 1.0}},        {"temperature 1", {1.0, 0, 1.0}}, {"temperature 0.5", {0.5, 0, 1.0}},
    {"top_k 5", {1.0, 5, 1.0}},       {"top_p 0.7", {1.0, 0, 0.7}},     {"t 0.8 top_k 10 top_p 0.9", {0.8, 10, 0.9}},
    {"temperature 2 top_p 0.5", {2.0, 0, 0.5}},
};
#define NMODES ((int)(sizeof modes / sizeof modes[0]))

static int cmp_desc(const void *a, const void *b, void *l)
{
    (void)l;
    const double *x = a, *y = b;
    return x[0] > y[0] ? -1 : x[0] < y[0] ? 1 : (x[1] < y[1] ? -1 : 1);
}

/* expected probabilities of each id under mode s */
static void expected(const float *lg, const nt_sampling *s, double *p)
{
    double row[VT][2];
    int m = 0;
    for (int c = 0; c < VT; c++) p[c] = 0;
    for (int c = 0; c < VT; c++)
        if (isfinite(lg[c])) { row[m][0] = (float)(lg[c] / s->temperature); row[m][1] = c; m++; }
    qsort_r(row, (size_t)m, sizeof row[0], cmp_desc, NULL);
    if (s->top_k > 0 && s->top_k < m) m = s->top_k;
    double z = 0;
    for (int j = 0; j < m; j++) z += exp(row[j][0] - row[0][0]);
    if (s->top_p < 1.0) {
        double cum = 0;
        int k = 0;
        while (k < m) { cum += exp(row[k][0] - row[0][0]) / z; k++; if (cum >= s->top_p) break; }
        m = k;
        z = 0;
        for (int j = 0; j < m; j++) z += exp(row[j][0] - row[0][0]);
    }
    for (int j = 0; j < m; j++) p[(int)row[j][1]] = exp(row[j][0] - row[0][0]) / z;
}

int main(int argc, char **argv)
{
    NT_CHECK_MPI(MPI_Init(&argc, &argv));
    nt_comm world, self;
    nt_comm_from_mpi(&world, MPI_COMM_WORLD, "tp");
    nt_comm_from_mpi(&self, MPI_COMM_SELF, "self");
    int R = world.size, me = world.rank, fails = 0;
    NT_CHECK(VT % R == 0, "test_sample: %d ids do not split over %d ranks", VT, R);
    float lg[VT];
    uint64_t lk = nt_rng_key(3, "test_sample.logits");
    for (int c = 0; c < VT; c++) lg[c] = c < VREAL ? (float)(2.0 * nt_rng_normal(lk, (uint64_t)c)) : -INFINITY;
    int Vl = VT / R, lo = me * Vl;
    int32_t *one = nt_malloc(NDRAW * sizeof(int32_t), "draws"), *par = nt_malloc(NDRAW * sizeof(int32_t), "draws");
    float *lp1 = nt_malloc(NDRAW * sizeof(float), "logp"), *lp2 = nt_malloc(NDRAW * sizeof(float), "logp");
    enum { BATCH = 100 };
    float rows1[BATCH * VT], rowsl[BATCH * VT];
    for (int i = 0; i < BATCH; i++) {
        memcpy(rows1 + (size_t)i * VT, lg, sizeof lg);
        memcpy(rowsl + (size_t)i * Vl, lg + lo, (size_t)Vl * sizeof(float));
    }
    double mx = -INFINITY, se = 0;
    for (int c = 0; c < VT; c++) mx = lg[c] > mx ? lg[c] : mx;
    for (int c = 0; c < VT; c++) se += exp((double)lg[c] - mx);
    for (int mi = 0; mi < NMODES; mi++) {
        const nt_sampling *s = &modes[mi].s;
        for (int j0 = 0; j0 < NDRAW; j0 += BATCH) {
            uint64_t keys[BATCH];
            for (int i = 0; i < BATCH; i++) keys[i] = nt_sample_key(99, 3, (uint64_t)(j0 + i), (uint64_t)(j0 + i) % 7);
            nt_sample(s, rows1, BATCH, VT, 0, &self, keys, one + j0, lp1 + j0);
            nt_sample(s, rowsl, BATCH, Vl, lo, &world, keys, par + j0, lp2 + j0);
        }
        int same = 0;
        for (int j = 0; j < NDRAW; j++) same += one[j] == par[j] && lp1[j] == lp2[j];
        if (same != NDRAW) fails++;
        if (me == 0) printf("2. %-26s %d ranks: %d of %d draws equal to one rank's%s\n", modes[mi].name, R, same,
                            NDRAW, same == NDRAW ? "" : "  FAIL");
        if (me != 0) continue;
        double p[VT], worst = 0, lperr = 0;
        long cnt[VT] = {0};
        for (int j = 0; j < NDRAW; j++) {
            cnt[one[j]]++;
            lperr = fmax(lperr, fabs(lp1[j] - ((double)lg[one[j]] - mx - log(se))));
        }
        int bad = lperr > 1e-6;
        if (s->temperature == 0) {
            int am = 0;
            for (int c = 1; c < VT; c++) am = lg[c] > lg[am] ? c : am;
            bad |= cnt[am] != NDRAW;
            printf("1. %-26s all %ld draws the argmax %d%s\n", modes[mi].name, cnt[am], am, bad ? "  FAIL" : "");
        } else {
            expected(lg, s, p);
            int support = 0;
            for (int c = 0; c < VT; c++) {
                if (p[c] == 0) { bad |= cnt[c] != 0; continue; }
                support++;
                double sd = sqrt(NDRAW * p[c] * (1 - p[c]));
                double zsc = sd > 0 ? fabs(cnt[c] - NDRAW * p[c]) / sd : 0;
                worst = fmax(worst, zsc);
                bad |= zsc > 4.0;
            }
            printf("1. %-26s %d ids in the support, worst |count - N p| = %.2f sigma (<= 4), none outside%s\n",
                   modes[mi].name, support, worst, bad ? "  FAIL" : "");
        }
        if (lperr > 1e-6) printf("   log-prob error %.3g > 1e-6  FAIL\n", lperr);
        fails += bad;
    }
    nt_comm_allreduce_i32(&world, &fails, 1, NT_SUM);
    if (me == 0) printf("%s\n", fails ? "FAILED" : "PASSED");
    free(one); free(par); free(lp1); free(lp2);
    NT_CHECK_MPI(MPI_Finalize());
    return fails ? 1 : 0;
}
