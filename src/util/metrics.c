/* metrics.c — step line and metrics.jsonl. */
#include "util/metrics.h"
#include "util/check.h"
#include "util/json.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

void nt_metrics_open(nt_metrics *mt, const char *run_dir)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
    mt->jsonl = fopen(path, "a");
    if (!mt->jsonl) nt_die(NT_EXIT_FAIL, "%s: cannot open for writing: %s", path, strerror(errno));
}

double nt_peak_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
    return (double)ru.ru_maxrss / 1024.0;
}

void nt_metrics_log(nt_metrics *mt, const nt_metrics_row *r)
{
    printf("step %6ld/%ld | tokens %9.3e | loss %8.4f | gnorm %8.4f | lr %.3e | gbs %5ld | %8.1f ms | %9.0f tok/s | %6.3f TFLOP/s/rank | %6.0f MB",
           r->step, r->total_steps, r->consumed_tokens, r->loss, r->grad_norm, r->lr, r->gbs, r->ms,
           r->tokens_per_s, r->tflops_per_rank, r->peak_rss_mb);
    for (int i = 0; i < r->nextra; i++) printf(" | %s %.4g", r->extra_name[i], r->extra_value[i]);
    printf("\n");
    fflush(stdout);
    if (!mt->jsonl) return;
    cJSON *o = nt_json_object();
    nt_json_num(o, "step", (double)r->step);
    nt_json_num(o, "consumed_tokens", r->consumed_tokens);
    nt_json_num(o, "loss", r->loss);
    nt_json_num(o, "grad_norm", r->grad_norm);
    nt_json_num(o, "lr", r->lr);
    nt_json_num(o, "global_batch", (double)r->gbs);
    nt_json_num(o, "ms", r->ms);
    nt_json_num(o, "tokens_per_s", r->tokens_per_s);
    nt_json_num(o, "tflops_per_rank", r->tflops_per_rank);
    nt_json_num(o, "ms_forward", r->ms_fwd);
    nt_json_num(o, "ms_backward", r->ms_bwd);
    nt_json_num(o, "ms_optimizer", r->ms_opt);
    nt_json_num(o, "ms_p2p_wait", r->ms_p2p);
    nt_json_num(o, "ms_collectives", r->ms_coll);
    nt_json_num(o, "peak_rss_mb", r->peak_rss_mb);
    for (int i = 0; i < r->nextra; i++) nt_json_num(o, r->extra_name[i], r->extra_value[i]);
    nt_json_write(mt->jsonl, o, 0, "metrics.jsonl");
    cJSON_Delete(o);
}

void nt_metrics_close(nt_metrics *mt)
{
    if (mt->jsonl && fclose(mt->jsonl) != 0) nt_die(NT_EXIT_FAIL, "metrics.jsonl: write failed: %s", strerror(errno));
    mt->jsonl = NULL;
}
