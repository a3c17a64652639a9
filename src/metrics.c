/* metrics.c — step line and metrics.jsonl. */
#include "metrics.h"
#include "check.h"

#include <cjson/cJSON.h>
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
    cJSON *o = cJSON_CreateObject();
    NT_CHECK(o != NULL, "cJSON_CreateObject failed");
    cJSON_AddNumberToObject(o, "step", (double)r->step);
    cJSON_AddNumberToObject(o, "consumed_tokens", r->consumed_tokens);
    cJSON_AddNumberToObject(o, "loss", r->loss);
    cJSON_AddNumberToObject(o, "grad_norm", r->grad_norm);
    cJSON_AddNumberToObject(o, "lr", r->lr);
    cJSON_AddNumberToObject(o, "global_batch", (double)r->gbs);
    cJSON_AddNumberToObject(o, "ms", r->ms);
    cJSON_AddNumberToObject(o, "tokens_per_s", r->tokens_per_s);
    cJSON_AddNumberToObject(o, "tflops_per_rank", r->tflops_per_rank);
    cJSON_AddNumberToObject(o, "ms_forward", r->ms_fwd);
    cJSON_AddNumberToObject(o, "ms_backward", r->ms_bwd);
    cJSON_AddNumberToObject(o, "ms_optimizer", r->ms_opt);
    cJSON_AddNumberToObject(o, "ms_p2p_wait", r->ms_p2p);
    cJSON_AddNumberToObject(o, "ms_collectives", r->ms_coll);
    cJSON_AddNumberToObject(o, "peak_rss_mb", r->peak_rss_mb);
    for (int i = 0; i < r->nextra; i++) cJSON_AddNumberToObject(o, r->extra_name[i], r->extra_value[i]);
    char *s = cJSON_PrintUnformatted(o);
    NT_CHECK(s != NULL, "cJSON_PrintUnformatted failed");
    fprintf(mt->jsonl, "%s\n", s);
    fflush(mt->jsonl);
    cJSON_free(s);
    cJSON_Delete(o);
}

void nt_metrics_close(nt_metrics *mt)
{
    if (mt->jsonl) fclose(mt->jsonl);
    mt->jsonl = NULL;
}
