/* plan_cluster.h — a cluster description for `ntron plan`: GPUs per node,
 * peak bf16 FLOP/s, HBM size and bandwidth, intra- and inter-node bandwidth
 * and latency, achievable GEMM and attention efficiency, and which backend's
 * number formats apply (cuda-bf16 or cpu-fp32).  Read from an INI file
 * ([cluster] key = value, every key required). */
#ifndef NTRON_PLAN_CLUSTER_H
#define NTRON_PLAN_CLUSTER_H

typedef struct nt_cluster {
    char path[1024];
    char name[256];
    int cpu_fp32;                 /* backend = cpu-fp32 (else cuda-bf16) */
    int gpus_per_node;
    double peak_tflops;           /* dense bf16 (fp32 for the CPU backend) per GPU */
    double hbm_gb, hbm_tbps;
    double intra_gbps, inter_gbps;              /* GB/s per GPU, one direction */
    double intra_lat_us, inter_lat_us, base_lat_us;
    double gemm_eff, attn_eff;
} nt_cluster;

/* Parses FILE; on any error (missing/unknown/duplicate key, bad number)
 * prints "FILE:LINE: cluster.key: reason" and exits with status 2. */
void nt_cluster_load(nt_cluster *c, const char *path);
/* The shipped DGX H100 values (inputs/clusters/dgx-h100.cluster), used when
 * no --cluster is given. */
void nt_cluster_default(nt_cluster *c);

#endif
