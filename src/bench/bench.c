/* bench.c — `ntron bench DECK`: warm-up + N timed training steps of the
 * deck's model on the allocated ranks with synthetic tokens (no dataset),
 * one HPL-style row (layout, global batch, ms/iter min/median/max, tokens/s,
 * TFLOP/s per rank, MFU) with a correctness verdict and a JSON copy.
 *
 * Verdict: the first step's loss (mean token loss of the global batch,
 * before any update) is compared with a reference step on the same batch:
 *   reference = single  rank 0 alone builds the same model with TP 1, PP 1,
 *                       DP 1 on the CPU backend (fp32) and computes that step;
 *                       PASSED if |loss - ref| <= 1e-5 |ref| (the layout-
 *                       equivalence tolerance of tests/test_layouts.sh), or
 *                       1e-2 |ref| when the bench ran on the CUDA backend (bf16;
 *                       the loss tolerance of tests/test_cuda_step.c);
 *   reference = same    a fresh trainer on the same ranks and layout
 *                       recomputes the step; PASSED if |loss - ref| <=
 *                       1e-6 |ref| (a rerun is expected to be bitwise equal).
 * Default: single when the model has under 2e8 parameters, else same.  Every
 * timed step's loss must also be finite.  Exit status 1 on FAILED.
 * Profile: one more step with every backend op timed (backend/profile.h):
 * rank 0's split by class and the per-op table.
 * Backend: run.backend as for `ntron run` (auto = CUDA on a one-rank job
 * with a visible GPU); on the GPU the MFU peak defaults to 989.4 TFLOP/s. */
#include "bench/bench.h"
#include "parallel/comm_device.h"
#include "backend/backend.h"
#include "backend/profile.h"
#include "build_config.h"
#include "util/check.h"
#include "cli/cli_flags.h"
#include "deck/deck.h"
#include "backend/device.h"
#include "util/json.h"
#include "util/metrics.h"
#include "model/model_config.h"
#include "train/ramp.h"
#include "util/rng.h"
#include "phases/phase.h"
#include "train/trainer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* resident set size now, MB (/proc/self/statm); 0 if unavailable */
static double rss_now_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0.0;
    long size = 0, res = 0;
    int ok = fscanf(f, "%ld %ld", &size, &res) == 2;
    fclose(f);
    return ok ? (double)res * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0) : 0.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* this DP rank's rows of the synthetic global batch number `step`: sample k
 * = step * gbs + (mi * DP + dp) * mbs + b, token j = hash(seed, k, j) mod vocab */
static void synth_batch(int32_t *batch, const nt_config *cfg, int DP, int dp, int nmicro, long gbs, long step)
{
    uint64_t key = nt_rng_key(cfg->seed, "bench tokens");
    int T = cfg->seq_len, B = cfg->micro_batch;
    for (int mi = 0; mi < nmicro; mi++)
        for (int b = 0; b < B; b++) {
            uint64_t k = (uint64_t)step * (uint64_t)gbs + ((uint64_t)mi * DP + (uint64_t)dp) * B + (uint64_t)b;
            int32_t *row = batch + ((size_t)mi * B + b) * (size_t)(T + 1);
            for (int j = 0; j <= T; j++)
                row[j] = (int32_t)(nt_rng_u64(key, k * (uint64_t)(T + 1) + (uint64_t)j) % (uint64_t)cfg->vocab);
        }
}

/* one training step of bench on synthetic batch `step` (the pretraining loss) */
static void bench_step(nt_trainer *tr, nt_batch *b, const nt_config *cfg, int nmicro, long gbs, long step,
                       nt_step_stats *st)
{
    nt_batch_reserve(b, nmicro * cfg->micro_batch, cfg->seq_len, 0, 0);
    b->gbs = gbs;
    b->loss_tokens = (double)gbs * cfg->seq_len;
    synth_batch(b->tokens, cfg, tr->ms.grid.DP, tr->ms.grid.dp, nmicro, gbs, step);
    nt_trainer_step(tr, b, nt_phase_token_ce_loss, NULL, 0, st);
}

/* loss of step 0 with a fresh trainer for cfg on `world` */
static double reference_loss(const nt_config *cfg, const nt_ops *ops, MPI_Comm world, long gbs)
{
    nt_trainer tr;
    nt_trainer_init(&tr, cfg, ops, world);
    int nm = nt_trainer_micro_batches(&tr, gbs);
    nt_batch b = {0};
    nt_step_stats st;
    bench_step(&tr, &b, cfg, nm, gbs, 0, &st);
    nt_batch_free(&b);
    nt_trainer_free(&tr);
    return st.loss;
}

int nt_bench_main(int argc, char **argv)
{
    const char *deck = NULL, *json = "bench.json", *refmode = NULL;
    long steps = 5, warmup = 1, gbs_opt = 0, max_bytes = 16L << 20, iters = 10;
    double peak = 0.0;
    int comm = 0, fault = 0;
    nt_flag_list setl = {0};
    const nt_flag flags[] = {
        {.name = "--steps", .kind = NT_FLAG_LONG, .dest = &steps, .arg = "N", .min = 1, .max = 1000000,
         .help = "timed steps"},
        {.name = "--warmup", .kind = NT_FLAG_LONG, .dest = &warmup, .arg = "N", .min = 0, .max = 1000000,
         .help = "untimed steps before them"},
        {.name = "--gbs", .kind = NT_FLAG_LONG, .dest = &gbs_opt, .arg = "N", .min = 1, .max = 1099511627776.0,
         .help = "global batch (sequences)",
         .def = "the deck's first ramp stage or train.global_batch"},
        {.name = "--peak", .kind = NT_FLAG_DOUBLE, .dest = &peak, .arg = "TFLOPS", .min = 0, .max = INFINITY,
         .help = "peak TFLOP/s per rank for the MFU column",
         .def = "the H100 bf16 peak " NT_STR(NT_PEAK_TFLOPS_H100_BF16) " on a GPU, none on the CPU"},
        {.name = "--reference", .kind = NT_FLAG_CHOICE, .dest = &refmode,
         .help = "verdict reference: a single-rank CPU fp32 step, or a rerun on the same ranks",
         .choices = "single|same", .def = "single under 2e8 parameters, else same"},
        {.name = "--json", .kind = NT_FLAG_STRING, .dest = &json, .arg = "FILE",
         .help = "JSON copy of the result row(s)"},
        {.name = "--comm", .kind = NT_FLAG_SWITCH, .dest = &comm,
         .help = "benchmark the collectives over tp/dp/pp instead of training steps"},
        {.name = "--max-bytes", .kind = NT_FLAG_LONG, .dest = &max_bytes, .arg = "N", .min = 4096,
         .max = 17179869184.0,
         .help = "--comm: largest message size"},
        {.name = "--iters", .kind = NT_FLAG_LONG, .dest = &iters, .arg = "N", .min = 1, .max = 100000,
         .help = "--comm: timed iterations per size"},
        {.name = "--set", .kind = NT_FLAG_LIST, .dest = &setl, .arg = "section.key=value",
         .help = "override a deck key"},
        {.name = "--inject-fault", .kind = NT_FLAG_SWITCH, .dest = &fault,
         .help = "test hook: perturb the measured first-step loss (with --comm: one received element)"},
    };
    const nt_cli cli = {"bench", "DECK", 1, 1,
                        "Time warm-up + N training steps of the deck's model on synthetic tokens (no dataset) and\n"
                        "check the first step's loss against a reference (exit 1 on FAILED); or, with --comm, the\n"
                        "collectives of the deck's layout.",
                        flags, (int)(sizeof flags / sizeof *flags)};
    nt_cli_parse(&cli, argc, argv, &deck);
    int nset = setl.n;
    char **sets = setl.v;
    NT_CHECK_MPI(MPI_Init(NULL, NULL));
    double rss_base = rss_now_mb();
    nt_config cfg;
    nt_deck_info info;
    nt_deck_load_agreed(&cfg, &info, deck, nset, sets);
    int wrank, wsize;
    NT_CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &wrank));
    NT_CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &wsize));
    int rank0 = wrank == 0;

    if (comm) {
        nt_grid g;
        nt_grid_init(&g, MPI_COMM_WORLD, cfg.tensor, cfg.pipeline);
        /* the deck's backend: its buffers (device memory on CUDA) and their path (parallel.comm) */
        const nt_ops *ops = nt_backend_select(&cfg, &info);
        if (nt_backend_is_cuda(ops)) nt_comm_device_setup(&g, cfg.comm);
        long wrong = nt_bench_comm(&g, ops, (size_t)max_bytes, (int)iters, json, fault);
        nt_grid_free(&g);
        free(sets);
        NT_CHECK_MPI(MPI_Finalize());
        return wrong ? NT_EXIT_FAIL : NT_EXIT_OK;
    }

    if (!strcmp(cfg.head, "reward")) {
        char w[1200];
        nt_input_error("%s: bench measures the pretraining step (model.head = lm); the reward head's cost is "
                       "that of the trunk", nt_deck_where(&info, "model.head", w, sizeof w));
    }
    cfg.steps = warmup + steps; /* the LR schedule spans the bench */
    cfg.n_ramp = 0;
    /* the profiled table (backend/profile.h): timing only in the profiled step */
    const nt_ops *ops = nt_profile_ops(nt_backend_select(&cfg, &info));
    int on_gpu = strcmp(ops->name, nt_backend_cpu()->name) != 0;
    if (on_gpu && peak <= 0) peak = NT_PEAK_TFLOPS_H100_BF16; /* --peak for other GPUs */
    nt_trainer tr;
    nt_trainer_init(&tr, &cfg, ops, MPI_COMM_WORLD);
    long gbs = gbs_opt ? gbs_opt : nt_ramp_gbs(&cfg, 0.0);
    cfg.global_batch = gbs;
    int nm = nt_trainer_micro_batches(&tr, gbs);
    const nt_model_config *mc = &tr.ms.chunk[0].mc;
    double params = nt_model_param_count(mc), fpt = nt_model_flops_per_token(mc);
    if (!refmode) refmode = params < 2e8 ? "single" : "same";
    int T = cfg.seq_len, world = tr.ms.grid.world.size;
    if (rank0) {
        printf("================================================================================\n");
        printf("ntron bench %s  (%s)\ndeck   %s: %.4g parameters, %.4g FLOP/token (training)\n", PACKAGE_VERSION,
               NT_BUILD_SUMMARY, deck, params, fpt);
        printf("data   synthetic: token j of sample k = hash(seed, k, j) mod %d; %ld warm-up + %ld timed steps\n",
               cfg.vocab, warmup, steps);
        printf("backend %s; ms/iter = slowest rank, barrier before each step\n", tr.ms.ops->name);
        if (tr.ms.ops->attention_kernels)
            printf("attn   %s kernels (head dim %d)\n", tr.ms.ops->attention_kernels(mc->head_dim), mc->head_dim);
        printf("dp grad %s\n", tr.opt.gr.how);
        fflush(stdout);
    }
    nt_batch batch = {0};
    double *ms = nt_malloc((size_t)steps * sizeof(double), "step times");
    double first_loss = NAN, last_loss = NAN, ph[5] = {0}, dpw[2] = {0};   /* dpw: DP reduction, all-gather waits */
    int started_bwd = 0;
    int all_finite = 1;
    for (long s = 0; s < warmup + steps; s++) {
        nt_step_stats st;
        nt_comm_barrier(&tr.ms.grid.world);
        double t0 = MPI_Wtime();
        bench_step(&tr, &batch, &cfg, nm, gbs, s, &st);
        double dt = MPI_Wtime() - t0;
        nt_comm_allreduce_f64(&tr.ms.grid.world, &dt, 1, NT_MAX);
        if (s == 0) first_loss = st.loss;
        last_loss = st.loss;
        all_finite &= isfinite(st.loss) && isfinite(st.grad_norm);
        if (s >= warmup) {
            ms[s - warmup] = dt * 1e3;
            double x[5] = {tr.t_fwd, tr.t_bwd, tr.t_p2p, tr.t_coll, tr.t_opt};
            for (int i = 0; i < 5; i++) ph[i] += x[i] * 1e3 / (double)steps;
            dpw[0] += tr.t_dp_wait * 1e3 / (double)steps;
            dpw[1] += tr.t_dp_gather * 1e3 / (double)steps;
            started_bwd = tr.opt.gr.started_in_backward;
        }
    }
    /* one more (untimed) step with every backend op timed, which waits for
     * each op: rank 0's time per op and per class (GEMM, attention, ...) */
    double cls[NT_PROF_NCLASS];
    nt_prof_row prof[64];
    int nprof;
    {
        nt_step_stats st;
        nt_profile(1);
        bench_step(&tr, &batch, &cfg, nm, gbs, warmup + steps, &st);
        tr.ms.ops->sync();
        nt_profile(0);
        nprof = nt_profile_rows(prof, 64, cls);
    }
    if (fault) first_loss *= 1.001;
    double rss_peak = nt_peak_rss_mb(), mem[4] = {rss_peak, rss_peak - rss_base, 0, 0};
    if (ops->mem_stats) ops->mem_stats(&mem[2], &mem[3]);   /* GPU: held by ntron, in use on the device */
    nt_comm_allreduce_f64(&tr.ms.grid.world, mem, 4, NT_MAX);
    int DP = tr.ms.grid.DP, nbuckets = tr.opt.gr.nbuckets, overlap = tr.opt.gr.overlap;
    char dphow[sizeof tr.opt.gr.how];
    snprintf(dphow, sizeof dphow, "%s", tr.opt.gr.how);
    double dpw0[2] = {dpw[0], dpw[1]};   /* rank 0's */
    nt_comm_allreduce_f64(&tr.ms.grid.world, dpw, 2, NT_MAX);
    nt_batch_free(&batch);
    nt_trainer_free(&tr);

    /* the reference step */
    double ref = NAN, tol;
    if (!strcmp(refmode, "single")) {
        tol = on_gpu ? 1e-2 : 1e-5;
        if (rank0) {
            nt_config c1 = cfg;
            c1.tensor = 1; c1.pipeline = 1; c1.virtual_stages = 1; c1.sequence_parallel = 0;
            ref = reference_loss(&c1, nt_backend_cpu(), MPI_COMM_SELF, gbs);
        }
        nt_comm world;
        nt_comm_from_mpi(&world, MPI_COMM_WORLD, "world");
        nt_comm_bcast_f64(&world, &ref, 1, 0);
    } else {
        tol = 1e-6;
        ref = reference_loss(&cfg, ops, MPI_COMM_WORLD, gbs);
    }
    double rel = fabs(first_loss - ref) / fabs(ref);
    int passed = all_finite && rel <= tol;

    qsort(ms, (size_t)steps, sizeof(double), cmp_double);
    double med = steps % 2 ? ms[steps / 2] : 0.5 * (ms[steps / 2 - 1] + ms[steps / 2]);
    double tps = (double)gbs * T / (med * 1e-3), tflops = fpt * tps / world / 1e12;
    char layout[128];
    snprintf(layout, sizeof layout, "TP%d PP%d(v%d) DP%d SP%d mb%d", cfg.tensor, cfg.pipeline, cfg.virtual_stages, DP,
             cfg.sequence_parallel && cfg.tensor > 1, cfg.micro_batch);
    if (rank0) {
        char mfu[32];
        if (peak > 0) snprintf(mfu, sizeof mfu, "%.2f%%", 100 * tflops / peak);
        else snprintf(mfu, sizeof mfu, "n/a");
        printf("================================================================================\n");
        printf("%-8s %-26s %6s %10s %10s %10s %11s %12s %7s %7s\n", "T/V", "layout", "GBS", "ms min", "ms median",
               "ms max", "tokens/s", "TFLOP/s/rank", "MFU", "verdict");
        printf("--------------------------------------------------------------------------------\n");
        printf("%-8s %-26s %6ld %10.2f %10.2f %10.2f %11.1f %12.5f %7s %7s\n", "TRAIN", layout, gbs, ms[0], med,
               ms[steps - 1], tps, tflops, mfu, passed ? "PASSED" : "FAILED");
        printf("--------------------------------------------------------------------------------\n");
        printf("check  step-1 loss %.9g vs %s reference %.9g: rel. error %.3g (tolerance %g)%s: %s\n", first_loss,
               !strcmp(refmode, "single") ? "single-rank CPU fp32 (TP1 PP1 DP1, rank 0)" : "same-ranks rerun", ref, rel, tol,
               all_finite ? "" : ", NON-FINITE loss or grad norm", passed ? "PASSED" : "FAILED");
        printf("phases rank 0 mean ms/step: forward %.2f, backward %.2f, p2p wait %.2f, collectives %.2f, optimizer %.2f\n",
               ph[0], ph[1], ph[2], ph[3], ph[4]);
        if (DP > 1)
            printf("dp comm mean ms/step waiting after the backward for the gradient reduce-scatter (exposed): %.3f "
                   "rank 0, %.3f max over ranks; for the parameter all-gather: %.3f rank 0, %.3f max; overlap %s, "
                   "%d buckets, %d started in the backward\n",
                   dpw0[0], dpw[0], dpw0[1], dpw[1], overlap ? "on" : "off", nbuckets, started_bwd);
        printf("memory peak RSS %.1f MB (max over ranks), %.1f MB above the RSS before the model was built\n", mem[0],
               mem[1]);
        double ctot = 0;
        for (int c = 0; c < NT_PROF_NCLASS; c++) ctot += cls[c];
        if (ctot > 0) {
            printf("split  rank 0 %s time of one profiled step (each op waited for): ", on_gpu ? "GPU" : "CPU");
            for (int c = 0; c < NT_PROF_NCLASS; c++)
                printf("%s%s %.1f ms (%.0f%%)", c ? ", " : "", nt_profile_class_name(c), cls[c], 100 * cls[c] / ctot);
            printf("\n");
            printf("%-6s %-18s %-10s %8s %12s %12s %7s\n", "ops", "op", "class", "calls", "ms", "us/call", "share");
            for (int i = 0; i < nprof; i++)
                printf("%-6s %-18s %-10s %8ld %12.3f %12.1f %6.1f%%\n", "ops", prof[i].op,
                       nt_profile_class_name(prof[i].cls), prof[i].calls, prof[i].ms, 1e3 * prof[i].ms / prof[i].calls,
                       100 * prof[i].ms / ctot);
        }
        if (ops->mem_stats)
            printf("memory peak GPU memory per rank (max over ranks): %.1f MB held by ntron, %.1f MB in use on the "
                   "device (context, cuBLASLt, NCCL included)\n", mem[2], mem[3]);
        if (peak <= 0) printf("MFU    n/a: give --peak TFLOPS (the CPU backend has no agreed peak)\n");
        printf("================================================================================\n");
        cJSON *o = nt_json_object();
        nt_json_str(o, "mode", "train");
        nt_json_str(o, "deck", deck);
        nt_json_str(o, "backend", ops->name);
        if (ops->attention_kernels) nt_json_str(o, "attention_kernels", ops->attention_kernels(mc->head_dim));
        nt_json_str(o, "layout", layout);
        nt_json_num(o, "world", world);
        nt_json_num(o, "tp", cfg.tensor);
        nt_json_num(o, "pp", cfg.pipeline);
        nt_json_num(o, "virtual_stages", cfg.virtual_stages);
        nt_json_num(o, "dp", DP);
        nt_json_num(o, "micro_batch", cfg.micro_batch);
        nt_json_num(o, "global_batch", (double)gbs);
        nt_json_num(o, "seq_len", T);
        nt_json_num(o, "params", params);
        nt_json_num(o, "flops_per_token", fpt);
        nt_json_num(o, "warmup", (double)warmup);
        nt_json_num(o, "steps", (double)steps);
        nt_json_num(o, "ms_min", ms[0]);
        nt_json_num(o, "ms_median", med);
        nt_json_num(o, "ms_max", ms[steps - 1]);
        nt_json_num(o, "tokens_per_s", tps);
        nt_json_num(o, "tflops_per_rank", tflops);
        if (peak > 0) {
            nt_json_num(o, "peak_tflops", peak);
            nt_json_num(o, "mfu", tflops / peak);
        } else {
            nt_json_null(o, "mfu");
        }
        nt_json_num(o, "first_loss", first_loss);
        nt_json_num(o, "last_loss", last_loss);
        nt_json_str(o, "reference", refmode);
        nt_json_num(o, "reference_loss", ref);
        nt_json_num(o, "rel_error", rel);
        nt_json_num(o, "tolerance", tol);
        nt_json_str(o, "verdict", passed ? "PASSED" : "FAILED");
        nt_json_num(o, "peak_rss_mb", mem[0]);
        nt_json_num(o, "rss_above_base_mb", mem[1]);
        nt_json_num(o, "gemm_ms", cls[NT_PROF_GEMM]);
        nt_json_num(o, "attention_ms", cls[NT_PROF_ATTENTION]);
        nt_json_num(o, "other_ms", cls[NT_PROF_OTHER]);
        nt_json_num(o, "host_copy_ms", cls[NT_PROF_HOST]);
        cJSON *pa = nt_json_array();
        for (int i = 0; i < nprof; i++) {
            cJSON *r = nt_json_object();
            nt_json_str(r, "op", prof[i].op);
            nt_json_str(r, "class", nt_profile_class_name(prof[i].cls));
            nt_json_num(r, "calls", (double)prof[i].calls);
            nt_json_num(r, "ms", prof[i].ms);
            nt_json_push(pa, r);
        }
        nt_json_add(o, "ops", pa);
        if (ops->mem_stats) {
            nt_json_num(o, "gpu_held_peak_mb", mem[2]);
            nt_json_num(o, "gpu_used_peak_mb", mem[3]);
        }
        double phv[5];
        for (int i = 0; i < 5; i++) phv[i] = ph[i];
        nt_json_add(o, "ms_fwd_bwd_p2p_coll_opt_rank0", nt_json_doubles(phv, 5));
        nt_json_str(o, "dp_reduction", dphow);
        nt_json_num(o, "overlap_grad_reduce", overlap);
        nt_json_num(o, "bucket_mb", cfg.bucket_mb);
        nt_json_num(o, "dp_buckets", nbuckets);
        nt_json_num(o, "dp_buckets_started_in_backward", started_bwd);
        nt_json_num(o, "ms_dp_reduce_exposed_rank0", dpw0[0]);
        nt_json_num(o, "ms_dp_reduce_exposed_max", dpw[0]);
        nt_json_num(o, "ms_dp_allgather_rank0", dpw0[1]);
        nt_json_num(o, "ms_dp_allgather_max", dpw[1]);
        nt_json_save(json, o);
        cJSON_Delete(o);
    }
    free(ms);
    free(sets);
    NT_CHECK_MPI(MPI_Finalize());
    return passed ? NT_EXIT_OK : NT_EXIT_FAIL;
}
