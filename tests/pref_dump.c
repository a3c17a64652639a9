/* pref_dump.c — the preference phases (dpo, rpo) through their registry
 * entry and the trainer, for the PyTorch reference
 * (tests/reference/pref_loss.py): runs train.steps steps of the deck's
 * phase on its preference data, rows filled by the phase exactly as the
 * generic loop maps them, and writes (rank 0) an HDF5 state file: the
 * model and optimizer attributes, the [align] values, initial parameters,
 * per step the global batch's tokens, loss masks and the reference
 * log-probs the phase put in the batch, losses, grad norms, learning rates;
 * on one rank the step-1 gradients and the last step's parameters before
 * and gradients of that step (where the policy has left the reference);
 * the final parameters.  Usage: pref_dump DECK OUT.h5 [--set k=v ...]
 * (run.dir must be a fresh directory: the reference file goes there). */
#include "backend/backend.h"
#include "deck/deck.h"
#include "phases/phase.h"
#include "train/trainer.h"
#include "util/check.h"
#include "util/rundir.h"

#include <hdf5.h>
#include <string.h>

static void attr_d(hid_t f, const char *n, double v)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, n, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(a);
    NT_CHECK_H5(H5Awrite(a, H5T_NATIVE_DOUBLE, &v));
    H5Aclose(a);
    H5Sclose(sp);
}
static void attr_s(hid_t f, const char *n, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    NT_CHECK_H5(H5Tset_size(t, strlen(v) + 1));
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, n, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(a);
    NT_CHECK_H5(H5Awrite(a, t, v));
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}
static void put(hid_t f, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *dims, const void *data)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    NT_CHECK_H5(H5Pset_create_intermediate_group(lcpl, 1));
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, name, ft, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(d);
    NT_CHECK_H5(H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
    H5Dclose(d);
    H5Sclose(sp);
    H5Pclose(lcpl);
}

static void put_params(hid_t f, const char *group, nt_trainer *tr, const nt_model *full)
{
    char name[256];
    for (int i = 0; i < full->ntensors; i++) {
        const nt_tensor_info *t = &full->tensors[i];
        int r = 0, c = 0;
        float *buf = nt_modelset_gather_param(&tr->ms, t->name, &r, &c);
        NT_CHECK(buf, "parameter %s not found", t->name);
        if (f >= 0) {
            snprintf(name, sizeof name, "/%s/%s", group, t->name);
            hsize_t dims[2] = {(hsize_t)t->full_rows, (hsize_t)c};
            put(f, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, c == 1 ? 1 : 2, dims, buf);
        }
        free(buf);
    }
}

static void put_grads(hid_t f, const char *group, nt_trainer *tr)
{
    nt_model *m = &tr->ms.chunk[0];
    char name[256];
    for (int i = 0; i < m->ntensors; i++) {
        const nt_tensor_info *t = &m->tensors[i];
        snprintf(name, sizeof name, "/%s/%s", group, t->name);
        hsize_t dims[2] = {(hsize_t)t->rows, (hsize_t)t->cols};
        float *g = nt_malloc(t->numel * sizeof(float), "gradient");
        tr->ms.ops->from_f32(g, m->grads + t->offset, t->numel);
        put(f, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, t->cols == 1 ? 1 : 2, dims, g);
        free(g);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: pref_dump DECK OUT.h5 [--set section.key=value ...]\n"); return 2; }
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    char **sets = nt_calloc((size_t)argc, sizeof(char *), "sets");
    int nset = 0;
    for (int i = 3; i < argc; i++)
        if (!strcmp(argv[i], "--set") && i + 1 < argc) sets[nset++] = argv[++i];
    nt_config cfg;
    nt_deck_info info;
    nt_deck_load(&cfg, &info, argv[1], nset, sets);
    const nt_phase *ph = nt_phase_find(cfg.phase);
    void *ps = ph->open(&cfg, &info);
    nt_trainer tr;
    nt_trainer_init(&tr, &cfg, nt_backend_cpu(), MPI_COMM_WORLD);
    const nt_grid *g = &tr.ms.grid;
    int world = g->world.size, rank0 = g->world.rank == 0;
    if (rank0) nt_rundir_create(cfg.dir);
    nt_model_config fmc;
    nt_model_config_init(&fmc, &cfg, 1, 0);
    nt_model full;
    nt_model_layout(&full, nt_backend_cpu(), &fmc, NULL, 0, cfg.layers, 1, 1);
    int T = cfg.seq_len, B = cfg.micro_batch, G = (int)cfg.global_batch, DP = g->DP;
    int nmicro = nt_trainer_micro_batches(&tr, G);
    long steps = tr.total_steps;
    hid_t f = -1;
    if (rank0) {
        f = H5Fcreate(argv[2], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        NT_CHECK_H5(f);
        struct { const char *n; double v; } a[] = {
            {"layers", cfg.layers}, {"hidden", cfg.hidden}, {"ffn_hidden", cfg.ffn_hidden}, {"heads", cfg.heads},
            {"kv_heads", cfg.kv_heads}, {"vocab", fmc.vocab_padded}, {"vocab_valid", cfg.vocab}, {"seq_len", T},
            {"rotary_fraction", cfg.rotary_fraction}, {"rotary_base", cfg.rotary_base}, {"norm_eps", cfg.norm_eps},
            {"lr", cfg.lr}, {"min_lr", cfg.min_lr}, {"warmup", (double)cfg.warmup}, {"decay_steps", (double)cfg.decay_steps},
            {"steps", (double)steps}, {"weight_decay", cfg.weight_decay}, {"beta1", cfg.beta1}, {"beta2", cfg.beta2},
            {"eps", cfg.eps}, {"clip_grad", cfg.clip_grad}, {"micro_batch", B}, {"global_batch", G},
            {"beta", cfg.align_beta}, {"eta", cfg.align_eta}, {"sft_weight", cfg.align_sft_weight},
            {"preference_weight", cfg.align_pref_weight}, {"average_log_probs", cfg.align_average_log_probs}};
        for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) attr_d(f, a[i].n, a[i].v);
        attr_s(f, "decay", cfg.decay);
        attr_s(f, "phase", cfg.phase);
        attr_s(f, "loss", !strcmp(cfg.align_loss, "auto") ? (!strcmp(cfg.phase, "rpo") ? "rpo_bwd_kl" : "dpo")
                                                           : cfg.align_loss);
        attr_s(f, "data", cfg.blend[0].path);
    }
    put_params(f, "init", &tr, &full);
    nt_batch b = {0};
    size_t W = (size_t)T + 1;
    int32_t *tok = nt_malloc((size_t)G * W * sizeof(int32_t), "tokens");
    uint8_t *msk = nt_malloc((size_t)G * W, "masks");
    double *ref = nt_malloc((size_t)G * sizeof(double), "ref");
    double *loss = nt_malloc((size_t)steps * 3 * sizeof(double), "losses");
    for (long s = 0; s < steps; s++) {
        nt_batch_reserve(&b, nmicro * B, T, 1, 0);
        b.gbs = G;
        memset(tok, 0, (size_t)G * W * sizeof(int32_t));
        memset(msk, 0, (size_t)G * W);
        memset(ref, 0, (size_t)G * sizeof(double));
        for (int mi = 0; mi < nmicro; mi++)
            for (int j = 0; j < B; j++) {   /* phase_run.c's mapping */
                uint64_t k = tr.consumed_samples + ((uint64_t)mi * DP + (uint64_t)g->dp) * (uint64_t)B + (uint64_t)j;
                ph->fill(ps, k, &b, mi * B + j);
            }
        ph->before_step(ps, &tr, &b);
        /* the global batch in sequence order (one writer per row: TP 0, PP 0) */
        if (g->tp == 0 && g->pp == 0)
            for (int r = 0; r < b.rows; r++) {
                uint64_t q = ((uint64_t)(r / B) * DP + (uint64_t)g->dp) * (uint64_t)B + (uint64_t)(r % B);
                memcpy(tok + q * W, nt_batch_row(&b, r), W * sizeof(int32_t));
                memcpy(msk + q * W, nt_batch_mask(&b, r), W);
                ref[q] = b.ref_logp[r];
            }
        nt_comm_allreduce_i32(&g->world, tok, (size_t)G * W, NT_SUM);
        nt_comm_allreduce_f64(&g->world, ref, (size_t)G, NT_SUM);
        int32_t *m32 = nt_malloc((size_t)G * W * sizeof(int32_t), "mask32");
        for (size_t i = 0; i < (size_t)G * W; i++) m32[i] = msk[i];
        nt_comm_allreduce_i32(&g->world, m32, (size_t)G * W, NT_SUM);
        if (s == steps - 1) put_params(world == 1 ? f : -1, "last/params", &tr, &full);
        nt_step_stats st;
        nt_trainer_step(&tr, &b, ph->loss, ps, ph->nacc, &st);
        loss[3 * s] = st.loss, loss[3 * s + 1] = st.grad_norm, loss[3 * s + 2] = st.lr;
        if (rank0) {
            char name[64];
            hsize_t d2[2] = {(hsize_t)G, W}, d1 = (hsize_t)G;
            snprintf(name, sizeof name, "/batch/%ld/tokens", s + 1);
            put(f, name, H5T_STD_I32LE, H5T_NATIVE_INT32, 2, d2, tok);
            snprintf(name, sizeof name, "/batch/%ld/mask", s + 1);
            put(f, name, H5T_STD_I32LE, H5T_NATIVE_INT32, 2, d2, m32);
            snprintf(name, sizeof name, "/batch/%ld/ref_logp", s + 1);
            put(f, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &d1, ref);
            if (world == 1 && s == 0) put_grads(f, "step1/grads", &tr);
            if (world == 1 && s == steps - 1) put_grads(f, "last/grads", &tr);
            printf("step %ld loss %.9f grad_norm %.9f lr %.6g\n", s + 1, st.loss, st.grad_norm, st.lr);
        }
        free(m32);
    }
    if (rank0) {
        hsize_t d2[2] = {(hsize_t)steps, 3};
        put(f, "/losses", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d2, loss);
    }
    put_params(f, "final", &tr, &full);
    if (rank0) NT_CHECK_H5(H5Fclose(f));
    free(tok), free(msk), free(ref), free(loss), free(sets);
    nt_batch_free(&b);
    nt_model_destroy(&full);
    nt_trainer_free(&tr);
    ph->close(ps);
    NT_CHECK_MPI(MPI_Finalize());
    return 0;
}
