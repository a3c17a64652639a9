/* plan_cmd.c — the `ntron plan` command: arguments, one nt_plan per ramp
 * stage, the printed report and its JSON copy. */
#include "util/check.h"
#include "cli/cli_flags.h"
#include "deck/deck.h"
#include "util/json.h"
#include "plan/plan.h"
#include "train/ramp.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GB 1e9

static void print_stage(const nt_plan *P, const nt_cluster *cl, int cfg_overlap, int stage, double tok_lo, double tok_hi,
                        double steps)
{
    static const char *rcname[] = {"none", "selective", "full"};
    printf("--------------------------------------------------------------------------------\n");
    printf("stage %d   tokens %.4g .. %.4g: global batch %ld, layout TP %d x PP %d (v %d) x DP %d = %d GPUs on %d nodes, "
           "micro_batch %d (%d per DP rank), SP %s, recompute %s\n",
           stage, tok_lo, tok_hi, P->gbs, P->tp, P->pp, P->v, P->dp, P->world, P->nodes, P->mb, P->m,
           P->sp ? "on" : "off", rcname[P->recompute]);
    printf("memory per GPU (pipeline rank %d, the largest):\n", P->mem_rank);
    printf("  weights      %9.2f GB  (%.4g parameters x %.0f B)\n", P->mem_weights / GB, P->params_gpu_max, P->act_bytes);
    printf("  gradients    %9.2f GB  (fp32, 4 B)\n", P->mem_grads / GB);
    printf("  optimizer    %9.2f GB  (fp32 master+m+v sharded over DP: 12/%d B; total %.4g B/param)\n", P->mem_optim / GB,
           P->dp, P->bytes_per_param);
    printf("  activations  %9.2f GB  (%.4g layers in flight x %.4g GB per layer and micro-batch%s)\n", P->mem_acts / GB,
           P->inflight_layers, P->act_layer_bytes / GB, P->pp == P->mem_rank + 1 ? ", + LM head logits" : "");
    printf("  workspace    %9.2f GB  (one layer's backward)\n", P->mem_workspace / GB);
    if (P->p2p_grouped)
        printf("  p2p buffers  %9.2f GB  (grouped rounds: %d outputs held until their round sends them)\n",
               P->mem_p2p / GB, P->p2p_held);
    printf("  total        %9.2f GB  of %.0f GB: %s\n", P->mem_total / GB, cl->hbm_gb,
           P->fits ? "FITS" : "DOES NOT FIT");
    printf("flops      %.4g per iteration (%.4g per token); recomputation adds %.4g (not counted as useful)\n",
           P->flops_iter, P->flops_per_token, P->flops_recompute_iter);
    printf("pipeline   bubble (p-1)/(v*m) = %.4f; slowest rank per micro-batch: compute %.2f ms + TP comm %.2f ms\n",
           P->bubble, P->t_compute_mb * 1e3, P->t_tp_mb * 1e3);
    printf("comm/GPU   TP %.4g GB/iter (exposed, in the stage time), PP %.4g GB/iter %.3f s (exposed), "
           "DP %.4g GB/iter %.3f s (%s)\n",
           P->vol_tp / GB, P->vol_pp / GB, P->t_p2p, P->vol_dp / GB, P->t_dp,
           P->dp < 2 ? "none at DP 1"
           : P->dp_overlap ? "exposed part, overlap modelled below"
           : cfg_overlap ? "exposed: parallel.overlap_grad_reduce is not implemented on the CUDA backend, no overlap"
                         : "exposed, no overlap: parallel.overlap_grad_reduce = false");
    if (P->dp_overlap)
        printf("dp overlap reduce-scatter %.4g s behind the last micro-batch's backward %.4g s: %.4g s exposed; "
               "all-gather %.4g s behind AdamW %.4g s: %.4g s exposed (transfers assumed at full bandwidth alongside "
               "the compute; the last bucket's and slice's always follow it)\n",
               P->t_dp_rs, P->t_bwd_mb, P->t_dp_rs_exposed, P->t_dp_ag, P->t_opt, P->t_dp_ag_exposed);
    printf("iteration  %.3f s = pipeline %.3f + p2p %.3f + DP %.3f + optimizer %.3f\n", P->t_iter, P->t_pipeline,
           P->t_p2p, P->t_dp, P->t_opt);
    printf("throughput %.1f tokens/s/GPU, %.1f TFLOP/s/GPU, MFU %.1f%% of %.1f TFLOP/s\n", P->tokens_per_s_gpu,
           P->tflops_gpu, 100 * P->mfu, cl->peak_tflops);
    printf("duration   %.0f steps, %.2f days, %.4g GPU-hours\n", steps, steps * P->t_iter / 86400,
           steps * P->t_iter * P->world / 3600);
}

int nt_plan_main(int argc, char **argv)
{
    const char *deck = NULL, *cluster = NULL, *json = NULL, *dps = "1";
    nt_flag_list sets = {0};
    const nt_flag flags[] = {
        {.name = "--cluster", .kind = NT_FLAG_STRING, .dest = &cluster, .arg = "FILE",
         .help = "cluster description (inputs/clusters/*.cluster)",
         .def = "the built-in DGX H100"},
        {.name = "--dp", .kind = NT_FLAG_STRING, .dest = &dps, .arg = "N[,N...]",
         .help = "data-parallel size of each ramp stage (the last repeats)"},
        {.name = "--set", .kind = NT_FLAG_LIST, .dest = &sets, .arg = "section.key=value",
         .help = "override a deck key"},
        {.name = "--json", .kind = NT_FLAG_STRING, .dest = &json, .arg = "FILE",
         .help = "also write the plan as JSON", .def = "none"},
    };
    const nt_cli cli = {"plan", "DECK", 1, 1,
                        "Predict memory per GPU, iteration time, MFU and duration of each ramp stage of the deck\n"
                        "on a cluster (formulas: postprocess/PLAN_FORMULAS.md).",
                        flags, (int)(sizeof flags / sizeof *flags)};
    nt_cli_parse(&cli, argc, argv, &deck);
    int nset = sets.n;
    nt_config cfg;
    nt_deck_info info;
    nt_deck_load(&cfg, &info, deck, nset, sets.v);
    nt_cluster cl;
    if (cluster) nt_cluster_load(&cl, cluster);
    else nt_cluster_default(&cl);

    int nst = cfg.n_ramp > 0 ? cfg.n_ramp : 1, dp[NT_MAX_RAMP], ndp = 0;
    for (const char *c = dps; *c;) {
        char *end;
        errno = 0;
        long x = strtol(c, &end, 10);
        if (end == c || errno || x < 1 || x > 1000000 || (*end && *end != ','))
            nt_cli_error(&cli, "--dp wants N or N,N,... (positive integers), got '%s'", dps);
        if (ndp < NT_MAX_RAMP) dp[ndp++] = (int)x;
        c = *end ? end + 1 : end;
    }
    if (ndp == 0) nt_cli_error(&cli, "--dp wants N or N,N,... (positive integers), got '%s'", dps);
    for (int i = ndp; i < NT_MAX_RAMP; i++) dp[i] = dp[ndp - 1];
    double budget = cfg.tokens > 0 ? cfg.tokens : (double)cfg.steps * cfg.global_batch * cfg.seq_len;

    printf("================================================================================\n");
    printf("ntron plan  deck %s\ncluster     %s: %s\n", deck, cl.path, cl.name);
    printf("            %d GPUs/node, peak %.1f TFLOP/s, HBM %.0f GB @ %.2f TB/s, intra %.0f GB/s, inter %.0f GB/s per GPU,\n"
           "            latency %.1f / %.1f us (+%.1f us per collective), GEMM efficiency %.3f, attention %.3f, %s\n",
           cl.gpus_per_node, cl.peak_tflops, cl.hbm_gb, cl.hbm_tbps, cl.intra_gbps, cl.inter_gbps, cl.intra_lat_us,
           cl.inter_lat_us, cl.base_lat_us, cl.gemm_eff, cl.attn_eff, cl.cpu_fp32 ? "fp32 CPU backend" : "bf16 + fp32 master");
    printf("formulas    postprocess/PLAN_FORMULAS.md\n");

    cJSON *root = nt_json_object(), *jst = nt_json_array();
    nt_json_add(root, "stages", jst);
    nt_plan P;
    double total_days = 0, total_gpuh = 0;
    for (int k = 0; k < nst; k++) {
        long gbs = cfg.n_ramp > 0 ? cfg.ramp_stages[k].gbs : cfg.global_batch;
        nt_plan_compute(&P, &cfg, &cl, dp[k], gbs);
        if (k == 0) {
            printf("params      %.6g total: %.4g embedding + %.4g LM head (vocab padded to %.0f), %.4g per layer x %d layers\n",
                   P.params_total, P.params_embedding, P.params_embedding, P.params_embedding / cfg.hidden,
                   P.params_layer, cfg.layers);
            printf("            per pipeline rank:");
            for (int r = 0; r < P.pp; r++) printf(" %.4g", P.params_stage[r]);
            printf("\n");
            nt_json_num(root, "params_total", P.params_total);
            nt_json_num(root, "params_embedding", P.params_embedding);
            nt_json_num(root, "params_layer", P.params_layer);
            nt_json_add(root, "params_stage", nt_json_doubles(P.params_stage, P.pp));
            nt_json_num(root, "flops_per_token", P.flops_per_token);
        }
        double lo = cfg.n_ramp > 0 ? cfg.ramp_stages[k].tokens : 0;
        double hi = k + 1 < nst ? cfg.ramp_stages[k + 1].tokens : budget;
        if (hi > budget) hi = budget;
        if (lo > hi) lo = hi;
        double steps = ceil((hi - lo) / ((double)gbs * cfg.seq_len));
        print_stage(&P, &cl, cfg.overlap_grad_reduce, k, lo, hi, steps);
        total_days += steps * P.t_iter / 86400;
        total_gpuh += steps * P.t_iter * P.world / 3600;
        cJSON *o = nt_json_object();
        nt_json_push(jst, o);
        nt_json_num(o, "global_batch", (double)gbs); nt_json_num(o, "tp", P.tp); nt_json_num(o, "pp", P.pp); nt_json_num(o, "virtual_stages", P.v);
        nt_json_num(o, "dp", P.dp); nt_json_num(o, "gpus", P.world); nt_json_num(o, "nodes", P.nodes); nt_json_num(o, "micro_batch", P.mb);
        nt_json_num(o, "micro_batches", P.m); nt_json_num(o, "sequence_parallel", P.sp); nt_json_num(o, "recompute", P.recompute);
        nt_json_num(o, "mem_rank", P.mem_rank); nt_json_num(o, "params_gpu", P.params_gpu_max);
        nt_json_num(o, "bytes_per_param", P.bytes_per_param); nt_json_num(o, "mem_weights", P.mem_weights);
        nt_json_num(o, "mem_grads", P.mem_grads); nt_json_num(o, "mem_optimizer", P.mem_optim); nt_json_num(o, "mem_activations", P.mem_acts);
        nt_json_num(o, "mem_workspace", P.mem_workspace); nt_json_num(o, "mem_p2p", P.mem_p2p);
        nt_json_num(o, "p2p_held", P.p2p_held); nt_json_num(o, "mem_total", P.mem_total); nt_json_num(o, "fits", P.fits);
        nt_json_num(o, "act_layer_bytes", P.act_layer_bytes); nt_json_num(o, "inflight_layers", P.inflight_layers);
        nt_json_num(o, "flops_iter", P.flops_iter); nt_json_num(o, "flops_recompute_iter", P.flops_recompute_iter);
        nt_json_num(o, "bubble", P.bubble); nt_json_num(o, "t_compute_mb", P.t_compute_mb); nt_json_num(o, "t_tp_mb", P.t_tp_mb);
        nt_json_num(o, "t_pipeline", P.t_pipeline); nt_json_num(o, "t_p2p", P.t_p2p); nt_json_num(o, "t_dp", P.t_dp);
        nt_json_num(o, "dp_overlap", P.dp_overlap); nt_json_num(o, "t_dp_rs", P.t_dp_rs); nt_json_num(o, "t_dp_ag", P.t_dp_ag);
        nt_json_num(o, "t_bwd_mb", P.t_bwd_mb); nt_json_num(o, "t_dp_rs_exposed", P.t_dp_rs_exposed);
        nt_json_num(o, "t_dp_ag_exposed", P.t_dp_ag_exposed); nt_json_num(o, "t_opt", P.t_opt);
        nt_json_num(o, "t_iter", P.t_iter); nt_json_num(o, "vol_tp", P.vol_tp); nt_json_num(o, "vol_pp", P.vol_pp); nt_json_num(o, "vol_dp", P.vol_dp);
        nt_json_num(o, "tokens_per_s_gpu", P.tokens_per_s_gpu); nt_json_num(o, "tflops_gpu", P.tflops_gpu); nt_json_num(o, "mfu", P.mfu);
        nt_json_num(o, "tokens_from", lo); nt_json_num(o, "tokens_to", hi); nt_json_num(o, "steps", steps);
        nt_json_num(o, "days", steps * P.t_iter / 86400);
    }
    printf("================================================================================\n");
    printf("| stage | global batch | TP x PP (v) x DP | GPUs | memory/GPU GB | iteration s | tokens/s/GPU | TFLOP/s/GPU | MFU | days |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    cJSON *it;
    int k = 0;
    cJSON_ArrayForEach(it, jst) {
#define G(name) nt_json_number(it, name)
        printf("| %d | %.0f | %.0f x %.0f (%.0f) x %.0f | %.0f | %.1f%s | %.2f | %.0f | %.0f | %.1f%% | %.1f |\n", k++,
               G("global_batch"), G("tp"), G("pp"), G("virtual_stages"), G("dp"), G("gpus"), G("mem_total") / GB,
               G("fits") > 0 ? "" : " (no fit)", G("t_iter"), G("tokens_per_s_gpu"), G("tflops_gpu"), 100 * G("mfu"),
               G("days"));
#undef G
    }
    printf("total       %.4g tokens in %.2f days, %.4g GPU-hours\n", budget, total_days, total_gpuh);
    if (cfg.epochs > 0)
        printf("epochs      train.epochs = %g: the steps are counted from the data when the run starts (ntron run "
               "states them), so no duration here; plan one with --set train.epochs=0 --set train.steps=N\n", cfg.epochs);
    nt_json_num(root, "total_days", total_days);
    nt_json_num(root, "total_gpu_hours", total_gpuh);
    if (json) nt_json_save(json, root);
    cJSON_Delete(root);
    free(sets.v);
    return 0;
}
