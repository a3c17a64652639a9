/* modelset.c — the model set and its pipeline passes (see modelset.h). */
#include "train/modelset.h"
#include "util/check.h"
#include "util/sys.h"
#include "parallel/comm_device.h"
#include "util/signals.h"

#include <math.h>
#include <string.h>

void nt_modelset_init(nt_modelset *ms, const nt_config *cfg, const nt_ops *ops, MPI_Comm world, int trainable)
{
    memset(ms, 0, sizeof *ms);
    ms->cfg = *cfg;
    ms->ops = ops;
    ms->trainable = trainable;
    nt_grid_init(&ms->grid, world, cfg->tensor, cfg->pipeline);
    nt_grid *g = &ms->grid;
    nt_placement_get(&ms->place, world);
    nt_placement_check_tp(&ms->place, &g->tp_comm, &g->world);
    /* the CUDA backend's buffers are device memory: NCCL or host staging (parallel.comm) */
    if (nt_backend_is_cuda(ops)) nt_comm_device_setup(g, cfg->comm);
    /* pipeline transfers: grouped rounds where NCCL carries them (parallel.p2p) */
    const char *path = nt_comm_exchange_path(&g->pp_comm);
    ms->p2p_grouped = !strcmp(cfg->p2p, "grouped") || (!strcmp(cfg->p2p, "auto") && !strcmp(path, "nccl"));
    if (g->PP > 1 && g->world.rank == 0 && (ms->p2p_grouped || strcmp(path, "mpi") != 0)) {
        printf("p2p: %s\n", ms->p2p_grouped ? (!strcmp(path, "nccl") ? "grouped rounds over NCCL on device buffers"
                                               : !strcmp(path, "mpi") ? "grouped rounds over MPI (host buffers)"
                                                                      : "grouped rounds, staged through host memory")
                                             : "tagged MPI sends from host copies");
        fflush(stdout);
    }
    int P = g->PP, v = cfg->virtual_stages, S = P * v;
    if (v > NT_MAX_CHUNKS) nt_input_error("parallel.virtual_stages = %d exceeds the maximum %d", v, NT_MAX_CHUNKS);
    if (cfg->layers % S != 0)
        nt_input_error("model.layers = %d is not divisible by pipeline (%d) x virtual_stages (%d) = %d",
                       cfg->layers, P, v, S);
    ms->v = v;
    int Lc = cfg->layers / S;

    nt_model_config mc;
    nt_model_config_init(&mc, cfg, g->TP, g->tp);
    /* a frozen set keeps one layer's intermediates: its forward is the same
     * sequence of ops, so the same numbers */
    if (!trainable) mc.recompute = NT_RECOMPUTE_FULL;
    size_t off = 0;
    for (int c = 0; c < v; c++) {
        int s = c * P + g->pp;
        nt_model_layout(&ms->chunk[c], ops, &mc, &g->tp_comm, s * Lc, Lc, s == 0, s == S - 1);
        off += ms->chunk[c].nparams;
    }
    ms->nparams = off;
    ms->npadded = (off + (size_t)g->DP - 1) / (size_t)g->DP * (size_t)g->DP;
    ms->params = ops->alloc(ms->npadded * ops->act_bytes, "model parameters");
    if (ops->params_are_master) ms->master = (float *)ms->params;
    else if (trainable) ms->master = ops->alloc(ms->npadded * sizeof(float), "fp32 master weights");
    if (trainable) ms->grads = ops->alloc(ms->npadded * sizeof(float), "fp32 gradients");
    ops->zero(ms->params, ms->npadded * ops->act_bytes);
    off = 0;
    for (int c = 0; c < v; c++) {
        nt_model *m = &ms->chunk[c];
        nt_model_bind(m, (char *)ms->params + off * ops->act_bytes, ms->master ? ms->master + off : NULL,
                      trainable ? ms->grads + off : NULL, trainable);
        nt_model_init_params(m, cfg->seed);
        off += m->nparams;
    }
    ms->shard_n = ms->npadded / (size_t)g->DP;
    ms->shard_lo = (size_t)g->dp * ms->shard_n;
    ms->micro_batch = cfg->micro_batch;
    ms->seq_len = cfg->seq_len;
}

void nt_modelset_free(nt_modelset *ms)
{
    const nt_ops *o = ms->ops;
    for (int c = 0; c < ms->v; c++) {
        for (int i = 0; i < ms->pool[c].n; i++) nt_acts_destroy(&ms->pool[c].acts[i], &ms->chunk[c]);
        free(ms->pool[c].acts);
        free(ms->pool[c].mb);
        nt_model_destroy(&ms->chunk[c]);
    }
    if (ms->master && !o->params_are_master) o->free(ms->master);
    o->free(ms->params);
    if (ms->grads) o->free(ms->grads);
    free(ms->sched);
    free(ms->rounds);
    for (int i = 0; i < ms->nstash; i++) o->free(ms->stash[i].buf);
    free(ms->stash);
    nt_grid_free(&ms->grid);
    memset(ms, 0, sizeof *ms);
}

int nt_modelset_micro_batches(const nt_modelset *ms, long gbs)
{
    int DP = ms->grid.DP;
    long per = (long)ms->micro_batch * DP;
    if (gbs % per != 0) {
        char mbs[256] = "", dps[256] = "";
        size_t a = 0, b = 0;
        for (int mb = 1; mb <= 64 && a < sizeof mbs - 16; mb++)
            if (gbs % ((long)mb * DP) == 0) a += (size_t)snprintf(mbs + a, sizeof mbs - a, " %d", mb);
        for (int dp = 1; dp <= 4096 && b < sizeof dps - 16; dp++)
            if (gbs % ((long)ms->micro_batch * dp) == 0) b += (size_t)snprintf(dps + b, sizeof dps - b, " %d", dp);
        nt_input_error("global batch %ld is not divisible by micro_batch (%d) x data-parallel size (%d); "
                       "layouts that would work: micro_batch in {%s } at DP %d, or DP in {%s } at micro_batch %d",
                       gbs, ms->micro_batch, DP, a ? mbs : " none", DP, b ? dps : " none", ms->micro_batch);
    }
    int m = (int)(gbs / per);
    if (m < ms->grid.PP)
        nt_input_error("global batch %ld gives %d micro-batches per data-parallel rank, fewer than the %d pipeline "
                       "stages (need global_batch >= micro_batch x DP x pipeline = %ld)",
                       gbs, m, ms->grid.PP, (long)ms->micro_batch * DP * ms->grid.PP);
    return m;
}

/* ---- activation pool: one nt_acts per in-flight micro-batch and chunk ---- */

static nt_acts *pool_get(nt_modelset *ms, int c, int mb)
{
    nt_acts_pool *p = &ms->pool[c];
    for (int i = 0; i < p->n; i++)
        if (p->mb[i] < 0) { p->mb[i] = mb; return &p->acts[i]; }
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 4;
        p->acts = realloc(p->acts, (size_t)p->cap * sizeof *p->acts);
        p->mb = realloc(p->mb, (size_t)p->cap * sizeof *p->mb);
        NT_CHECK(p->acts && p->mb, "out of memory for the activation pool");
    }
    /* one workspace for every slot of every chunk (they have the same shape): the first slot's */
    const nt_acts *owner = NULL;
    for (int k = 0; k < ms->v && !owner; k++)
        for (int i = 0; i < ms->pool[k].n && !owner; i++)
            if (!ms->pool[k].acts[i].shares_scratch) owner = &ms->pool[k].acts[i];
    nt_acts_create_sharing(&p->acts[p->n], &ms->chunk[c], ms->micro_batch, ms->seq_len, owner);
    p->mb[p->n] = mb;
    return &p->acts[p->n++];
}

static nt_acts *pool_find(nt_modelset *ms, int c, int mb)
{
    nt_acts_pool *p = &ms->pool[c];
    for (int i = 0; i < p->n; i++)
        if (p->mb[i] == mb) return &p->acts[i];
    nt_die(NT_EXIT_FAIL, "internal: no activations for chunk %d micro-batch %d", c, mb);
}

static void pool_release(nt_modelset *ms, int c, int mb)
{
    nt_acts_pool *p = &ms->pool[c];
    for (int i = 0; i < p->n; i++)
        if (p->mb[i] == mb) { p->mb[i] = -1; return; }
}

void nt_modelset_bytes(const nt_modelset *ms, double *params, double *grads, int *act_sets)
{
    const nt_ops *o = ms->ops;
    *params = (double)ms->npadded * (double)o->act_bytes +
              (ms->master && !o->params_are_master ? (double)ms->npadded * sizeof(float) : 0.0);
    *grads = ms->grads ? (double)ms->npadded * sizeof(float) : 0.0;
    *act_sets = 0;
    for (int c = 0; c < ms->v; c++) *act_sets += ms->pool[c].n;
}

/* ---- point-to-point ------------------------------------------------------ */

typedef struct pending { MPI_Request *req; float **buf; int n, cap; } pending;

static void send_copy(nt_modelset *ms, pending *pd, const void *src, size_t n, int peer, int tag)
{
    if (pd->n == pd->cap) {
        pd->cap = pd->cap ? 2 * pd->cap : 16;
        pd->req = realloc(pd->req, (size_t)pd->cap * sizeof *pd->req);
        pd->buf = realloc(pd->buf, (size_t)pd->cap * sizeof *pd->buf);
        NT_CHECK(pd->req && pd->buf, "out of memory for pending sends");
    }
    float *b = nt_malloc(n * sizeof(float), "pipeline send buffer");
    ms->ops->from_act(b, src, n);
    nt_comm_isend_f32(&ms->grid.pp_comm, b, n, peer, tag, &pd->req[pd->n]);
    pd->buf[pd->n++] = b;
}

static void recv_into(nt_modelset *ms, void *dst, size_t n, int peer, int tag)
{
    float *b = nt_malloc(n * sizeof(float), "pipeline receive buffer");
    nt_comm_recv_f32(&ms->grid.pp_comm, b, n, peer, tag);
    ms->ops->to_act(dst, b, n);
    free(b);
}

static void pending_wait(pending *pd)
{
    nt_comm_waitall(pd->n, pd->req);
    for (int i = 0; i < pd->n; i++) free(pd->buf[i]);
    pd->n = 0;
}

static void pending_free(pending *pd)
{
    free(pd->req);
    free(pd->buf);
    memset(pd, 0, sizeof *pd);
}

/* distinct tags per (direction, sending stage, micro-batch), within MPI's guaranteed 32767 */
static int p2p_tag(int dir, int stage, int S, int mb, int m)
{
    return (int)((((long)dir * S + stage) * m + mb) % 32767);
}

/* inputs [:-1] and targets [1:] of micro-batch mb (targets -1 where the loss mask is 0) */
static void micro_io(const nt_batch *b, int mb, int B, int32_t *inp, int32_t *tgt)
{
    int T = b->seq_len;
    for (int r = 0; r < B; r++) {
        const int32_t *row = nt_batch_row(b, mb * B + r);
        const uint8_t *mask = nt_batch_mask(b, mb * B + r);
        memcpy(inp + (size_t)r * T, row, (size_t)T * sizeof(int32_t));
        memcpy(tgt + (size_t)r * T, row + 1, (size_t)T * sizeof(int32_t));
        if (mask)
            for (int j = 0; j < T; j++)
                if (!mask[j + 1]) tgt[(size_t)r * T + j] = -1;
    }
}

/* ---- schedule and final gradients ----------------------------------------- */

/* a chunk's backward finished gradient elements [lo, hi) of its own buffer */
static void chunk_grads_done(void *ctx, const nt_model *m, size_t lo, size_t hi)
{
    nt_modelset *ms = ctx;
    size_t base = (size_t)(m->grads - ms->grads);
    ms->grads_final(ms->grads_final_ctx, base + lo, base + hi);
}

static void build_schedule(nt_modelset *ms, int m)
{
    if (ms->sched_m == m) return;
    int P = ms->grid.PP, v = ms->v;
    char err[2048];
    if (nt_schedule_verify(P, v, m, err, sizeof err)) nt_die(NT_EXIT_FAIL, "%s", err);
    free(ms->sched);
    ms->sched = nt_malloc((size_t)2 * m * v * sizeof(nt_action), "schedule");
    ms->sched_len = nt_schedule_build(ms->sched, P, ms->grid.pp, v, m);
    ms->sched_m = m;
}

/* ---- grouped point-to-point: lockstep rounds (schedule.h) ---------------- */

/* the rounds of this rank for a pass of m micro-batches (train: the
 * training schedule; else the forward-only order), cached */
static void build_rounds(nt_modelset *ms, int m, int train)
{
    if (ms->rounds && ms->rounds_m == m && ms->rounds_train == train) return;
    free(ms->rounds);
    ms->rounds = nt_schedule_rounds_of(ms->grid.PP, ms->grid.pp, ms->v, m, train, &ms->nrounds);
    ms->rounds_held = nt_schedule_rounds_held(ms->rounds, ms->nrounds, ms->grid.PP, ms->grid.pp, ms->v);
    ms->rounds_m = m;
    ms->rounds_train = train;
}

/* an output waiting for its round: a copy in the activation dtype (the
 * pool slot it came from may be reused before then) */
static void stash_put(nt_modelset *ms, char kind, int c, int mb, const void *src, size_t n)
{
    const nt_ops *o = ms->ops;
    size_t bytes = n * o->act_bytes;
    nt_stash *st = NULL;
    for (int i = 0; i < ms->nstash && !st; i++)
        if (!ms->stash[i].kind && ms->stash[i].bytes >= bytes) st = &ms->stash[i];
    if (!st) {
        if (ms->nstash == ms->capstash) {
            ms->capstash = ms->capstash ? 2 * ms->capstash : 4;
            ms->stash = realloc(ms->stash, (size_t)ms->capstash * sizeof *ms->stash);
            NT_CHECK(ms->stash, "out of memory for pipeline send buffers");
        }
        st = &ms->stash[ms->nstash++];
        st->buf = o->alloc(bytes, "pipeline send buffer");
        st->bytes = bytes;
    }
    o->copy(st->buf, src, bytes);
    if (++ms->stash_live > ms->stash_peak) ms->stash_peak = ms->stash_live;
    st->kind = kind;
    st->chunk = c;
    st->mb = mb;
    st->n = n;
}

static nt_stash *stash_find(nt_modelset *ms, const nt_xfer *x)
{
    for (int i = 0; i < ms->nstash; i++)
        if (ms->stash[i].kind == x->kind && ms->stash[i].chunk == x->chunk && ms->stash[i].mb == x->mb)
            return &ms->stash[i];
    nt_die(NT_EXIT_FAIL, "internal: pipeline round sends %c(chunk %d, mb %d), which was never produced", x->kind,
           x->chunk, x->mb);
}

/* round r's exchange: its sends, and the receive of its action's input into ac */
static double round_exchange(nt_modelset *ms, const nt_round *r, nt_acts *ac)
{
    nt_p2p ops[3];
    nt_stash *sent[2];
    int k = 0;
    nt_dtype t = nt_dtype_of_act(ms->ops->act_bytes);
    for (int i = 0; i < r->nsend; i++) {
        sent[i] = stash_find(ms, &r->send[i]);
        ops[k++] = (nt_p2p){1, sent[i]->buf, sent[i]->n, t, r->send[i].peer};
    }
    if (r->recv.kind)
        ops[k++] = (nt_p2p){0, r->recv.kind == 'F' ? ac->x : ac->dx, (size_t)ac->Nl * ms->cfg.hidden, t, r->recv.peer};
    if (!k) return 0;
    double t0 = nt_now();
    nt_comm_exchange(&ms->grid.pp_comm, ops, k);
    /* a device path is stream-ordered: wait here (under the watchdog), so the time is the exchange's */
    nt_watchdog_enterf("pipeline round of step %d (%d sends, %d receives) on the pp communicator", r->step, r->nsend,
                       k - r->nsend);
    ms->ops->sync();
    nt_watchdog_leave();
    for (int i = 0; i < r->nsend; i++) sent[i]->kind = 0;
    ms->stash_live -= r->nsend;
    return nt_now() - t0;
}

/* end of a grouped pass: every output sent, and the most held at once is
 * what the schedule says (nt_schedule_rounds_held, which the plan counts) */
static void stash_check_pass(nt_modelset *ms)
{
    for (int i = 0; i < ms->nstash; i++)
        NT_CHECK(!ms->stash[i].kind, "internal: pipeline output %c(chunk %d, mb %d) was never sent", ms->stash[i].kind,
                 ms->stash[i].chunk, ms->stash[i].mb);
    NT_CHECK(ms->stash_live == 0 && ms->stash_peak == ms->rounds_held,
             "internal: pipeline rank %d held %d outputs at once (%d at the end), its rounds say %d", ms->grid.pp,
             ms->stash_peak, ms->stash_live, ms->rounds_held);
    ms->stash_peak = 0;
}

/* ---- the passes ---------------------------------------------------------- */

/* what one forward of (chunk c, micro-batch mb) needs besides the model set */
typedef struct fwd_ctx {
    nt_batch *b;
    nt_stage_fn fn;
    void *state;
    double *acc;
    const int32_t *inp, *tgt;
    int m;                      /* micro-batches of the pass (p2p tags) */
    pending *pd;                /* NULL: grouped rounds (the caller receives; the output is stashed) */
    double loss, tf, tp2p;
} fwd_ctx;

/* Forward of chunk c for micro-batch mb into ac: its input from the previous
 * stage (or the embedding), the stage function on the last stage, the output
 * sent on to the next stage (tagged), or kept for its round (grouped). */
static void forward_item(nt_modelset *ms, fwd_ctx *x, int c, int mb, nt_acts *ac)
{
    const nt_ops *o = ms->ops;
    int P = ms->grid.PP, S = P * ms->v, s = c * P + ms->grid.pp, B = ms->micro_batch;
    nt_model *mdl = &ms->chunk[c];
    size_t nx = (size_t)ac->Nl * ms->cfg.hidden;
    double t0;
    if (s > 0 && x->pd) {
        t0 = nt_now();
        recv_into(ms, ac->x, nx, (s - 1) % P, p2p_tag(0, s - 1, S, mb, x->m));
        x->tp2p += nt_now() - t0;
    }
    t0 = nt_now();
    nt_model_set_positions(mdl, ac, x->b->packed ? nt_batch_pos(x->b, mb * B) : NULL);
    nt_model_forward(mdl, ac, x->inp);
    if (s == S - 1) {
        nt_stage st = {.model = mdl, .acts = ac, .batch = x->b, .mb = mb, .row0 = mb * B, .rows = B,
                       .targets = x->tgt, .acc = x->acc};
        x->loss += x->fn(x->state, &st);
    }
    const void *out = (char *)ac->x + (size_t)mdl->nlayers * nx * o->act_bytes;
    if (s < S - 1 && !x->pd) stash_put(ms, 'F', c, mb, out, nx);
    o->sync();
    x->tf += nt_now() - t0;
    if (s < S - 1 && x->pd) {
        t0 = nt_now();
        send_copy(ms, x->pd, out, nx, (s + 1) % P, p2p_tag(0, s, S, mb, x->m));
        x->tp2p += nt_now() - t0;
    }
}

/* backward of (chunk c, micro-batch mb); last: the chunk's last backward of the pass */
static double backward_item(nt_modelset *ms, int c, nt_acts *ac, int last)
{
    double t0 = nt_now();
    nt_model *mdl = &ms->chunk[c];
    if (last && ms->grads_final) {
        mdl->grads_done = chunk_grads_done;
        mdl->grads_done_ctx = ms;
    }
    nt_model_backward(mdl, ac);
    mdl->grads_done = NULL;
    ms->ops->sync();
    return nt_now() - t0;
}

double nt_modelset_train_pass(nt_modelset *ms, nt_batch *b, nt_stage_fn fn, void *state, double *acc)
{
    const nt_ops *o = ms->ops;
    nt_grid *g = &ms->grid;
    NT_CHECK(ms->trainable, "internal: training pass on a frozen model set");
    int m = nt_modelset_micro_batches(ms, b->gbs);
    int B = ms->micro_batch, T = ms->seq_len, N = B * T, P = g->PP, S = P * ms->v;
    NT_CHECK(b->rows == m * B && b->seq_len == T, "internal: batch of %d rows x %d tokens, the step needs %d x %d",
             b->rows, b->seq_len, m * B, T);
    int32_t *inp = nt_malloc((size_t)N * sizeof(int32_t), "inputs");
    int32_t *tgt = nt_malloc((size_t)N * sizeof(int32_t), "targets");
    pending pd = {0};
    int grouped = ms->p2p_grouped && P > 1;
    fwd_ctx fx = {.b = b, .fn = fn, .state = state, .acc = acc, .inp = inp, .tgt = tgt, .m = m,
                  .pd = grouped ? NULL : &pd};
    double t0, tb = 0;

    build_schedule(ms, m);
    if (grouped) {
        build_rounds(ms, m, 1);
        nt_comm_exchange(&g->pp_comm, NULL, 0);   /* the device path ready on every pipeline rank */
    }
    o->zero(ms->grads, ms->npadded * sizeof(float));
    /* the last backward of each chunk: where its gradients become final */
    int last_b[NT_MAX_CHUNKS];
    for (int c = 0; c < ms->v; c++) last_b[c] = -1;
    for (int k = 0; k < ms->sched_len; k++)
        if (ms->sched[k].kind != 'F') last_b[ms->sched[k].chunk] = ms->sched[k].mb;
    int nitems = grouped ? ms->nrounds : ms->sched_len;
    for (int k = 0; k < nitems; k++) {
        const nt_round *r = grouped ? &ms->rounds[k] : NULL;
        nt_action a = grouped ? r->act : ms->sched[k];
        int c = a.chunk, s = c * P + g->pp;
        nt_acts *ac = a.kind == 'F' ? pool_get(ms, c, a.mb) : a.kind == 'B' ? pool_find(ms, c, a.mb) : NULL;
        if (grouped) fx.tp2p += round_exchange(ms, r, ac);
        if (!a.kind) continue;
        micro_io(b, a.mb, B, inp, tgt);
        if (a.kind == 'F') {
            forward_item(ms, &fx, c, a.mb, ac);
            continue;
        }
        size_t nx = (size_t)ac->Nl * ms->cfg.hidden;
        if (s < S - 1 && !grouped) {
            t0 = nt_now();
            recv_into(ms, ac->dx, nx, (s + 1) % P, p2p_tag(1, s + 1, S, a.mb, m));
            fx.tp2p += nt_now() - t0;
        }
        tb += backward_item(ms, c, ac, a.mb == last_b[c]);
        if (s > 0) {
            t0 = nt_now();
            if (grouped) stash_put(ms, 'B', c, a.mb, ac->dx, nx);
            else send_copy(ms, &pd, ac->dx, nx, (s - 1) % P, p2p_tag(1, s, S, a.mb, m));
            fx.tp2p += nt_now() - t0;
        }
        pool_release(ms, c, a.mb);
    }
    t0 = nt_now();
    pending_wait(&pd);
    pending_free(&pd);
    fx.tp2p += nt_now() - t0;
    if (grouped) stash_check_pass(ms);
    free(inp);
    free(tgt);
    ms->t_fwd = fx.tf;
    ms->t_bwd = tb;
    ms->t_p2p = fx.tp2p;
    return fx.loss;
}

/* Forward only: micro-batch by micro-batch, chunk by chunk.  Tagged: every
 * receive waits on an item earlier in the same (micro-batch, chunk) order
 * of the sending rank, and sends do not block, so the order cannot
 * deadlock.  Grouped: the same order in lockstep rounds. */
double nt_modelset_forward_pass(nt_modelset *ms, nt_batch *b, nt_stage_fn fn, void *state, double *acc)
{
    int B = ms->micro_batch, T = ms->seq_len, N = B * T;
    NT_CHECK(b->seq_len == T && b->rows % B == 0, "internal: batch of %d rows x %d tokens for micro-batches of %d x %d",
             b->rows, b->seq_len, B, T);
    int m = b->rows / B;
    int32_t *inp = nt_malloc((size_t)N * sizeof(int32_t), "inputs");
    int32_t *tgt = nt_malloc((size_t)N * sizeof(int32_t), "targets");
    pending pd = {0};
    int grouped = ms->p2p_grouped && ms->grid.PP > 1;
    fwd_ctx fx = {.b = b, .fn = fn, .state = state, .acc = acc, .inp = inp, .tgt = tgt, .m = m,
                  .pd = grouped ? NULL : &pd};
    if (grouped) {
        build_rounds(ms, m, 0);
        nt_comm_exchange(&ms->grid.pp_comm, NULL, 0);
        for (int k = 0; k < ms->nrounds; k++) {
            const nt_round *r = &ms->rounds[k];
            nt_acts *ac = r->act.kind ? pool_get(ms, r->act.chunk, 0) : NULL;
            fx.tp2p += round_exchange(ms, r, ac);
            if (!r->act.kind) continue;
            micro_io(b, r->act.mb, B, inp, tgt);
            forward_item(ms, &fx, r->act.chunk, r->act.mb, ac);
            pool_release(ms, r->act.chunk, 0);
        }
        stash_check_pass(ms);
    } else {
        for (int mb = 0; mb < m; mb++) {
            micro_io(b, mb, B, inp, tgt);
            for (int c = 0; c < ms->v; c++) {
                forward_item(ms, &fx, c, mb, pool_get(ms, c, 0));
                pool_release(ms, c, 0);
            }
            double t0 = nt_now();
            pending_wait(&pd);
            fx.tp2p += nt_now() - t0;
        }
    }
    pending_free(&pd);
    free(inp);
    free(tgt);
    ms->t_fwd = fx.tf;
    ms->t_bwd = 0;
    ms->t_p2p = fx.tp2p;
    return fx.loss;
}

double nt_stage_logprobs(void *state, const nt_stage *s)
{
    float *logp = state;
    int T = s->acts->T;
    const float *nll = nt_model_head_nll(s->model, s->acts, s->targets);
    for (int r = 0; r < s->rows; r++) {
        double sum = 0.0;
        for (int j = 0; j < T; j++) {
            size_t i = (size_t)r * T + j;
            int valid = s->targets[i] >= 0;
            if (logp) logp[((size_t)s->row0 + r) * T + j] = valid ? -nll[i] : NAN;
            if (valid) sum -= (double)nll[i];
        }
        s->batch->seq_logp[s->row0 + r] = sum;
    }
    return 0.0;
}

float *nt_modelset_gather_param(nt_modelset *ms, const char *name, int *rows, int *cols)
{
    nt_grid *g = &ms->grid;
    const nt_tensor_info *t = NULL;
    const nt_model *owner = NULL;
    for (int c = 0; c < ms->v && !t; c++)
        if ((t = nt_model_find(&ms->chunk[c], name))) owner = &ms->chunk[c];
    int dims[2] = {t ? t->full_rows : 0, t ? t->full_cols : 0};
    nt_comm_allreduce_i32(&g->world, dims, 2, NT_MAX);
    if (dims[0] == 0) return NULL;
    *rows = dims[0];
    *cols = dims[1];
    size_t n = (size_t)dims[0] * (size_t)dims[1];
    float *out = nt_calloc(n, sizeof(float), "gathered parameter");
    if (t && g->dp == 0 && (t->split != NT_SPLIT_NONE || g->tp == 0)) {
        float *h = nt_malloc(t->numel * sizeof(float), "gather");
        if (owner->master) ms->ops->from_f32(h, owner->master + t->offset, t->numel);
        else ms->ops->from_act(h, (const char *)owner->params + t->offset * ms->ops->act_bytes, t->numel);
        for (int r = 0; r < t->rows; r++)
            for (int c = 0; c < t->cols; c++)
                out[(size_t)(t->row0 + r) * (size_t)t->full_cols + (size_t)(t->col0 + c)] = h[(size_t)r * t->cols + c];
        free(h);
    }
    nt_comm_allreduce_f32(&g->world, out, n, NT_SUM);
    return out;
}
