/* metrics.h — the per-step log line on rank 0 and metrics.jsonl (one JSON
 * object per logged step, written with cJSON). */
#ifndef NTRON_METRICS_H
#define NTRON_METRICS_H
#include <stdio.h>

typedef struct nt_metrics_row {
    long step, total_steps;
    double consumed_tokens, loss, grad_norm, lr;
    long gbs;
    double ms, tokens_per_s, tflops_per_rank;
    double ms_fwd, ms_bwd, ms_opt, ms_p2p, ms_coll;
    double peak_rss_mb;
    int nextra;                    /* the phase's own metrics (name/value), after the common ones */
    const char *extra_name[16];
    double extra_value[16];
} nt_metrics_row;

typedef struct nt_metrics { FILE *jsonl; } nt_metrics;

void nt_metrics_open(nt_metrics *mt, const char *run_dir);  /* rank 0 only */
void nt_metrics_log(nt_metrics *mt, const nt_metrics_row *r);
void nt_metrics_close(nt_metrics *mt);
double nt_peak_rss_mb(void);
#endif
