/* model.c — Nemotron-4 decoder chunk: tensor table, layout-independent
 * initialisation, forward, LM head + vocab-parallel cross-entropy, backward.
 * All math goes through the backend's ops table; tensor-parallel partial
 * sums go through the comm API (no-ops when the TP group has one rank).
 *
 * TP (Megatron): fused QKV and MLP-up are column-parallel (row shards of the
 * [out, in] weight), the output projection and MLP-down row-parallel (column
 * shards); embedding and LM head are vocab-parallel.  Forward all-reduces
 * after the row-parallel GEMMs and the embedding; backward all-reduces the
 * input gradients of the column-parallel GEMMs.
 * Collectives take the backend's buffers (act dtype: fp32 on the CPU, bf16
 * on CUDA); the comm layer sends device buffers through NCCL or stages them
 * through host memory (comm_device.c).
 */
#include "model/model.h"
#include "util/check.h"
#include "util/rng.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- tensor table ------------------------------------------------------ */

static nt_tensor_info *add_tensor(nt_model *m, int *cap, const char *name, int full_rows,
                                  int full_cols, int split, int decay)
{
    if (m->ntensors == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        nt_tensor_info *t = realloc(m->tensors, (size_t)*cap * sizeof *t);
        NT_CHECK(t != NULL, "out of memory for the tensor table");
        m->tensors = t;
    }
    nt_tensor_info *t = &m->tensors[m->ntensors++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    int tp = m->mc.tp, r = m->mc.tp_rank;
    t->full_rows = full_rows;
    t->full_cols = full_cols;
    t->rows = full_rows;
    t->cols = full_cols;
    t->split = tp > 1 ? split : NT_SPLIT_NONE;
    if (t->split == NT_SPLIT_ROWS) { t->rows = full_rows / tp; t->row0 = r * t->rows; }
    if (t->split == NT_SPLIT_COLS) { t->cols = full_cols / tp; t->col0 = r * t->cols; }
    t->decay = decay;
    t->numel = (size_t)t->rows * (size_t)t->cols;
    t->offset = m->nparams;
    m->nparams += t->numel;
    return t;
}

#define LAYER_TENSORS 8   /* tensors per layer in the table, in build_table's order */

static void build_table(nt_model *m)
{
    const nt_model_config *mc = &m->mc;
    int cap = 0, H = mc->hidden;
    char name[96];
    if (m->has_embedding)
        add_tensor(m, &cap, "embedding.weight", mc->vocab_padded, H, NT_SPLIT_ROWS, 1);
    for (int i = 0; i < m->nlayers; i++) {
        int l = m->layer0 + i;
#define T(suffix, r, c, split, decay) \
        snprintf(name, sizeof name, "layers.%d.%s", l, suffix); \
        add_tensor(m, &cap, name, r, c, split, decay)
        T("input_norm.weight", H, 1, NT_SPLIT_NONE, 0);
        T("input_norm.bias", H, 1, NT_SPLIT_NONE, 0);
        T("attn.qkv.weight", mc->kv_heads * (mc->qpg + 2) * mc->head_dim, H, NT_SPLIT_ROWS, 1);
        T("attn.out.weight", H, mc->heads * mc->head_dim, NT_SPLIT_COLS, 1);
        T("post_attn_norm.weight", H, 1, NT_SPLIT_NONE, 0);
        T("post_attn_norm.bias", H, 1, NT_SPLIT_NONE, 0);
        T("mlp.up.weight", mc->ffn, H, NT_SPLIT_ROWS, 1);
        T("mlp.down.weight", H, mc->ffn, NT_SPLIT_COLS, 1);
#undef T
    }
    if (m->has_head) {
        add_tensor(m, &cap, "final_norm.weight", H, 1, NT_SPLIT_NONE, 0);
        add_tensor(m, &cap, "final_norm.bias", H, 1, NT_SPLIT_NONE, 0);
        if (mc->head == NT_HEAD_REWARD)   /* replicated on every TP rank (K x H is tiny) */
            add_tensor(m, &cap, "reward_head.weight", mc->reward_outputs, H, NT_SPLIT_NONE, 1);
        else
            add_tensor(m, &cap, "lm_head.weight", mc->vocab_padded, H, NT_SPLIT_ROWS, 1);
    }
}

const nt_tensor_info *nt_model_find(const nt_model *m, const char *name)
{
    for (int i = 0; i < m->ntensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
    return NULL;
}

static void *pview(const nt_model *m, int idx)
{
    return (char *)m->params + m->tensors[idx].offset * m->ops->act_bytes;
}
static float *gview(const nt_model *m, int idx)
{
    return m->grads ? m->grads + m->tensors[idx].offset : NULL;
}

void nt_model_layout(nt_model *m, const nt_ops *ops, const nt_model_config *mc,
                     const nt_comm *tp_comm, int layer0, int nlayers,
                     int has_embedding, int has_head)
{
    memset(m, 0, sizeof *m);
    m->ops = ops;
    m->mc = *mc;
    m->tp_comm = tp_comm;
    m->layer0 = layer0;
    m->nlayers = nlayers;
    m->has_embedding = has_embedding;
    m->has_head = has_head;
    build_table(m);
}

void nt_model_bind(nt_model *m, void *params, float *master, float *grads, int want_grads)
{
    const nt_ops *ops = m->ops;
    m->want_grads = want_grads;
    m->owns_buffers = params == NULL;
    if (params) {
        m->params = params;
        m->master = master;
        m->grads = want_grads ? grads : NULL;
    } else {
        m->params = ops->alloc(m->nparams * ops->act_bytes, "model parameters");
        m->master = ops->params_are_master ? (float *)m->params
                                           : ops->alloc(m->nparams * sizeof(float), "fp32 master weights");
        if (want_grads) m->grads = ops->alloc(m->nparams * sizeof(float), "fp32 gradients");
    }
    int nlayers = m->nlayers;
    m->layer = nt_calloc((size_t)(nlayers > 0 ? nlayers : 1), sizeof *m->layer, "layer views");
    int k = 0;
    if (m->has_embedding) { m->emb = pview(m, k); m->d_emb = gview(m, k); k++; }
    for (int i = 0; i < nlayers; i++) {
        nt_layer_view *L = &m->layer[i];
        L->ln1_g = pview(m, k); L->d_ln1_g = gview(m, k); k++;
        L->ln1_b = pview(m, k); L->d_ln1_b = gview(m, k); k++;
        L->qkv = pview(m, k); L->d_qkv = gview(m, k); k++;
        L->out = pview(m, k); L->d_out = gview(m, k); k++;
        L->ln2_g = pview(m, k); L->d_ln2_g = gview(m, k); k++;
        L->ln2_b = pview(m, k); L->d_ln2_b = gview(m, k); k++;
        L->up = pview(m, k); L->d_up = gview(m, k); k++;
        L->down = pview(m, k); L->d_down = gview(m, k); k++;
    }
    if (m->has_head) {
        m->lnf_g = pview(m, k); m->d_lnf_g = gview(m, k); k++;
        m->lnf_b = pview(m, k); m->d_lnf_b = gview(m, k); k++;
        if (m->mc.head == NT_HEAD_REWARD) { m->reward_head = pview(m, k); m->d_reward_head = gview(m, k); k++; }
        else { m->lm_head = pview(m, k); m->d_lm_head = gview(m, k); k++; }
    }
}

void nt_model_create(nt_model *m, const nt_ops *ops, const nt_model_config *mc,
                     const nt_comm *tp_comm, int layer0, int nlayers,
                     int has_embedding, int has_head, int want_grads)
{
    nt_model_layout(m, ops, mc, tp_comm, layer0, nlayers, has_embedding, has_head);
    nt_model_bind(m, NULL, NULL, NULL, want_grads);
}

void nt_model_destroy(nt_model *m)
{
    if (m->owns_buffers) {
        if (!m->ops->params_are_master) m->ops->free(m->master);
        m->ops->free(m->params);
        if (m->grads) m->ops->free(m->grads);
    }
    free(m->layer);
    free(m->tensors);
    memset(m, 0, sizeof *m);
}

/* Initial values: element (row, col) of a tensor's full logical matrix is
 * std * N(0,1) drawn from the counter-based stream of (seed, tensor name) at
 * index row * full_cols + col, so every layout draws the same numbers.  The
 * elements are independent, so threads fill disjoint ranges of the flat
 * parameter buffer (results do not depend on the thread count). */
typedef struct {
    const nt_model *m;
    float *host;
    uint64_t seed;
    size_t lo, hi; /* flat element range of this thread */
} init_job;

static void *init_range(void *arg)
{
    const init_job *j = arg;
    const nt_model *m = j->m;
    float std_out = m->mc.init_std / sqrtf(2.0f * (float)m->mc.layers);
    for (int i = 0; i < m->ntensors; i++) {
        const nt_tensor_info *t = &m->tensors[i];
        size_t a = t->offset > j->lo ? t->offset : j->lo;
        size_t b = t->offset + t->numel < j->hi ? t->offset + t->numel : j->hi;
        if (a >= b) continue;
        float *dst = j->host;
        if (t->full_cols == 1) { /* norms: zero-centred gamma and beta */
            memset(dst + a, 0, (b - a) * sizeof(float));
            continue;
        }
        int scaled = strstr(t->name, "attn.out.") || strstr(t->name, "mlp.down.");
        float std = scaled ? std_out : m->mc.init_std;
        uint64_t key = nt_rng_key(j->seed, t->name);
        for (size_t f = a; f < b; f++) {
            size_t local = f - t->offset, r = local / (size_t)t->cols, c = local % (size_t)t->cols;
            uint64_t gidx = (uint64_t)(t->row0 + r) * (uint64_t)t->full_cols + (uint64_t)(t->col0 + c);
            dst[f] = std * (float)nt_rng_normal(key, gidx);
        }
    }
    return NULL;
}

void nt_model_init_params(nt_model *m, uint64_t seed)
{
    float *host = nt_malloc(m->nparams * sizeof(float), "host init buffer");
    enum { MAX_THREADS = 32 };
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nth = m->nparams < ((size_t)1 << 22) || ncpu < 2 ? 1 : (int)(ncpu < MAX_THREADS ? ncpu : MAX_THREADS);
    init_job jobs[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int k = 0; k < nth; k++) {
        jobs[k] = (init_job){m, host, seed, m->nparams * (size_t)k / (size_t)nth,
                             m->nparams * (size_t)(k + 1) / (size_t)nth};
        started[k] = k > 0 && pthread_create(&th[k], NULL, init_range, &jobs[k]) == 0;
        if (k > 0 && !started[k]) init_range(&jobs[k]); /* no thread: do it here */
    }
    init_range(&jobs[0]);
    for (int k = 1; k < nth; k++)
        if (started[k]) NT_CHECK(pthread_join(th[k], NULL) == 0, "parameter init: pthread_join failed");
    if (m->master) m->ops->to_f32(m->master, host, m->nparams);
    if (!m->ops->params_are_master) m->ops->to_act(m->params, host, m->nparams);
    free(host);
}

/* ---- activations ------------------------------------------------------- */

/* With sequence parallelism the residual stream (x, xmid, dx) and the saved
 * LayerNorm outputs (ln1, ln2) hold this TP rank's block of N/tp token
 * rows, as Megatron keeps them: a GEMM that reads a LayerNorm output gets
 * it all-gathered to N rows into the dtmp scratch right before (forward,
 * and again in the backward for the weight gradients and the selective
 * recompute), so no layer keeps a gathered copy; the final norm (lnf) is
 * gathered once for the head.  Without SP every buffer holds all N rows. */
static int rows_local(const nt_model *m, int N) { return m->mc.sp ? N / m->mc.tp : N; }

void nt_acts_create(nt_acts *a, const nt_model *m, int B, int T)
{
    nt_acts_create_sharing(a, m, B, T, NULL);
}

void nt_acts_create_sharing(nt_acts *a, const nt_model *m, int B, int T, const nt_acts *scratch)
{
    const nt_ops *o = m->ops;
    const nt_model_config *mc = &m->mc;
    size_t N = (size_t)B * T, H = mc->hidden, L = m->nlayers, eb = o->act_bytes;
    size_t Nl = (size_t)rows_local(m, (int)N);
    memset(a, 0, sizeof *a);
    a->B = B; a->T = T; a->N = (int)N; a->Nl = (int)Nl;
    a->tokens = o->alloc(N * sizeof(int32_t), "token ids");
    a->targets = o->alloc(N * sizeof(int32_t), "target ids");
    a->pos = o->alloc(N * sizeof(int32_t), "packed positions");
    a->x = o->alloc((L + 1) * Nl * H * eb, "residual stream");
    if (L > 0) {
        /* recomputation keeps fewer layers' intermediates: selective drops the MLP's
         * (the widest, 2 x ffn per token), full keeps only each layer's input x */
        size_t Lr = mc->recompute == NT_RECOMPUTE_FULL ? 1 : L;
        size_t Lm = mc->recompute == NT_RECOMPUTE_NONE ? L : 1;
        a->xmid = o->alloc(Lr * Nl * H * eb, "residual mid");
        a->ln1 = o->alloc(Lr * Nl * H * eb, "ln1 activations");
        a->qkv = o->alloc(Lr * N * mc->qkv_local * eb, "qkv activations");
        a->att = o->alloc(Lr * N * mc->attn_local * eb, "attention outputs");
        a->ln2 = o->alloc(Lr * Nl * H * eb, "ln2 activations");
        a->up = o->alloc(Lm * N * mc->ffn_local * eb, "mlp-up activations");
        a->act = o->alloc(Lm * N * mc->ffn_local * eb, "mlp activations");
        a->mean1 = o->alloc(Lr * Nl * sizeof(float), "ln1 mean");
        a->rstd1 = o->alloc(Lr * Nl * sizeof(float), "ln1 rstd");
        a->mean2 = o->alloc(Lr * Nl * sizeof(float), "ln2 mean");
        a->rstd2 = o->alloc(Lr * Nl * sizeof(float), "ln2 rstd");
        a->lse = o->alloc(Lr * N * mc->groups_local * mc->qpg * sizeof(float), "attention lse");
    }
    if (scratch) {   /* the workspace of another slot: nothing lives in it between passes */
        NT_CHECK(scratch->N == a->N && scratch->Nl == a->Nl && !scratch->shares_scratch &&
                 !scratch->dx == !m->want_grads, "internal: activation workspace shared between unlike slots");
        a->dtmp = scratch->dtmp, a->lnl = scratch->lnl, a->dx = scratch->dx, a->dfull = scratch->dfull;
        a->dqkv = scratch->dqkv, a->datt = scratch->datt, a->dup = scratch->dup;
        a->shares_scratch = 1;
    } else {
        a->dtmp = o->alloc(N * H * eb, "dtmp");   /* also the forward's scratch for row reductions and gathered LN outputs */
        a->lnl = o->alloc(Nl * H * eb, "local norm output");
    }
    if (m->want_grads && !scratch) {   /* backward scratch: a frozen (forward-only) model has none */
        size_t wide = (size_t)mc->qkv_local > (size_t)mc->ffn_local ? (size_t)mc->qkv_local : (size_t)mc->ffn_local;
        a->dx = o->alloc(Nl * H * eb, "dx");
        a->dfull = o->alloc(N * H * eb, "gathered gradient");
        a->dqkv = o->alloc(N * wide * eb, "dqkv");
        a->datt = o->alloc(N * mc->attn_local * eb, "datt");
        a->dup = o->alloc(N * mc->ffn_local * eb, "dup");
    }
    if (m->has_head) {
        a->lnf = o->alloc(N * H * eb, "final norm");
        a->meanf = o->alloc(Nl * sizeof(float), "lnf mean");
        a->rstdf = o->alloc(Nl * sizeof(float), "lnf rstd");
        if (mc->head == NT_HEAD_REWARD) {
            int K = mc->reward_outputs;
            a->score = o->alloc(N * (size_t)K * eb, "reward scores");
            a->host_score = nt_malloc(N * (size_t)K * sizeof(float), "host reward scores");
            a->host_dscore = nt_malloc(N * (size_t)K * sizeof(float), "host reward score gradient");
        } else {
            a->logits = o->alloc(N * (size_t)mc->vocab_local * eb, "logits");
        }
        a->rowmax = o->alloc(N * sizeof(float), "ce rowmax");
        a->sumexp = o->alloc(2 * N * sizeof(float), "ce sumexp+tgt");
        a->tgt = a->sumexp + N;
        a->loss = o->alloc(N * sizeof(float), "ce loss");
        if (m->want_grads) a->dloss = o->alloc(N * sizeof(float), "ce dloss");
        a->host_loss = nt_malloc(N * sizeof(float), "host loss");
    }
}

void nt_acts_destroy(nt_acts *a, const nt_model *m)
{
    const nt_ops *o = m->ops;
    void *bufs[] = {a->tokens, a->targets, a->pos, a->x, a->ln1, a->qkv, a->att, a->ln2, a->up, a->act,
                    a->mean1, a->rstd1, a->mean2, a->rstd2, a->lse, a->lnf, a->meanf, a->rstdf, a->logits,
                    a->rowmax, a->sumexp, a->loss, a->dloss, a->xmid, a->score};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]) o->free(bufs[i]);
    void *ws[] = {a->dx, a->dtmp, a->dqkv, a->datt, a->dup, a->dfull, a->lnl};
    for (size_t i = 0; i < sizeof ws / sizeof ws[0] && !a->shares_scratch; i++)
        if (ws[i]) o->free(ws[i]);
    free(a->host_loss);
    free(a->host_score);
    free(a->host_dscore);
    memset(a, 0, sizeof *a);
}

/* ---- tensor-parallel helpers ------------------------------------------- */

#define AT(base, idx, width) ((void *)((char *)(base) + (size_t)(idx) * (size_t)(width) * eb))
#define ATF(base, idx, width) ((base) + (size_t)(idx) * (size_t)(width))

static int tp_on(const nt_model *m) { return m->tp_comm && m->tp_comm->size > 1; }

/* all-reduce a partial sum over TP (no sequence parallelism) */
static void tp_sum(const nt_model *m, void *buf, size_t n)
{
    if (tp_on(m)) nt_comm_allreduce(m->tp_comm, buf, n, nt_dtype_of_act(m->ops->act_bytes), NT_SUM);
}

/* full [N,H] partial sums -> this rank's [N/tp,H] block, summed over TP (SP),
 * or all-reduced in place into out (no SP; out may alias full) */
static void tp_reduce_rows(const nt_model *m, void *out, void *full, size_t nfull)
{
    if (m->mc.sp) nt_comm_reduce_scatter(m->tp_comm, full, out, nfull, nt_dtype_of_act(m->ops->act_bytes));
    else {
        tp_sum(m, full, nfull);
        if (out != full) m->ops->copy(out, full, nfull * m->ops->act_bytes);
    }
}

/* this rank's row block -> all N rows (SP); without SP a copy (or nothing) */
static void tp_gather_rows(const nt_model *m, void *full, const void *local, size_t nlocal)
{
    if (m->mc.sp) nt_comm_allgather(m->tp_comm, local, full, nlocal, nt_dtype_of_act(m->ops->act_bytes));
    else if (full != local) m->ops->copy(full, local, nlocal * m->ops->act_bytes);
}

/* a saved LayerNorm output on all N rows for a GEMM: under SP gathered into
 * the dtmp scratch (valid until dtmp is next written), else the saved buffer */
static void *ln_rows(const nt_model *m, nt_acts *a, void *ln_saved)
{
    if (!m->mc.sp) return ln_saved;
    tp_gather_rows(m, a->dtmp, ln_saved, (size_t)a->Nl * m->mc.hidden);
    return a->dtmp;
}

/* ---- forward ----------------------------------------------------------- */

/* slot of layer l's saved intermediates: its own, or the single shared one
 * when the recompute mode does not keep them (rest = everything but x and
 * the MLP's up/act) */
static int slot_rest(const nt_model *m, int l) { return m->mc.recompute == NT_RECOMPUTE_FULL ? 0 : l; }
static int slot_mlp(const nt_model *m, int l) { return m->mc.recompute == NT_RECOMPUTE_NONE ? l : 0; }

/* forward of layer l from a->x[l]; writes a->x[l+1] */
static void layer_forward(nt_model *m, nt_acts *a, int l)
{
    const nt_ops *o = m->ops;
    const nt_model_config *mc = &m->mc;
    size_t eb = o->act_bytes;
    int N = a->N, Nl = a->Nl, H = mc->hidden, hd = mc->head_dim, r = slot_rest(m, l), q = slot_mlp(m, l);
    size_t NH = (size_t)N * H, NlH = (size_t)Nl * H;
    const nt_layer_view *P = &m->layer[l];
    void *x = AT(a->x, l, NlH), *xn = AT(a->x, l + 1, NlH), *xmid = AT(a->xmid, r, NlH);
    void *ln1 = AT(a->ln1, r, NlH), *ln2 = AT(a->ln2, r, NlH);
    void *qkv = AT(a->qkv, r, (size_t)N * mc->qkv_local);
    void *att = AT(a->att, r, (size_t)N * mc->attn_local);
    void *up = AT(a->up, q, (size_t)N * mc->ffn_local), *act = AT(a->act, q, (size_t)N * mc->ffn_local);
    float *lse = ATF(a->lse, r, (size_t)N * mc->groups_local * mc->qpg);

    o->layernorm_fwd(ln1, ATF(a->mean1, r, Nl), ATF(a->rstd1, r, Nl), x, P->ln1_g, P->ln1_b, Nl, H, mc->norm_eps);
    o->matmul(qkv, ln_rows(m, a, ln1), P->qkv, N, mc->qkv_local, H, 0, 1, 1.0f, 0.0f);
    const int32_t *pos = a->packed ? a->pos : NULL;
    o->rope_fwd(qkv, a->B, a->T, mc->groups_local, mc->qpg, hd, mc->rot, mc->rope_base, 0, pos);
    o->attention_fwd(att, lse, qkv, a->B, a->T, mc->groups_local, mc->qpg, hd, pos);
    o->matmul(a->dtmp, att, P->out, N, H, mc->attn_local, 0, 1, 1.0f, 0.0f);
    tp_reduce_rows(m, xmid, a->dtmp, NH);
    o->add(xmid, x, NlH);

    o->layernorm_fwd(ln2, ATF(a->mean2, r, Nl), ATF(a->rstd2, r, Nl), xmid, P->ln2_g, P->ln2_b, Nl, H, mc->norm_eps);
    o->matmul(up, ln_rows(m, a, ln2), P->up, N, mc->ffn_local, H, 0, 1, 1.0f, 0.0f);
    o->sqrelu_fwd(act, up, (size_t)N * mc->ffn_local);
    o->matmul(a->dtmp, act, P->down, N, H, mc->ffn_local, 0, 1, 1.0f, 0.0f);
    tp_reduce_rows(m, xn, a->dtmp, NH);
    o->add(xn, xmid, NlH);
}

void nt_model_set_positions(nt_model *m, nt_acts *a, const int32_t *pos_host)
{
    a->packed = pos_host != NULL;
    if (pos_host) m->ops->tokens_upload(a->pos, pos_host, (size_t)a->N);
}

void nt_model_forward(nt_model *m, nt_acts *a, const int32_t *tokens_host)
{
    const nt_ops *o = m->ops;
    const nt_model_config *mc = &m->mc;
    int N = a->N, H = mc->hidden;

    if (m->has_embedding) {
        o->tokens_upload(a->tokens, tokens_host, (size_t)N);
        o->embedding_fwd(a->dtmp, a->tokens, m->emb, N, mc->vocab_lo, mc->vocab_local, H);
        tp_reduce_rows(m, a->x, a->dtmp, (size_t)N * H);
    }
    for (int l = 0; l < m->nlayers; l++) layer_forward(m, a, l);
}

/* final norm of the chunk output into a->lnf, all N rows on every TP rank */
static void final_norm(nt_model *m, nt_acts *a)
{
    const nt_ops *o = m->ops;
    const nt_model_config *mc = &m->mc;
    size_t eb = o->act_bytes;
    int Nl = a->Nl, H = mc->hidden;
    void *xL = AT(a->x, m->nlayers, (size_t)Nl * H);
    void *lnf_local = mc->sp ? a->lnl : a->lnf;
    o->layernorm_fwd(lnf_local, a->meanf, a->rstdf, xL, m->lnf_g, m->lnf_b, Nl, H, mc->norm_eps);
    tp_gather_rows(m, a->lnf, lnf_local, (size_t)Nl * H);
}

void nt_model_head_logits(nt_model *m, nt_acts *a)
{
    const nt_ops *o = m->ops;
    const nt_model_config *mc = &m->mc;
    int N = a->N, H = mc->hidden;
    NT_CHECK(mc->head == NT_HEAD_LM, "nt_model_head_logits needs model.head = lm");
    final_norm(m, a);
    o->matmul(a->logits, a->lnf, m->lm_head, N, mc->vocab_local, H, 0, 1, 1.0f, 0.0f);
    /* padded vocabulary ids never win: -inf logits take no probability and get
     * zero gradient, so the padding (which depends on TP) cannot change the model */
    int first_pad = mc->vocab - mc->vocab_lo;
    if (first_pad < mc->vocab_local) o->mask_cols(a->logits, N, mc->vocab_local, first_pad, -INFINITY);
}

const float *nt_model_head_nll(nt_model *m, nt_acts *a, const int32_t *targets_host)
{
    const nt_ops *o = m->ops;
    const nt_model_config *mc = &m->mc;
    int N = a->N, V = mc->vocab_local;

    nt_model_head_logits(m, a);
    o->tokens_upload(a->targets, targets_host, (size_t)N);
    if (tp_on(m)) {
        /* the vocabulary split over TP: the shards' row maxima meet before the sums */
        o->ce_rowmax(a->rowmax, a->logits, N, V);
        float *h = nt_malloc(2 * (size_t)N * sizeof(float), "ce reduce");
        o->from_f32(h, a->rowmax, (size_t)N);
        nt_comm_allreduce_f32(m->tp_comm, h, (size_t)N, NT_MAX);
        o->to_f32(a->rowmax, h, (size_t)N);
        o->ce_sumexp(a->sumexp, a->tgt, a->logits, a->rowmax, a->targets, mc->vocab_lo, N, V);
        o->from_f32(h, a->sumexp, 2 * (size_t)N);
        nt_comm_allreduce_f32(m->tp_comm, h, 2 * (size_t)N, NT_SUM);
        o->to_f32(a->sumexp, h, 2 * (size_t)N);
        free(h);
    } else {
        o->ce_stats(a->rowmax, a->sumexp, a->tgt, a->logits, a->targets, mc->vocab_lo, N, V);
    }
    o->ce_loss(a->loss, a->rowmax, a->sumexp, a->tgt, N);
    o->from_f32(a->host_loss, a->loss, (size_t)N);
    return a->host_loss;
}

void nt_model_head_nll_backward(nt_model *m, nt_acts *a, const float *coef_host)
{
    const nt_ops *o = m->ops;
    const nt_model_config *mc = &m->mc;
    int N = a->N, V = mc->vocab_local;
    o->to_f32(a->dloss, coef_host, (size_t)N);
    /* dlogits overwrite the logits */
    o->ce_bwd(a->logits, a->logits, a->rowmax, a->sumexp, a->targets, a->dloss, mc->vocab_lo, N, V);
}

/* ---- reward head --------------------------------------------------------- */

void nt_model_head_scores(nt_model *m, nt_acts *a, const int *ends, float *scores)
{
    const nt_ops *o = m->ops;
    const nt_model_config *mc = &m->mc;
    int N = a->N, T = a->T, H = mc->hidden, K = mc->reward_outputs;
    NT_CHECK(mc->head == NT_HEAD_REWARD, "nt_model_head_scores needs model.head = reward");
    final_norm(m, a);
    /* every row's scores (N x K x H: negligible next to one layer), then the end rows */
    o->matmul(a->score, a->lnf, m->reward_head, N, K, H, 0, 1, 1.0f, 0.0f);
    o->from_act(a->host_score, a->score, (size_t)N * K);
    for (int b = 0; b < a->B; b++) {
        NT_CHECK(ends[b] >= 0 && ends[b] < T, "reward head: end position out of range");
        memcpy(scores + (size_t)b * K, a->host_score + ((size_t)b * T + ends[b]) * K, (size_t)K * sizeof(float));
    }
}

void nt_model_head_scores_backward(nt_model *m, nt_acts *a, const int *ends, const float *dscores)
{
    const nt_ops *o = m->ops;
    int N = a->N, T = a->T, K = m->mc.reward_outputs;
    memset(a->host_dscore, 0, (size_t)N * K * sizeof(float));
    for (int b = 0; b < a->B; b++)
        memcpy(a->host_dscore + ((size_t)b * T + ends[b]) * K, dscores + (size_t)b * K, (size_t)K * sizeof(float));
    o->to_act(a->score, a->host_dscore, (size_t)N * K);   /* the scores' gradient overwrites them */
}

/* ---- backward ---------------------------------------------------------- */

/* tensors [t0, t1) have their final gradient of this backward: tell the hook */
static void grads_done(const nt_model *m, int t0, int t1)
{
    if (!m->grads_done || t1 <= t0) return;
    const nt_tensor_info *a = &m->tensors[t0], *b = &m->tensors[t1 - 1];
    m->grads_done(m->grads_done_ctx, m, a->offset, b->offset + b->numel);
}

void nt_model_backward(nt_model *m, nt_acts *a)
{
    const nt_ops *o = m->ops;
    const nt_model_config *mc = &m->mc;
    size_t eb = o->act_bytes;
    int N = a->N, Nl = a->Nl, H = mc->hidden, hd = mc->head_dim, F = mc->ffn_local;
    size_t NH = (size_t)N * H, NlH = (size_t)Nl * H;
    /* dY: gradient of the residual stream on all N rows (gathered under SP) */
    void *dY = mc->sp ? a->dfull : a->dx;

    if (m->has_head) {
        void *xL = AT(a->x, m->nlayers, NlH);
        if (mc->head == NT_HEAD_REWARD) {
            /* the head and its input are replicated over TP, so its weight gradient
             * is already whole on every TP rank, and the input gradient is added
             * by TP rank 0 only (the row reduction below sums over TP) */
            int K = mc->reward_outputs;
            o->matmul_wgrad(m->d_reward_head, a->score, a->lnf, K, H, N, 1, 0);
            if (mc->tp_rank == 0) o->matmul(a->dtmp, a->score, m->reward_head, N, H, K, 0, 0, 1.0f, 0.0f);
            else o->zero(a->dtmp, NH * eb);
        } else {
            int V = mc->vocab_local;
            o->matmul_wgrad(m->d_lm_head, a->logits, a->lnf, V, H, N, 1, 0);
            o->matmul(a->dtmp, a->logits, m->lm_head, N, H, V, 0, 0, 1.0f, 0.0f);
        }
        void *dloc = mc->sp ? a->lnl : a->dtmp;
        tp_reduce_rows(m, dloc, a->dtmp, NH);
        o->zero(a->dx, NlH * eb);
        o->layernorm_bwd(a->dx, m->d_lnf_g, m->d_lnf_b, dloc, xL, a->meanf, a->rstdf, m->lnf_g, Nl, H);
        grads_done(m, m->has_embedding + LAYER_TENSORS * m->nlayers, m->ntensors);
    }
    for (int l = m->nlayers - 1; l >= 0; l--) {
        const nt_layer_view *P = &m->layer[l];
        int r = slot_rest(m, l), q = slot_mlp(m, l);
        void *x = AT(a->x, l, NlH), *xmid = AT(a->xmid, r, NlH);
        void *ln1 = AT(a->ln1, r, NlH), *ln2 = AT(a->ln2, r, NlH);
        void *qkv = AT(a->qkv, r, (size_t)N * mc->qkv_local);
        void *att = AT(a->att, r, (size_t)N * mc->attn_local);
        void *up = AT(a->up, q, (size_t)N * F), *act = AT(a->act, q, (size_t)N * F);
        float *lse = ATF(a->lse, r, (size_t)N * mc->groups_local * mc->qpg);
        void *dloc = mc->sp ? a->lnl : a->dtmp;
        /* recomputation: the same ops on the same inputs give the same values
         * (the dtmp/lnl scratch it uses is free again here) */
        if (mc->recompute == NT_RECOMPUTE_FULL) layer_forward(m, a, l);
        /* ln2 on all rows (under SP gathered into dtmp, which nothing below writes
         * before the d_up weight gradient has read it) */
        void *ln2r = ln_rows(m, a, ln2);
        if (mc->recompute == NT_RECOMPUTE_SELECTIVE) {
            o->matmul(up, ln2r, P->up, N, F, H, 0, 1, 1.0f, 0.0f);
            o->sqrelu_fwd(act, up, (size_t)N * F);
        }

        /* x_out = xmid + down(sqrelu(up(ln2(xmid)))) */
        tp_gather_rows(m, dY, a->dx, NlH);
        o->matmul_wgrad(P->d_down, dY, act, H, F, N, 1, 0);
        o->matmul(a->dup, dY, P->down, N, F, H, 0, 0, 1.0f, 0.0f);
        o->sqrelu_bwd(a->dup, a->dup, up, (size_t)N * F);
        o->matmul_wgrad(P->d_up, a->dup, ln2r, F, H, N, 1, 0);
        o->matmul(a->dtmp, a->dup, P->up, N, H, F, 0, 0, 1.0f, 0.0f);
        tp_reduce_rows(m, dloc, a->dtmp, NH);
        o->layernorm_bwd(a->dx, P->d_ln2_g, P->d_ln2_b, dloc, xmid,
                         ATF(a->mean2, r, Nl), ATF(a->rstd2, r, Nl), P->ln2_g, Nl, H);

        /* xmid = x + out(attn(rope(qkv(ln1(x))))) */
        tp_gather_rows(m, dY, a->dx, NlH);
        o->matmul_wgrad(P->d_out, dY, att, H, mc->attn_local, N, 1, 0);
        o->matmul(a->datt, dY, P->out, N, mc->attn_local, H, 0, 0, 1.0f, 0.0f);
        const int32_t *pos = a->packed ? a->pos : NULL;
        o->attention_bwd(a->dqkv, a->datt, att, lse, qkv, a->B, a->T, mc->groups_local, mc->qpg, hd, pos);
        o->rope_bwd(a->dqkv, a->B, a->T, mc->groups_local, mc->qpg, hd, mc->rot, mc->rope_base, 0, pos);
        o->matmul_wgrad(P->d_qkv, a->dqkv, ln_rows(m, a, ln1), mc->qkv_local, H, N, 1, 0);
        o->matmul(a->dtmp, a->dqkv, P->qkv, N, H, mc->qkv_local, 0, 0, 1.0f, 0.0f);
        tp_reduce_rows(m, dloc, a->dtmp, NH);
        o->layernorm_bwd(a->dx, P->d_ln1_g, P->d_ln1_b, dloc, x,
                         ATF(a->mean1, r, Nl), ATF(a->rstd1, r, Nl), P->ln1_g, Nl, H);
        grads_done(m, m->has_embedding + LAYER_TENSORS * l, m->has_embedding + LAYER_TENSORS * (l + 1));
    }
    if (m->has_embedding) {
        tp_gather_rows(m, dY, a->dx, NlH);
        o->embedding_bwd(m->d_emb, a->tokens, dY, N, mc->vocab_lo, mc->vocab_local, H);
        grads_done(m, 0, 1);
    }
}
