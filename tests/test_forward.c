/* test_forward.c — the forward-only pipeline pass of a model set against
 * the training forward, under the layout given on the command line
 * (TP PP V SP; DP = world / (TP*PP)):
 *  1. a frozen model set (no gradients, no optimizer) initialised from the
 *     same seed gives per-token log-probs bitwise equal to the -NLL the
 *     training step's forward computes (the loss mask's -1 targets
 *     excluded), on every last-stage rank, and the same per-row sums;
 *  2. a frozen set loaded from a checkpoint (weights only) equals the
 *     training forward of a trainable set loaded from it the same way;
 *  3. (one rank) the frozen set holds no gradient or optimizer memory, by
 *     its own account and by the RSS it adds, against a trainable set.
 * Prints "logp_sum <value>" (sum over the global batch) for the shell test
 * to compare across layouts (fp32 sums in another order: 1e-5 relative). */
#include "backend/backend.h"
#include "util/check.h"
#include "ckpt/ckpt.h"
#include "deck/deck.h"
#include "phases/phase.h"
#include "util/rng.h"
#include "train/trainer.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

static double rss_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &size, &res) != 2) res = 0;
    fclose(f);
    return (double)res * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

typedef struct capture { float *logp; } capture;

/* the training loss, recording the forward's -NLL of every kept target */
static double capture_loss(void *state, const nt_stage *s)
{
    capture *c = state;
    double l = nt_phase_token_ce_loss(NULL, s);
    int T = s->acts->T;
    for (int i = 0; i < s->rows * T; i++)
        c->logp[(size_t)s->row0 * T + i] = s->targets[i] >= 0 ? -s->acts->host_loss[i] : NAN;
    return l;
}

static void fill(nt_batch *b, const nt_config *cfg, const nt_grid *g, int nmicro, uint64_t step)
{
    int B = cfg->micro_batch, T = cfg->seq_len;
    nt_batch_reserve(b, nmicro * B, T, 1, 0);
    b->gbs = cfg->global_batch;
    uint64_t key = nt_rng_key(cfg->seed, "test_forward");
    double tokens = 0;
    for (int mi = 0; mi < nmicro; mi++)
        for (int j = 0; j < B; j++) {
            uint64_t k = step * (uint64_t)b->gbs + ((uint64_t)mi * g->DP + (uint64_t)g->dp) * B + (uint64_t)j;
            int r = mi * B + j;
            for (int t = 0; t <= T; t++) {
                uint64_t u = nt_rng_u64(key, k * (uint64_t)(T + 1) + (uint64_t)t);
                nt_batch_row(b, r)[t] = (int32_t)(u % (uint64_t)cfg->vocab);
                nt_batch_mask(b, r)[t] = t > (int)(k % 7) ;   /* a "prompt" of k mod 7 tokens is masked */
                tokens += t >= 1 && nt_batch_mask(b, r)[t];
            }
        }
    b->loss_tokens = tokens;   /* this rank's share only: the test compares forwards, not losses */
}

/* compare the two per-token buffers on the last-stage ranks: mismatches (all ranks agree) */
static int compare(const nt_modelset *ms, const float *a, const float *b, size_t n, const char *what)
{
    int last = ms->grid.pp == ms->grid.PP - 1, bad = 0, kept = 0;
    for (size_t i = 0; last && i < n; i++) {
        int na = isnan(a[i]), nb = isnan(b[i]);
        if (na != nb || (!na && memcmp(&a[i], &b[i], sizeof(float)) != 0)) bad++;
        kept += !na;
    }
    nt_comm_allreduce_i32(&ms->grid.world, &bad, 1, NT_SUM);
    nt_comm_allreduce_i32(&ms->grid.world, &kept, 1, NT_SUM);
    if (ms->grid.world.rank == 0)
        printf("%s: %s (%d kept targets on the last stage%s)\n", what, bad ? "DIFFER" : "bitwise equal", kept,
               bad ? "" : "");
    return bad != 0 || kept == 0;
}

int main(int argc, char **argv)
{
    NT_CHECK_MPI(MPI_Init(&argc, &argv));
    NT_CHECK(argc == 6, "usage: test_forward TP PP V SP CKPTDIR");
    nt_config cfg;
    nt_deck_defaults(&cfg);
    cfg.layers = 4; cfg.hidden = 128; cfg.ffn_hidden = 512; cfg.heads = 4; cfg.kv_heads = 2;
    cfg.vocab = 200; cfg.seq_len = 32; cfg.init_std = 0.05; cfg.seed = 11;
    cfg.tensor = atoi(argv[1]); cfg.pipeline = atoi(argv[2]); cfg.virtual_stages = atoi(argv[3]);
    cfg.sequence_parallel = atoi(argv[4]);
    cfg.micro_batch = 2; cfg.global_batch = 8; cfg.steps = 4; cfg.warmup = 0; cfg.lr = 1e-2;
    const char *ckdir = argv[5];
    int fails = 0;
    const nt_ops *ops = nt_backend_cpu();

    double r0 = rss_mb();
    nt_modelset fz;
    nt_modelset_init(&fz, &cfg, ops, MPI_COMM_WORLD, 0);
    int rank0 = fz.grid.world.rank == 0, world = fz.grid.world.size;
    int nmicro = nt_modelset_micro_batches(&fz, cfg.global_batch);
    size_t ntok = (size_t)nmicro * cfg.micro_batch * cfg.seq_len;
    nt_batch b = {0};
    fill(&b, &cfg, &fz.grid, nmicro, 0);
    float *fwd = nt_malloc(ntok * sizeof(float), "forward log-probs");
    nt_modelset_forward_pass(&fz, &b, nt_stage_logprobs, fwd, NULL);
    double r1 = rss_mb();
    double seq_fz[64];
    memcpy(seq_fz, b.seq_logp, (size_t)b.rows * sizeof(double));

    nt_trainer tr;
    nt_trainer_init(&tr, &cfg, ops, MPI_COMM_WORLD);
    float *trn = nt_malloc(ntok * sizeof(float), "training log-probs");
    capture cap = {trn};
    nt_step_stats st;
    nt_trainer_step(&tr, &b, capture_loss, &cap, 0, &st);
    double r2 = rss_mb();
    fails += compare(&fz, fwd, trn, ntok, "1. frozen forward-only = training forward (init weights)");
    int seq_bad = 0;
    if (fz.grid.pp == fz.grid.PP - 1)
        for (int r = 0; r < b.rows; r++) {
            double s = 0;
            for (int t = 0; t < cfg.seq_len; t++)
                if (!isnan(trn[(size_t)r * cfg.seq_len + t])) s += (double)trn[(size_t)r * cfg.seq_len + t];
            seq_bad += s != seq_fz[r];
        }
    nt_comm_allreduce_i32(&fz.grid.world, &seq_bad, 1, NT_SUM);
    if (rank0) printf("1. per-row log-prob sums: %s\n", seq_bad ? "DIFFER" : "bitwise equal");
    fails += seq_bad != 0;
    /* the global sum of the kept log-probs, for the cross-layout comparison */
    double sum = 0;
    if (fz.grid.pp == fz.grid.PP - 1 && fz.grid.tp == 0)
        for (int r = 0; r < b.rows; r++) sum += seq_fz[r];
    nt_comm_allreduce_f64(&fz.grid.world, &sum, 1, NT_SUM);
    if (rank0) printf("logp_sum %.17g\n", sum);

    /* 2. checkpoint -> frozen set and -> trainable set (weights only): same forwards */
    nt_ckpt_meta meta = {.deck_text = "", .deck_sha256 = ""};
    nt_ckpt_save(&tr, ckdir, 1, &meta);
    nt_modelset fz2;
    nt_modelset_init(&fz2, &cfg, ops, MPI_COMM_WORLD, 0);
    nt_ckpt_load(&fz2, NULL, ckdir, NULL);
    nt_trainer tr2;
    nt_trainer_init(&tr2, &cfg, ops, MPI_COMM_WORLD);
    nt_ckpt_load(&tr2.ms, NULL, ckdir, NULL);
    fill(&b, &cfg, &fz.grid, nmicro, 1);
    nt_modelset_forward_pass(&fz2, &b, nt_stage_logprobs, fwd, NULL);
    nt_trainer_step(&tr2, &b, capture_loss, &cap, 0, &st);
    fails += compare(&fz2, fwd, trn, ntok, "2. checkpoint into a frozen set = into a trainable set (training forward)");

    /* 3. memory */
    double pb, gb, tpb, tgb;
    int ab, tab;
    nt_modelset_bytes(&fz, &pb, &gb, &ab);
    nt_modelset_bytes(&tr.ms, &tpb, &tgb, &tab);
    double opt_mb = 3.0 * (double)tr.ms.shard_n * sizeof(float) / 1048576.0 * (tr.ms.grid.DP > 1 ? 1.0 : 2.0 / 3.0);
    if (rank0) {
        printf("3. frozen set: params %.2f MB, gradients %.2f MB, no optimizer, %d activation set(s); RSS +%.2f MB for set + forward\n",
               pb / 1048576.0, gb / 1048576.0, ab, r1 - r0);
        printf("   trainable set: params %.2f MB, gradients %.2f MB, optimizer %.2f MB, %d activation set(s); RSS +%.2f MB for set + step\n",
               tpb / 1048576.0, tgb / 1048576.0, opt_mb, tab, r2 - r1);
    }
    if (gb != 0 || fz.grads != NULL) { fails++; if (rank0) printf("3. FAIL: the frozen set holds gradients\n"); }
    if (world == 1) {
        /* the trainable set adds at least its gradients and Adam moments beyond what the frozen one took */
        double extra = (tgb / 1048576.0 + opt_mb) * 0.9;
        int ok = (r2 - r1) - (r1 - r0) >= extra;
        printf("3. RSS: trainable - frozen = %.2f MB >= 0.9 x (gradients + optimizer) = %.2f MB: %s\n",
               (r2 - r1) - (r1 - r0), extra, ok ? "yes" : "NO");
        fails += !ok;
    }
    nt_batch_free(&b);
    free(fwd);
    free(trn);
    nt_trainer_free(&tr2);
    nt_modelset_free(&fz2);
    nt_trainer_free(&tr);
    nt_modelset_free(&fz);
    if (rank0) printf("%s\n", fails ? "FAILED" : "PASSED");
    NT_CHECK_MPI(MPI_Finalize());
    return fails ? 1 : 0;
}
