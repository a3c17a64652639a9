/* test_decode.c — KV-cache decoding against the full-sequence forward, under
 * the layout on the command line (TP PP V; DP = world / (TP*PP)):
 * four sequences of seq_len tokens get their full-forward logits (the
 * forward-only pass of a frozen model set, nt_model_head_logits); then the
 * decoder prefills each with a prompt of a different length into a
 * different cache slot (two of them together, the shorter padded) and
 * decodes the rest one token per step, batched,
 * teacher-forced with the same tokens.  Sequence 1 leaves the batch early
 * and sequence 3 joins later in its freed slot.  At every position of
 * every sequence (prompt positions from the prefill, the rest from decode
 * steps) the logits must equal the full forward's: max |diff| / max |ref|
 * <= 1e-5 (fp32: the cached attention sums in another order than the
 * training kernel's blocked GEMMs).  Prints "decode_logit_sum" for the
 * cross-layout comparison of the shell test.
 * With a 4th argument "cuda" (one rank, a GPU; exit 77 without one) the
 * decoder runs on the CUDA backend (bf16 weights from the same seed, the
 * bf16 cached-KV kernel) against the CPU full forward: 3e-2 max-abs/max,
 * the bf16 tolerance of test_cuda_step's logits. */
#include "backend/backend.h"
#include "backend/device.h"
#include "deck/deck.h"
#include "infer/decode.h"
#include "util/check.h"
#include "util/rng.h"

#include <math.h>
#include <string.h>

enum { NSEQ = 4 };

typedef struct full_state { float *logits; int V, T; } full_state;

static double stage_logits(void *state, const nt_stage *s)
{
    full_state *f = state;
    nt_model_head_logits(s->model, s->acts);
    size_t n = (size_t)s->rows * f->T * f->V;
    s->model->ops->from_act(f->logits + (size_t)s->row0 * f->T * f->V, s->acts->logits, n);
    return 0.0;
}

int main(int argc, char **argv)
{
    NT_CHECK_MPI(MPI_Init(&argc, &argv));
    NT_CHECK(argc == 4 || argc == 5, "usage: test_decode TP PP V [cuda]");
    int cuda = argc == 5 && !strcmp(argv[4], "cuda");
    nt_config cfg;
    nt_deck_defaults(&cfg);
    cfg.layers = 4; cfg.hidden = 64; cfg.ffn_hidden = 256; cfg.heads = 4; cfg.kv_heads = 2;
    cfg.vocab = 300; cfg.seq_len = 24; cfg.init_std = 0.2; cfg.seed = 5;
    cfg.tensor = atoi(argv[1]); cfg.pipeline = atoi(argv[2]); cfg.virtual_stages = atoi(argv[3]);
    cfg.micro_batch = 1; cfg.global_batch = NSEQ;
    const nt_ops *ops = nt_backend_cpu();
    nt_modelset ms;
    nt_modelset_init(&ms, &cfg, ops, MPI_COMM_WORLD, 0);
    int rank0 = ms.grid.world.rank == 0, T = cfg.seq_len;
    int V = ms.chunk[ms.v - 1].mc.vocab_local, vocab = cfg.vocab;

    /* the sequences and their full-forward logits */
    nt_batch b = {0};
    nt_batch_reserve(&b, NSEQ, T, 0, 0);
    uint64_t key = nt_rng_key(7, "test_decode");
    for (int r = 0; r < NSEQ; r++)
        for (int t = 0; t <= T; t++) nt_batch_row(&b, r)[t] = (int32_t)(nt_rng_u64(key, (uint64_t)r * 100 + t) % (uint64_t)vocab);
    full_state fs = {nt_calloc((size_t)NSEQ * T * V, sizeof(float), "full logits"), V, T};
    nt_modelset_forward_pass(&ms, &b, stage_logits, &fs, NULL);
    nt_modelset msc, *dm = &ms;
    const nt_ops *dops = ops;
    if (cuda) {
        char msg[512];
        if (nt_device_count(msg, sizeof msg) == 0 || !(dops = nt_backend_cuda(0))) {
            if (rank0) printf("SKIP: cuda decode: %s\n", msg);
            MPI_Finalize();
            return 77;
        }
        NT_CHECK(ms.grid.world.size == 1, "test_decode cuda: one rank");
        nt_modelset_init(&msc, &cfg, dops, MPI_COMM_WORLD, 0);
        dm = &msc;
    }

    /* the decoder: 3 slots for 4 sequences */
    const int prompt[NSEQ] = {5, 1, 9, 3}, stop_at[NSEQ] = {T, 11, T, T}, slot_of[NSEQ] = {2, 0, 1, -1};
    nt_decoder dec;
    nt_decoder_init(&dec, dm, 3, T, T);
    float *got = nt_malloc((size_t)T * V * sizeof(float), "decode logits");
    double maxd = 0, maxr = 0, sum = 0;
    int checked = 0, rows[64];
    int32_t toks[64];
    int slot[NSEQ], len[NSEQ], active[NSEQ] = {0};
    for (int r = 0; r < NSEQ; r++) len[r] = 0;
#define CHECK_ROW(r, t, lg)                                                                                    \
    do {                                                                                                       \
        const float *ref = fs.logits + ((size_t)(r) * T + (t)) * V;                                            \
        for (int c = 0; c < V; c++) {                                                                          \
            if (isinf(ref[c]) && (lg)[c] == ref[c]) continue;                                                  \
            double dd = fabs((double)(lg)[c] - ref[c]);                                                        \
            maxd = dd > maxd || isnan(dd) ? dd : maxd;                                                         \
            maxr = fabs(ref[c]) > maxr ? fabs(ref[c]) : maxr;                                                  \
            if (ms.chunk[ms.v - 1].mc.vocab_lo + c < vocab) sum += (lg)[c];                                    \
        }                                                                                                      \
        checked++;                                                                                             \
    } while (0)
    /* prefill the first three with the training attention: sequence 1 alone,
     * sequences 0 and 2 together as one 2 x 9 batch (0 padded after its 5
     * tokens; the padding's cache entries are overwritten by its decode steps) */
    {
        int r = 1, p = prompt[1], s0 = slot_of[1], p0 = 0;
        for (int t = 0; t < p; t++) rows[t] = t;
        const void *lg = nt_decoder_step(&dec, 1, p, nt_batch_row(&b, r), &s0, &p0, p, rows);
        if (lg) {
            dops->from_act(got, lg, (size_t)p * V);
            for (int t = 0; t < p; t++) CHECK_ROW(r, t, got + (size_t)t * V);
        }
        int Tp = prompt[2], sl2[2] = {slot_of[0], slot_of[2]}, p2[2] = {0, 0}, n = 0;
        int32_t pt[2 * 32];
        for (int k = 0; k < 2; k++) {
            int rr = k == 0 ? 0 : 2;
            for (int t = 0; t < Tp; t++) pt[k * Tp + t] = t < prompt[rr] ? nt_batch_row(&b, rr)[t] : 7;
            for (int t = 0; t < prompt[rr]; t++) rows[n++] = k * Tp + t;
        }
        lg = nt_decoder_step(&dec, 2, Tp, pt, sl2, p2, n, rows);
        if (lg) {
            dops->from_act(got, lg, (size_t)n * V);
            for (int t = 0; t < prompt[0]; t++) CHECK_ROW(0, t, got + (size_t)t * V);
            for (int t = 0; t < prompt[2]; t++) CHECK_ROW(2, t, got + (size_t)(prompt[0] + t) * V);
        }
        for (int k = 0; k < 3; k++) { active[k] = 1; slot[k] = slot_of[k]; len[k] = prompt[k]; }
    }
    /* decode steps: every active sequence feeds its next true token */
    for (int step = 0; step < 2 * T; step++) {
        int B = 0, who[NSEQ], sl[NSEQ], ps[NSEQ];
        for (int r = 0; r < NSEQ; r++)
            if (active[r]) {
                who[B] = r; sl[B] = slot[r]; ps[B] = len[r];
                toks[B] = nt_batch_row(&b, r)[len[r]];
                rows[B] = B;
                B++;
            }
        if (B == 0) break;
        const void *lg = nt_decoder_step(&dec, B, 1, toks, sl, ps, B, rows);
        if (lg) {
            dops->from_act(got, lg, (size_t)B * V);
            for (int i = 0; i < B; i++) CHECK_ROW(who[i], ps[i], got + (size_t)i * V);
        }
        for (int i = 0; i < B; i++) {
            int r = who[i];
            if (++len[r] >= stop_at[r]) {
                active[r] = 0;
                /* sequence 3 joins in the slot sequence 1 leaves (prefill, then decode) */
                if (r == 1) {
                    int s0 = slot[1], p0 = 0, p = prompt[3];
                    for (int t = 0; t < p; t++) rows[t] = t;
                    const void *l3 = nt_decoder_step(&dec, 1, p, nt_batch_row(&b, 3), &s0, &p0, p, rows);
                    if (l3) {
                        dops->from_act(got, l3, (size_t)p * V);
                        for (int t = 0; t < p; t++) CHECK_ROW(3, t, got + (size_t)t * V);
                    }
                    slot[3] = s0; len[3] = p; active[3] = 1;
                }
            }
        }
    }
    double rel = maxr > 0 ? maxd / maxr : maxd;
    int expect = 0;
    for (int r = 0; r < NSEQ; r++) expect += stop_at[r];
    /* TP ranks of the last stage each checked their shard; the sum adds shards over TP */
    double red[2] = {rel, dec.last ? (double)checked : 0};
    nt_comm_allreduce_f64(&ms.grid.world, red, 1, NT_MAX);
    nt_comm_allreduce_f64(&ms.grid.world, red + 1, 1, NT_MAX);
    double gsum = dec.last && ms.grid.dp == 0 ? sum : 0;
    nt_comm_allreduce_f64(&ms.grid.world, &gsum, 1, NT_SUM);
    double tol = cuda ? 3e-2 : 1e-5;
    int ok = red[0] <= tol && (int)red[1] == expect;
    if (rank0) {
        printf("positions checked %d of %d; max |decode%s - full| / max |full| = %.3e (tol %.0e)\n", (int)red[1], expect,
               cuda ? " (cuda bf16)" : "", red[0], tol);
        printf("decode_logit_sum %.9g\n", gsum);
        printf("%s\n", ok ? "PASSED" : "FAILED");
    }
    nt_decoder_free(&dec);
    if (cuda) nt_modelset_free(&msc);
    free(got);
    free(fs.logits);
    nt_batch_free(&b);
    nt_modelset_free(&ms);
    NT_CHECK_MPI(MPI_Finalize());
    return ok ? 0 : 1;
}
