/* phase_run.c — the one training loop every phase runs (see phase.h):
 * open the phase's data source and the trainer, resume from the
 * checkpoint directory's `latest` (or load checkpoint.load, weights only
 * unless checkpoint.load_optimizer), create the run directory and echo
 * the resolved deck, then step: global batch from the ramp, this DP rank's
 * rows filled by the phase from sample k (the one row <-> sample mapping),
 * the phase's hook, the trainer step with the phase's loss, the step line
 * and metrics.jsonl (common metrics + the phase's own), checkpoints at the
 * interval, at the end and on SIGUSR1/SIGTERM or before run.time_limit
 * (then exit 3), the NaN policy; an HPL-style summary at the end. */
#include "phases/phase.h"
#include "backend/backend.h"
#include "build_config.h"
#include "util/check.h"
#include "util/sys.h"
#include "ckpt/ckpt.h"
#include "backend/device.h"
#include "util/metrics.h"
#include "model/model_config.h"
#include "train/ramp.h"
#include "util/rundir.h"
#include "util/signals.h"
#include "train/trainer.h"

#include <math.h>
#include <string.h>

/* Step boundary: 1 if any rank got SIGUSR1/SIGTERM, 2 if the next step
 * and a save would overrun run.time_limit; all ranks agree (all-reduce). */
static int stop_requested(const nt_trainer *tr, double elapsed, double step_s, double save_s)
{
    int stop = nt_signal_pending() ? 1 : 0;
    double lim = tr->ms.cfg.time_limit;
    if (!stop && lim > 0 && elapsed + 1.5 * step_s + 1.5 * save_s + 1.0 > lim) stop = 2;
    nt_comm_allreduce_i32(&tr->ms.grid.world, &stop, 1, NT_MAX);
    return stop;
}

/* The rows of this DP rank: micro-batch mi, position b is sample
 * consumed + (mi*DP + dp)*micro_batch + b of the run — the one place the
 * row <-> sample mapping lives.  Then the global batch's loss tokens. */
static void fill_batch(const nt_phase *ph, void *ps, nt_trainer *tr, nt_batch *b, long gbs, int nmicro)
{
    const nt_modelset *ms = &tr->ms;
    int mbs = ms->micro_batch, T = ms->seq_len;
    nt_batch_reserve(b, nmicro * mbs, T, ph->with_mask, ph->nlabels_from_cfg ? ms->cfg.reward_outputs : 0);
    b->gbs = gbs;
    double tokens = 0;
    for (int mi = 0; mi < nmicro; mi++)
        for (int j = 0; j < mbs; j++) {
            uint64_t k = tr->consumed_samples +
                         ((uint64_t)mi * ms->grid.DP + (uint64_t)ms->grid.dp) * (uint64_t)mbs + (uint64_t)j;
            int r = mi * mbs + j;
            ph->fill(ps, k, b, r);
            const uint8_t *mask = nt_batch_mask(b, r);
            if (!mask) tokens += T;
            else for (int t = 1; t <= T; t++) tokens += mask[t] != 0;
        }
    /* without a mask every target counts: gbs * T, no collective needed */
    if (ph->with_mask) nt_comm_allreduce_f64(&ms->grid.dp_comm, &tokens, 1, NT_SUM);
    else tokens = (double)gbs * T;
    b->loss_tokens = tokens;
}

/* A ramp stage's global batch must divide into micro-batches over DP: the
 * first stage's is checked before anything runs, each later one when it
 * starts.  Every rank finds the same, so it is printed once and all exit 2
 * together instead of each rank aborting the job. */
static void batch_divides(nt_trainer *tr, long gbs, const nt_comm *world)
{
    nt_catch c;
    if (NT_TRY(&c)) {
        nt_trainer_micro_batches(tr, gbs);
        nt_catch_end(&c);
    }
    nt_comm_agree(world, c.status ? c.status : NT_EXIT_INPUT, c.msg);
}

static double save(nt_trainer *tr, nt_ckpt_meta *meta)
{
    const nt_config *cfg = &tr->ms.cfg;
    meta->skipped_steps = tr->skipped_steps;
    return nt_ckpt_save(tr, cfg->ckpt_dir, cfg->ckpt_keep, meta);
}

int nt_phase_run(const nt_config *cfg, const nt_deck_info *info, const char *resolved, const char *sha)
{
    double t_job = nt_now();
    const nt_phase *ph = nt_phase_find(cfg->phase);
    nt_signals_install();
    nt_comm world;
    nt_comm_from_mpi(&world, MPI_COMM_WORLD, "world");
    nt_watchdog_start(cfg->collective_timeout, world.rank);
    /* every rank opens the data source; bad data is reported once, all exit together */
    void *ps = NULL;
    nt_catch c;
    if (NT_TRY(&c)) {
        ps = ph->open(cfg, info);
        nt_catch_end(&c);
    }
    nt_comm_agree(&world, c.status ? c.status : NT_EXIT_INPUT, c.msg);

    nt_trainer tr;
    nt_trainer_init(&tr, cfg, nt_backend_select(cfg, info), MPI_COMM_WORLD);
    nt_modelset *ms = &tr.ms;
    /* train.epochs: the phase counts the steps now that its data is open */
    if (cfg->epochs > 0 && ph->total_steps) tr.total_steps = ph->total_steps(ps, cfg);
    /* resume from checkpoint.dir's latest, else start from checkpoint.load;
     * before anything is written, so a bad checkpoint changes nothing */
    char latest[256] = "", loaded[2400] = "";
    int resumed = 0;
    nt_ckpt_counters cnt = {0};
    if (nt_ckpt_resume_point(&world, cfg->ckpt_dir, cfg->ckpt_overwrite, latest, sizeof latest)) {
        snprintf(loaded, sizeof loaded, "%s/%s", cfg->ckpt_dir, latest);
        nt_ckpt_load(ms, &tr.opt, loaded, &cnt);
        resumed = 1;
    } else if (cfg->ckpt_load[0]) {
        snprintf(loaded, sizeof loaded, "%s", cfg->ckpt_load);
        nt_ckpt_load(ms, cfg->ckpt_load_optimizer ? &tr.opt : NULL, loaded, &cnt);
    }
    tr.step = cnt.step;
    tr.opt.step = cnt.opt_step;
    tr.consumed_samples = cnt.consumed_samples;
    tr.consumed_tokens = cnt.consumed_tokens;
    tr.skipped_steps = cnt.skipped_steps;
    /* the first stage's batch must divide now; later stages are checked when they start */
    batch_divides(&tr, nt_ramp_gbs(cfg, tr.consumed_tokens), &world);
    /* a job that cannot save (read-only, full) stops now, not hours later */
    nt_ckpt_check_writable(&tr, cfg->ckpt_dir, cfg->dir);

    int rank0 = ms->grid.world.rank == 0;
    nt_metrics mt = {0};
    const nt_model_config *mc = &ms->chunk[0].mc;
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
               ms->grid.world.size, cfg->tensor, cfg->pipeline, ms->grid.DP, cfg->micro_batch, ms->ops->name);
        printf("place   %s (rank 0)\n", ms->place.how);
        printf("dp grad %s\n", tr.opt.gr.how);
        printf("phase   %s: %s\n", ph->name, ph->what);
        if (ph->describe) ph->describe(ps, stdout);
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
    nt_batch batch = {0};
    double first_loss = NAN, last_loss = NAN, t_start = nt_now(), tok_total = 0.0, sec_total = 0.0;
    double f_tot = 0, b_tot = 0, o_tot = 0, p_tot = 0, c_tot = 0;
    int prev_stage = -1, status = NT_EXIT_OK;
    long done = 0, saved_at = resumed ? tr.step : -1;
    double max_step_s = 0, save_s = 0;
    nt_ckpt_meta meta = {.deck_text = resolved, .deck_sha256 = sha};
    while (tr.step < tr.total_steps) {
        int stop = stop_requested(&tr, nt_now() - t_job, max_step_s, save_s);
        if (stop) {
            if (rank0)
                printf("stop    %s at step %ld: %s\n", stop == 1 ? "signal" : "time limit", tr.step,
                       cfg->ckpt_dir[0] ? "saving a checkpoint, exit 3 (requeue)"
                                        : "no checkpoint.dir, nothing saved; exit 3 (requeue)");
            if (cfg->ckpt_dir[0] && saved_at != tr.step) {
                save(&tr, &meta);
                saved_at = tr.step;
            }
            status = NT_EXIT_REQUEUE;
            break;
        }
        nt_fault_hang(ms->grid.world.rank, tr.step + 1);
        if (cfg->stop_tokens > 0 && tr.consumed_tokens >= cfg->stop_tokens) {
            if (rank0) printf("stop    train.stop_tokens = %.6g reached after %ld steps (%.6g tokens)\n",
                              cfg->stop_tokens, tr.step, tr.consumed_tokens);
            break;
        }
        int stage = nt_ramp_stage_at(cfg, tr.consumed_tokens);
        long gbs = nt_ramp_gbs(cfg, tr.consumed_tokens);
        if (stage != prev_stage) batch_divides(&tr, gbs, &world);   /* collective: every rank changes stage here */
        int nmicro = nt_trainer_micro_batches(&tr, gbs);
        if (stage != prev_stage && cfg->n_ramp > 0 && rank0)
            printf("ramp    stage %d: global batch %ld from %.4g tokens (%d micro-batches of %d per DP rank)\n",
                   stage, gbs, tr.consumed_tokens, nmicro, cfg->micro_batch);
        prev_stage = stage;
        fill_batch(ph, ps, &tr, &batch, gbs, nmicro);
        if (ph->before_step) ph->before_step(ps, &tr, &batch);
        double t0 = nt_now();
        nt_step_stats st;
        nt_trainer_step(&tr, &batch, ph->loss, ps, ph->nacc, &st);
        double dt = nt_now() - t0;
        st.seconds = dt;
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
                if (cfg->ckpt_dir[0]) save(&tr, &meta);
                /* every rank knows from the NaN guard's all-reduce: leave together */
                nt_exit_agreed(NT_EXIT_FAIL, rank0, "step %ld: non-finite loss or gradient norm (first seen on rank %d)",
                               tr.step, tr.nonfinite_rank);
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
                .tflops_per_rank = fpt * (double)gbs * T / dt / 1e12 / ms->grid.world.size,
                .ms_fwd = tr.t_fwd * 1e3, .ms_bwd = tr.t_bwd * 1e3, .ms_opt = tr.t_opt * 1e3,
                .ms_p2p = tr.t_p2p * 1e3, .ms_coll = tr.t_coll * 1e3,
                .peak_rss_mb = nt_peak_rss_mb()};
            if (ph->metrics) {
                nt_phase_metric pm[NT_PHASE_MAX_METRICS];
                r.nextra = ph->metrics(ps, &st, pm, NT_PHASE_MAX_METRICS);
                for (int i = 0; i < r.nextra; i++) { r.extra_name[i] = pm[i].name; r.extra_value[i] = pm[i].value; }
            }
            nt_metrics_log(&mt, &r);
        }
        if (cfg->ckpt_dir[0] && ((cfg->ckpt_interval > 0 && tr.step % cfg->ckpt_interval == 0) ||
                                 tr.step == tr.total_steps)) {
            save_s = save(&tr, &meta);
            saved_at = tr.step;
            if (rank0) { printf("ckpt    saved %s/iter_%07ld in %.2f s\n", cfg->ckpt_dir, tr.step, save_s); fflush(stdout); }
        }
    }
    /* the job ends early (train.stop_tokens): save where it stopped */
    if (cfg->ckpt_dir[0] && status == NT_EXIT_OK && saved_at != tr.step) {
        save_s = save(&tr, &meta);
        if (rank0) { printf("ckpt    saved %s/iter_%07ld in %.2f s\n", cfg->ckpt_dir, tr.step, save_s); fflush(stdout); }
    }
    double wall = nt_now() - t_start;
    /* per-rank summary: peak memory (host RSS; GPU: held by ntron / in use on the device) and phase times */
    double mine[8] = {nt_peak_rss_mb(), f_tot, b_tot, p_tot, c_tot, o_tot, 0, 0};
    int gpu = ms->ops->mem_stats != NULL;
    if (gpu) ms->ops->mem_stats(&mine[6], &mine[7]);
    double *all = rank0 ? nt_malloc((size_t)ms->grid.world.size * 8 * sizeof(double), "summary") : NULL;
    nt_comm_gather(&ms->grid.world, mine, all, 8, NT_F64, 0);
    if (rank0) {
        double tps = sec_total > 0 ? tok_total / sec_total : 0.0, rss_max = 0;
        for (int r = 0; r < ms->grid.world.size; r++) rss_max = all[8 * r] > rss_max ? all[8 * r] : rss_max;
        printf("================================================================================\n");
        printf("%-10s %12s %12s %12s %12s %12s %12s\n", "steps", "first loss", "final loss", "wall s",
               "tokens/s", "TFLOP/s/rank", "peak RSS MB");
        printf("%-10ld %12.4f %12.4f %12.2f %12.0f %12.4f %12.1f\n", tr.step, first_loss, last_loss, wall, tps,
               fpt * tps / 1e12 / ms->grid.world.size, rss_max);
    }
    if (ph->summary) ph->summary(ps, &tr, stdout);
    if (rank0) {
        if (tr.skipped_steps) printf("skipped   %ld steps with a non-finite loss or gradient norm\n", tr.skipped_steps);
        printf("--------------------------------------------------------------------------------\n");
        printf("%5s %4s %4s %4s %12s %10s %10s %10s %10s %10s", "rank", "tp", "dp", "pp", "peak RSS MB",
               "forward s", "backward s", "p2p wait s", "collect. s", "optim. s");
        if (gpu) printf(" %12s %12s", "GPU held MB", "GPU used MB");
        printf("\n");
        for (int r = 0; r < ms->grid.world.size; r++) {
            const double *x = all + 8 * r;
            printf("%5d %4d %4d %4d %12.1f %10.2f %10.2f %10.2f %10.2f %10.2f", r, r % ms->grid.TP,
                   (r / ms->grid.TP) % ms->grid.DP, r / (ms->grid.TP * ms->grid.DP), x[0], x[1], x[2], x[3], x[4], x[5]);
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
    nt_batch_free(&batch);
    nt_watchdog_stop();
    nt_trainer_free(&tr);
    ph->close(ps);
    return status;
}
