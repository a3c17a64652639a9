/* pretrain.c — the training loop of the phases that train the model with
 * the trainer: pretrain (and continued pretraining: a pretrain deck with
 * checkpoint.load and a new blend) and rm (reward model: model.head =
 * reward on a reward dataset, usually started from a pretraining
 * checkpoint, weights only, which adds a fresh reward head).  Validate
 * everything, resume from the checkpoint directory's `latest` (or load
 * checkpoint.load), create the run directory, echo the resolved deck, then
 * loop over steps drawing global batches (the ramp-up schedule) from the
 * token blend or the reward dataset, logging a step line and
 * metrics.jsonl; save checkpoints at the interval, at the end, on
 * SIGUSR1/SIGTERM or before run.time_limit (then exit 3), and finish with
 * an HPL-style summary. */
#include "pretrain.h"
#include "backend.h"
#include "build_config.h"
#include "ckpt.h"
#include "check.h"
#include "data.h"
#include "data_blend.h"
#include "data_padded.h"
#include "device.h"
#include "metrics.h"
#include "model_config.h"
#include "ramp.h"
#include "rundir.h"
#include "signals.h"
#include "trainer.h"

#include <math.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void validate_phase_support(const nt_config *cfg, const nt_deck_info *info)
{
    (void)cfg;
    (void)info;
}

/* Step boundary: 1 if any rank got SIGUSR1/SIGTERM, 2 if the next step
 * and a save would overrun run.time_limit; all ranks agree (all-reduce). */
static int stop_requested(const nt_trainer *tr, double elapsed, double step_s, double save_s)
{
    int stop = nt_signal_pending() ? 1 : 0;
    double lim = tr->cfg.time_limit;
    if (!stop && lim > 0 && elapsed + 1.5 * step_s + 1.5 * save_s + 1.0 > lim) stop = 2;
    NT_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, tr->grid.world.mpi));
    return stop;
}

int nt_pretrain_run(const nt_config *cfg, const nt_deck_info *info, const char *resolved, const char *sha)
{
    double t_job = now();
    validate_phase_support(cfg, info);
    nt_signals_install();
    int rm = !strcmp(cfg->phase, "rm");
    nt_blend data = {0}; /* data.train (+ data.switch_blend), tokenizer hash checked against data.tokenizer */
    nt_padded rdata = {0};
    if (rm) {
        nt_padded_open(&rdata, cfg->blend[0].path, NT_PADDED_REWARD, cfg->seq_len, cfg->vocab, cfg->tokenizer,
                       cfg->reward_outputs, cfg->seed);
    }
    else nt_blend_open(&data, cfg, info);

    nt_trainer tr;
    nt_trainer_init(&tr, cfg, nt_backend_select(cfg, info), MPI_COMM_WORLD);
    nt_watchdog_start(cfg->collective_timeout, tr.grid.world.rank);
    /* resume from checkpoint.dir's latest, else start from checkpoint.load;
     * before anything is written, so a bad checkpoint changes nothing */
    char latest[256] = "", loaded[2400] = "";
    long skipped0 = 0;
    int resumed = 0;
    if (cfg->ckpt_dir[0] && nt_ckpt_latest(cfg->ckpt_dir, latest, sizeof latest)) {
        snprintf(loaded, sizeof loaded, "%s/%s", cfg->ckpt_dir, latest);
        nt_ckpt_load(&tr, loaded, 1, &skipped0);
        resumed = 1;
    } else if (cfg->ckpt_load[0]) {
        snprintf(loaded, sizeof loaded, "%s", cfg->ckpt_load);
        nt_ckpt_load(&tr, loaded, cfg->ckpt_load_optimizer, &skipped0);
    }
    tr.skipped_steps = skipped0;
    /* the first stage's batch must divide now; later stages are checked when they start */
    nt_trainer_micro_batches(&tr, nt_ramp_gbs(cfg, tr.consumed_tokens));

    int rank0 = tr.grid.world.rank == 0;
    nt_metrics mt = {0};
    const nt_model_config *mc = &tr.chunk[0].mc;
    double params = nt_model_param_count(mc);
    double fpt = nt_model_flops_per_token(mc);
    if (rank0) {
        nt_rundir_create(cfg->dir);
        nt_rundir_write(cfg->dir, "deck.resolved", resolved);
        char shaline[128];
        snprintf(shaline, sizeof shaline, "%s  deck.resolved\n", sha);
        nt_rundir_write(cfg->dir, "deck.sha256", shaline);
        nt_metrics_open(&mt, cfg->dir);
        printf("================================================================================\n");
        printf("ntron %s  phase %s  (%s)\n", PACKAGE_VERSION, cfg->phase, NT_BUILD_SUMMARY);
        printf("deck   %s\nsha256 %s\n", info->path, sha);
        printf("--------------------------------------------------------------------------------\n");
        fputs(resolved, stdout);
        printf("--------------------------------------------------------------------------------\n");
        printf("model   %.4g parameters, %.4g FLOP/token (training), vocab %d padded to %d\n",
               params, fpt, mc->vocab, mc->vocab_padded);
        printf("layout  world %d = TP %d x PP %d x DP %d, micro_batch %d, backend %s\n",
               tr.grid.world.size, cfg->tensor, cfg->pipeline, tr.grid.DP, cfg->micro_batch, tr.ops->name);
        printf("place   %s (rank 0)\n", tr.place.how);
        if (rm)
            printf("data    %s: %llu reward samples, %d labels each, padded to %d+1 tokens\n", rdata.path,
                   (unsigned long long)rdata.nsamples, rdata.nlabels, cfg->seq_len);
        for (int i = 0; i < data.n; i++)
            printf("data    %s: %llu tokens, %llu documents, %llu samples of %d+1 tokens\n", data.ds[i].path,
                   (unsigned long long)data.ds[i].ntokens, (unsigned long long)data.ds[i].ndocs,
                   (unsigned long long)data.ds[i].nsamples, cfg->seq_len);
        printf("run     %ld steps, run directory %s\n", tr.total_steps, cfg->dir);
        if (loaded[0])
            printf("load    %s: step %ld, %llu samples, %.6g tokens consumed%s\n", loaded, tr.step,
                   (unsigned long long)tr.consumed_samples, tr.consumed_tokens,
                   latest[0] || cfg->ckpt_load_optimizer ? "" : " (model weights only, fresh optimizer)");
        if (cfg->ckpt_dir[0])
            printf("ckpt    %s: every %ld steps, at the end and on SIGUSR1/SIGTERM%s; keep %d\n", cfg->ckpt_dir,
                   cfg->ckpt_interval, cfg->time_limit > 0 ? " or the time limit" : "", cfg->ckpt_keep);
        printf("================================================================================\n");
        fflush(stdout);
    }

    int T = cfg->seq_len;
    int32_t *batch = NULL;
    size_t batch_cap = 0;
    int *rm_ends = NULL;
    float *rm_labels = NULL;
    double first_loss = NAN, last_loss = NAN, t_start = now(), tok_total = 0.0, sec_total = 0.0;
    double f_tot = 0, b_tot = 0, o_tot = 0, p_tot = 0, c_tot = 0;
    int prev_stage = -1, status = NT_EXIT_OK;
    long done = 0, saved_at = resumed ? tr.step : -1;
    double max_step_s = 0, save_s = 0;
    nt_ckpt_meta meta = {.deck_text = resolved, .deck_sha256 = sha};
    while (tr.step < tr.total_steps) {
        int stop = stop_requested(&tr, now() - t_job, max_step_s, save_s);
        if (stop) {
            if (rank0)
                printf("stop    %s at step %ld: %s\n", stop == 1 ? "signal" : "time limit", tr.step,
                       cfg->ckpt_dir[0] ? "saving a checkpoint, exit 3 (requeue)"
                                        : "no checkpoint.dir, nothing saved; exit 3 (requeue)");
            if (cfg->ckpt_dir[0] && saved_at != tr.step) {
                meta.skipped_steps = tr.skipped_steps;
                nt_ckpt_save(&tr, cfg->ckpt_dir, cfg->ckpt_keep, &meta);
                saved_at = tr.step;
            }
            status = NT_EXIT_REQUEUE;
            break;
        }
        nt_fault_hang(tr.grid.world.rank, tr.step + 1);
        if (cfg->stop_tokens > 0 && tr.consumed_tokens >= cfg->stop_tokens) {
            if (rank0) printf("stop    train.stop_tokens = %.6g reached after %ld steps (%.6g tokens)\n",
                              cfg->stop_tokens, tr.step, tr.consumed_tokens);
            break;
        }
        int stage = nt_ramp_stage_at(cfg, tr.consumed_tokens);
        long gbs = nt_ramp_gbs(cfg, tr.consumed_tokens);
        int nmicro = nt_trainer_micro_batches(&tr, gbs);
        if (stage != prev_stage && cfg->n_ramp > 0 && rank0)
            printf("ramp    stage %d: global batch %ld from %.4g tokens (%d micro-batches of %d per DP rank)\n",
                   stage, gbs, tr.consumed_tokens, nmicro, cfg->micro_batch);
        prev_stage = stage;
        size_t rows = (size_t)nmicro * cfg->micro_batch;
        if (rows * (size_t)(T + 1) > batch_cap) {
            batch_cap = rows * (size_t)(T + 1);
            free(batch);
            batch = nt_malloc(batch_cap * sizeof(int32_t), "global batch");
            if (rm) {
                free(rm_ends);
                free(rm_labels);
                rm_ends = nt_malloc(rows * sizeof(int), "reward ends");
                rm_labels = nt_malloc(rows * (size_t)cfg->reward_outputs * sizeof(float), "reward labels");
                tr.rm_ends = rm_ends;
                tr.rm_labels = rm_labels;
            }
        }
        /* this DP rank's rows: micro-batch mi row b is sample consumed + (mi*DP + dp)*mbs + b */
        for (int mi = 0; mi < nmicro; mi++)
            for (int b = 0; b < cfg->micro_batch; b++) {
                uint64_t k = tr.consumed_samples +
                             ((uint64_t)mi * tr.grid.DP + (uint64_t)tr.grid.dp) * cfg->micro_batch + (uint64_t)b;
                size_t row = (size_t)mi * cfg->micro_batch + b;
                if (rm) {
                    nt_padded_row pr = {.tokens = batch + row * (size_t)(T + 1),
                                        .labels = rm_labels + row * (size_t)cfg->reward_outputs};
                    nt_padded_get(&rdata, k, 0, &pr);
                    rm_ends[row] = pr.end;
                } else nt_blend_sample(&data, k, batch + row * (size_t)(T + 1));
            }
        double t0 = now();
        nt_step_stats st;
        nt_trainer_step(&tr, batch, gbs, &st);
        double dt = now() - t0;
        if (done == 0) first_loss = st.loss;
        last_loss = st.loss;
        if (dt > max_step_s) max_step_s = dt;
        if (st.skipped) {
            int abort_run = !strcmp(cfg->nan_policy, "abort");
            if (rank0)
                fprintf(stderr, "ntron: step %ld: loss %g, grad norm %g is not finite (first seen on rank %d); "
                        "optimizer update skipped%s\n", tr.step, st.loss, st.grad_norm, tr.nonfinite_rank,
                        abort_run ? (cfg->ckpt_dir[0] ? ", saving a checkpoint and aborting (train.nan_policy = abort)"
                                                      : ", aborting (train.nan_policy = abort)")
                                  : " (train.nan_policy = skip)");
            if (abort_run) {
                if (cfg->ckpt_dir[0]) {
                    meta.skipped_steps = tr.skipped_steps;
                    nt_ckpt_save(&tr, cfg->ckpt_dir, cfg->ckpt_keep, &meta);
                }
                MPI_Barrier(MPI_COMM_WORLD);
                nt_die(NT_EXIT_FAIL, "step %ld: non-finite loss or gradient norm (first seen on rank %d)", tr.step,
                       tr.nonfinite_rank);
            }
        }
        if (done > 0 || tr.total_steps == 1) { tok_total += (double)gbs * T; sec_total += dt; }
        done++;
        f_tot += tr.t_fwd; b_tot += tr.t_bwd; o_tot += tr.t_opt; p_tot += tr.t_p2p; c_tot += tr.t_coll;
        if (rank0 && (tr.step % cfg->log_interval == 0 || tr.step == tr.total_steps || tr.step == 1)) {
            nt_metrics_row r = {
                .step = tr.step, .total_steps = tr.total_steps, .consumed_tokens = tr.consumed_tokens,
                .loss = st.loss, .grad_norm = st.grad_norm, .lr = st.lr, .gbs = gbs, .ms = dt * 1e3,
                .tokens_per_s = (double)gbs * T / dt,
                .tflops_per_rank = fpt * (double)gbs * T / dt / 1e12 / tr.grid.world.size,
                .ms_fwd = tr.t_fwd * 1e3, .ms_bwd = tr.t_bwd * 1e3, .ms_opt = tr.t_opt * 1e3,
                .ms_p2p = tr.t_p2p * 1e3, .ms_coll = tr.t_coll * 1e3,
                .peak_rss_mb = nt_peak_rss_mb()};
            nt_metrics_log(&mt, &r);
        }
        if (cfg->ckpt_dir[0] && ((cfg->ckpt_interval > 0 && tr.step % cfg->ckpt_interval == 0) ||
                                 tr.step == tr.total_steps)) {
            meta.skipped_steps = tr.skipped_steps;
            save_s = nt_ckpt_save(&tr, cfg->ckpt_dir, cfg->ckpt_keep, &meta);
            saved_at = tr.step;
            if (rank0) { printf("ckpt    saved %s/iter_%07ld in %.2f s\n", cfg->ckpt_dir, tr.step, save_s); fflush(stdout); }
        }
    }
    /* the job ends early (train.stop_tokens): save where it stopped */
    if (cfg->ckpt_dir[0] && status == NT_EXIT_OK && saved_at != tr.step) {
        meta.skipped_steps = tr.skipped_steps;
        save_s = nt_ckpt_save(&tr, cfg->ckpt_dir, cfg->ckpt_keep, &meta);
        if (rank0) { printf("ckpt    saved %s/iter_%07ld in %.2f s\n", cfg->ckpt_dir, tr.step, save_s); fflush(stdout); }
    }
    double wall = now() - t_start;
    /* per-rank summary: peak memory and time per schedule phase */
    /* per-rank summary: peak memory (host RSS; GPU: held by ntron / in use on the device) and phase times */
    double mine[8] = {nt_peak_rss_mb(), f_tot, b_tot, p_tot, c_tot, o_tot, 0, 0};
    int gpu = tr.ops->mem_stats != NULL;
    if (gpu) tr.ops->mem_stats(&mine[6], &mine[7]);
    double *all = rank0 ? nt_malloc((size_t)tr.grid.world.size * 8 * sizeof(double), "summary") : NULL;
    MPI_Gather(mine, 8, MPI_DOUBLE, all, 8, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank0) {
        double tps = sec_total > 0 ? tok_total / sec_total : 0.0, rss_max = 0;
        for (int r = 0; r < tr.grid.world.size; r++) rss_max = all[8 * r] > rss_max ? all[8 * r] : rss_max;
        printf("================================================================================\n");
        printf("%-10s %12s %12s %12s %12s %12s %12s\n", "steps", "first loss", "final loss", "wall s",
               "tokens/s", "TFLOP/s/rank", "peak RSS MB");
        printf("%-10ld %12.4f %12.4f %12.2f %12.0f %12.4f %12.1f\n", tr.step, first_loss, last_loss, wall, tps,
               fpt * tps / 1e12 / tr.grid.world.size, rss_max);
        if (rm && rdata.truncated)
            printf("truncated %llu reward samples longer than seq_len (scored at their last kept token; rank 0's count)\n",
                   (unsigned long long)rdata.truncated);
        if (tr.skipped_steps) printf("skipped   %ld steps with a non-finite loss or gradient norm\n", tr.skipped_steps);
        printf("--------------------------------------------------------------------------------\n");
        printf("%5s %4s %4s %4s %12s %10s %10s %10s %10s %10s", "rank", "tp", "dp", "pp", "peak RSS MB",
               "forward s", "backward s", "p2p wait s", "collect. s", "optim. s");
        if (gpu) printf(" %12s %12s", "GPU held MB", "GPU used MB");
        printf("\n");
        for (int r = 0; r < tr.grid.world.size; r++) {
            const double *x = all + 8 * r;
            printf("%5d %4d %4d %4d %12.1f %10.2f %10.2f %10.2f %10.2f %10.2f", r, r % tr.grid.TP,
                   (r / tr.grid.TP) % tr.grid.DP, r / (tr.grid.TP * tr.grid.DP), x[0], x[1], x[2], x[3], x[4], x[5]);
            if (gpu) printf(" %12.1f %12.1f", x[6], x[7]);
            printf("\n");
        }
        if (gpu)
            printf("GPU held: peak of ntron's own allocations; GPU used: peak device memory in use (CUDA context, "
                   "cuBLASLt, NCCL and any other process on that GPU included)\n");
        printf("================================================================================\n");
        nt_metrics_close(&mt);
        free(all);
    }
    free(batch);
    free(rm_ends);
    free(rm_labels);
    nt_watchdog_stop();
    nt_trainer_free(&tr);
    if (rm) nt_padded_close(&rdata);
    else nt_blend_close(&data);
    return status;
}
