/* kernels_cuda.h — the CUDA kernels of the GPU backend (host-callable launchers).
 *
 * Each launcher mirrors the CPU reference of the same name in
 * kernels/cpu/kernels_cpu.h (prefix cuda_ instead of cpu_): same arguments in
 * the same order, same shapes, layouts and semantics ("accumulates" still
 * means +=), plus a trailing stream.  Differences are dtypes only:
 *
 *   nt_bf16 *      bf16 activations and weights (raw bits of __nv_bfloat16);
 *                  arithmetic inside the kernels is fp32.
 *   float *        fp32: statistics (mean, rstd, lse, rowmax, sumexp, tgt,
 *                  loss, dloss), weight-gradient accumulators (dgamma, dbeta,
 *                  embedding dtable), AdamW master weights, m, v and grads.
 *   int32_t *      token ids / targets, in device memory.
 *
 * Every pointer is device memory.  Launchers are asynchronous on `stream`
 * (NULL = legacy default stream), check every CUDA call and launch, and on
 * error print file:line and the CUDA error string, then exit(1).
 * Launchers that need scratch memory (attention backward, layernorm backward,
 * sumsq) take it stream-ordered from cudaMallocAsync unless given one.
 *
 * The header is plain C (includable from the C backend); nt_stream is the
 * same type as cudaStream_t. */
#ifndef NTRON_KERNELS_CUDA_H
#define NTRON_KERNELS_CUDA_H

#include <stddef.h>
#include <stdint.h>

typedef uint16_t nt_bf16;              /* bfloat16 bits: sign, 8 exp, 7 mantissa */
typedef struct CUstream_st *nt_stream; /* == cudaStream_t */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- cast.cu ---------------------------------------------------------- */
/* dst = bf16(src), round to nearest even */
void cuda_f32_to_bf16(nt_bf16 *dst, const float *src, size_t n, nt_stream stream);
/* dst = float(src), exact */
void cuda_bf16_to_f32(float *dst, const nt_bf16 *src, size_t n, nt_stream stream);

/* ---- embedding.cu ----------------------------------------------------- */
/* out[i,:] = table[tok[i]-vocab_lo,:] for tokens in [vocab_lo, vocab_lo+rows), else 0 */
void cuda_embedding_fwd(nt_bf16 *out, const int32_t *tok, const nt_bf16 *table, int n,
                        int vocab_lo, int rows, int C, nt_stream stream);
/* dtable[tok[i]-vocab_lo,:] += dout[i,:] (fp32 accumulator; deterministic:
 * tokens are added in index order, as on the CPU) */
void cuda_embedding_bwd(float *dtable, const int32_t *tok, const nt_bf16 *dout, int n,
                        int vocab_lo, int rows, int C, nt_stream stream);

/* ---- layernorm1p.cu (fp32 math) --------------------------------------- */
void cuda_layernorm1p_fwd(nt_bf16 *out, float *mean, float *rstd, const nt_bf16 *in,
                          const nt_bf16 *gamma, const nt_bf16 *beta, int n, int C,
                          float eps, nt_stream stream);
/* din += dx (bf16 residual gradient), dgamma += , dbeta += (fp32) */
void cuda_layernorm1p_bwd(nt_bf16 *din, float *dgamma, float *dbeta, const nt_bf16 *dout,
                          const nt_bf16 *in, const float *mean, const float *rstd,
                          const nt_bf16 *gamma, int n, int C, nt_stream stream);

/* ---- rope.cu (in place on fused QKV; hd <= 256, rot <= hd) ------------ */
/* pos: NULL or device [B*T] positions inside packed samples (as the CPU's) */
void cuda_rope_fwd(nt_bf16 *qkv, int B, int T, int G, int qpg, int hd, int rot, float base,
                   int pos0, const int32_t *pos, nt_stream stream);
void cuda_rope_bwd(nt_bf16 *dqkv, int B, int T, int G, int qpg, int hd, int rot, float base,
                   int pos0, const int32_t *pos, nt_stream stream);

/* ---- attention_decode.cu (generation: K/V cache append, one-query attention over it; hd <= 256) */
void cuda_kv_append(nt_bf16 *kc, nt_bf16 *vc, const nt_bf16 *qkv, const int32_t *slot, const int32_t *pos, int B,
                    int T, int G, int qpg, int hd, int Tmax, nt_stream stream);
void cuda_attention_decode(nt_bf16 *out, const nt_bf16 *qkv, const nt_bf16 *kc, const nt_bf16 *vc,
                           const int32_t *slot, const int32_t *len, int B, int G, int qpg, int hd, int Tmax,
                           nt_stream stream);

/* ---- attention.cu (causal GQA, fused QKV, hd <= 256) ------------------ */
/* out [B,T,G*qpg*hd] bf16, lse [B,G*qpg,T] fp32 (natural log of the sum of
 * exp of the scaled scores).  pos: NULL, or device [B*T] positions inside
 * the samples of packed rows (contiguous samples, pos restarting at 0 at
 * each): query t sees keys [t - pos[b,t], t] only, as the CPU's. */
void cuda_attention_fwd(nt_bf16 *out, float *lse, const nt_bf16 *qkv, int B, int T, int G,
                        int qpg, int hd, const int32_t *pos, nt_stream stream);
/* dqkv overwritten (q, k and v parts).  workspace: NULL (taken with
 * cudaMallocAsync on `stream` and freed there) or device memory of
 * cuda_attention_bwd_workspace_bytes() bytes. */
void cuda_attention_bwd(nt_bf16 *dqkv, const nt_bf16 *dout, const nt_bf16 *out,
                        const float *lse, const nt_bf16 *qkv, int B, int T, int G, int qpg,
                        int hd, const int32_t *pos, void *workspace, nt_stream stream);
size_t cuda_attention_bwd_workspace_bytes(int B, int T, int G, int qpg, int hd);
/* Implementation choice: 0 = auto (mma.sync tensor-core path for hd
 * 64/128/192 with 16-byte aligned pointers, else generic), 1 = generic path
 * only, 2 = as 0 but the forward and the backward's products on Hopper's
 * warpgroup MMA (sm_90a builds on an sm_90 GPU; elsewhere it falls back to 0
 * silently: the caller tells, see cuda_attention_wgmma_available).  Returns
 * the previous setting.  Unset: NTRON_ATTN=mma|generic|wgmma in the
 * environment (0, 1, 2; another value is a fatal error at first use),
 * NTRON_ATTN_GENERIC=1 forces the generic path. */
int cuda_attention_set_impl(int impl);
/* NTRON_ATTN's value as an implementation: NULL or "" or "mma" 0,
 * "generic" 1, "wgmma" 2, anything else -1 */
int cuda_attention_parse_impl(const char *s);
/* 1 when the code running on the current GPU is the sm_90a build (one probe
 * kernel at the first call) */
int cuda_attention_wgmma_available(void);
/* 1 if cuda_attention_* would take the tensor-core path for this hd now. */
int cuda_attention_uses_mma(int hd);
/* 1 if cuda_attention_fwd / _bwd would take the warpgroup-MMA kernels for this hd now. */
int cuda_attention_uses_wgmma(int hd);

/* ---- sqrelu.cu -------------------------------------------------------- */
void cuda_sqrelu_fwd(nt_bf16 *out, const nt_bf16 *in, size_t n, nt_stream stream);
/* din = dout * 2*max(x,0) (overwrites) */
void cuda_sqrelu_bwd(nt_bf16 *din, const nt_bf16 *dout, const nt_bf16 *in, size_t n,
                     nt_stream stream);

/* ---- elementwise.cu (fp32 arithmetic) --------------------------------- */
void cuda_add(nt_bf16 *y, const nt_bf16 *x, size_t n, nt_stream stream);   /* y += x */
void cuda_add_f32(float *y, const float *x, size_t n, nt_stream stream);   /* y += x */
void cuda_scale(nt_bf16 *x, float s, size_t n, nt_stream stream);          /* x *= s */
void cuda_scale_f32(float *x, float s, size_t n, nt_stream stream);        /* x *= s */
/* x[i,c] = value for rows i < n and columns c0 <= c < V of x [n, V] (bf16;
 * masks the padded vocabulary columns of the logits with -inf).  c0 < 0 is 0. */
void cuda_mask_cols(nt_bf16 *x, int n, int V, int c0, float value, nt_stream stream);
/* *out (device double) = sum x^2 (accumulate != 0: *out += sum x^2).
 * Accumulated in double, in an order fixed by n alone (deterministic). */
void cuda_sumsq(double *out, const float *x, size_t n, int accumulate, nt_stream stream);

/* ---- cross_entropy.cu (bf16 logits, fp32 statistics) ------------------ */
void cuda_ce_rowmax(float *rowmax, const nt_bf16 *logits, int n, int V, nt_stream stream);
void cuda_ce_sumexp(float *sumexp, float *tgt, const nt_bf16 *logits, const float *rowmax,
                    const int32_t *targets, int vocab_lo, int n, int V, nt_stream stream);
/* rowmax, sumexp, tgt as the two calls above, in one pass (online max with a rescaled sum) */
void cuda_ce_stats(float *rowmax, float *sumexp, float *tgt, const nt_bf16 *logits, const int32_t *targets,
                   int vocab_lo, int n, int V, nt_stream stream);
void cuda_ce_loss(float *loss, const float *rowmax, const float *sumexp, const float *tgt,
                  int n, nt_stream stream);
/* dlogits (bf16) may alias logits */
void cuda_ce_bwd(nt_bf16 *dlogits, const nt_bf16 *logits, const float *rowmax,
                 const float *sumexp, const int32_t *targets, const float *dloss,
                 int vocab_lo, int n, int V, nt_stream stream);

/* ---- adamw.cu --------------------------------------------------------- */
/* The CPU's cpu_adamw on fp32 master/m/v/grad, same operation order (no FMA
 * contraction), and param (bf16) = bf16(updated master). */
void cuda_adamw(float *master, nt_bf16 *param, float *m, float *v, const float *grad, size_t n,
                float lr, float beta1, float beta2, float eps, float wd, float grad_scale,
                int step, nt_stream stream);

#ifdef __cplusplus
}
#endif

#endif
