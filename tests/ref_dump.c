/* ref_dump.c — writes the state file that tests/compare_reference.py checks
 * against the independent PyTorch implementation: initial parameters, the
 * token batches, step-1 logits/loss/gradients, per-step losses, grad norms
 * and learning rates, and the final parameters (format in
 * tests/compare_reference.py).  Usage: ref_dump DECK OUT.h5 */
#include "backend.h"
#include "check.h"
#include "deck.h"
#include "rng.h"
#include "trainer.h"

#include <hdf5.h>
#include <string.h>

static void attr_i(hid_t f, const char *n, long long v)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, n, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(H5Awrite(a, H5T_NATIVE_LLONG, &v));
    H5Aclose(a); H5Sclose(sp);
}
static void attr_d(hid_t f, const char *n, double v)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, n, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(H5Awrite(a, H5T_NATIVE_DOUBLE, &v));
    H5Aclose(a); H5Sclose(sp);
}
static void attr_s(hid_t f, const char *n, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v) + 1);
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, n, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(H5Awrite(a, t, v));
    H5Aclose(a); H5Sclose(sp); H5Tclose(t);
}
static void write(hid_t loc, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *dims, const void *data)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(loc, name, ft, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(d);
    NT_CHECK_H5(H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
    H5Dclose(d); H5Sclose(sp); H5Pclose(lcpl);
}
static void write_params(hid_t f, const char *group, const nt_model *m, const float *buf)
{
    char name[256];
    for (int i = 0; i < m->ntensors; i++) {
        const nt_tensor_info *t = &m->tensors[i];
        snprintf(name, sizeof name, "/%s/%s", group, t->name);
        hsize_t dims[2] = {(hsize_t)t->rows, (hsize_t)t->cols};
        write(f, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, t->cols == 1 ? 1 : 2, dims, buf + t->offset);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: ref_dump DECK OUT.h5\n"); return 2; }
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    nt_config cfg;
    nt_deck_info info;
    nt_deck_load(&cfg, &info, argv[1], 0, NULL);
    nt_trainer tr;
    nt_trainer_init(&tr, &cfg, nt_backend_cpu(), MPI_COMM_WORLD);
    nt_model *m = &tr.chunk[0];
    int T = cfg.seq_len, B = cfg.micro_batch, G = (int)cfg.global_batch, nmicro = G / B;
    long steps = tr.total_steps;

    hid_t f = H5Fcreate(argv[2], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    NT_CHECK_H5(f);
    attr_i(f, "layers", cfg.layers); attr_i(f, "hidden", cfg.hidden); attr_i(f, "ffn_hidden", cfg.ffn_hidden);
    attr_i(f, "heads", cfg.heads); attr_i(f, "kv_heads", cfg.kv_heads); attr_i(f, "vocab", m->mc.vocab_padded);
    attr_i(f, "vocab_valid", cfg.vocab);
    attr_i(f, "seq_len", T); attr_d(f, "rotary_fraction", cfg.rotary_fraction);
    attr_d(f, "rotary_base", cfg.rotary_base); attr_d(f, "norm_eps", cfg.norm_eps);
    attr_d(f, "lr", cfg.lr); attr_d(f, "min_lr", cfg.min_lr); attr_i(f, "warmup", cfg.warmup);
    attr_i(f, "decay_steps", cfg.decay_steps); attr_i(f, "steps", steps);
    attr_d(f, "weight_decay", cfg.weight_decay); attr_d(f, "beta1", cfg.beta1); attr_d(f, "beta2", cfg.beta2);
    attr_d(f, "eps", cfg.eps); attr_d(f, "clip_grad", cfg.clip_grad); attr_i(f, "micro_batch", B);
    attr_i(f, "grad_accum", nmicro); attr_s(f, "decay", cfg.decay);

    write_params(f, "init", m, m->master);
    size_t per_step = (size_t)G * (size_t)(T + 1);
    int32_t *tokens = nt_malloc((size_t)steps * per_step * sizeof(int32_t), "tokens");
    uint64_t key = nt_rng_key(cfg.seed, "ref_dump.tokens");
    for (size_t i = 0; i < (size_t)steps * per_step; i++)
        tokens[i] = (int32_t)(nt_rng_u64(key, i) % (uint64_t)cfg.vocab);
    hsize_t tdims[3] = {(hsize_t)steps, (hsize_t)G, (hsize_t)(T + 1)};
    write(f, "/tokens", H5T_STD_I32LE, H5T_NATIVE_INT32, 3, tdims, tokens);

    /* step-1 logits of the first micro-batch */
    int32_t *inp = nt_malloc((size_t)B * T * sizeof(int32_t), "inputs");
    for (int b = 0; b < B; b++) memcpy(inp + (size_t)b * T, tokens + (size_t)b * (T + 1), (size_t)T * sizeof(int32_t));
    nt_acts acts;
    nt_acts_create(&acts, m, B, T);
    nt_model_forward(m, &acts, inp);
    nt_model_head_logits(m, &acts);
    size_t nl = (size_t)B * T * m->mc.vocab_local;
    float *logits = nt_malloc(nl * sizeof(float), "logits");
    m->ops->from_act(logits, acts.logits, nl);
    nt_acts_destroy(&acts, m);
    hsize_t ldims[3] = {(hsize_t)B, (hsize_t)T, (hsize_t)m->mc.vocab_local};
    write(f, "/step1/logits", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, ldims, logits);

    double *losses = nt_malloc((size_t)steps * sizeof(double), "losses");
    double *norms = nt_malloc((size_t)steps * sizeof(double), "norms");
    double *lrs = nt_malloc((size_t)steps * sizeof(double), "lrs");
    for (long s = 0; s < steps; s++) {
        nt_step_stats st;
        nt_trainer_step(&tr, tokens + (size_t)s * per_step, G, &st);
        losses[s] = st.loss; norms[s] = st.grad_norm; lrs[s] = st.lr;
        if (s == 0) {
            hsize_t one = 1;
            write(f, "/step1/loss", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &one, &st.loss);
            write_params(f, "step1/grads", m, m->grads);
        }
        printf("step %ld loss %.6f grad_norm %.6f lr %.6g\n", s + 1, st.loss, st.grad_norm, st.lr);
    }
    hsize_t sd = (hsize_t)steps;
    write(f, "/losses", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &sd, losses);
    write(f, "/grad_norms", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &sd, norms);
    write(f, "/lrs", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &sd, lrs);
    write_params(f, "final", m, m->master);
    NT_CHECK_H5(H5Fclose(f));
    free(tokens); free(inp); free(logits); free(losses); free(norms); free(lrs);
    nt_trainer_free(&tr);
    MPI_Finalize();
    return 0;
}
