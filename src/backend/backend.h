/* backend.h — the ops table between the model and a compute backend.
 *
 * The model, schedules and optimizer never touch tensor memory directly:
 * they allocate, copy and compute through an nt_ops table.  The CPU backend
 * (backend_cpu.c, kernels/cpu) is the fp32 reference; a CUDA backend fills
 * the same table with bf16 activations/weights and fp32 master weights,
 * gradients and optimizer state.
 *
 * Pointer types: `void *` = a tensor in the backend's activation dtype
 * (fp32 on CPU, bf16 on CUDA); `float *` = always fp32 (statistics, fp32
 * gradient accumulators, master weights, Adam moments).  Shapes and layouts
 * are those documented in kernels/cpu/kernels_cpu.h.
 */
#ifndef NTRON_BACKEND_H
#define NTRON_BACKEND_H

#include <stddef.h>
#include <stdint.h>

typedef struct nt_ops {
    const char *name;
    size_t act_bytes;                       /* bytes per activation element */
    int params_are_master;                  /* 1: working params alias fp32 master (CPU) */
    int host_resident;                      /* 1: buffers are host memory, readable in place */

    void *(*alloc)(size_t bytes, const char *what);
    void (*free)(void *p);
    void (*zero)(void *p, size_t bytes);
    void (*copy)(void *dst, const void *src, size_t bytes);          /* device to device */
    void (*to_act)(void *dst, const float *host, size_t n);           /* host fp32 -> act */
    void (*from_act)(float *host, const void *src, size_t n);         /* act -> host fp32 */
    void (*to_f32)(float *dst, const float *host, size_t n);          /* host fp32 -> fp32 buffer */
    void (*from_f32)(float *host, const float *src, size_t n);
    void (*sync)(void);
    /* device memory (NULL on host backends): peak MiB held through alloc, and
     * the peak MiB in use on the device (context, libraries, other processes) */
    void (*mem_stats)(double *held_peak_mb, double *device_peak_mb);
    /* op timing (backend/profile.c): time_start marks the backend's
     * timeline; time_stop waits for the work issued since and returns the
     * milliseconds between the two marks */
    void (*time_start)(void);
    double (*time_stop)(void);
    /* which attention kernels run at head dim hd, in words (NULL: one kind only) */
    const char *(*attention_kernels)(int hd);

    /* C = alpha op(A) op(B) + beta C, all in act dtype */
    void (*matmul)(void *C, const void *A, const void *B, int M, int N, int K,
                   int transA, int transB, float alpha, float beta);
    /* weight gradient: C(fp32) += op(A) op(B) */
    void (*matmul_wgrad)(float *C, const void *A, const void *B, int M, int N, int K,
                         int transA, int transB);

    void (*embedding_fwd)(void *out, const int32_t *tok, const void *table, int n,
                          int vocab_lo, int rows, int C);
    void (*embedding_bwd)(float *dtable, const int32_t *tok, const void *dout, int n,
                          int vocab_lo, int rows, int C);
    void (*layernorm_fwd)(void *out, float *mean, float *rstd, const void *in,
                          const void *gamma, const void *beta, int n, int C, float eps);
    void (*layernorm_bwd)(void *din, float *dgamma, float *dbeta, const void *dout,
                          const void *in, const float *mean, const float *rstd,
                          const void *gamma, int n, int C);
    /* pos (backend memory, [B*T], or NULL): packed rows, each token's position
     * inside its own sample — RoPE restarts and attention is block-diagonal
     * causal (a token sees only the earlier tokens of its sample) */
    void (*rope_fwd)(void *qkv, int B, int T, int G, int qpg, int hd, int rot,
                     float base, int pos0, const int32_t *pos);
    void (*rope_bwd)(void *dqkv, int B, int T, int G, int qpg, int hd, int rot,
                     float base, int pos0, const int32_t *pos);
    void (*attention_fwd)(void *out, float *lse, const void *qkv, int B, int T,
                          int G, int qpg, int hd, const int32_t *pos);
    void (*attention_bwd)(void *dqkv, const void *dout, const void *out, const float *lse,
                          const void *qkv, int B, int T, int G, int qpg, int hd, const int32_t *pos);
    void (*sqrelu_fwd)(void *out, const void *in, size_t n);
    void (*sqrelu_bwd)(void *din, const void *dout, const void *in, size_t n);
    void (*add)(void *y, const void *x, size_t n);
    /* x[i, c] = value for c0 <= c < V (padded-vocabulary logits -> -inf) */
    void (*mask_cols)(void *x, int n, int V, int c0, float value);

    void (*ce_rowmax)(float *rowmax, const void *logits, int n, int V);
    void (*ce_sumexp)(float *sumexp, float *tgt, const void *logits, const float *rowmax,
                      const int32_t *targets, int vocab_lo, int n, int V);
    /* rowmax, sumexp and tgt of logits whose rows are complete (the vocabulary
     * not split over TP): ce_rowmax then ce_sumexp in one call, which a GPU
     * does in one pass over the logits (an online max and rescaled sum) */
    void (*ce_stats)(float *rowmax, float *sumexp, float *tgt, const void *logits,
                     const int32_t *targets, int vocab_lo, int n, int V);
    void (*ce_loss)(float *loss, const float *rowmax, const float *sumexp,
                    const float *tgt, int n);
    void (*ce_bwd)(void *dlogits, const void *logits, const float *rowmax,
                   const float *sumexp, const int32_t *targets, const float *dloss,
                   int vocab_lo, int n, int V);

    /* fp32 buffers (gradients, master weights) */
    void (*scale_f32)(float *x, float s, size_t n);
    /* sum of squares of k ranges x[off[j] .. off[j]+len[j]): each range's sum
     * in double by the backend, the k sums added on the host in order j = 0..k-1
     * (one wait for the device, not one per range) */
    double (*sumsq_ranges)(const float *x, const size_t *off, const size_t *len, int k);
    /* master/m/v/grad fp32; param (act dtype) receives the updated value */
    void (*adamw)(float *master, void *param, float *m, float *v, const float *grad,
                  size_t n, float lr, float beta1, float beta2, float eps, float wd,
                  float grad_scale, int step);
    /* int32 token ids to the backend */
    int32_t *(*tokens_upload)(int32_t *dev, const int32_t *host, size_t n);

    /* generation (kernels/cpu/attention_decode.c): K/V caches [slots, G,
     * Tmax, hd] in act dtype; slot, pos, len: int32 backend arrays [B]
     * (tokens_upload).  kv_append stores the keys/values of T new tokens
     * per sequence (qkv [B*T, G*(qpg+2)*hd] after RoPE) at positions
     * pos[b].. of slot slot[b]; attention_decode attends one query per
     * sequence (qkv [B, ...]) over the first len[b] cached positions. */
    void (*kv_append)(void *kc, void *vc, const void *qkv, const int32_t *slot, const int32_t *pos, int B,
                      int T, int G, int qpg, int hd, int Tmax);
    void (*attention_decode)(void *out, const void *qkv, const void *kc, const void *vc, const int32_t *slot,
                             const int32_t *len, int B, int G, int qpg, int hd, int Tmax);
} nt_ops;

struct nt_config;
struct nt_deck_info;
/* run.backend of a deck resolved to a backend (backend_select.c): exits 2
 * when cuda is asked for and cannot run; rank 0 says why auto fell back. */
const nt_ops *nt_backend_select(const struct nt_config *cfg, const struct nt_deck_info *info);

/* The CPU reference backend. */
const nt_ops *nt_backend_cpu(void);
/* The CUDA backend on GPU `device` (NULL in builds without CUDA); one
 * device per process: a second call must name the same device. */
const nt_ops *nt_backend_cuda(int device);
/* The CUDA backend's developer knobs in the environment, checked once
 * after nt_backend_cuda on every rank of `world` (collective): NTRON_ATTN
 * with a value other than mma, wgmma or generic exits 2 on every rank, the
 * first rank that has it printing; NTRON_ATTN=wgmma where this build or GPU
 * has no sm_90a code: rank 0 warns once that mma.sync runs instead.  No-op
 * in builds without CUDA. */
struct nt_comm;
void nt_backend_cuda_env(const struct nt_comm *world);
/* 1 when ops is the CUDA backend (its buffers are device memory), also
 * through a profiled table of it (backend/profile.h) */
int nt_backend_is_cuda(const nt_ops *ops);

#endif
