/* test_data_blend.c — the blend sampler and SFT padding on small HDF5
 * files written here:
 *   - observed dataset fractions of 20000 draws within 4 sigma of the weights;
 *   - sample k is a pure function of (seed, k): any order, a fresh blend
 *     (a resumed run) and the same k give the same tokens; another seed differs;
 *   - the switch: below data.switch_at tokens only the first blend, from it
 *     only the second (incl. a dataset the first lacks), at its weights;
 *   - one dataset without a switch samples exactly as nt_dataset_sample;
 *   - SFT: one conversation per padded row, mask kept, padding EOD/mask 0,
 *     long conversations truncated. */
#include "util/check.h"
#include "deck/config.h"
#include "data/data.h"
#include "data/data_blend.h"
#include "data/data_padded.h"

#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <string.h>
#include <sys/stat.h>

static int fails = 0;
#define EXPECT(c, ...) do { if (!(c)) { fails++; printf("FAIL: " __VA_ARGS__); printf("\n"); } } while (0)

static void write_file(const char *path, const uint32_t *tok, uint64_t n, const uint64_t *offs, uint64_t noff,
                       const uint8_t *mask, const char *kind)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(f);
    hsize_t d = n;
    hid_t s = H5Screate_simple(1, &d, NULL);
    NT_CHECK_H5(s);
    hid_t ds = H5Dcreate2(f, "tokens", H5T_STD_U32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(ds);
    NT_CHECK_H5(H5Dwrite(ds, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, tok));
    NT_CHECK_H5(H5Dclose(ds));
    if (mask) {
        ds = H5Dcreate2(f, "loss_mask", H5T_STD_U8LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        NT_CHECK_H5(ds);
        NT_CHECK_H5(H5Dwrite(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, mask));
        NT_CHECK_H5(H5Dclose(ds));
    }
    NT_CHECK_H5(H5Sclose(s));
    d = noff;
    s = H5Screate_simple(1, &d, NULL);
    NT_CHECK_H5(s);
    ds = H5Dcreate2(f, "doc_offsets", H5T_STD_U64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(ds);
    NT_CHECK_H5(H5Dwrite(ds, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, offs));
    NT_CHECK_H5(H5Dclose(ds));
    NT_CHECK_H5(H5Sclose(s));
    long long v[2] = {64, 63};
    const char *an[2] = {"vocab_size", "eod_id"};
    for (int i = 0; i < 2; i++) {
        s = H5Screate(H5S_SCALAR);
        NT_CHECK_H5(s);
        hid_t a = H5Acreate2(f, an[i], H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
        NT_CHECK_H5(a);
        NT_CHECK_H5(H5Awrite(a, H5T_NATIVE_LLONG, &v[i]));
        NT_CHECK_H5(H5Aclose(a));
        NT_CHECK_H5(H5Sclose(s));
    }
    hid_t t = H5Tcopy(H5T_C_S1);
    NT_CHECK_H5(t);
    NT_CHECK_H5(H5Tset_size(t, strlen(kind) + 1));
    s = H5Screate(H5S_SCALAR);
    NT_CHECK_H5(s);
    hid_t a = H5Acreate2(f, "kind", t, s, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(a);
    NT_CHECK_H5(H5Awrite(a, t, kind));
    NT_CHECK_H5(H5Aclose(a)); NT_CHECK_H5(H5Sclose(s)); NT_CHECK_H5(H5Tclose(t));
    NT_CHECK_H5(H5Fclose(f));
}

/* dataset i: 4001 tokens, every token = 10 + i (identifies the source) */
static void make_pretrain(const char *path, int i)
{
    uint64_t n = 4001, offs[2] = {0, n};
    uint32_t *t = malloc(n * 4);
    for (uint64_t j = 0; j < n; j++) t[j] = (uint32_t)(10 + i);
    write_file(path, t, n, offs, 2, NULL, "pretrain");
    free(t);
}

static void config(nt_config *c, const char *train, double switch_at, const char *sw, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->seq_len = 8;
    c->vocab = 64;
    c->seed = (long)seed;
    char err[256];
    c->n_blend = nt_blend_parse(train, c->blend, NT_MAX_BLEND, err, sizeof err);
    if (c->n_blend < 0) { printf("bad blend %s: %s\n", train, err); exit(1); }
    c->switch_at = switch_at;
    snprintf(c->switch_blend, sizeof c->switch_blend, "%s", sw);
}

int main(int argc, char **argv)
{
    NT_CHECK_MPI(MPI_Init(&argc, &argv));
    const char *dir = argc > 1 ? argv[1] : "tests/work/test_data_blend";
    mkdir("tests", 0755);
    mkdir("tests/work", 0755);
    mkdir(dir, 0755);
    char p[4][1100];
    for (int i = 0; i < 4; i++) { snprintf(p[i], sizeof p[i], "%s/blend%d.h5", dir, i); make_pretrain(p[i], i); }
    nt_deck_info info;
    memset(&info, 0, sizeof info);
    static nt_blend b, b2, b3;
    nt_config c;
    char spec[8000];
    int32_t x[9], y[9];

    /* fractions */
    snprintf(spec, sizeof spec, "%s:0.5 %s:0.3 %s:0.2", p[0], p[1], p[2]);
    config(&c, spec, 0, "", 1234);
    nt_blend_open(&b, &c, &info);
    const int K = 20000;
    int cnt[4] = {0};
    for (int k = 0; k < K; k++) {
        nt_blend_sample(&b, (uint64_t)k, x);
        int src = x[0] - 10;
        for (int j = 1; j < 9; j++) EXPECT(x[j] == x[0], "sample %d mixes datasets", k);
        cnt[src]++;
    }
    double w[3] = {0.5, 0.3, 0.2};
    for (int i = 0; i < 3; i++) {
        double f = (double)cnt[i] / K, sd = sqrt(w[i] * (1 - w[i]) / K);
        printf("blend: dataset %d weight %.2f observed %.4f (4 sigma = %.4f)\n", i, w[i], f, 4 * sd);
        EXPECT(fabs(f - w[i]) < 4 * sd, "dataset %d fraction %.4f, weight %.2f", i, f, w[i]);
    }
    /* determinism and resume: a fresh blend, reverse order */
    nt_blend_open(&b2, &c, &info);
    int same = 1;
    for (int k = K - 1; k >= 0; k -= 7) {
        nt_blend_sample(&b, (uint64_t)k, x);
        nt_blend_sample(&b2, (uint64_t)k, y);
        if (memcmp(x, y, sizeof x)) same = 0;
    }
    EXPECT(same, "a fresh blend (resume) gives other samples");
    nt_blend_close(&b2);
    config(&c, spec, 0, "", 99);
    nt_blend_open(&b2, &c, &info);
    int diff = 0;
    for (int k = 0; k < 200; k++) diff += nt_blend_pick(&b, (uint64_t)k) != nt_blend_pick(&b2, (uint64_t)k);
    EXPECT(diff > 50, "another seed changes the dataset choice (%d of 200 differ)", diff);
    nt_blend_close(&b2);
    nt_blend_close(&b);

    /* switch at 80000 tokens = sample 10000 (seq_len 8) */
    char sw[4000];
    snprintf(spec, sizeof spec, "%s:0.7 %s:0.3", p[0], p[1]);
    snprintf(sw, sizeof sw, "%s:0.4 %s:0.6", p[1], p[3]);
    config(&c, spec, 80000, sw, 1234);
    nt_blend_open(&b, &c, &info);
    EXPECT(b.switch_sample == 10000, "switch sample %llu, want 10000", (unsigned long long)b.switch_sample);
    int before[4] = {0}, after[4] = {0};
    for (int k = 0; k < 20000; k++) {
        nt_blend_sample(&b, (uint64_t)k, x);
        int *h = k < 10000 ? before : after, d = x[0] - 10;
        EXPECT(d >= 0 && d < 4, "sample %d from no dataset of the blend (token %d)", k, x[0]);
        if (d >= 0 && d < 4) h[d]++;
    }
    printf("switch: before %d %d %d %d, after %d %d %d %d\n", before[0], before[1], before[2], before[3], after[0],
           after[1], after[2], after[3]);
    EXPECT(before[3] == 0 && before[2] == 0 && after[0] == 0 && after[2] == 0, "switch mixed the blends");
    EXPECT(fabs(before[0] / 1e4 - 0.7) < 4 * sqrt(0.21 / 1e4), "pre-switch fraction %.4f", before[0] / 1e4);
    EXPECT(fabs(after[3] / 1e4 - 0.6) < 4 * sqrt(0.24 / 1e4), "post-switch fraction %.4f", after[3] / 1e4);
    nt_blend_close(&b);

    /* one dataset = the plain sampler */
    config(&c, p[0], 0, "", 1234);
    nt_blend_open(&b3, &c, &info);
    nt_dataset d;
    nt_dataset_open(&d, p[0], 8, 64, 1234);
    int eq = 1;
    for (uint64_t k = 0; k < 2000; k++) {
        nt_blend_sample(&b3, k, x);
        nt_dataset_sample(&d, k, y);
        if (memcmp(x, y, sizeof x)) eq = 0;
    }
    EXPECT(eq, "a one-dataset blend differs from nt_dataset_sample");
    nt_dataset_close(&d);
    nt_blend_close(&b3);

    /* SFT padding: 3 conversations of 5, 12 and 9 tokens, seq_len 8 (rows of 9) */
    uint64_t lens[3] = {5, 12, 9}, offs[4] = {0, 5, 17, 26};
    uint32_t tok[26];
    uint8_t mask[26];
    for (int s = 0; s < 3; s++)
        for (uint64_t j = offs[s]; j < offs[s + 1]; j++) { tok[j] = (uint32_t)(20 * s + 1 + (j - offs[s])); mask[j] = (uint8_t)((j * 7 + s) % 3 == 0); }
    char sp[1100];
    snprintf(sp, sizeof sp, "%s/sft.h5", dir);
    write_file(sp, tok, 26, offs, 4, mask, "sft");
    nt_padded sd;
    nt_padded_open(&sd, sp, NT_PADDED_SFT, 8, 64, "", 0, 1234);
    int seen[3] = {0};
    for (uint64_t k = 0; k < 30; k++) {
        int32_t t[9];
        uint8_t m[9];
        nt_padded_row r = {.tokens = t, .mask = m};
        nt_padded_get(&sd, k, 0, &r);
        uint64_t len = r.length;
        int s = (t[0] - 1) / 20;
        EXPECT(s >= 0 && s < 3 && len == lens[s], "sample %llu: not a conversation start", (unsigned long long)k);
        if (s < 0 || s > 2) continue;
        seen[s]++;
        uint64_t n = len < 9 ? len : 9;
        for (uint64_t j = 0; j < 9; j++) {
            if (j < n) {
                EXPECT(t[j] == (int32_t)tok[offs[s] + j] && m[j] == mask[offs[s] + j],
                       "sample %llu pos %llu: token/mask differ from conversation %d", (unsigned long long)k, (unsigned long long)j, s);
            } else {
                EXPECT(t[j] == 63 && m[j] == 0, "sample %llu pos %llu: padding is not EOD with mask 0", (unsigned long long)k, (unsigned long long)j);
            }
        }
    }
    EXPECT(seen[0] == 10 && seen[1] == 10 && seen[2] == 10, "30 samples are not 3 epochs of 3 conversations");
    EXPECT(sd.truncated == 10, "truncated %llu, want 10", (unsigned long long)sd.truncated);
    nt_padded_close(&sd);

    printf(fails ? "test_data_blend: %d failed\n" : "test_data_blend: all passed\n", fails);
    NT_CHECK_MPI(MPI_Finalize());
    return fails ? 1 : 0;
}
