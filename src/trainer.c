/* trainer.c — the training step on the 3D grid (see trainer.h).
 *
 * Pipeline: each rank holds v model chunks; chunk c of pipeline rank p is
 * virtual stage s = c*P + p and owns layers [s*Lc, (s+1)*Lc).  Stage s
 * receives its input from stage s-1 (rank (s-1) mod P) and sends its
 * output to stage s+1; gradients flow back the same way.  Sends are
 * non-blocking on copies of the data, receives block until the data
 * arrives; the action order comes from schedule.c, whose lists are a
 * completed all-rank execution, so every receive is eventually matched.
 * The p2p data travels over MPI from host copies on every backend (the
 * CUDA backend's activations are copied out and in as fp32); collectives
 * take device buffers directly (NCCL or host-staged, comm_device.c).
 */
#include "trainer.h"
#include "check.h"
#include "comm_device.h"
#include "lr.h"
#include "optim.h"
#include "ramp.h"
#include "signals.h"

#include <math.h>
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
    nt_grid_init(&tr->grid, world, cfg->tensor, cfg->pipeline);
    nt_grid *g = &tr->grid;
    nt_placement_get(&tr->place, world);
    nt_placement_check_tp(&tr->place, &g->tp_comm, &g->world);
    /* the CUDA backend's buffers are device memory: NCCL or host staging (parallel.comm) */
    if (nt_backend_is_cuda(ops)) nt_comm_device_setup(g, cfg->comm);
    int P = g->PP, v = cfg->virtual_stages, S = P * v;
    if (v > NT_MAX_CHUNKS) nt_input_error("parallel.virtual_stages = %d exceeds the maximum %d", v, NT_MAX_CHUNKS);
    if (cfg->layers % S != 0)
        nt_input_error("model.layers = %d is not divisible by pipeline (%d) x virtual_stages (%d) = %d",
                       cfg->layers, P, v, S);
    tr->v = v;
    int Lc = cfg->layers / S;

    nt_model_config mc;
    nt_model_config_init(&mc, cfg, g->TP, g->tp);
    size_t off = 0;
    for (int c = 0; c < v; c++) {
        int s = c * P + g->pp;
        nt_model_layout(&tr->chunk[c], ops, &mc, &g->tp_comm, s * Lc, Lc, s == 0, s == S - 1);
        off += tr->chunk[c].nparams;
    }
    tr->nparams = off;
    tr->npadded = (off + (size_t)g->DP - 1) / (size_t)g->DP * (size_t)g->DP;
    tr->params = ops->alloc(tr->npadded * ops->act_bytes, "model parameters");
    tr->master = ops->params_are_master ? (float *)tr->params
                                        : ops->alloc(tr->npadded * sizeof(float), "fp32 master weights");
    tr->grads = ops->alloc(tr->npadded * sizeof(float), "fp32 gradients");
    ops->zero(tr->params, tr->npadded * ops->act_bytes);
    off = 0;
    for (int c = 0; c < v; c++) {
        nt_model *m = &tr->chunk[c];
        nt_model_bind(m, (char *)tr->params + off * ops->act_bytes, tr->master + off, tr->grads + off, 1);
        nt_model_init_params(m, cfg->seed);
        off += m->nparams;
    }
    /* ZeRO-1 shard */
    tr->shard_n = tr->npadded / (size_t)g->DP;
    tr->shard_lo = (size_t)g->dp * tr->shard_n;
    tr->adam_m = ops->alloc(tr->shard_n * sizeof(float), "Adam first moment (shard)");
    tr->adam_v = ops->alloc(tr->shard_n * sizeof(float), "Adam second moment (shard)");
    /* one DP rank: the shard is the whole gradient buffer (no copy) */
    tr->grad_shard = g->DP == 1 ? tr->grads : ops->alloc(tr->shard_n * sizeof(float), "gradient shard");
    ops->zero(tr->adam_m, tr->shard_n * sizeof(float));
    ops->zero(tr->adam_v, tr->shard_n * sizeof(float));

    tr->micro_batch = cfg->micro_batch;
    tr->seq_len = cfg->seq_len;
    tr->total_steps = nt_ramp_total_steps(cfg);
}

void nt_trainer_free(nt_trainer *tr)
{
    const nt_ops *o = tr->ops;
    for (int c = 0; c < tr->v; c++) {
        for (int i = 0; i < tr->pool[c].n; i++) nt_acts_destroy(&tr->pool[c].acts[i], &tr->chunk[c]);
        free(tr->pool[c].acts);
        free(tr->pool[c].mb);
        nt_model_destroy(&tr->chunk[c]);
    }
    if (!o->params_are_master) o->free(tr->master);
    o->free(tr->params);
    o->free(tr->grads);
    o->free(tr->adam_m);
    o->free(tr->adam_v);
    if (tr->grad_shard != tr->grads) o->free(tr->grad_shard);
    free(tr->sched);
    nt_grid_free(&tr->grid);
}

int nt_trainer_micro_batches(const nt_trainer *tr, long gbs)
{
    int DP = tr->grid.DP;
    long per = (long)tr->micro_batch * DP;
    if (gbs % per != 0) {
        char mbs[256] = "", dps[256] = "";
        size_t a = 0, b = 0;
        for (int mb = 1; mb <= 64 && a < sizeof mbs - 16; mb++)
            if (gbs % ((long)mb * DP) == 0) a += (size_t)snprintf(mbs + a, sizeof mbs - a, " %d", mb);
        for (int dp = 1; dp <= 4096 && b < sizeof dps - 16; dp++)
            if (gbs % ((long)tr->micro_batch * dp) == 0) b += (size_t)snprintf(dps + b, sizeof dps - b, " %d", dp);
        nt_input_error("global batch %ld is not divisible by micro_batch (%d) x data-parallel size (%d); "
                       "layouts that would work: micro_batch in {%s } at DP %d, or DP in {%s } at micro_batch %d",
                       gbs, tr->micro_batch, DP, a ? mbs : " none", DP, b ? dps : " none", tr->micro_batch);
    }
    int m = (int)(gbs / per);
    if (m < tr->grid.PP)
        nt_input_error("global batch %ld gives %d micro-batches per data-parallel rank, fewer than the %d pipeline "
                       "stages (need global_batch >= micro_batch x DP x pipeline = %ld)",
                       gbs, m, tr->grid.PP, (long)tr->micro_batch * DP * tr->grid.PP);
    return m;
}

/* ---- activation pool: one nt_acts per in-flight micro-batch and chunk ---- */

static nt_acts *pool_get(nt_trainer *tr, int c, int mb)
{
    nt_acts_pool *p = &tr->pool[c];
    for (int i = 0; i < p->n; i++)
        if (p->mb[i] < 0) { p->mb[i] = mb; return &p->acts[i]; }
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 4;
        p->acts = realloc(p->acts, (size_t)p->cap * sizeof *p->acts);
        p->mb = realloc(p->mb, (size_t)p->cap * sizeof *p->mb);
        NT_CHECK(p->acts && p->mb, "out of memory for the activation pool");
    }
    nt_acts_create(&p->acts[p->n], &tr->chunk[c], tr->micro_batch, tr->seq_len);
    p->mb[p->n] = mb;
    return &p->acts[p->n++];
}

static nt_acts *pool_find(nt_trainer *tr, int c, int mb)
{
    nt_acts_pool *p = &tr->pool[c];
    for (int i = 0; i < p->n; i++)
        if (p->mb[i] == mb) return &p->acts[i];
    nt_die(NT_EXIT_FAIL, "internal: no activations for chunk %d micro-batch %d", c, mb);
}

static void pool_release(nt_trainer *tr, int c, int mb)
{
    nt_acts_pool *p = &tr->pool[c];
    for (int i = 0; i < p->n; i++)
        if (p->mb[i] == mb) { p->mb[i] = -1; return; }
}

/* ---- point-to-point ------------------------------------------------------ */

typedef struct pending { MPI_Request *req; float **buf; int n, cap; } pending;

static void send_copy(nt_trainer *tr, pending *pd, const void *src, size_t n, int peer, int tag)
{
    if (pd->n == pd->cap) {
        pd->cap = pd->cap ? 2 * pd->cap : 16;
        pd->req = realloc(pd->req, (size_t)pd->cap * sizeof *pd->req);
        pd->buf = realloc(pd->buf, (size_t)pd->cap * sizeof *pd->buf);
        NT_CHECK(pd->req && pd->buf, "out of memory for pending sends");
    }
    float *b = nt_malloc(n * sizeof(float), "pipeline send buffer");
    tr->ops->from_act(b, src, n);
    nt_comm_isend_f32(&tr->grid.pp_comm, b, n, peer, tag, &pd->req[pd->n]);
    pd->buf[pd->n++] = b;
}

static void recv_into(nt_trainer *tr, void *dst, size_t n, int peer, int tag)
{
    float *b = nt_malloc(n * sizeof(float), "pipeline receive buffer");
    nt_watchdog_enter("pipeline receive (MPI_Recv on the pp communicator)");
    nt_comm_recv_f32(&tr->grid.pp_comm, b, n, peer, tag);
    nt_watchdog_leave();
    tr->ops->to_act(dst, b, n);
    free(b);
}

/* distinct tags per (direction, sending stage, micro-batch), within MPI's guaranteed 32767 */
static int p2p_tag(int dir, int stage, int S, int mb, int m)
{
    return (int)((((long)dir * S + stage) * m + mb) % 32767);
}

/* ---- the step ------------------------------------------------------------ */

static void build_schedule(nt_trainer *tr, int m)
{
    if (tr->sched_m == m) return;
    int P = tr->grid.PP, v = tr->v;
    char err[2048];
    if (nt_schedule_verify(P, v, m, err, sizeof err)) nt_die(NT_EXIT_FAIL, "%s", err);
    free(tr->sched);
    tr->sched = nt_malloc((size_t)2 * m * v * sizeof(nt_action), "schedule");
    tr->sched_len = nt_schedule_build(tr->sched, P, tr->grid.pp, v, m);
    tr->sched_m = m;
}

/* sum of squares of this rank's gradient shard; TP-replicated tensors (norms)
 * count on TP rank 0 only */
static double shard_sumsq(nt_trainer *tr)
{
    double ss = 0.0;
    size_t lo = tr->shard_lo, hi = tr->shard_lo + tr->shard_n, base = 0;
    for (int c = 0; c < tr->v; c++) {
        nt_model *m = &tr->chunk[c];
        for (int i = 0; i < m->ntensors; i++) {
            const nt_tensor_info *t = &m->tensors[i];
            size_t a = base + t->offset, b = a + t->numel;
            if (b <= lo || a >= hi) continue;
            if (t->split == NT_SPLIT_NONE && tr->grid.tp != 0) continue;
            size_t x = a > lo ? a : lo, y = b < hi ? b : hi;
            ss += tr->ops->sumsq_f32(tr->grad_shard + (x - lo), y - x);
        }
        base += m->nparams;
    }
    return ss;
}

static void adamw_shard(nt_trainer *tr, double lr, double scale)
{
    const nt_config *cfg = &tr->cfg;
    size_t lo = tr->shard_lo, hi = tr->shard_lo + tr->shard_n, base = 0, eb = tr->ops->act_bytes;
    tr->opt_step++;
    for (int c = 0; c < tr->v; c++) {
        nt_model *m = &tr->chunk[c];
        for (int i = 0; i < m->ntensors; i++) {
            const nt_tensor_info *t = &m->tensors[i];
            size_t a = base + t->offset, b = a + t->numel;
            if (b <= lo || a >= hi) continue;
            size_t x = a > lo ? a : lo, y = b < hi ? b : hi;
            float wd = t->decay ? (float)cfg->weight_decay : 0.0f;
            tr->ops->adamw(tr->master + x, (char *)tr->params + x * eb, tr->adam_m + (x - lo),
                           tr->adam_v + (x - lo), tr->grad_shard + (x - lo), y - x, (float)lr,
                           (float)cfg->beta1, (float)cfg->beta2, (float)cfg->eps, wd, (float)scale,
                           (int)tr->opt_step);
        }
        base += m->nparams;
    }
}

void nt_trainer_step(nt_trainer *tr, const int32_t *batch, long gbs, nt_step_stats *st)
{
    const nt_ops *o = tr->ops;
    nt_grid *g = &tr->grid;
    int m = nt_trainer_micro_batches(tr, gbs);
    int B = tr->micro_batch, T = tr->seq_len, N = B * T, P = g->PP, v = tr->v, S = P * v;
    int H = tr->cfg.hidden;
    int rm = tr->chunk[0].mc.head == NT_HEAD_REWARD, K = tr->chunk[0].mc.reward_outputs;
    float weight = rm ? (float)(1.0 / ((double)gbs * K)) : (float)(1.0 / ((double)gbs * (double)T));
    NT_CHECK(!rm || (tr->rm_ends && tr->rm_labels), "reward head: the step needs rm_ends and rm_labels");
    int32_t *inp = nt_malloc((size_t)N * sizeof(int32_t), "inputs");
    int32_t *tgt = nt_malloc((size_t)N * sizeof(int32_t), "targets");
    double loss = 0.0, t0, tf = 0, tb = 0, tp2p = 0, tcoll = 0;
    pending pd = {0};

    build_schedule(tr, m);
    o->zero(tr->grads, tr->npadded * sizeof(float));
    for (int k = 0; k < tr->sched_len; k++) {
        nt_action a = tr->sched[k];
        int c = a.chunk, s = c * P + g->pp;
        nt_model *mdl = &tr->chunk[c];
        for (int b = 0; b < B; b++) {
            const int32_t *row = batch + ((size_t)a.mb * B + b) * (size_t)(T + 1);
            memcpy(inp + (size_t)b * T, row, (size_t)T * sizeof(int32_t));
            memcpy(tgt + (size_t)b * T, row + 1, (size_t)T * sizeof(int32_t));
        }
        if (a.kind == 'F') {
            nt_acts *ac = pool_get(tr, c, a.mb);
            size_t nx = (size_t)ac->Nl * H;
            if (s > 0) {
                t0 = now();
                recv_into(tr, ac->x, nx, (s - 1) % P, p2p_tag(0, s - 1, S, a.mb, m));
                tp2p += now() - t0;
            }
            t0 = now();
            nt_model_forward(mdl, ac, inp);
            if (s == S - 1)
                loss += rm ? nt_model_head_reward(mdl, ac, tr->rm_ends + (size_t)a.mb * B,
                                                  tr->rm_labels + (size_t)a.mb * B * K, weight)
                           : nt_model_head_loss(mdl, ac, tgt, weight);
            o->sync();
            tf += now() - t0;
            if (s < S - 1) {
                t0 = now();
                send_copy(tr, &pd, (char *)ac->x + (size_t)mdl->nlayers * nx * o->act_bytes, nx, (s + 1) % P,
                          p2p_tag(0, s, S, a.mb, m));
                tp2p += now() - t0;
            }
        } else {
            nt_acts *ac = pool_find(tr, c, a.mb);
            size_t nx = (size_t)ac->Nl * H;
            if (s < S - 1) {
                t0 = now();
                recv_into(tr, ac->dx, nx, (s + 1) % P, p2p_tag(1, s + 1, S, a.mb, m));
                tp2p += now() - t0;
            }
            t0 = now();
            nt_model_backward(mdl, ac);
            o->sync();
            tb += now() - t0;
            if (s > 0) {
                t0 = now();
                send_copy(tr, &pd, ac->dx, nx, (s - 1) % P, p2p_tag(1, s, S, a.mb, m));
                tp2p += now() - t0;
            }
            pool_release(tr, c, a.mb);
        }
    }
    t0 = now();
    nt_watchdog_enter("pipeline sends (MPI_Waitall on the pp communicator)");
    nt_comm_waitall(pd.n, pd.req);
    nt_watchdog_leave();
    for (int i = 0; i < pd.n; i++) free(pd.buf[i]);
    free(pd.req);
    free(pd.buf);
    tp2p += now() - t0;
    free(inp);
    free(tgt);

    t0 = now();
    /* sequence parallel: norm weights saw only this rank's rows */
    if (g->TP > 1 && tr->cfg.sequence_parallel)
        for (int c = 0; c < v; c++) {
            nt_model *mdl = &tr->chunk[c];
            for (int i = 0; i < mdl->ntensors; i++)
                if (mdl->tensors[i].split == NT_SPLIT_NONE && mdl->tensors[i].full_cols == 1)
                    nt_comm_allreduce_f32(&g->tp_comm, mdl->grads + mdl->tensors[i].offset, mdl->tensors[i].numel, NT_SUM);
        }
    {   /* test hook: a NaN in this rank's gradient at a given step */
        const char *fnan = getenv("NTRON_FAULT_NAN");
        int fr;
        long fs;
        if (fnan && sscanf(fnan, "%d:%ld", &fr, &fs) == 2 && fr == g->world.rank && fs == tr->step + 1) {
            float bad = NAN;
            o->to_f32(tr->grads, &bad, 1);
        }
    }
    int local_bad = !isfinite(loss);
    /* loss lives on the last stage: sum over PP, then over DP */
    nt_watchdog_enter("loss all-reduce (MPI_Allreduce on the pp and dp communicators)");
    nt_comm_allreduce_f64(&g->pp_comm, &loss, 1, NT_SUM);
    nt_comm_allreduce_f64(&g->dp_comm, &loss, 1, NT_SUM);
    nt_watchdog_leave();
    /* ZeRO-1: reduce-scatter fp32 gradients over DP */
    nt_watchdog_enter("gradient reduce-scatter (MPI_Reduce_scatter on the dp communicator)");
    if (g->DP > 1) nt_comm_reduce_scatter_f32(&g->dp_comm, tr->grads, tr->grad_shard, tr->npadded);
    nt_watchdog_leave();
    double ss = shard_sumsq(tr);
    local_bad |= !isfinite(ss);
    nt_watchdog_enter("gradient-norm all-reduce (MPI_Allreduce on the world)");
    nt_comm_allreduce_f64(&g->world, &ss, 1, NT_SUM);
    /* NaN guard: agree which rank saw a non-finite value first (lowest rank) */
    int who = local_bad ? g->world.rank : g->world.size;
    NT_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &who, 1, MPI_INT, MPI_MIN, g->world.mpi));
    nt_watchdog_leave();
    double norm = sqrt(ss);
    tcoll += now() - t0;
    int skip = !isfinite(loss) || !isfinite(norm);
    tr->nonfinite_rank = skip ? (who < g->world.size ? who : 0) : -1;

    double coef = nt_optim_clip_coef(norm, tr->cfg.clip_grad);
    double lr = nt_lr_at(&tr->cfg, tr->opt_step + 1, tr->total_steps);
    tr->t_opt = 0;
    if (!skip) {
        t0 = now();
        adamw_shard(tr, lr, coef);
        o->sync();
        tr->t_opt = now() - t0;
        t0 = now();
        nt_watchdog_enter("parameter all-gather (MPI_Allgather on the dp communicator)");
        if (g->DP > 1) nt_comm_allgather_f32(&g->dp_comm, tr->master + tr->shard_lo, tr->master, tr->shard_n);
        /* separate working weights (bf16): AdamW rounded only this shard's */
        if (g->DP > 1 && !o->params_are_master)
            nt_comm_allgather(&g->dp_comm, (char *)tr->params + tr->shard_lo * o->act_bytes, tr->params, tr->shard_n,
                              nt_dtype_of_act(o->act_bytes));
        nt_watchdog_leave();
        tcoll += now() - t0;
    } else {
        tr->skipped_steps++;
    }

    tr->t_fwd = tf;
    tr->t_bwd = tb;
    tr->t_p2p = tp2p;
    tr->t_coll = tcoll;
    tr->step++;
    tr->consumed_samples += (uint64_t)gbs;
    tr->consumed_tokens += (double)gbs * T;
    st->loss = loss;
    st->grad_norm = norm;
    st->lr = lr;
    st->gbs = gbs;
    st->micro_batches = m;
    st->skipped = skip;
}

float *nt_trainer_gather_param(nt_trainer *tr, const char *name, int *rows, int *cols)
{
    nt_grid *g = &tr->grid;
    const nt_tensor_info *t = NULL;
    const nt_model *owner = NULL;
    for (int c = 0; c < tr->v && !t; c++)
        if ((t = nt_model_find(&tr->chunk[c], name))) owner = &tr->chunk[c];
    int dims[2] = {t ? t->full_rows : 0, t ? t->full_cols : 0};
    nt_comm_allreduce_i32(&g->world, dims, 2, NT_MAX);
    if (dims[0] == 0) return NULL;
    *rows = dims[0];
    *cols = dims[1];
    size_t n = (size_t)dims[0] * (size_t)dims[1];
    float *out = nt_calloc(n, sizeof(float), "gathered parameter");
    if (t && g->dp == 0 && (t->split != NT_SPLIT_NONE || g->tp == 0)) {
        float *h = nt_malloc(t->numel * sizeof(float), "gather");
        tr->ops->from_f32(h, owner->master + t->offset, t->numel);
        for (int r = 0; r < t->rows; r++)
            for (int c = 0; c < t->cols; c++)
                out[(size_t)(t->row0 + r) * (size_t)t->full_cols + (size_t)(t->col0 + c)] = h[(size_t)r * t->cols + c];
        free(h);
    }
    nt_comm_allreduce_f32(&g->world, out, n, NT_SUM);
    return out;
}
