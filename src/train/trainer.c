/* trainer.c — the training step on the 3D grid (see trainer.h). */
#include "train/trainer.h"
#include "util/check.h"
#include "util/sys.h"
#include "train/lr.h"
#include "train/ramp.h"
#include "util/signals.h"

#include <math.h>
#include <string.h>

void nt_trainer_init(nt_trainer *tr, const nt_config *cfg, const nt_ops *ops, MPI_Comm world)
{
    memset(tr, 0, sizeof *tr);
    nt_modelset_init(&tr->ms, cfg, ops, world, 1);
    nt_optimizer_init(&tr->opt, &tr->ms);
    tr->total_steps = nt_ramp_total_steps(cfg);
    tr->nonfinite_rank = -1;
}

void nt_trainer_free(nt_trainer *tr)
{
    nt_optimizer_free(&tr->opt);
    nt_modelset_free(&tr->ms);
}

void nt_trainer_step(nt_trainer *tr, nt_batch *b, nt_stage_fn lossfn, void *state, int nacc, nt_step_stats *st)
{
    nt_modelset *ms = &tr->ms;
    nt_grid *g = &ms->grid;
    NT_CHECK(nacc >= 0 && nacc < NT_MAX_ACC, "internal: %d phase accumulators (at most %d)", nacc, NT_MAX_ACC - 1);
    int m = nt_modelset_micro_batches(ms, b->gbs);
    double red[NT_MAX_ACC] = {0};   /* [0] loss, [1..nacc] the phase's accumulators */
    int nan_fault = 0;
    {   /* test hook: a NaN in this rank's gradient at a given step (put in by the reduction, once final) */
        const char *fnan = getenv("NTRON_FAULT_NAN");
        int fr;
        long fs;
        nan_fault = fnan && sscanf(fnan, "%d:%ld", &fr, &fs) == 2 && fr == g->world.rank && fs == tr->step + 1;
    }
    /* the DP reduction: with parallel.overlap_grad_reduce its buckets start inside the pass */
    nt_optimizer_begin_pass(&tr->opt, nan_fault);
    red[0] = nt_modelset_train_pass(ms, b, lossfn, state, red + 1);

    double t0 = nt_now(), tcoll = 0;
    int local_bad = !isfinite(red[0]);
    /* loss and accumulators live on the last stage: sum over PP, then over DP */
    nt_comm_allreduce_f64(&g->pp_comm, red, 1, NT_SUM);
    nt_comm_allreduce_f64(&g->dp_comm, red, 1, NT_SUM);
    if (nacc > 0) {   /* apart from the loss, so that the loss's reduction is the same for every phase */
        nt_comm_allreduce_f64(&g->pp_comm, red + 1, (size_t)nacc, NT_SUM);
        nt_comm_allreduce_f64(&g->dp_comm, red + 1, (size_t)nacc, NT_SUM);
    }
    double loss = red[0];
    /* ZeRO-1: reduce-scatter fp32 gradients over DP (the sequence-parallel TP sums of the
     * norm weights first): what the backward did not start, then the wait for all of it */
    nt_optimizer_reduce_grads(&tr->opt);
    double ss = nt_optimizer_shard_sumsq(&tr->opt);
    local_bad |= !isfinite(ss);
    nt_comm_allreduce_f64(&g->world, &ss, 1, NT_SUM);
    /* NaN guard: agree which rank saw a non-finite value first (lowest rank) */
    int who = local_bad ? g->world.rank : g->world.size;
    nt_comm_allreduce_i32(&g->world, &who, 1, NT_MIN);
    double norm = sqrt(ss);
    tcoll += nt_now() - t0;
    int skip = !isfinite(loss) || !isfinite(norm);
    tr->nonfinite_rank = skip ? (who < g->world.size ? who : 0) : -1;

    double coef = nt_optim_clip_coef(norm, ms->cfg.clip_grad);
    double lr = nt_lr_at(&ms->cfg, tr->opt.step + 1, tr->total_steps);
    tr->t_opt = 0;
    if (!skip) nt_optimizer_apply(&tr->opt, lr, coef, &tr->t_opt, &tcoll);
    else tr->skipped_steps++;

    tr->t_fwd = ms->t_fwd;
    tr->t_bwd = ms->t_bwd;
    tr->t_p2p = ms->t_p2p;
    tr->t_coll = tcoll;
    tr->t_dp_wait = tr->opt.gr.t_wait;
    tr->t_dp_gather = skip ? 0 : tr->opt.t_gather;
    tr->step++;
    tr->consumed_samples += (uint64_t)b->gbs;
    tr->consumed_tokens += (double)b->gbs * ms->seq_len;
    st->loss = loss;
    for (int i = 0; i < nacc; i++) st->acc[i] = red[1 + i];
    st->grad_norm = norm;
    st->lr = lr;
    st->gbs = b->gbs;
    st->micro_batches = m;
    st->skipped = skip;
}
