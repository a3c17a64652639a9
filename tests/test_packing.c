/* test_packing.c — sequence packing (data.pack), from the packer to the model.
 *
 * 1. The packer (src/data/data_pack.c): every sample of a window lands in
 *    exactly one row, no row holds more than its capacity, best fit leaves
 *    little room (efficiency >= 0.9 on a log-normal length mix), rows are
 *    the same whatever order they are asked for in (resume, other ranks),
 *    rows_before / samples_before agree with walking the rows.
 * 2. The model on the CPU backend (fp32): the same samples
 *    (a) padded, one per row, and (b) packed by the packer into fewer rows
 *    with positions restarting per sample (block-diagonal attention, RoPE
 *    per sample) give the same masked-token loss (1/loss tokens) and the
 *    same gradient of every parameter tensor.  Tolerance 2e-5 relative to
 *    the tensor's largest gradient: only the order of fp32 sums differs
 *    (GEMM rows in another order, attention blocks of another width), ~1e-7
 *    per add over a few hundred rows; any leak across samples (a missing
 *    mask, positions not restarted) is an O(1) change (checked: running the
 *    packed rows without positions fails by > 1e-2).
 * 3. A packed row's logits for each sample equal that sample alone in a
 *    row of its own (same tolerance as the kernels' packed == alone). */
#include "backend/backend.h"
#include "data/data_pack.h"
#include "deck/deck.h"
#include "model/model.h"
#include "phases/loss.h"
#include "util/check.h"
#include "util/rng.h"

#include <math.h>
#include <string.h>

static int fails;

static void report(const char *name, double err, double tol, const char *extra)
{
    int ok = err <= tol;
    fails += !ok;
    printf("%s: %-58s err=%.3e tol=%.1e %s\n", ok ? "PASS" : "FAIL", name, err, tol, extra ? extra : "");
}

/* ---- 1. the packer ------------------------------------------------------------ */

typedef struct {
    uint64_t key, cap;
} len_ctx;

/* log-normal lengths between 2 and 1.2 x capacity (a few longer than a row: cut) */
static uint64_t lognormal_len(void *c, uint64_t s)
{
    const len_ctx *x = c;
    double z = nt_rng_normal(x->key, s), L = exp(log((double)x->cap / 5.0) + 0.9 * z);
    uint64_t n = (uint64_t)L;
    if (n < 2) n = 2;
    if (n > x->cap + x->cap / 5) n = x->cap + x->cap / 5;
    return n;
}

static void test_packer(void)
{
    len_ctx lc = {nt_rng_key(7, "lengths"), 257};
    const uint64_t W = 1000;
    nt_pack a, b;
    nt_pack_init(&a, lc.cap, W, 42, lognormal_len, &lc);
    nt_pack_init(&b, lc.cap, W, 42, lognormal_len, &lc);
    uint64_t rows0 = nt_pack_window_rows(&a, 0), rows1 = nt_pack_window_rows(&a, 1), rows = rows0 + rows1;
    unsigned char *seen = calloc(2 * W, 1);
    uint64_t bad_cap = 0, dup = 0, real = 0;
    int order_ok = 1, before_ok = 1;
    uint64_t walked = 0;
    for (uint64_t k = 0; k < rows; k++) {
        if (nt_pack_samples_before(&b, k) != walked) before_ok = 0;
        uint64_t n, n2;
        const uint64_t *it = nt_pack_row(&a, k, &n);
        uint64_t got[64], tot = 0;
        if (n > 64) abort();
        memcpy(got, it, n * sizeof *it);
        /* b asks for the rows backwards: the same samples must come out */
        const uint64_t *it2 = nt_pack_row(&b, rows - 1 - k, &n2);
        (void)it2;
        const uint64_t *again = nt_pack_row(&b, k, &n2);
        if (n2 != n || memcmp(again, got, n * sizeof *got) != 0) order_ok = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t s = got[i], L = lognormal_len(&lc, s);
            if (s >= 2 * W || seen[s]++) dup++;
            if ((k < rows0) != (s < W)) dup++;   /* window 0's rows hold window 0's samples */
            tot += L < lc.cap ? L : lc.cap;
        }
        if (tot > lc.cap) bad_cap++;
        real += tot;
        walked += n;
    }
    uint64_t missing = 0;
    for (uint64_t s = 0; s < 2 * W; s++) missing += !seen[s];
    char extra[128];
    snprintf(extra, sizeof extra, "(%llu + %llu rows for 2 x %llu samples)", (unsigned long long)rows0,
             (unsigned long long)rows1, (unsigned long long)W);
    report("packer: every sample once, inside its window", (double)(dup + missing), 0, extra);
    report("packer: no row over its capacity", (double)bad_cap, 0, NULL);
    double eff = (double)real / ((double)rows * (double)lc.cap);
    snprintf(extra, sizeof extra, "(efficiency %.4f)", eff);
    report("packer: best fit leaves < 10% of the row tokens empty", 1.0 - eff, 0.10, extra);
    report("packer: rows independent of the order they are read in", order_ok ? 0 : 1, 0, NULL);
    report("packer: samples_before == walking the rows", before_ok ? 0 : 1, 0, NULL);
    nt_pack c;
    nt_pack_init(&c, lc.cap, W, 43, lognormal_len, &lc);
    uint64_t n1, n2;
    const uint64_t *r1 = nt_pack_row(&a, 0, &n1);
    uint64_t first[64];
    memcpy(first, r1, n1 * sizeof *r1);
    const uint64_t *r2 = nt_pack_row(&c, 0, &n2);
    int differs = n1 != n2 || memcmp(first, r2, n1 * sizeof *r2) != 0;
    report("packer: another seed orders the rows differently", differs ? 0 : 1, 0, NULL);
    nt_pack_free(&a);
    nt_pack_free(&b);
    nt_pack_free(&c);
    free(seen);
}

/* ---- 2./3. the model ------------------------------------------------------------ */

enum { NS = 7, T = 24 };
static const int lens[NS] = {7, 3, 12, 5, 25, 2, 11};   /* tokens per sample, <= T+1 */
static int32_t tok[NS][T + 1];
static uint8_t msk[NS][T + 1];

static uint64_t sample_len(void *c, uint64_t s)
{
    (void)c;
    return (uint64_t)lens[s % NS];
}

typedef struct {
    int rows;
    int32_t *inp, *tgt, *pos;   /* [rows*T] */
} rowset;

static void rowset_alloc(rowset *r, int rows)
{
    r->rows = rows;
    r->inp = calloc((size_t)rows * T, sizeof(int32_t));
    r->tgt = calloc((size_t)rows * T, sizeof(int32_t));
    r->pos = calloc((size_t)rows * T, sizeof(int32_t));
}

static void rowset_free(rowset *r)
{
    free(r->inp), free(r->tgt), free(r->pos);
}

/* append sample s at position at of row r (inputs tokens [at, at+L-1), targets shifted) */
static void put(rowset *r, int row, int at, int s)
{
    int L = lens[s];
    for (int j = 0; j < L; j++) {
        int i = at + j;   /* row token index 0..T */
        if (i < T) {
            r->inp[(size_t)row * T + i] = tok[s][j];
            r->pos[(size_t)row * T + i] = j;
        }
        if (i >= 1 && j >= 1) r->tgt[(size_t)row * T + i - 1] = msk[s][j] ? tok[s][j] : -1;
    }
}

/* a row before put: pad inputs with 0, no targets, padding its own segment */
static void blank(rowset *r, int row)
{
    for (int i = 0; i < T; i++) {
        r->inp[(size_t)row * T + i] = 0;
        r->tgt[(size_t)row * T + i] = -1;
        r->pos[(size_t)row * T + i] = i;
    }
}

/* after the samples: the tail's positions restart (its own segment) */
static void pad_tail(rowset *r, int row, int at)
{
    for (int i = at; i < T; i++) r->pos[(size_t)row * T + i] = i - at;
}

static double run(nt_model *m, const rowset *r, int packed, float w, float **grads, float **logits)
{
    nt_acts a;
    nt_acts_create(&a, m, r->rows, T);
    memset(m->grads, 0, m->nparams * sizeof(float));
    nt_model_set_positions(m, &a, packed ? r->pos : NULL);
    nt_model_forward(m, &a, r->inp);
    double L = nt_loss_token_ce(m, &a, r->tgt, w);
    if (logits) {
        size_t n = (size_t)a.N * m->mc.vocab_local;
        *logits = malloc(n * sizeof(float));
        nt_model_head_logits(m, &a);
        memcpy(*logits, a.logits, n * sizeof(float));
        nt_loss_token_ce(m, &a, r->tgt, w);   /* the head's gradient again (logits reused it) */
    }
    nt_model_backward(m, &a);
    *grads = malloc(m->nparams * sizeof(float));
    memcpy(*grads, m->grads, m->nparams * sizeof(float));
    nt_acts_destroy(&a, m);
    return L;
}

static double grad_err(const nt_model *m, const float *g, const float *h, char *worst, size_t n)
{
    double e = 0;
    for (int i = 0; i < m->ntensors; i++) {
        const nt_tensor_info *t = &m->tensors[i];
        double mx = 0, d = 0;
        for (size_t j = 0; j < t->numel; j++) {
            double a = fabs(g[t->offset + j]), x = fabs((double)g[t->offset + j] - h[t->offset + j]);
            mx = a > mx ? a : mx;
            d = x > d ? x : d;
        }
        double r = mx > 0 ? d / mx : d;
        if (r > e) {
            e = r;
            snprintf(worst, n, "(worst: %.60s)", t->name);
        }
    }
    return e;
}

static void test_model(void)
{
    nt_config cfg;
    nt_deck_defaults(&cfg);
    cfg.layers = 2; cfg.hidden = 24; cfg.ffn_hidden = 40; cfg.heads = 4; cfg.kv_heads = 2;
    cfg.vocab = 50; cfg.seq_len = T; cfg.rotary_fraction = 0.5; cfg.init_std = 0.2;
    nt_model_config mc;
    nt_model_config_init(&mc, &cfg, 1, 0);
    nt_comm self;
    nt_comm_from_mpi(&self, MPI_COMM_SELF, "tp");
    nt_model m;
    nt_model_create(&m, nt_backend_cpu(), &mc, &self, 0, cfg.layers, 1, 1, 1);
    nt_model_init_params(&m, 99);
    uint64_t kt = nt_rng_key(3, "tokens");
    double ntok = 0;
    for (int s = 0; s < NS; s++)
        for (int j = 0; j <= T; j++) {
            tok[s][j] = (int32_t)(nt_rng_u64(kt, (uint64_t)(s * 100 + j)) % (uint64_t)cfg.vocab);
            msk[s][j] = j >= 1 && j < lens[s] && nt_rng_u64(kt, 5000 + (uint64_t)(s * 100 + j)) % 5 < 3;
            ntok += msk[s][j];
        }
    float w = (float)(1.0 / ntok);

    /* (a) padded: one sample per row */
    rowset pad;
    rowset_alloc(&pad, NS);
    for (int s = 0; s < NS; s++) {
        blank(&pad, s);
        put(&pad, s, 0, s);
    }
    /* (b) packed by the packer (one window of the 7 samples) */
    nt_pack pk;
    nt_pack_init(&pk, T + 1, NS, 5, sample_len, NULL);
    int nrows = (int)nt_pack_window_rows(&pk, 0);
    rowset pkd;
    rowset_alloc(&pkd, nrows);
    int where_row[NS], where_at[NS];
    for (int r = 0; r < nrows; r++) {
        uint64_t n;
        const uint64_t *it = nt_pack_row(&pk, (uint64_t)r, &n);
        blank(&pkd, r);
        int at = 0;
        for (uint64_t i = 0; i < n; i++) {
            int s = (int)it[i];
            put(&pkd, r, at, s);
            where_row[s] = r, where_at[s] = at;
            at += lens[s];
        }
        pad_tail(&pkd, r, at);
    }
    nt_pack_free(&pk);

    float *gp, *gk, *gx, *lp, *lk;
    double Lp = run(&m, &pad, 0, w, &gp, &lp);
    double Lk = run(&m, &pkd, 1, w, &gk, &lk);
    char extra[128];
    snprintf(extra, sizeof extra, "(%d samples: %d padded rows, %d packed rows; loss %.6f)", NS, NS, nrows, Lp);
    report("model: packed loss == padded loss", fabs(Lk - Lp) / fabs(Lp), 2e-6, extra);
    char worst[96] = "";
    report("model: packed gradients == padded (every tensor)", grad_err(&m, gp, gk, worst, sizeof worst), 2e-5, worst);
    /* the negative control: the packed rows without positions (attention across samples) */
    double Lx = run(&m, &pkd, 0, w, &gx, NULL);
    snprintf(extra, sizeof extra, "(loss %.6f vs %.6f)", Lx, Lp);
    report("model: control, packed rows without positions differ", fabs(Lx - Lp) / fabs(Lp) > 1e-2 ? 0 : 1, 0, extra);

    /* 3. each sample's logits in its packed row == alone (its padded row) */
    int V = m.mc.vocab_local;
    double e = 0;
    for (int s = 0; s < NS; s++) {
        int L = lens[s] < T - where_at[s] ? lens[s] : T - where_at[s];   /* the sample's input positions in both rows */
        for (int j = 0; j < L; j++)
            for (int v = 0; v < V; v++) {
                float a = lp[((size_t)s * T + j) * V + v];
                float b = lk[((size_t)where_row[s] * T + where_at[s] + j) * V + v];
                if (isinf(a) && isinf(b)) continue;   /* padded vocabulary */
                double d = fabs((double)a - b) / (1.0 + fabs((double)a));
                e = d > e ? d : e;
            }
    }
    report("model: packed row's logits of each sample == the sample alone", e, 1e-5, NULL);
    free(gp), free(gk), free(gx), free(lp), free(lk);
    rowset_free(&pad);
    rowset_free(&pkd);
    nt_model_destroy(&m);
}

int main(void)
{
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    test_packer();
    test_model();
    printf("%s\n", fails ? "FAILED" : "PASSED");
    NT_CHECK_MPI(MPI_Finalize());
    return fails ? 1 : 0;
}
