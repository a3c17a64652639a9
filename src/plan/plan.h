/* plan.h — the cost model behind `ntron plan`: parameters per stage and
 * per GPU, memory per GPU (weights, gradients, distributed-optimizer state,
 * activations per recompute mode with interleaving and sequence
 * parallelism, workspace), FLOPs per iteration, pipeline bubble, TP/PP/DP
 * communication volumes and times, predicted iteration time, tokens/s/GPU
 * and MFU.  Every formula is written out, with its source, in
 * postprocess/PLAN_FORMULAS.md; the section names there are quoted in the
 * comments of plan.c. */
#ifndef NTRON_PLAN_H
#define NTRON_PLAN_H

#include "deck/config.h"
#include "plan/plan_cluster.h"

#define NT_PLAN_MAX_PP 512

typedef struct nt_plan {
    /* layout */
    int tp, pp, v, dp, sp, mb, world, nodes;
    long gbs;
    int m;                         /* micro-batches per DP rank */
    int recompute;                 /* 0 none, 1 selective, 2 full */
    double act_bytes;              /* bytes per activation / parameter element (2 bf16, 4 fp32) */
    /* parameters */
    double params_total, params_embedding, params_layer;
    double params_stage[NT_PLAN_MAX_PP];   /* per pipeline rank (all TP ranks together) */
    double params_gpu_max;                 /* per GPU, the largest pipeline rank */
    /* memory per GPU, bytes, on the pipeline rank with the largest total */
    int mem_rank;
    double mem_weights, mem_grads, mem_optim, mem_acts, mem_workspace, mem_total;
    double mem_p2p;                /* grouped point-to-point's send buffers (parallel.p2p) */
    int p2p_grouped, p2p_held;     /* grouped rounds assumed; outputs held at once on mem_rank */
    double bytes_per_param;        /* 6 + 12/d (bf16) or 8 + 12/d (cpu fp32) */
    double act_layer_bytes;        /* stored activations of one layer, one micro-batch, one GPU */
    double inflight_layers;        /* layers' worth of activations held on mem_rank */
    int fits;
    /* FLOPs */
    double flops_per_token, flops_iter, flops_recompute_iter;
    /* time, seconds */
    double t_compute_mb;           /* slowest pipeline rank, one micro-batch, fwd+bwd, compute only */
    double t_tp_mb;                /* its TP communication, one micro-batch */
    double bubble;                 /* (p-1)/(v*m) */
    double t_pipeline;             /* (m + (p-1)/v) * (t_compute_mb + t_tp_mb) */
    double t_p2p, t_dp, t_opt, t_iter;
    /* data parallel: t_dp is the exposed part of the transfers t_dp_rs + t_dp_ag; with the
     * overlap (parallel.overlap_grad_reduce on the CPU backend) they hide behind the last
     * micro-batch's backward (t_bwd_mb) and AdamW (t_opt) */
    int dp_overlap;
    double t_dp_rs, t_dp_ag, t_bwd_mb, t_dp_rs_exposed, t_dp_ag_exposed;
    /* volumes, bytes per GPU per iteration */
    double vol_tp, vol_pp, vol_dp;
    double tokens_per_s_gpu, tflops_gpu, mfu;
} nt_plan;

/* Plans one layout: the deck's TP, PP, virtual stages, SP, micro-batch and
 * recompute mode, `dp` data-parallel ranks and global batch `gbs`.  Exits
 * with status 2 (naming the key) on a layout the trainer would refuse. */
void nt_plan_compute(nt_plan *p, const nt_config *cfg, const nt_cluster *cl, int dp, long gbs);

#endif

/* `ntron plan DECK [--cluster FILE] [--dp N[,N...]] [--set k=v ...] [--json FILE]`:
 * prints the plan for every ramp stage (one DP size per stage; the last
 * repeats), the days each stage takes for the deck's token budget, and
 * optionally a JSON copy.  Returns the exit status. */
int nt_plan_main(int argc, char **argv);
