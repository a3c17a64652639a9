/* ref_dump.c — runs a deck's model for train.steps steps on seeded random
 * tokens under whatever layout the MPI launch and deck give, and writes
 * (rank 0) an HDF5 state file: initial and final parameters (gathered to
 * full shape), the token batches, per-step losses, grad norms and learning
 * rates, and — on a single rank — the step-1 logits and gradients.
 * tests/compare_reference.py checks it against the PyTorch model;
 * tests/compare_layouts.py checks layouts against each other.  The CPU
 * backend unless the deck says run.backend = cuda (tests/test_cuda_layouts.sh).
 * --sft: the SFT form — every row packed with several samples (seeded
 * lengths, positions restarting per sample: block-diagonal attention) and a
 * seeded loss mask (a sample's first token never a target), the loss over
 * the masked targets / their count in the global batch; /positions [steps,
 * G, T] and /loss_mask [steps, G, T+1] are written for the reference.
 * Usage: ref_dump DECK OUT.h5 [--sft] [--set section.key=value ...] */
#include "backend/backend.h"
#include "util/check.h"
#include "deck/deck.h"
#include "util/rng.h"
#include "phases/phase.h"
#include "train/trainer.h"

#include <hdf5.h>
#include <string.h>

static void attr_i(hid_t f, const char *n, long long v)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, n, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(sp); NT_CHECK_H5(a);
    NT_CHECK_H5(H5Awrite(a, H5T_NATIVE_LLONG, &v));
    NT_CHECK_H5(H5Aclose(a)); NT_CHECK_H5(H5Sclose(sp));
}
static void attr_d(hid_t f, const char *n, double v)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, n, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(sp); NT_CHECK_H5(a);
    NT_CHECK_H5(H5Awrite(a, H5T_NATIVE_DOUBLE, &v));
    NT_CHECK_H5(H5Aclose(a)); NT_CHECK_H5(H5Sclose(sp));
}
static void attr_s(hid_t f, const char *n, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    NT_CHECK_H5(t);
    NT_CHECK_H5(H5Tset_size(t, strlen(v) + 1));
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, n, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(sp); NT_CHECK_H5(a);
    NT_CHECK_H5(H5Awrite(a, t, v));
    NT_CHECK_H5(H5Aclose(a)); NT_CHECK_H5(H5Sclose(sp)); NT_CHECK_H5(H5Tclose(t));
}
static void write(hid_t loc, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *dims, const void *data)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    NT_CHECK_H5(lcpl);
    NT_CHECK_H5(H5Pset_create_intermediate_group(lcpl, 1));
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    NT_CHECK_H5(sp);
    hid_t d = H5Dcreate2(loc, name, ft, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(d);
    NT_CHECK_H5(H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
    NT_CHECK_H5(H5Dclose(d)); NT_CHECK_H5(H5Sclose(sp)); NT_CHECK_H5(H5Pclose(lcpl));
}

/* every parameter, gathered to full shape and written by rank 0 at the
 * unsharded model's shape (vocabulary padded for TP 1: the extra padding
 * rows of a TP layout are never used and are left out) */
static void write_params(hid_t f, const char *group, nt_trainer *tr, const nt_model *full)
{
    char name[256];
    for (int i = 0; i < full->ntensors; i++) {
        const nt_tensor_info *t = &full->tensors[i];
        int r = 0, c = 0;
        float *buf = nt_modelset_gather_param(&tr->ms, t->name, &r, &c);
        NT_CHECK(buf != NULL, "parameter %s not found", t->name);
        NT_CHECK(c == t->full_cols && r >= t->full_rows, "parameter %s: gathered [%d,%d], expected [%d,%d]", t->name,
                 r, c, t->full_rows, t->full_cols);
        if (f >= 0) {
            snprintf(name, sizeof name, "/%s/%s", group, t->name);
            hsize_t dims[2] = {(hsize_t)t->full_rows, (hsize_t)c};
            write(f, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, c == 1 ? 1 : 2, dims, buf);
        }
        free(buf);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: ref_dump DECK OUT.h5 [--sft] [--set section.key=value ...]\n"); return 2; }
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    char **sets = nt_calloc((size_t)argc, sizeof(char *), "sets");
    int nset = 0, sft = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--set") && i + 1 < argc) sets[nset++] = argv[++i];
        else if (!strcmp(argv[i], "--sft")) sft = 1;
    }
    nt_config cfg;
    nt_deck_info info;
    nt_deck_load(&cfg, &info, argv[1], nset, sets);
    nt_trainer tr;
    /* auto stays on the CPU here: the reference tests compare fp32 results */
    const nt_ops *ops = !strcmp(cfg.backend, "cuda") ? nt_backend_select(&cfg, &info) : nt_backend_cpu();
    nt_trainer_init(&tr, &cfg, ops, MPI_COMM_WORLD);
    int world = tr.ms.grid.world.size, rank0 = tr.ms.grid.world.rank == 0;
    /* the unsharded model's tensor table: names and full shapes */
    nt_model_config fmc;
    nt_model_config_init(&fmc, &cfg, 1, 0);
    nt_model full;
    nt_model_layout(&full, nt_backend_cpu(), &fmc, NULL, 0, cfg.layers, 1, 1);

    int T = cfg.seq_len, B = cfg.micro_batch, G = (int)cfg.global_batch, DP = tr.ms.grid.DP;
    int nmicro = nt_trainer_micro_batches(&tr, G);
    long steps = tr.total_steps;
    hid_t f = -1;
    if (rank0) {
        f = H5Fcreate(argv[2], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        NT_CHECK_H5(f);
        attr_i(f, "layers", cfg.layers); attr_i(f, "hidden", cfg.hidden); attr_i(f, "ffn_hidden", cfg.ffn_hidden);
        attr_i(f, "heads", cfg.heads); attr_i(f, "kv_heads", cfg.kv_heads); attr_i(f, "vocab", fmc.vocab_padded);
        attr_i(f, "vocab_valid", cfg.vocab);
        attr_i(f, "seq_len", T); attr_d(f, "rotary_fraction", cfg.rotary_fraction);
        attr_d(f, "rotary_base", cfg.rotary_base); attr_d(f, "norm_eps", cfg.norm_eps);
        attr_d(f, "lr", cfg.lr); attr_d(f, "min_lr", cfg.min_lr); attr_i(f, "warmup", cfg.warmup);
        attr_i(f, "decay_steps", cfg.decay_steps); attr_i(f, "steps", steps);
        attr_d(f, "weight_decay", cfg.weight_decay); attr_d(f, "beta1", cfg.beta1); attr_d(f, "beta2", cfg.beta2);
        attr_d(f, "eps", cfg.eps); attr_d(f, "clip_grad", cfg.clip_grad); attr_i(f, "micro_batch", B);
        attr_i(f, "grad_accum", (long long)G / B); attr_s(f, "decay", cfg.decay);
        char layout[128];
        snprintf(layout, sizeof layout, "TP%d PP%d v%d DP%d SP%d", tr.ms.grid.TP, tr.ms.grid.PP, tr.ms.v, DP,
                 cfg.sequence_parallel);
        attr_s(f, "layout", layout);
    }
    write_params(f, "init", &tr, &full);

    size_t per_step = (size_t)G * (size_t)(T + 1);
    int32_t *tokens = nt_malloc((size_t)steps * per_step * sizeof(int32_t), "tokens");
    uint64_t key = nt_rng_key(cfg.seed, "ref_dump.tokens");
    for (size_t i = 0; i < (size_t)steps * per_step; i++)
        tokens[i] = (int32_t)(nt_rng_u64(key, i) % (uint64_t)cfg.vocab);
    if (rank0) {
        hsize_t tdims[3] = {(hsize_t)steps, (hsize_t)G, (hsize_t)(T + 1)};
        write(f, "/tokens", H5T_STD_I32LE, H5T_NATIVE_INT32, 3, tdims, tokens);
    }
    /* --sft: packed rows (sample lengths 1..T/2+3, the last cut at the row end) and a loss mask */
    int32_t *positions = NULL;
    uint8_t *masks = NULL;
    double *step_tokens = NULL;
    if (sft) {
        size_t rows = (size_t)steps * (size_t)G;
        positions = nt_malloc(rows * (size_t)T * sizeof(int32_t), "positions");
        masks = nt_malloc(rows * (size_t)(T + 1), "loss masks");
        step_tokens = nt_calloc((size_t)steps, sizeof(double), "loss tokens");
        uint64_t kl = nt_rng_key(cfg.seed, "ref_dump.packing");
        for (size_t r = 0; r < rows; r++) {
            int left = 0, p = 0;
            for (int j = 0; j <= T; j++, p++, left--) {
                if (left == 0) {
                    left = 1 + (int)(nt_rng_u64(kl, 2 * (r * (T + 1) + (size_t)j)) % (uint64_t)(T / 2 + 3));
                    p = 0;
                }
                if (j < T) positions[r * T + j] = p;
                uint8_t m = p > 0 && nt_rng_u64(kl, 2 * (r * (T + 1) + (size_t)j) + 1) % 5 < 3;
                masks[r * (T + 1) + j] = m;
                step_tokens[r / (size_t)G] += m;
            }
        }
        if (rank0) {
            hsize_t pd[3] = {(hsize_t)steps, (hsize_t)G, (hsize_t)T}, md[3] = {(hsize_t)steps, (hsize_t)G, (hsize_t)(T + 1)};
            write(f, "/positions", H5T_STD_I32LE, H5T_NATIVE_INT32, 3, pd, positions);
            write(f, "/loss_mask", H5T_STD_U8LE, H5T_NATIVE_UINT8, 3, md, masks);
        }
    }

    nt_model *m = &tr.ms.chunk[0];
    if (world == 1) {   /* step-1 logits of the first micro-batch */
        int32_t *inp = nt_malloc((size_t)B * T * sizeof(int32_t), "inputs");
        for (int b = 0; b < B; b++) memcpy(inp + (size_t)b * T, tokens + (size_t)b * (T + 1), (size_t)T * sizeof(int32_t));
        nt_acts acts;
        nt_acts_create(&acts, m, B, T);
        nt_model_set_positions(m, &acts, positions);   /* rows 0..B-1 of step 1 (NULL: causal) */
        nt_model_forward(m, &acts, inp);
        nt_model_head_logits(m, &acts);
        size_t nl = (size_t)B * T * m->mc.vocab_local;
        float *logits = nt_malloc(nl * sizeof(float), "logits");
        m->ops->from_act(logits, acts.logits, nl);
        hsize_t ldims[3] = {(hsize_t)B, (hsize_t)T, (hsize_t)m->mc.vocab_local};
        write(f, "/step1/logits", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, ldims, logits);
        nt_acts_destroy(&acts, m);
        free(inp);
        free(logits);
    }

    double *losses = nt_malloc((size_t)steps * sizeof(double), "losses");
    double *norms = nt_malloc((size_t)steps * sizeof(double), "norms");
    double *lrs = nt_malloc((size_t)steps * sizeof(double), "lrs");
    nt_batch batch = {0};
    nt_batch_reserve(&batch, nmicro * B, T, sft, 0);
    batch.gbs = G;
    batch.loss_tokens = (double)G * T;
    int32_t *mine = batch.tokens;
    for (long s = 0; s < steps; s++) {
        /* this DP rank's rows: micro-batch i row b = global row (i*DP + dp)*B + b */
        for (int i = 0; i < nmicro; i++)
            for (int b = 0; b < B; b++) {
                size_t r = (size_t)i * B + b, g = (size_t)s * G + (size_t)(i * DP + tr.ms.grid.dp) * B + b;
                memcpy(mine + r * (size_t)(T + 1), tokens + g * (size_t)(T + 1), (size_t)(T + 1) * sizeof(int32_t));
                if (sft) {
                    memcpy(nt_batch_mask(&batch, (int)r), masks + g * (size_t)(T + 1), (size_t)T + 1);
                    memcpy(nt_batch_pos(&batch, (int)r), positions + g * (size_t)T, (size_t)T * sizeof(int32_t));
                }
            }
        if (sft) {
            batch.packed = 1;
            batch.loss_tokens = step_tokens[s];
        }
        nt_step_stats st;
        nt_trainer_step(&tr, &batch, nt_phase_token_ce_loss, NULL, 0, &st);
        losses[s] = st.loss; norms[s] = st.grad_norm; lrs[s] = st.lr;
        if (s == 0 && world == 1) {
            char name[256];
            for (int i = 0; i < m->ntensors; i++) {
                const nt_tensor_info *t = &m->tensors[i];
                snprintf(name, sizeof name, "/step1/grads/%s", t->name);
                hsize_t dims[2] = {(hsize_t)t->rows, (hsize_t)t->cols};
                float *g = nt_malloc(t->numel * sizeof(float), "gradient");
                ops->from_f32(g, m->grads + t->offset, t->numel);   /* device memory on CUDA */
                write(f, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, t->cols == 1 ? 1 : 2, dims, g);
                free(g);
            }
            hsize_t one = 1;
            write(f, "/step1/loss", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &one, &st.loss);
        }
        if (rank0) printf("step %ld loss %.9f grad_norm %.9f lr %.6g\n", s + 1, st.loss, st.grad_norm, st.lr);
    }
    if (rank0) {
        hsize_t sd = (hsize_t)steps;
        write(f, "/losses", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &sd, losses);
        write(f, "/grad_norms", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &sd, norms);
        write(f, "/lrs", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &sd, lrs);
    }
    write_params(f, "final", &tr, &full);
    if (rank0) NT_CHECK_H5(H5Fclose(f));
    free(tokens); free(losses); free(norms); free(lrs); nt_batch_free(&batch); free(sets);
    free(positions); free(masks); free(step_tokens);
    nt_model_destroy(&full);
    nt_trainer_free(&tr);
    NT_CHECK_MPI(MPI_Finalize());
    return 0;
}
