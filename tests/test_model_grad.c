/* test_model_grad.c — whole-model gradient check on a tiny config: for
 * every parameter tensor, the directional derivative g·u along a random
 * unit direction u (restricted to that tensor) must match the central
 * finite difference (L(θ+hu) − L(θ−hu)) / 2h.
 *
 * Harness and tolerance: the model runs in fp32; the loss (mean token
 * cross-entropy over 2 micro-batches, accumulated in double) is about
 * ln(V) ≈ 4, so its fp32 rounding noise is ~1e-7 absolute; with h = 1e-2
 * along a unit vector that is ~1e-5 of noise on FD/h, and truncation is
 * O(h²·|L'''|).  We require |FD − g·u|/h ≤ 3e-3·|g·u|/h + 3e-5 (measured
 * worst: 1.5e-5 absolute, 1e-3 relative) — an error in any
 * backward formula (missing term, wrong transpose, missing accumulation)
 * shows up as O(1) relative error (checked by the per-op tests too). Each
 * tensor's direction also covers every element, so a single wrong element
 * class (e.g. the rotated half of a head) moves g·u.  init_std 0.2 makes
 * gradients large enough to be far above the noise.
 *
 * Run twice: with the LM head (cross-entropy) and with the reward head
 * (model.head = reward: 3 scores of each sequence's end token, squared
 * error against labels, one label NaN = unscored), same tolerance. */
#include "backend/backend.h"
#include "util/check.h"
#include "deck/deck.h"
#include "phases/loss.h"
#include "model/model.h"
#include "util/rng.h"

#include <math.h>
#include <string.h>

typedef struct {
    int reward;
    const int32_t *tgt;   /* LM targets [nmicro*N] */
    const int *ends;      /* reward: end row of each sequence [nmicro*B] */
    const float *labels;  /* reward: [nmicro*B*K] */
} head_args;

static double head_of(nt_model *m, nt_acts *a, const head_args *h, int mi, float w)
{
    int B = a->B, K = m->mc.reward_outputs;
    if (h->reward) return nt_loss_reward_mse(m, a, h->ends + (size_t)mi * B, h->labels + (size_t)mi * B * K, w, NULL, 0);
    return nt_loss_token_ce(m, a, h->tgt + (size_t)mi * a->N, w);
}

static double loss_of(nt_model *m, nt_acts *a, const int32_t *inp, const head_args *h, int nmicro, int N, float w)
{
    double L = 0.0;
    for (int mi = 0; mi < nmicro; mi++) {
        nt_model_forward(m, a, inp + (size_t)mi * N);
        L += head_of(m, a, h, mi, w);
    }
    return L;
}

static int check_head(const char *head)
{
    nt_config cfg;
    nt_deck_defaults(&cfg);
    snprintf(cfg.head, sizeof cfg.head, "%s", head);
    cfg.reward_outputs = 3;
    cfg.layers = 2; cfg.hidden = 24; cfg.ffn_hidden = 40; cfg.heads = 4; cfg.kv_heads = 2;
    cfg.vocab = 50; cfg.seq_len = 9; cfg.rotary_fraction = 0.5; cfg.init_std = 0.2;
    nt_model_config mc;
    nt_model_config_init(&mc, &cfg, 1, 0);
    nt_comm self;
    nt_comm_from_mpi(&self, MPI_COMM_SELF, "tp");
    nt_model m;
    nt_model_create(&m, nt_backend_cpu(), &mc, &self, 0, cfg.layers, 1, 1, 1);
    nt_model_init_params(&m, 99);
    /* norms start at zero; give them random values so their gradients are generic */
    uint64_t kn = nt_rng_key(5, "norms");
    for (int i = 0; i < m.ntensors; i++)
        if (m.tensors[i].cols == 1)
            for (size_t j = 0; j < m.tensors[i].numel; j++)
                m.master[m.tensors[i].offset + j] = 0.3f * (float)nt_rng_normal(kn, m.tensors[i].offset + j);

    int B = 2, T = cfg.seq_len, N = B * T, nmicro = 2;
    nt_acts a;
    nt_acts_create(&a, &m, B, T);
    int32_t inp[2 * 18], tgt[2 * 18];
    uint64_t kt = nt_rng_key(3, "tokens");
    for (int i = 0; i < nmicro * N; i++) {
        inp[i] = (int32_t)(nt_rng_u64(kt, 2 * (uint64_t)i) % (uint64_t)cfg.vocab);
        tgt[i] = (int32_t)(nt_rng_u64(kt, 2 * (uint64_t)i + 1) % (uint64_t)cfg.vocab);
    }
    tgt[5] = -1; /* an ignored target position */
    float w = 1.0f / (float)(nmicro * N);
    int K = mc.reward_outputs, ends[2 * 2] = {T - 1, 4, 0, T - 2};
    float labels[2 * 2 * 3];
    for (int i = 0; i < nmicro * B * K; i++) labels[i] = (float)(nt_rng_u64(kt, 1000 + (uint64_t)i) % 5);
    labels[4] = NAN; /* an unscored attribute */
    head_args ha = {.reward = mc.head == NT_HEAD_REWARD, .tgt = tgt, .ends = ends, .labels = labels};
    if (ha.reward) w = 1.0f / (float)(nmicro * B * K);

    memset(m.grads, 0, m.nparams * sizeof(float));
    for (int mi = 0; mi < nmicro; mi++) {
        nt_model_forward(&m, &a, inp + (size_t)mi * N);
        head_of(&m, &a, &ha, mi, w);
        nt_model_backward(&m, &a);
    }
    float *g = nt_malloc(m.nparams * sizeof(float), "grads copy");
    memcpy(g, m.grads, m.nparams * sizeof(float));

    int fails = 0;
    const double h = 1e-2;
    uint64_t ku = nt_rng_key(11, "direction");
    for (int i = 0; i < m.ntensors; i++) {
        const nt_tensor_info *t = &m.tensors[i];
        float *p = m.master + t->offset;
        double *u = nt_malloc(t->numel * sizeof(double), "direction");
        double nrm = 0.0, gu = 0.0;
        for (size_t j = 0; j < t->numel; j++) { u[j] = nt_rng_normal(ku, t->offset + j); nrm += u[j] * u[j]; }
        nrm = sqrt(nrm);
        for (size_t j = 0; j < t->numel; j++) { u[j] /= nrm; gu += (double)g[t->offset + j] * u[j]; }
        float *save = nt_malloc(t->numel * sizeof(float), "save");
        memcpy(save, p, t->numel * sizeof(float));
        for (size_t j = 0; j < t->numel; j++) p[j] = (float)(save[j] + h * u[j]);
        double Lp = loss_of(&m, &a, inp, &ha, nmicro, N, w);
        for (size_t j = 0; j < t->numel; j++) p[j] = (float)(save[j] - h * u[j]);
        double Lm = loss_of(&m, &a, inp, &ha, nmicro, N, w);
        /* use the perturbation actually applied after fp32 rounding */
        double du = 0.0;
        for (size_t j = 0; j < t->numel; j++) {
            double dp = ((double)(float)(save[j] + h * u[j]) - (double)(float)(save[j] - h * u[j])) / 2.0;
            du += (double)g[t->offset + j] * dp;
        }
        memcpy(p, save, t->numel * sizeof(float));
        double fd = (Lp - Lm) / 2.0;   /* compare FD over the applied step with g·(applied step) */
        double err = fabs(fd - du), tol = 3e-3 * fabs(du) + 3e-5 * h;
        int ok = err <= tol;
        fails += !ok;
        printf("%s: %-6s grad %-28s g.u %+.6e  fd %+.6e  |err| %.2e  tol %.2e\n", ok ? "PASS" : "FAIL", head, t->name,
               du / h, fd / h, err / h, tol / h);
        free(save);
        free(u);
        (void)gu;
    }
    printf("head %s: %d tensors, %d failed\n", head, m.ntensors, fails);
    free(g);
    nt_acts_destroy(&a, &m);
    nt_model_destroy(&m);
    return fails;
}

int main(void)
{
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    int fails = check_head("lm") + check_head("reward");
    NT_CHECK_MPI(MPI_Finalize());
    return fails ? 1 : 0;
}
