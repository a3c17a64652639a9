/* plan_cluster.c — parse a cluster description file (see plan_cluster.h). */
#include "plan/plan_cluster.h"
#include "util/check.h"
#include "backend/device.h"

#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { K_NAME, K_BACKEND, K_GPN, K_PEAK, K_HBM, K_HBMBW, K_INTRA, K_INTER, K_INTRA_LAT, K_INTER_LAT, K_BASE_LAT,
       K_GEMM, K_ATTN, K_N };
static const char *const keys[K_N] = {"name", "backend", "gpus_per_node", "peak_tflops", "hbm_gb", "hbm_tbps",
                                      "intra_node_gbps", "inter_node_gbps", "intra_node_latency_us",
                                      "inter_node_latency_us", "collective_base_latency_us", "gemm_efficiency",
                                      "attention_efficiency"};

typedef struct parse_ctx { nt_cluster *c; int seen[K_N]; FILE *f; int lineno; } parse_ctx;

/* inih reader that counts physical lines (this libinih has no line numbers in the handler) */
static char *read_line(char *str, int num, void *stream)
{
    parse_ctx *p = stream;
    char *r = fgets(str, num, p->f);
    if (r) p->lineno++;
    return r;
}

static double num(const char *path, int line, const char *key, const char *v, double lo, double hi)
{
    char *end;
    double x = strtod(v, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (end == v || *end || !isfinite(x))
        nt_input_error("%s:%d: cluster.%s: '%s' is not a number", path, line, key, v);
    if (x <= lo || x > hi) nt_input_error("%s:%d: cluster.%s: %g is out of range (%g, %g]", path, line, key, x, lo, hi);
    return x;
}

static int on_pair(void *user, const char *section, const char *key, const char *value)
{
    parse_ctx *p = user;
    int line = p->lineno;
    nt_cluster *c = p->c;
    if (!key) return 1; /* section start */
    if (strcmp(section, "cluster") != 0)
        nt_input_error("%s:%d: %s.%s: unknown section (only [cluster])", c->path, line, section, key);
    int k = -1;
    for (int i = 0; i < K_N; i++)
        if (!strcmp(key, keys[i])) k = i;
    if (k < 0) nt_input_error("%s:%d: cluster.%s: unknown key", c->path, line, key);
    if (p->seen[k]) nt_input_error("%s:%d: cluster.%s: duplicate key", c->path, line, key);
    p->seen[k] = line;
    switch (k) {
    case K_NAME: snprintf(c->name, sizeof c->name, "%s", value); break;
    case K_BACKEND:
        if (!strcmp(value, "cpu-fp32")) c->cpu_fp32 = 1;
        else if (!strcmp(value, "cuda-bf16")) c->cpu_fp32 = 0;
        else nt_input_error("%s:%d: cluster.backend: '%s' is not one of cuda-bf16|cpu-fp32", c->path, line, value);
        break;
    case K_GPN: c->gpus_per_node = (int)num(c->path, line, key, value, 0, 4096);
        if (c->gpus_per_node != num(c->path, line, key, value, 0, 4096))
            nt_input_error("%s:%d: cluster.%s: '%s' is not a whole number", c->path, line, key, value);
        break;
    case K_PEAK: c->peak_tflops = num(c->path, line, key, value, 0, 1e6); break;
    case K_HBM: c->hbm_gb = num(c->path, line, key, value, 0, 1e6); break;
    case K_HBMBW: c->hbm_tbps = num(c->path, line, key, value, 0, 1e4); break;
    case K_INTRA: c->intra_gbps = num(c->path, line, key, value, 0, 1e6); break;
    case K_INTER: c->inter_gbps = num(c->path, line, key, value, 0, 1e6); break;
    case K_INTRA_LAT: c->intra_lat_us = num(c->path, line, key, value, -1e-300, 1e6); break;
    case K_INTER_LAT: c->inter_lat_us = num(c->path, line, key, value, -1e-300, 1e6); break;
    case K_BASE_LAT: c->base_lat_us = num(c->path, line, key, value, -1e-300, 1e6); break;
    case K_GEMM: c->gemm_eff = num(c->path, line, key, value, 0, 1); break;
    case K_ATTN: c->attn_eff = num(c->path, line, key, value, 0, 1); break;
    }
    return 1;
}

void nt_cluster_load(nt_cluster *c, const char *path)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    FILE *f = fopen(path, "r");
    if (!f) nt_input_error("%s: cannot open cluster file", path);
    parse_ctx p = {.c = c, .f = f};
    int rc = ini_parse_stream(read_line, &p, on_pair, &p);
    fclose(f);
    if (rc != 0) nt_input_error("%s:%d: cannot parse this line (expected key = value)", path, rc);
    for (int i = 0; i < K_N; i++)
        if (!p.seen[i]) nt_input_error("%s: cluster.%s: missing (every key is required)", path, keys[i]);
}

void nt_cluster_default(nt_cluster *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "(built in: inputs/clusters/dgx-h100.cluster)");
    snprintf(c->name, sizeof c->name, "DGX H100 (8x H100 SXM5 80GB, NVLink 4, 8x NDR 400Gb/s per node)");
    c->gpus_per_node = 8;
    c->peak_tflops = NT_PEAK_TFLOPS_H100_BF16;
    c->hbm_gb = 80;
    c->hbm_tbps = 3.35;
    c->intra_gbps = 450;
    c->inter_gbps = 50;
    c->intra_lat_us = 3.4;
    c->inter_lat_us = 14;
    c->base_lat_us = 8.4;
    c->gemm_eff = 0.719;
    c->attn_eff = 0.261;
}
