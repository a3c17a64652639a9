/* kernels_cpu.h — the CPU reference kernels (fp32, row-major).
 *
 * Every kernel of the CPU backend; one kernel per file under kernels/cpu/.
 * The CUDA backend (kernels/cuda/) mirrors these signatures with bf16
 * activations, and its tests compare against these functions.
 *
 * Conventions
 *   n        number of token rows (batch * seq)
 *   C        row width (hidden size)
 *   Tensors are row-major [rows, cols].  "accumulates" means += into the
 *   output; otherwise the output is overwritten.
 *   Fused QKV layout (Megatron, grouped per KV group): for each token, for
 *   each KV group g in 0..G-1: [qpg query heads | 1 key head | 1 value head],
 *   each head hd floats wide.  Width per token = G*(qpg+2)*hd.
 *   Attention output per token: query heads in order h = g*qpg + j, hd each.
 */
#ifndef NTRON_KERNELS_CPU_H
#define NTRON_KERNELS_CPU_H

#include <stddef.h>
#include <stdint.h>

/* Runs fn(ctx, i0, i1) over disjoint chunks covering [0, n) on the CPU
 * kernels' thread pool (parallel.c); serially when n < 2*grain or one
 * thread.  Only for independent items: results equal the serial loop's. */
typedef void (*cpu_par_fn)(void *ctx, size_t i0, size_t i1);
void cpu_parallel_for(size_t n, size_t grain, cpu_par_fn fn, void *ctx);
int cpu_parallel_threads(void);

/* C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C   (BLAS sgemm) */
/* 1 when the kernel pool (parallel.c) has more than one thread and the BLAS
 * library could be set to one thread (matmul.c, OpenBLAS's
 * openblas_set_num_threads): then large GEMMs are split over the pool and a
 * GEMM called from a pool chunk runs single-threaded, so pool work may call
 * cpu_matmul.  Decided once; the first call sets OpenBLAS to one thread.
 * Single-threaded sgemm blocks give the unsplit GEMM's bits (each element
 * keeps its whole K sum). */
int cpu_gemm_pool(void);

/* y[i] = expf(x[i] - shift), i < n (vexp.c: libmvec's vector expf where
 * available, within 4 ulp; y may equal x) */
void cpu_exp_shift(float *y, const float *x, int n, float shift);

void cpu_matmul(float *C, const float *A, const float *B, int M, int N, int K,
                int transA, int transB, float alpha, float beta);

/* out[i,:] = table[tok[i]-vocab_lo,:] if vocab_lo <= tok[i] < vocab_lo+rows, else 0
 * (vocab-parallel: each TP rank holds rows [vocab_lo, vocab_lo+rows)). */
void cpu_embedding_fwd(float *out, const int32_t *tok, const float *table, int n,
                       int vocab_lo, int rows, int C);
/* dtable[tok[i]-vocab_lo,:] += dout[i,:] for tokens in the shard (accumulates). */
void cpu_embedding_bwd(float *dtable, const int32_t *tok, const float *dout, int n,
                       int vocab_lo, int rows, int C);

/* LayerNorm1P: out = (x-mean)*rstd*(1+gamma) + beta; rstd = 1/sqrt(var+eps),
 * biased variance.  mean, rstd: [n] (saved for backward). */
void cpu_layernorm1p_fwd(float *out, float *mean, float *rstd, const float *in,
                         const float *gamma, const float *beta, int n, int C, float eps);
/* din += dx (accumulates: pre-norm residual), dgamma += , dbeta += . */
void cpu_layernorm1p_bwd(float *din, float *dgamma, float *dbeta, const float *dout,
                         const float *in, const float *mean, const float *rstd,
                         const float *gamma, int n, int C);

/* Partial rotary embedding, in place on the q and k heads of fused QKV
 * [B, T, G*(qpg+2)*hd].  Only the first `rot` dims of each head rotate,
 * non-interleaved pairs (i, i+rot/2), i < rot/2; angle = (pos0+t) *
 * base^(-2i/rot), computed in fp32 as PyTorch does (inv_freq = 1/powf(base,
 * 2i/rot), angle = (float)pos * inv_freq, cosf/sinf).  V heads untouched.
 * Backward applies the inverse rotation.  pos: NULL, or [B*T] positions of
 * the tokens inside their own samples (packed rows, 0 <= pos[b,t] <= t,
 * restarting at 0 where a sample starts): token (b, t) then takes position
 * pos0 + pos[b,t] instead of pos0 + t. */
void cpu_rope_fwd(float *qkv, int B, int T, int G, int qpg, int hd, int rot,
                  float base, int pos0, const int32_t *pos);
void cpu_rope_bwd(float *dqkv, int B, int T, int G, int qpg, int hd, int rot,
                  float base, int pos0, const int32_t *pos);

/* Causal GQA attention, scale 1/sqrt(hd).  qkv [B,T,G*(qpg+2)*hd] (after RoPE),
 * out [B,T,G*qpg*hd], lse [B, G*qpg, T] (log-sum-exp of scaled scores,
 * saved for backward).  Never stores a TxT matrix: at most a block of 64
 * query rows x T scores at a time.  pos: NULL (every row one causal
 * sequence), or [B*T] positions inside the samples of packed rows (as for
 * RoPE): token t then attends to keys s with t - pos[b,t] <= s <= t only,
 * the earlier tokens of its own sample (block-diagonal causal). */
void cpu_attention_fwd(float *out, float *lse, const float *qkv, int B, int T,
                       int G, int qpg, int hd, const int32_t *pos);
/* dqkv overwritten (all of q, k, v parts). */
void cpu_attention_bwd(float *dqkv, const float *dout, const float *out,
                       const float *lse, const float *qkv, int B, int T, int G,
                       int qpg, int hd, const int32_t *pos);

/* Cached-KV attention for generation (attention_decode.c).  K/V caches
 * [slots, G, Tmax, hd].  kv_append: for sequence b of a step, its T new
 * tokens' keys and values (fused QKV rows [B*T, G*(qpg+2)*hd], after RoPE)
 * go to cache slot slot[b], positions pos[b] .. pos[b]+T-1.
 * attention_decode: one query token per sequence (qkv [B, G*(qpg+2)*hd]);
 * out [B, G*qpg*hd] = softmax(q k^T / sqrt(hd)) v over the first len[b]
 * cached positions of slot slot[b] (len[b] = 0: zeros). */
void cpu_kv_append(float *kc, float *vc, const float *qkv, const int32_t *slot, const int32_t *pos, int B,
                   int T, int G, int qpg, int hd, int Tmax);
void cpu_attention_decode(float *out, const float *qkv, const float *kc, const float *vc, const int32_t *slot,
                          const int32_t *len, int B, int G, int qpg, int hd, int Tmax);

/* Squared ReLU: out = max(x,0)^2 ; din = dout * 2*max(x,0) (overwrites din). */
void cpu_sqrelu_fwd(float *out, const float *in, size_t n);
void cpu_sqrelu_bwd(float *din, const float *dout, const float *in, size_t n);

/* x[i, c] = value for every row i and columns c0 <= c < V (x is [n, V]):
 * masks the padded vocabulary columns of the logits with -inf. */
void cpu_mask_cols(float *x, int n, int V, int c0, float value);
/* y += x */
void cpu_add(float *y, const float *x, size_t n);
/* x *= s */
void cpu_scale(float *x, float s, size_t n);
/* sum of squares, accumulated in double */
double cpu_sumsq(const float *x, size_t n);

/* Vocab-parallel cross-entropy in steps, so that a TP group can all-reduce
 * between them (MAX after rowmax, SUM after sumexp) and no rank ever holds
 * full-vocabulary logits.  logits [n, V] is this rank's vocab shard,
 * global ids [vocab_lo, vocab_lo+V). */
void cpu_ce_rowmax(float *rowmax, const float *logits, int n, int V);
/* sumexp[i] = sum_j exp(logits[i,j]-rowmax[i]); tgt[i] = logits[i, t-vocab_lo]
 * if target t in the shard else 0. */
void cpu_ce_sumexp(float *sumexp, float *tgt, const float *logits, const float *rowmax,
                   const int32_t *targets, int vocab_lo, int n, int V);
/* loss[i] = log(sumexp[i]) + rowmax[i] - tgt[i] */
void cpu_ce_loss(float *loss, const float *rowmax, const float *sumexp, const float *tgt, int n);
/* dlogits[i,j] = dloss[i] * (exp(logits[i,j]-rowmax[i])/sumexp[i] - [j == t_i-vocab_lo]);
 * dlogits may alias logits. */
void cpu_ce_bwd(float *dlogits, const float *logits, const float *rowmax, const float *sumexp,
                const int32_t *targets, const float *dloss, int vocab_lo, int n, int V);

/* AdamW (decoupled weight decay, PyTorch semantics), step >= 1:
 *   g = grad*grad_scale; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2
 *   p -= lr*wd*p;  p -= lr * (m/(1-b1^step)) / (sqrt(v/(1-b2^step)) + eps) */
void cpu_adamw(float *param, float *m, float *v, const float *grad, size_t n, float lr,
               float beta1, float beta2, float eps, float wd, float grad_scale, int step);

#endif
