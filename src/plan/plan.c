/* plan.c — the cost model of `ntron plan` (see plan.h).  Section names in
 * the comments ("§ Memory", ...) are those of postprocess/PLAN_FORMULAS.md,
 * which gives every formula with its source. */
#include "plan/plan.h"
#include "util/check.h"
#include "model/model_config.h"
#include "parallel/schedule.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double maxd(double a, double b) { return a > b ? a : b; }

/* § Pipeline: micro-batch chunks in flight on pipeline rank r (Megatron's warm-up + 1) */
static double inflight_chunks(int p, int v, int m, int r)
{
    if (v == 1) return (double)(p - r < m ? p - r : m);
    int G = p < m ? p : m;
    int k = 2 * (p - r - 1) + (v - 1) * G + 1;
    return (double)(k < m * v ? k : m * v);
}

/* one ring collective moving `frac` x `bytes` per rank in `steps` ring steps */
static double ring_time(double bytes, double frac, int steps, double gbps, double lat_us, double base_us)
{
    return frac * bytes / (gbps * 1e9) + steps * lat_us * 1e-6 + base_us * 1e-6;
}

void nt_plan_compute(nt_plan *P, const nt_config *cfg, const nt_cluster *cl, int dp, long gbs)
{
    memset(P, 0, sizeof *P);
    int t = cfg->tensor, p = cfg->pipeline, v = cfg->virtual_stages, b = cfg->micro_batch;
    if (p > NT_PLAN_MAX_PP) nt_input_error("parallel.pipeline = %d: the planner handles at most %d stages", p, NT_PLAN_MAX_PP);
    if (cfg->heads % t || cfg->kv_heads % t || cfg->ffn_hidden % t)
        nt_input_error("parallel.tensor = %d does not divide model.heads (%d), model.kv_heads (%d) and model.ffn_hidden (%d)",
                       t, cfg->heads, cfg->kv_heads, cfg->ffn_hidden);
    if (cfg->layers % (p * v))
        nt_input_error("model.layers = %d is not divisible by pipeline (%d) x virtual_stages (%d)", cfg->layers, p, v);
    if (dp < 1) nt_input_error("data-parallel size %d must be >= 1", dp);
    if (gbs % ((long)b * dp))
        nt_input_error("global batch %ld is not divisible by parallel.micro_batch (%d) x DP (%d)", gbs, b, dp);
    int m = (int)(gbs / ((long)b * dp));
    if (m < p)
        nt_input_error("global batch %ld gives %d micro-batches per DP rank, fewer than parallel.pipeline = %d", gbs, m, p);
    int sp = cfg->sequence_parallel && t > 1;
    if (sp && cfg->seq_len % t)
        nt_input_error("parallel.sequence_parallel: model.seq_len = %d is not divisible by parallel.tensor = %d",
                       cfg->seq_len, t);

    nt_model_config mc;
    nt_model_config_init(&mc, cfg, t, 0);
    double h = mc.hidden, a = mc.heads, g = mc.kv_heads, f = mc.ffn, hd = mc.head_dim, L = mc.layers;
    double s = mc.seq_len, V = mc.vocab_padded, B = b, T = t;
    double ab = cl->cpu_fp32 ? 4.0 : 2.0;
    double rsp = sp ? 1.0 / T : 1.0;
    int rc = !strcmp(cfg->recompute, "full") ? 2 : !strcmp(cfg->recompute, "selective") ? 1 : 0;

    P->tp = t; P->pp = p; P->v = v; P->dp = dp; P->sp = sp; P->mb = b; P->gbs = gbs; P->m = m;
    P->world = t * p * dp;
    P->nodes = (P->world + cl->gpus_per_node - 1) / cl->gpus_per_node;
    P->recompute = rc;
    P->act_bytes = ab;

    /* § Parameters */
    double p_split = (a + 2 * g) * hd * h + a * hd * h + 2 * h * f; /* TP-split matrices of a layer */
    double p_norm = 4 * h;                                             /* two LayerNorm1P (gamma, beta), replicated */
    P->params_layer = p_split + p_norm;
    P->params_embedding = V * h;
    P->params_total = nt_model_param_count(&mc);
    double Lp = L / p;

    /* § Memory: bytes per parameter */
    double w_b = ab, g_b = 4.0, o_b = 12.0 / dp;
    P->bytes_per_param = w_b + g_b + o_b;

    /* § Activations: stored elements of one layer, one micro-batch, in units of s*b*h */
    double e_layer = 4 * rsp + (1 + 2 * g / a) / T + 1 / T + 2 * f / (h * T);
    double stats = s * B * (4 * rsp + a / T) * 4.0; /* fp32 LN mean/rstd and attention log-sum-exp */
    double act_none = s * B * h * e_layer * ab + stats;
    P->act_layer_bytes = rc == 2 ? s * B * h * rsp * ab : act_none;
    /* workspace: one layer's backward scratch (+ one layer rematerialised under full recompute) */
    double ws = s * B * h * ab * (2 * rsp + 2 + maxd(1 + 2 * g / a, f / h) / T + 1 / T + f / (h * T));
    if (rc == 2) ws += act_none;
    if (!cl->cpu_fp32) {
        /* the CUDA attention backward's scratch (kernels/cuda/attention.cu): D and
         * fp32 dK/dV partials per local query head; bf16 dS^T in 64x64 causal
         * tiles where the tensor-core path runs (head dim 64, 128, 192) */
        double hl = a / T, nt = ceil(s / 64.0);
        ws += B * hl * s * 4.0 * (1 + 2 * hd);
        if (hd == 64 || hd == 128 || hd == 192) ws += B * hl * nt * (nt + 1) / 2 * 4096 * 2.0;
    }
    P->mem_workspace = ws;
    double head = s * B * h * ab + s * B * V / T * ab + s * B * 5 * 4.0; /* final norm, logits, fp32 CE rows */
    double ids = s * B * 8.0;                                          /* token and target ids per slot */

    /* § Memory, p2p: grouped rounds (parallel.p2p; auto = grouped on GPUs, one
     * per rank, where NCCL carries the pipeline) keep each output until its
     * round sends it: held[r] buffers of one micro-batch's activations */
    int held[NT_PLAN_MAX_PP] = {0};
    P->p2p_grouped = p > 1 && (!strcmp(cfg->p2p, "grouped") || (!strcmp(cfg->p2p, "auto") && !cl->cpu_fp32));
    for (int r = 0; P->p2p_grouped && r < p; r++) {
        int n;
        nt_round *rounds = nt_schedule_rounds_of(p, r, v, m, 1, &n);
        held[r] = nt_schedule_rounds_held(rounds, n, p, r, v);
        free(rounds);
    }
    double xfer = s * B * h * rsp * ab; /* one pipeline transfer: a micro-batch's (SP-sharded) activations */

    P->mem_total = -1;
    for (int r = 0; r < p; r++) {
        double n_stage = Lp * P->params_layer + (r == 0 ? V * h : 0) + (r == p - 1 ? V * h + 2 * h : 0);
        P->params_stage[r] = n_stage;
        double n_gpu = Lp * (p_split / T + p_norm) + (r == 0 ? V * h / T : 0) + (r == p - 1 ? V * h / T + 2 * h : 0);
        double k = inflight_chunks(p, v, m, r);
        double layers_held = k * L / (p * v);
        double acts = layers_held * P->act_layer_bytes + k * ids + (r == p - 1 ? head : 0);
        double tot = n_gpu * P->bytes_per_param + acts + ws + held[r] * xfer;
        if (tot > P->mem_total) {
            P->mem_total = tot; P->mem_rank = r; P->params_gpu_max = n_gpu;
            P->mem_p2p = held[r] * xfer; P->p2p_held = held[r];
            P->mem_weights = n_gpu * w_b; P->mem_grads = n_gpu * g_b; P->mem_optim = n_gpu * o_b;
            P->mem_acts = acts; P->inflight_layers = layers_held;
        }
    }
    P->fits = P->mem_total <= cl->hbm_gb * 1e9;

    /* § FLOPs (DESIGN.md "Performance accounting") and recomputation (not useful work) */
    double gemm_layer_tok = 6 * h * h * (2 + 2 * g / a + 2 * f / h); /* per layer per token, fwd+bwd */
    double attn_layer_tok = 12 * s * h;                              /* full s^2 convention */
    P->flops_per_token = nt_model_flops_per_token(&mc);
    P->flops_iter = (double)gbs * s * P->flops_per_token;
    double rec_gemm = rc == 2 ? gemm_layer_tok / 3 : 0, rec_attn = rc >= 1 ? attn_layer_tok / 3 : 0;
    P->flops_recompute_iter = (double)gbs * s * L * (rec_gemm + rec_attn);

    /* § Time: compute and TP communication of one micro-batch on each pipeline rank */
    double peak = cl->peak_tflops * 1e12;
    int tp_inter = t > cl->gpus_per_node;
    double tp_bw = tp_inter ? cl->inter_gbps : cl->intra_gbps, tp_lat = tp_inter ? cl->inter_lat_us : cl->intra_lat_us;
    double msg = s * B * h * ab;                       /* one activation tensor, full sequence */
    double colls_layer = rc == 2 ? 6 : 4;              /* all-reduce equivalents per layer per micro-batch */
    double tstage = 0, tcomp = 0, ttp = 0, vtp = 0, tbwd = 0;
    for (int r = 0; r < p; r++) {
        double gemm = Lp * (gemm_layer_tok + rec_gemm) + (r == p - 1 ? 6 * h * V : 0);
        double attn = 0.5 * Lp * (attn_layer_tok + rec_attn); /* causal: half the s^2 FLOPs executed */
        double tc = s * B * (gemm / (T * peak * cl->gemm_eff) + attn / (T * peak * cl->attn_eff));
        /* its backward: 2/3 of the useful FLOPs, and the recomputation */
        double gemm_b = Lp * (gemm_layer_tok * 2 / 3 + rec_gemm) + (r == p - 1 ? 4 * h * V : 0);
        double attn_b = 0.5 * Lp * (attn_layer_tok * 2 / 3 + rec_attn);
        double tb = s * B * (gemm_b / (T * peak * cl->gemm_eff) + attn_b / (T * peak * cl->attn_eff));
        double ncoll = Lp * colls_layer + (r == 0) + (r == p - 1);
        double vol = t > 1 ? ncoll * 2.0 * (T - 1) / T * msg : 0;
        double tt = 0;
        if (t > 1) {
            double one = sp ? 2 * ring_time(msg, (T - 1) / T, t - 1, tp_bw, tp_lat, cl->base_lat_us)
                            : ring_time(msg, 2 * (T - 1) / T, 2 * (t - 1), tp_bw, tp_lat, cl->base_lat_us);
            tt = ncoll * one;
        }
        if (tc + tt > tstage) { tstage = tc + tt; tcomp = tc; ttp = tt; vtp = vol; tbwd = tb; }
    }
    P->t_compute_mb = tcomp;
    P->t_bwd_mb = tbwd;
    P->t_tp_mb = ttp;
    P->vol_tp = vtp * m;
    P->bubble = (double)(p - 1) / ((double)v * m);
    P->t_pipeline = (m + (double)(p - 1) / v) * tstage;

    /* § Time: pipeline point-to-point (exposed, not overlapped) */
    if (p > 1) {
        int pp_inter = t * dp >= cl->gpus_per_node;
        double bw = pp_inter ? cl->inter_gbps : cl->intra_gbps, lat = pp_inter ? cl->inter_lat_us : cl->intra_lat_us;
        double bytes = s * B * h * ab * rsp;
        double sends = 2.0 * m * v;
        P->vol_pp = sends * bytes;
        P->t_p2p = sends * (bytes / (bw * 1e9) + lat * 1e-6);
    }
    /* § Time: optimizer (AdamW on the local shard, HBM-bandwidth bound) */
    P->t_opt = P->params_gpu_max / dp * (28.0 + ab) / (cl->hbm_tbps * 1e12);
    /* § Time: data parallel (distributed optimizer): exposed, or overlapped (§ DP overlap) */
    if (dp > 1) {
        int dp_inter = t * dp > cl->gpus_per_node;
        double bw = dp_inter ? cl->inter_gbps : cl->intra_gbps, lat = dp_inter ? cl->inter_lat_us : cl->intra_lat_us;
        double frac = (double)(dp - 1) / dp;
        P->vol_dp = frac * P->params_gpu_max * (4.0 + ab);
        P->t_dp_rs = ring_time(P->params_gpu_max * 4.0, frac, dp - 1, bw, lat, cl->base_lat_us);
        P->t_dp_ag = ring_time(P->params_gpu_max * ab, frac, dp - 1, bw, lat, cl->base_lat_us);
        /* ntron overlaps only where the gradients are host memory (the CPU backend) */
        P->dp_overlap = cfg->overlap_grad_reduce && cl->cpu_fp32;
        if (P->dp_overlap) {
            /* the last bucket follows the backward, the last slice AdamW: each passes
             * its d-1 hops of the chain (the all-gather slice: one step) after them */
            double shard = P->params_gpu_max / dp, bucket = cfg->bucket_mb * 1048576.0 / 4.0;
            double last = bucket < shard ? bucket : shard;
            double last_rs = (dp - 1) * (last * 4.0 / (bw * 1e9) + lat * 1e-6) + cl->base_lat_us * 1e-6;
            double last_ag = frac * dp * last * ab / (bw * 1e9) + lat * 1e-6 + cl->base_lat_us * 1e-6;
            P->t_dp_rs_exposed = maxd(last_rs, P->t_dp_rs - P->t_bwd_mb);
            P->t_dp_ag_exposed = maxd(last_ag, P->t_dp_ag - P->t_opt);
            if (P->t_dp_rs_exposed > P->t_dp_rs) P->t_dp_rs_exposed = P->t_dp_rs;
            if (P->t_dp_ag_exposed > P->t_dp_ag) P->t_dp_ag_exposed = P->t_dp_ag;
        } else {
            P->t_dp_rs_exposed = P->t_dp_rs;
            P->t_dp_ag_exposed = P->t_dp_ag;
        }
        P->t_dp = P->t_dp_rs_exposed + P->t_dp_ag_exposed;
    }
    P->t_iter = P->t_pipeline + P->t_p2p + P->t_dp + P->t_opt;
    P->tokens_per_s_gpu = (double)gbs * s / P->t_iter / P->world;
    P->tflops_gpu = P->flops_iter / P->t_iter / P->world / 1e12;
    P->mfu = P->tflops_gpu / cl->peak_tflops;
}
