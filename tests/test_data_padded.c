/* test_data_padded.c — the padded-sample reader (src/data/data_padded.h) on
 * small HDF5 files written here from JSON lines with byte tokens (token =
 * byte, BOS 256, EOD 257, vocab 258, the byte tokenizer's hash), laid out
 * as `ntron prep` lays them out:
 *   - SFT: every row is its conversation's bytes (BOS, "role: " headers
 *     mask 0, user text mask 0, assistant text + "\n" mask 1, EOD mask 1),
 *     padded with EOD/mask 0, truncated to seq_len+1, end, length, the
 *     truncation count;
 *   - reward: the sample's bytes, at most seq_len of them (EOD after),
 *     end = last kept token, labels int8 -> float, mask all 0;
 *   - preference: part 0 = prompt+chosen, part 1 = prompt+rejected of the
 *     SAME pair for the same k, prompt masked 0, response 1, r* (NaN when
 *     absent, and without a /rewards dataset);
 *   - epochs: every sample exactly once per epoch, another order in each
 *     of 4 epochs, the order = nt_perm_index under the keys "data.sft" /
 *     "data.reward" / "data.preference" (today's SFT and reward order);
 *   - blends: after every prefix of 20000 samples each dataset has given
 *     w·K samples to within 2 (weights 0.98/0.02 — general SFT keeping 2%
 *     code — and 0.5/0.3/0.2), each dataset's own samples in its epoch
 *     order, rows a pure function of (seed, k) (a fresh blend, reverse and
 *     random order agree), a one-dataset blend = nt_padded_get.
 * Modes used by tests/test_bad_data.sh:
 *   --open KIND FILE SEQ VOCAB TOKENIZER NLABELS   open and read every sample once
 *   --prep KIND FILE JSONL TOKENIZER               rows of an `ntron prep` file equal
 *                                                  nt_prep_record of the source lines */
#include "util/check.h"
#include "data/data.h"
#include "data/data_padded.h"
#include "prep/prep_format.h"
#include "util/rng.h"
#include "tokenizer/tokenizer.h"

#include <cjson/cJSON.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <string.h>
#include <sys/stat.h>

static int fails = 0;
#define EXPECT(c, ...) do { if (!(c)) { fails++; printf("FAIL: " __VA_ARGS__); printf("\n"); } } while (0)

enum { BOS = 256, EOD = 257, VOCAB = 258 };

/* ---- byte rendering of one JSON line: tokens, mask and (preference) the 4 ranges ---- */
typedef struct { uint32_t t[4096]; uint8_t m[4096]; size_t n; uint64_t rg[4]; float rw[2]; int8_t lab[5]; } rec;

static void put(rec *r, const char *s, uint8_t m)
{
    for (; *s; s++) { r->t[r->n] = (unsigned char)*s; r->m[r->n++] = m; }
}
static void put_id(rec *r, uint32_t id, uint8_t m) { r->t[r->n] = id; r->m[r->n++] = m; }
static const char *str(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k)->valuestring; }

static void render(nt_padded_kind kind, const char *line, rec *r)
{
    memset(r, 0, sizeof *r);
    cJSON *o = cJSON_Parse(line);
    if (!o) { printf("bad test JSON: %s\n", line); exit(1); }
    put_id(r, BOS, 0);
    if (kind == NT_PADDED_SFT) {
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(o, "messages")) {
            int a = !strcmp(str(m, "role"), "assistant");
            put(r, str(m, "role"), 0);
            put(r, ": ", 0);
            put(r, str(m, "content"), (uint8_t)a);
            put(r, "\n", (uint8_t)a);
        }
        put_id(r, EOD, 1);
    } else if (kind == NT_PADDED_REWARD) {
        put(r, str(o, "prompt"), 0);
        put(r, "\n", 0);
        put(r, str(o, "response"), 0);
        put(r, "\n", 0);
        put_id(r, EOD, 0);
        const char *at[5] = {"helpfulness", "correctness", "coherence", "complexity", "verbosity"};
        for (int i = 0; i < 5; i++) r->lab[i] = (int8_t)cJSON_GetObjectItemCaseSensitive(o, at[i])->valueint;
    } else {
        put(r, str(o, "prompt"), 0);
        put(r, "\n", 0);
        r->rg[1] = r->n;
        put(r, str(o, "chosen"), 0);
        put_id(r, EOD, 0);
        r->rg[2] = r->n;
        put(r, str(o, "rejected"), 0);
        put_id(r, EOD, 0);
        r->rg[3] = r->n;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "chosen_reward");
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, "rejected_reward");
        r->rw[0] = c ? (float)c->valuedouble : NAN;
        r->rw[1] = j ? (float)j->valuedouble : NAN;
    }
    cJSON_Delete(o);
}

/* ---- writing a dataset file as prep does ---------------------------------------------- */
static void ds_write(hid_t f, const char *name, hid_t ftype, hid_t mtype, int rank, hsize_t d0, hsize_t d1, const void *buf)
{
    hsize_t dims[2] = {d0, d1};
    hid_t s = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, name, ftype, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(d);
    NT_CHECK_H5(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
    H5Dclose(d);
    H5Sclose(s);
}

static void attr(hid_t f, const char *name, const char *sval, long long ival)
{
    hid_t s = H5Screate(H5S_SCALAR), t = H5Tcopy(sval ? H5T_C_S1 : H5T_STD_I64LE);
    if (sval) H5Tset_size(t, strlen(sval) + 1);
    hid_t a = H5Acreate2(f, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(a);
    NT_CHECK_H5(sval ? H5Awrite(a, t, sval) : H5Awrite(a, H5T_NATIVE_LLONG, &ival));
    H5Aclose(a);
    H5Tclose(t);
    H5Sclose(s);
}

/* writes lines[0..n) of kind to path; with_rewards = 0 leaves /rewards out */
static void make_file(const char *path, nt_padded_kind kind, const char *const *lines, int n, int with_rewards)
{
    static rec r;
    size_t cap = 1 << 16, nt = 0;
    uint32_t *tok = malloc(cap * 4);
    uint8_t *mask = malloc(cap);
    uint64_t *offs = malloc((n + 1) * 8), *rg = malloc(n * 32);
    float *rw = malloc(n * 8);
    int8_t *lab = malloc(n * 5);
    offs[0] = 0;
    for (int i = 0; i < n; i++) {
        render(kind, lines[i], &r);
        memcpy(tok + nt, r.t, r.n * 4);
        memcpy(mask + nt, r.m, r.n);
        for (int j = 0; j < 4; j++) rg[4 * i + j] = nt + r.rg[j];
        memcpy(rw + 2 * i, r.rw, 8);
        memcpy(lab + 5 * i, r.lab, 5);
        nt += r.n;
        offs[i + 1] = nt;
    }
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(f);
    ds_write(f, "tokens", H5T_STD_U32LE, H5T_NATIVE_UINT32, 1, nt, 1, tok);
    ds_write(f, "doc_offsets", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, (hsize_t)n + 1, 1, offs);
    if (kind == NT_PADDED_SFT) ds_write(f, "loss_mask", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, nt, 1, mask);
    if (kind == NT_PADDED_REWARD) ds_write(f, "labels", H5T_STD_I8LE, H5T_NATIVE_INT8, 2, (hsize_t)n, 5, lab);
    if (kind == NT_PADDED_PREFERENCE) {
        ds_write(f, "ranges", H5T_STD_U64LE, H5T_NATIVE_UINT64, 2, (hsize_t)n, 4, rg);
        if (with_rewards) ds_write(f, "rewards", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, (hsize_t)n, 2, rw);
    }
    char hash[65];
    nt_tokenizer_hash("byte", hash);
    attr(f, "vocab_size", NULL, VOCAB);
    attr(f, "eod_id", NULL, EOD);
    attr(f, "bos_id", NULL, BOS);
    attr(f, "kind", nt_padded_kind_name(kind), 0);
    attr(f, "tokenizer", "byte", 0);
    attr(f, "tokenizer_hash", hash, 0);
    NT_CHECK_H5(H5Fclose(f));
    free(tok); free(mask); free(offs); free(rg); free(rw); free(lab);
}

/* ---- the sources ----------------------------------------------------------------------- */
#define U(x) "{\"role\":\"user\",\"content\":\"" x "\"}"
#define A(x) "{\"role\":\"assistant\",\"content\":\"" x "\"}"
static const char *const sft_lines[] = {
    "{\"messages\":[" U("hi") "," A("yo") "]}",
    "{\"messages\":[" U("2+2?") "," A("4") "]}",
    "{\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"}," U("name a colour") "," A("red") "]}",
    "{\"messages\":[" U("a") "," A("b") "," U("c") "," A("d") "]}",
    "{\"messages\":[" U("tell me a long story about the sea") "," A("once upon a time the sea was calm") "]}",
    "{\"messages\":[" U("x") "," A("a fairly long answer") "]}",
    "{\"messages\":[" U("q") "," A("z") "]}",
};
static const char *const code_lines[] = {
    "{\"messages\":[" U("write C") "," A("int main(void){return 0;}") "]}",
    "{\"messages\":[" U("sort") "," A("qsort(a,n,4,cmp);") "]}",
    "{\"messages\":[" U("loop") "," A("for(;;);") "]}",
};
#define RM(p, r, a, b, c, d, e) "{\"prompt\":\"" p "\",\"response\":\"" r "\",\"helpfulness\":" #a ",\"correctness\":" #b \
    ",\"coherence\":" #c ",\"complexity\":" #d ",\"verbosity\":" #e "}"
static const char *const rm_lines[] = {
    RM("hi", "hello", 4, 4, 4, 0, 1), RM("2+2?", "5", 0, 0, 3, 0, 0),
    RM("explain the tides in detail please", "the moon pulls the water", 3, 4, 4, 2, 2),
    RM("a", "b", 1, 2, 3, 4, 0), RM("longish prompt here", "and a longish response too", 2, 2, 2, 2, 2),
};
static const char *const pref_lines[] = {
    "{\"prompt\":\"hi\",\"chosen\":\"hello!\",\"rejected\":\"go away\",\"chosen_reward\":4.5,\"rejected_reward\":-1.25}",
    "{\"prompt\":\"2+2?\",\"chosen\":\"4\",\"rejected\":\"5\"}",
    "{\"prompt\":\"a very long prompt that fills the row\",\"chosen\":\"yes\",\"rejected\":\"no\",\"chosen_reward\":1,\"rejected_reward\":0}",
    "{\"prompt\":\"q\",\"chosen\":\"a long chosen answer\",\"rejected\":\"short\",\"chosen_reward\":2,\"rejected_reward\":3}",
    "{\"prompt\":\"colour?\",\"chosen\":\"blue\",\"rejected\":\"seven\",\"rejected_reward\":0.5}",
    "{\"prompt\":\"x\",\"chosen\":\"y\",\"rejected\":\"z\",\"chosen_reward\":0,\"rejected_reward\":0}",
};
#define NLINES(a) ((int)(sizeof a / sizeof a[0]))

enum { SEQ = 32 };

/* row == the expected tokens e[0..n) (mask em, or NULL: all 0) padded/truncated to cap real tokens */
static void expect_row(const char *what, uint64_t k, const nt_padded_row *row, const uint32_t *e, const uint8_t *em,
                       size_t n, size_t cap)
{
    size_t keep = n < cap ? n : cap;
    int ok = row->length == n && row->end == (int)(n < SEQ ? n : SEQ) - 1;
    for (size_t i = 0; i <= SEQ; i++) {
        int32_t want = i < keep ? (int32_t)e[i] : EOD;
        uint8_t wm = i < keep && em ? em[i] : 0;
        if (row->tokens[i] != want || (row->mask && row->mask[i] != wm)) ok = 0;
    }
    EXPECT(ok, "%s sample %llu: row differs from the source (length %llu/%zu, end %d)", what, (unsigned long long)k,
           (unsigned long long)row->length, n, row->end);
}

/* every index exactly once per epoch, a new order each epoch, the order of key name */
static void check_epochs(const char *what, const nt_padded *d, const char *key, uint64_t seed)
{
    uint64_t n = nt_padded_count(d), order[4][64];
    int once = 1, formula = 1;
    uint64_t key0 = nt_rng_key(seed, key);
    for (int e = 0; e < 4; e++) {
        int seen[64] = {0};
        for (uint64_t j = 0; j < n; j++) {
            uint64_t ep, idx = nt_padded_index(d, (uint64_t)e * n + j, &ep);
            order[e][j] = idx;
            if (ep != (uint64_t)e || idx >= n || seen[idx]++) once = 0;
            if (idx != nt_perm_index(key0 + (uint64_t)e * 0xD1B54A32D192ED03ull, n, j)) formula = 0;
        }
    }
    EXPECT(once, "%s: not every sample exactly once per epoch", what);
    EXPECT(formula, "%s: order is not nt_perm_index under key %s", what, key);
    int distinct = 1;
    for (int a = 0; a < 4; a++)
        for (int b = a + 1; b < 4; b++)
            if (!memcmp(order[a], order[b], n * sizeof(uint64_t))) distinct = 0;
    EXPECT(distinct, "%s: two epochs in the same order", what);
    printf("%s: epochs 0-3 start with samples %llu %llu %llu %llu\n", what, (unsigned long long)order[0][0],
           (unsigned long long)order[1][0], (unsigned long long)order[2][0], (unsigned long long)order[3][0]);
}

static void test_sft(const char *dir)
{
    char p[1100];
    snprintf(p, sizeof p, "%s/sft.h5", dir);
    make_file(p, NT_PADDED_SFT, sft_lines, NLINES(sft_lines), 1);
    nt_padded d;
    nt_padded_open(&d, p, NT_PADDED_SFT, SEQ, 300, "byte", 0, 42);
    int n = NLINES(sft_lines);
    EXPECT(nt_padded_count(&d) == (uint64_t)n, "sft count %llu", (unsigned long long)nt_padded_count(&d));
    static rec r;
    int32_t t[SEQ + 1];
    uint8_t m[SEQ + 1];
    uint64_t want_trunc = 0;
    for (uint64_t k = 0; k < 4 * (uint64_t)n; k++) {
        nt_padded_row row = {.tokens = t, .mask = m};
        nt_padded_get(&d, k, 0, &row);
        uint64_t idx = nt_padded_index(&d, k, NULL);
        render(NT_PADDED_SFT, sft_lines[idx], &r);
        expect_row("sft", k, &row, r.t, r.m, r.n, SEQ + 1);
        want_trunc += r.n > SEQ + 1;
        /* a mask is 1 exactly on assistant bytes and the EOD: check one directly */
        if (idx == 0 && k < (uint64_t)n) {
            const char *s = "user: hi\nassistant: yo\n";
            int ok = t[0] == BOS;
            for (size_t i = 0; s[i]; i++) ok &= t[1 + i] == (unsigned char)s[i] && m[1 + i] == (i >= 20);
            ok &= t[24] == EOD && m[24] == 1 && t[25] == EOD && m[25] == 0;
            EXPECT(ok, "sft sample 0: not BOS 'user: hi' (mask 0) 'assistant: ' (mask 0) 'yo\\n' EOD (mask 1)");
        }
    }
    EXPECT(want_trunc > 0 && nt_padded_truncated(&d) == want_trunc, "sft truncated %llu, want %llu (> 0)",
           (unsigned long long)nt_padded_truncated(&d), (unsigned long long)want_trunc);
    check_epochs("sft", &d, "data.sft", 42);
    nt_padded_close(&d);
}

static void test_reward(const char *dir)
{
    char p[1100];
    snprintf(p, sizeof p, "%s/reward.h5", dir);
    make_file(p, NT_PADDED_REWARD, rm_lines, NLINES(rm_lines), 1);
    nt_padded d;
    nt_padded_open(&d, p, NT_PADDED_REWARD, SEQ, 258, "byte", 5, 42);
    int n = NLINES(rm_lines);
    static rec r;
    int32_t t[SEQ + 1];
    uint8_t m[SEQ + 1];
    float lab[5];
    uint64_t want_trunc = 0;
    for (uint64_t k = 0; k < 4 * (uint64_t)n; k++) {
        nt_padded_row row = {.tokens = t, .mask = m, .labels = lab};
        memset(m, 7, sizeof m);
        nt_padded_get(&d, k, 0, &row);
        uint64_t idx = nt_padded_index(&d, k, NULL);
        render(NT_PADDED_REWARD, rm_lines[idx], &r);
        expect_row("reward", k, &row, r.t, NULL, r.n, SEQ); /* at most seq_len real tokens */
        want_trunc += r.n > SEQ;
        int ok = 1;
        for (int i = 0; i < 5; i++) ok &= lab[i] == (float)r.lab[i];
        EXPECT(ok, "reward sample %llu: labels differ", (unsigned long long)k);
    }
    EXPECT(want_trunc > 0 && nt_padded_truncated(&d) == want_trunc, "reward truncated %llu, want %llu (> 0)",
           (unsigned long long)nt_padded_truncated(&d), (unsigned long long)want_trunc);
    check_epochs("reward", &d, "data.reward", 42);
    nt_padded_close(&d);
}

static void test_preference(const char *dir)
{
    int n = NLINES(pref_lines);
    for (int with = 1; with >= 0; with--) {
        char p[1100];
        snprintf(p, sizeof p, "%s/pref%d.h5", dir, with);
        make_file(p, NT_PADDED_PREFERENCE, pref_lines, n, with);
        nt_padded d;
        nt_padded_open(&d, p, NT_PADDED_PREFERENCE, SEQ, 258, "", 0, 42);
        static rec r;
        int32_t t[2][SEQ + 1];
        uint8_t m[2][SEQ + 1];
        float lab[2];
        uint64_t want_trunc = 0;
        for (uint64_t k = 0; k < 4 * (uint64_t)n; k++) {
            uint64_t idx = nt_padded_index(&d, k, NULL);
            render(NT_PADDED_PREFERENCE, pref_lines[idx], &r);
            for (int part = 0; part < 2; part++) {
                nt_padded_row row = {.tokens = t[part], .mask = m[part], .labels = lab + part};
                nt_padded_get(&d, k, part, &row);
                /* expected: the prompt's bytes (mask 0) then this response's (mask 1) */
                uint32_t e[4096];
                uint8_t em[4096];
                size_t ne = 0, a = r.rg[1 + part], b = r.rg[2 + part];
                for (size_t i = 0; i < r.rg[1]; i++) e[ne] = r.t[i], em[ne++] = 0;
                for (size_t i = a; i < b; i++) e[ne] = r.t[i], em[ne++] = 1;
                expect_row(part ? "preference rejected" : "preference chosen", k, &row, e, em, ne, SEQ + 1);
                want_trunc += ne > SEQ + 1;
                float w = with ? r.rw[part] : NAN;
                EXPECT(isnan(w) ? isnan(lab[part]) : lab[part] == w, "pair sample %llu part %d: r* %g, want %g",
                       (unsigned long long)k, part, lab[part], w);
            }
            /* the same pair: both rows start with the same prompt */
            EXPECT(!memcmp(t[0], t[1], (r.rg[1] < SEQ + 1 ? r.rg[1] : SEQ + 1) * 4), "pair sample %llu: the rows' prompts differ",
                   (unsigned long long)k);
        }
        EXPECT(want_trunc > 0 && nt_padded_truncated(&d) == want_trunc, "preference truncated %llu, want %llu (> 0)",
               (unsigned long long)nt_padded_truncated(&d), (unsigned long long)want_trunc);
        if (with) check_epochs("preference", &d, "data.preference", 42);
        nt_padded_close(&d);
    }
}

static void blend_fractions(nt_padded_blend *b, const double *w, int n, const char *what)
{
    const uint64_t K = 20000;
    uint64_t cnt[4] = {0};
    double worst = 0;
    int in_order = 1;
    for (uint64_t k = 0; k < K; k++) {
        uint64_t s;
        int i = nt_padded_blend_pick(b, k, &s);
        if (s != cnt[i]) in_order = 0; /* each dataset's samples 0, 1, 2, ... of its own mixer */
        cnt[i]++;
        for (int j = 0; j < n; j++) {
            double dev = fabs((double)cnt[j] - w[j] * (double)(k + 1));
            if (dev > worst) worst = dev;
        }
    }
    printf("blend %s: counts", what);
    for (int j = 0; j < n; j++) printf(" %llu (w·K %.1f)", (unsigned long long)cnt[j], w[j] * K);
    printf("; largest |count - w·k| over all prefixes %.3f (tolerance 2)\n", worst);
    EXPECT(worst <= 2.0, "blend %s: a prefix is %.3f samples off its weights", what, worst);
    EXPECT(in_order, "blend %s: a dataset's samples are not taken in its own order", what);
}

static void test_blend(const char *dir)
{
    nt_blend_item it[3];
    snprintf(it[0].path, sizeof it[0].path, "%s/sft.h5", dir);
    snprintf(it[1].path, sizeof it[1].path, "%s/code.h5", dir);
    snprintf(it[2].path, sizeof it[2].path, "%s/sft_b.h5", dir);
    make_file(it[1].path, NT_PADDED_SFT, code_lines, NLINES(code_lines), 1);
    make_file(it[2].path, NT_PADDED_SFT, sft_lines + 2, 4, 1);
    static nt_padded_blend b, b2;
    /* general SFT keeping 2% code */
    it[0].weight = 49, it[1].weight = 1;
    nt_padded_blend_open(&b, it, 2, NT_PADDED_SFT, SEQ, 258, "byte", 0, 42);
    blend_fractions(&b, (double[]){0.98, 0.02}, 2, "0.98/0.02");
    nt_padded_blend_close(&b);
    it[0].weight = 0.5, it[1].weight = 0.3, it[2].weight = 0.2;
    nt_padded_blend_open(&b, it, 3, NT_PADDED_SFT, SEQ, 258, "", 0, 42);
    blend_fractions(&b, (double[]){0.5, 0.3, 0.2}, 3, "0.5/0.3/0.2");

    /* rows: the picked dataset's own sample; a fresh blend in reverse / random order agrees */
    nt_padded_blend_open(&b2, it, 3, NT_PADDED_SFT, SEQ, 258, "", 0, 42);
    int32_t x[SEQ + 1], y[SEQ + 1];
    uint8_t mx[SEQ + 1], my[SEQ + 1];
    int same = 1, own = 1;
    for (uint64_t k = 30000; k-- > 0;) {
        if (k % 7) continue;
        nt_padded_row rx = {.tokens = x, .mask = mx}, ry = {.tokens = y, .mask = my};
        nt_padded_blend_get(&b2, k, 0, &rx);
        nt_padded_blend_get(&b, (k * 7919) % 30000, 0, &ry); /* random order on b, to move its memo */
        nt_padded_blend_get(&b, k, 0, &ry);
        if (memcmp(x, y, sizeof x) || memcmp(mx, my, sizeof mx) || rx.length != ry.length) same = 0;
        uint64_t s;
        int i = nt_padded_blend_pick(&b, k, &s);
        nt_padded_get(&b.ds[i], s, 0, &ry);
        if (memcmp(x, y, sizeof x)) own = 0;
    }
    EXPECT(same, "blend rows depend on the access order or on the blend instance");
    EXPECT(own, "a blend row is not its dataset's own sample");
    nt_padded_blend_close(&b2);
    nt_padded_blend_open(&b2, it, 3, NT_PADDED_SFT, SEQ, 258, "", 0, 43);
    int diff = 0;
    for (uint64_t k = 0; k < 200; k++) {
        nt_padded_row rx = {.tokens = x}, ry = {.tokens = y};
        nt_padded_blend_get(&b, k, 0, &rx);
        nt_padded_blend_get(&b2, k, 0, &ry);
        diff += memcmp(x, y, sizeof x) != 0;
    }
    EXPECT(diff > 50, "another seed changes the rows (%d of 200 differ)", diff);
    nt_padded_blend_close(&b2);
    nt_padded_blend_close(&b);

    /* one dataset = nt_padded_get */
    nt_padded d;
    nt_padded_open(&d, it[0].path, NT_PADDED_SFT, SEQ, 258, "", 0, 42);
    nt_padded_blend_open(&b, it, 1, NT_PADDED_SFT, SEQ, 258, "", 0, 42);
    int eq = 1;
    for (uint64_t k = 0; k < 100; k++) {
        nt_padded_row rx = {.tokens = x, .mask = mx}, ry = {.tokens = y, .mask = my};
        nt_padded_get(&d, k, 0, &rx);
        nt_padded_blend_get(&b, k, 0, &ry);
        if (memcmp(x, y, sizeof x) || memcmp(mx, my, sizeof mx)) eq = 0;
    }
    EXPECT(eq, "a one-dataset blend differs from nt_padded_get");
    nt_padded_blend_close(&b);
    nt_padded_close(&d);
}

/* ---- modes for tests/test_bad_data.sh ------------------------------------------------------- */
static nt_padded_kind parse_kind(const char *s)
{
    if (!strcmp(s, "sft")) return NT_PADDED_SFT;
    if (!strcmp(s, "reward")) return NT_PADDED_REWARD;
    if (!strcmp(s, "preference")) return NT_PADDED_PREFERENCE;
    printf("unknown kind %s\n", s);
    exit(1);
}

static int mode_open(char **a)
{
    nt_padded_kind kind = parse_kind(a[0]);
    int seq = atoi(a[2]);
    nt_padded d;
    nt_padded_open(&d, a[1], kind, seq, atoi(a[3]), a[4], atoi(a[5]), 1);
    int32_t *t = malloc(((size_t)seq + 1) * 4);
    float lab[64];
    for (uint64_t k = 0; k < nt_padded_count(&d); k++)
        for (int part = 0; part < (kind == NT_PADDED_PREFERENCE ? 2 : 1); part++) {
            nt_padded_row row = {.tokens = t, .labels = lab};
            nt_padded_get(&d, k, part, &row);
        }
    printf("%s: %llu samples, %llu rows truncated\n", a[1], (unsigned long long)nt_padded_count(&d),
           (unsigned long long)nt_padded_truncated(&d));
    free(t);
    nt_padded_close(&d);
    return 0;
}

/* every row of an `ntron prep` file (seq_len 4096: none truncated) equals nt_prep_record of its source line */
static int mode_prep(char **a)
{
    nt_padded_kind kind = parse_kind(a[0]);
    nt_prep_format fmt = kind == NT_PADDED_SFT ? NT_FMT_CHAT : kind == NT_PADDED_REWARD ? NT_FMT_RM : NT_FMT_PREF;
    nt_tokenizer tok;
    nt_tokenizer_open(&tok, a[3]);
    FILE *f = fopen(a[2], "r");
    if (!f) { printf("cannot open %s\n", a[2]); return 1; }
    static char lines[4096][2048];
    int nl = 0;
    while (nl < 4096 && fgets(lines[nl], sizeof lines[nl], f)) nl++;
    fclose(f);
    enum { T = 4096 };
    nt_padded d;
    nt_padded_open(&d, a[1], kind, T, tok.vocab, a[3], 5, 1);
    static int32_t t[T + 1];
    static uint8_t m[T + 1];
    float lab[5];
    int bad = 0;
    EXPECT(nt_padded_count(&d) == (uint64_t)nl, "%s: %llu samples, %d source lines", a[1],
           (unsigned long long)nt_padded_count(&d), nl);
    for (uint64_t k = 0; k < nt_padded_count(&d) && !bad; k++) {
        uint64_t idx = nt_padded_index(&d, k, NULL);
        nt_prep_out o;
        memset(&o, 0, sizeof o);
        char err[512];
        if (nt_prep_record(fmt, &tok, lines[idx], strcspn(lines[idx], "\n"), &o, err, sizeof err)) {
            printf("line %llu: %s\n", (unsigned long long)idx + 1, err);
            return 1;
        }
        const uint32_t *v = o.tok.v;
        const uint64_t *rg = (const uint64_t *)o.ranges.p;
        for (int part = 0; part < (kind == NT_PADDED_PREFERENCE ? 2 : 1); part++) {
            nt_padded_row row = {.tokens = t, .mask = m, .labels = lab};
            nt_padded_get(&d, k, part, &row);
            size_t n = 0;
            int ok = 1;
            if (kind == NT_PADDED_PREFERENCE) {
                size_t a0 = rg[1 + part], b0 = rg[2 + part];
                for (size_t i = 0; i < rg[1]; i++, n++) ok &= t[n] == (int32_t)v[i] && m[n] == 0;
                for (size_t i = a0; i < b0; i++, n++) ok &= t[n] == (int32_t)v[i] && m[n] == 1;
                float w = ((const float *)o.rewards.p)[part];
                ok &= isnan(w) ? isnan(lab[0]) : lab[0] == w;
            } else {
                for (size_t i = 0; i < o.tok.n; i++, n++)
                    ok &= t[n] == (int32_t)v[i] && m[n] == (kind == NT_PADDED_SFT ? o.mask.p[i] : 0);
                for (int i = 0; kind == NT_PADDED_REWARD && i < 5; i++) ok &= lab[i] == (float)((int8_t *)o.labels.p)[i];
            }
            ok &= row.length == n && t[n] == d.eod;
            EXPECT(ok, "%s sample %llu (line %llu) part %d differs from nt_prep_record of its source line", a[1],
                   (unsigned long long)k, (unsigned long long)idx + 1, part);
            bad |= !ok;
        }
        free(o.tok.v); free(o.mask.p); free(o.ends.p); free(o.ranges.p); free(o.rewards.p); free(o.labels.p);
    }
    if (!fails) printf("%s: %llu rows equal their source lines\n", a[1], (unsigned long long)nt_padded_count(&d));
    nt_padded_close(&d);
    nt_tokenizer_close(&tok);
    return fails ? 1 : 0;
}

int main(int argc, char **argv)
{
    NT_CHECK_MPI(MPI_Init(&argc, &argv));
    int rc;
    if (argc == 8 && !strcmp(argv[1], "--open")) rc = mode_open(argv + 2);
    else if (argc == 6 && !strcmp(argv[1], "--prep")) rc = mode_prep(argv + 2);
    else {
        const char *dir = argc > 1 ? argv[1] : "tests/work/test_data_padded";
        mkdir("tests", 0755);
        mkdir("tests/work", 0755);
        mkdir(dir, 0755);
        test_sft(dir);
        test_reward(dir);
        test_preference(dir);
        test_blend(dir);
        printf(fails ? "test_data_padded: %d failed\n" : "test_data_padded: all passed\n", fails);
        rc = fails ? 1 : 0;
    }
    MPI_Finalize();
    return rc;
}
