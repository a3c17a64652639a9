/* trainer.c — the training step (see trainer.h). */
#include "trainer.h"
#include "check.h"
#include "lr.h"
#include "ramp.h"

#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void nt_trainer_init(nt_trainer *tr, const nt_config *cfg, const nt_ops *ops, MPI_Comm world)
{
    memset(tr, 0, sizeof *tr);
    tr->cfg = *cfg;
    tr->ops = ops;
    nt_comm_from_mpi(&tr->world, world, "world");
    int tp = cfg->tensor, pp = cfg->pipeline;
    if (tr->world.size % (tp * pp) != 0)
        nt_input_error("world size %d is not divisible by parallel.tensor (%d) x parallel.pipeline (%d)",
                       tr->world.size, tp, pp);
    if (pp != 1)
        nt_input_error("parallel.pipeline = %d: pipeline parallelism is not implemented yet in this version (use 1)", pp);
    /* rank = tp + TP*(dp + DP*pp) */
    int r = tr->world.rank;
    MPI_Comm tpc, dpc;
    NT_CHECK_MPI(MPI_Comm_split(world, r / tp, r % tp, &tpc));
    NT_CHECK_MPI(MPI_Comm_split(world, r % tp, r / tp, &dpc));
    nt_comm_from_mpi(&tr->tp, tpc, "tp");
    nt_comm_from_mpi(&tr->dp, dpc, "dp");

    nt_model_config mc;
    nt_model_config_init(&mc, cfg, tp, tr->tp.rank);
    nt_model_create(&tr->model, ops, &mc, &tr->tp, 0, cfg->layers, 1, 1, 1);
    nt_model_init_params(&tr->model, cfg->seed);
    nt_acts_create(&tr->acts, &tr->model, cfg->micro_batch, cfg->seq_len);
    nt_optim_create(&tr->opt, &tr->model);
    tr->micro_batch = cfg->micro_batch;
    tr->seq_len = cfg->seq_len;
    tr->total_steps = nt_ramp_total_steps(cfg);
}

void nt_trainer_free(nt_trainer *tr)
{
    nt_optim_destroy(&tr->opt, &tr->model);
    nt_acts_destroy(&tr->acts, &tr->model);
    nt_model_destroy(&tr->model);
    nt_comm_free(&tr->tp);
    nt_comm_free(&tr->dp);
}

int nt_trainer_micro_batches(const nt_trainer *tr, long gbs)
{
    long per = (long)tr->micro_batch * tr->dp.size;
    if (gbs % per != 0) {
        char mbs[256] = "", dps[256] = "";
        size_t a = 0, b = 0;
        for (int mb = 1; mb <= 64 && a < sizeof mbs - 16; mb++)
            if (gbs % ((long)mb * tr->dp.size) == 0) a += (size_t)snprintf(mbs + a, sizeof mbs - a, " %d", mb);
        for (int dp = 1; dp <= 4096 && b < sizeof dps - 16; dp++)
            if (gbs % ((long)tr->micro_batch * dp) == 0) b += (size_t)snprintf(dps + b, sizeof dps - b, " %d", dp);
        nt_input_error("global batch %ld is not divisible by micro_batch (%d) x data-parallel size (%d); "
                       "layouts that would work: micro_batch in {%s } at DP %d, or DP in {%s } at micro_batch %d",
                       gbs, tr->micro_batch, tr->dp.size, a ? mbs : " none", tr->dp.size, b ? dps : " none",
                       tr->micro_batch);
    }
    return (int)(gbs / per);
}

void nt_trainer_step(nt_trainer *tr, const int32_t *batch, long gbs, nt_step_stats *st)
{
    nt_model *m = &tr->model;
    const nt_ops *o = tr->ops;
    int nmicro = nt_trainer_micro_batches(tr, gbs);
    int B = tr->micro_batch, T = tr->seq_len, N = B * T;
    float weight = (float)(1.0 / ((double)gbs * (double)T));
    int32_t *inp = nt_malloc((size_t)N * sizeof(int32_t), "inputs");
    int32_t *tgt = nt_malloc((size_t)N * sizeof(int32_t), "targets");

    o->zero(m->grads, m->nparams * sizeof(float));
    double loss = 0.0, t0, t_f = 0, t_b = 0;
    for (int mi = 0; mi < nmicro; mi++) {
        for (int b = 0; b < B; b++) {
            const int32_t *row = batch + ((size_t)mi * B + b) * (size_t)(T + 1);
            memcpy(inp + (size_t)b * T, row, (size_t)T * sizeof(int32_t));
            memcpy(tgt + (size_t)b * T, row + 1, (size_t)T * sizeof(int32_t));
        }
        t0 = now();
        nt_model_forward(m, &tr->acts, inp);
        loss += nt_model_head_loss(m, &tr->acts, tgt, weight);
        o->sync();
        t_f += now() - t0;
        t0 = now();
        nt_model_backward(m, &tr->acts);
        o->sync();
        t_b += now() - t0;
    }
    free(inp);
    free(tgt);

    t0 = now();
    /* data parallel: sum gradients and losses (ZeRO-1 reduce-scatter comes with 3D parallelism) */
    nt_comm_allreduce_f32(&tr->dp, m->grads, m->nparams, NT_SUM);
    nt_comm_allreduce_f64(&tr->dp, &loss, 1, NT_SUM);
    double norm = nt_optim_grad_norm(m, &tr->tp);
    double coef = nt_optim_clip_coef(norm, tr->cfg.clip_grad);
    double lr = nt_lr_at(&tr->cfg, tr->opt.step + 1, tr->total_steps);
    nt_optim_step(&tr->opt, m, &tr->cfg, lr, coef);
    o->sync();
    tr->t_fwd = t_f;
    tr->t_bwd = t_b;
    tr->t_opt = now() - t0;

    tr->step++;
    tr->consumed_samples += (uint64_t)gbs;
    tr->consumed_tokens += (double)gbs * T;
    st->loss = loss;
    st->grad_norm = norm;
    st->lr = lr;
    st->gbs = gbs;
    st->micro_batches = nmicro;
}
