/* backend_cuda.c — the CUDA backend: fills nt_ops with the kernels of
 * kernels/cuda (bf16 activations and weights, fp32 statistics, fp32 master
 * weights, gradients and Adam state) and GEMMs through cuBLASLt (bf16
 * inputs, fp32 accumulation; bf16 outputs for activations, fp32 outputs
 * accumulated in place for weight gradients).  One device per process,
 * chosen by the caller (nt_backend_cuda(device); backend_select.c passes
 * the node-local rank mod the GPU count); everything, NCCL included, runs
 * on the default stream.  Built only when configure finds CUDA. */
#include "backend/backend.h"
#include "build_config.h"
#include "util/check.h"
#include "parallel/comm.h"

#ifdef NT_HAVE_CUDA
#include "cuda_check.h"
#include "kernels_cuda.h"

#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static cublasLtHandle_t lt;
static void *workspace;
static const size_t workspace_bytes = 64u << 20;
static float *staging;          /* device fp32 staging for host <-> bf16 transfers */
static size_t staging_n;

/* GPU memory accounting: bytes held through c_alloc now and at most (a
 * table of live allocations; ntron makes a few hundred, mostly at start),
 * and the most the device had in use (total - free: cuBLASLt, NCCL, the
 * CUDA context and other processes on the GPU included) at any allocation
 * or report. */
typedef struct { void *p; size_t n; } mem_rec;
static mem_rec *mem_live;
static size_t mem_nlive, mem_cap, mem_cur, mem_peak, dev_used_peak;

static void sample_device_used(void)
{
    size_t fr = 0, tot = 0;
    if (cudaMemGetInfo(&fr, &tot) == cudaSuccess && tot - fr > dev_used_peak) dev_used_peak = tot - fr;
}

static void *c_alloc(size_t bytes, const char *what)
{
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        size_t fr = 0, tot = 0;
        (void)cudaMemGetInfo(&fr, &tot);   /* for the message only: 0 of 0 when it fails too */
        nt_die(NT_EXIT_FAIL, "cudaMalloc of %.3f GiB for %s failed: %s (%.2f of %.2f GiB free; ntron holds %.2f GiB)",
               (double)bytes / (1 << 30), what, cudaGetErrorString(e), (double)fr / (1 << 30), (double)tot / (1 << 30),
               (double)mem_cur / (1 << 30));
    }
    if (mem_nlive == mem_cap) {
        mem_cap = mem_cap ? 2 * mem_cap : 256;
        mem_live = realloc(mem_live, mem_cap * sizeof *mem_live);
        NT_CHECK(mem_live != NULL, "out of host memory for the GPU allocation table");
    }
    mem_live[mem_nlive++] = (mem_rec){p, bytes};
    mem_cur += bytes;
    if (mem_cur > mem_peak) mem_peak = mem_cur;
    sample_device_used();
    return p;
}
static void c_free(void *p)
{
    if (!p) return;
    for (size_t i = mem_nlive; i-- > 0;)
        if (mem_live[i].p == p) {
            mem_cur -= mem_live[i].n;
            mem_live[i] = mem_live[--mem_nlive];
            break;
        }
    NT_CHECK_CUDA(cudaFree(p));
}
static void c_mem_stats(double *held_peak_mb, double *device_peak_mb)
{
    sample_device_used();
    *held_peak_mb = (double)mem_peak / 1048576.0;
    *device_peak_mb = (double)dev_used_peak / 1048576.0;
}
static void c_zero(void *p, size_t bytes) { NT_CHECK_CUDA(cudaMemsetAsync(p, 0, bytes, 0)); }
static void c_copy(void *d, const void *s, size_t bytes) { NT_CHECK_CUDA(cudaMemcpyAsync(d, s, bytes, cudaMemcpyDeviceToDevice, 0)); }
/* host fp32 <-> device bf16 goes through a device fp32 staging buffer of at
 * most STAGE_MAX elements (chunked), so loading a model does not hold a
 * second fp32 copy of it on the GPU */
#define STAGE_MAX ((size_t)1 << 24)
static float *stage(size_t n)
{
    if (n > STAGE_MAX) n = STAGE_MAX;
    if (n > staging_n) {
        c_free(staging);
        staging = c_alloc(n * sizeof(float), "fp32 staging buffer");
        staging_n = n;
    }
    return staging;
}
static void c_to_act(void *d, const float *h, size_t n)
{
    for (size_t a = 0; a < n; a += STAGE_MAX) {
        size_t k = n - a < STAGE_MAX ? n - a : STAGE_MAX;
        float *s = stage(k);
        NT_CHECK_CUDA(cudaMemcpy(s, h + a, k * sizeof(float), cudaMemcpyHostToDevice));
        cuda_f32_to_bf16((nt_bf16 *)d + a, s, k, 0);
    }
}
static void c_from_act(float *h, const void *s, size_t n)
{
    for (size_t a = 0; a < n; a += STAGE_MAX) {
        size_t k = n - a < STAGE_MAX ? n - a : STAGE_MAX;
        float *t = stage(k);
        cuda_bf16_to_f32(t, (const nt_bf16 *)s + a, k, 0);
        NT_CHECK_CUDA(cudaMemcpy(h + a, t, k * sizeof(float), cudaMemcpyDeviceToHost));
    }
}
static void c_to_f32(float *d, const float *h, size_t n) { NT_CHECK_CUDA(cudaMemcpy(d, h, n * sizeof(float), cudaMemcpyHostToDevice)); }
static void c_from_f32(float *h, const float *s, size_t n) { NT_CHECK_CUDA(cudaMemcpy(h, s, n * sizeof(float), cudaMemcpyDeviceToHost)); }
static void c_sync(void) { NT_CHECK_CUDA(cudaDeviceSynchronize()); }

/* ---- op timing (backend/profile.c): events on the default stream ---- */
static cudaEvent_t time_e0, time_e1;
static void c_time_start(void)
{
    if (!time_e0) { NT_CHECK_CUDA(cudaEventCreate(&time_e0)); NT_CHECK_CUDA(cudaEventCreate(&time_e1)); }
    NT_CHECK_CUDA(cudaEventRecord(time_e0, 0));
}
static double c_time_stop(void)
{
    float ms = 0;
    NT_CHECK_CUDA(cudaEventRecord(time_e1, 0));
    NT_CHECK_CUDA(cudaEventSynchronize(time_e1));
    NT_CHECK_CUDA(cudaEventElapsedTime(&ms, time_e0, time_e1));
    return ms;
}

/* ---- cuBLASLt ----------------------------------------------------------- */

/* descriptors, layouts and the heuristic's algorithm, cached per GEMM shape */
typedef struct gemm_plan {
    int M, N, K, ta, tb;
    cudaDataType_t ctype;
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t la, lb, lc;
    cublasLtMatmulAlgo_t algo;
} gemm_plan;
static gemm_plan plans[256];
static int nplans;

/* Row-major C[M,N] = alpha op(A) op(B) + beta C is column-major
 * C^T[N,M] = op(B)^T op(A)^T: cuBLASLt's first operand is B's buffer. */
static const gemm_plan *plan_for(cudaDataType_t ctype, int M, int N, int K, int ta, int tb)
{
    for (int i = 0; i < nplans; i++) {
        const gemm_plan *p = &plans[i];
        if (p->M == M && p->N == N && p->K == K && p->ta == ta && p->tb == tb && p->ctype == ctype) return p;
    }
    gemm_plan *p = &plans[nplans < 256 ? nplans++ : 255];
    if (nplans == 256) { /* recycle the last slot */
        NT_CHECK_CUBLAS(cublasLtMatrixLayoutDestroy(p->la));
        NT_CHECK_CUBLAS(cublasLtMatrixLayoutDestroy(p->lb));
        NT_CHECK_CUBLAS(cublasLtMatrixLayoutDestroy(p->lc));
        NT_CHECK_CUBLAS(cublasLtMatmulDescDestroy(p->desc));
    }
    p->M = M; p->N = N; p->K = K; p->ta = ta; p->tb = tb; p->ctype = ctype;
    cublasOperation_t opa = tb ? CUBLAS_OP_T : CUBLAS_OP_N, opb = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    NT_CHECK_CUBLAS(cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    NT_CHECK_CUBLAS(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa));
    NT_CHECK_CUBLAS(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb));
    NT_CHECK_CUBLAS(cublasLtMatrixLayoutCreate(&p->la, CUDA_R_16BF, tb ? K : N, tb ? N : K, tb ? K : N));
    NT_CHECK_CUBLAS(cublasLtMatrixLayoutCreate(&p->lb, CUDA_R_16BF, ta ? M : K, ta ? K : M, ta ? M : K));
    NT_CHECK_CUBLAS(cublasLtMatrixLayoutCreate(&p->lc, ctype, N, M, N));
    cublasLtMatmulPreference_t pref;
    NT_CHECK_CUBLAS(cublasLtMatmulPreferenceCreate(&pref));
    NT_CHECK_CUBLAS(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace_bytes,
                                             sizeof workspace_bytes));
    cublasLtMatmulHeuristicResult_t res;
    int found = 0;
    NT_CHECK_CUBLAS(cublasLtMatmulAlgoGetHeuristic(lt, p->desc, p->la, p->lb, p->lc, p->lc, pref, 1, &res, &found));
    NT_CHECK_CUBLAS(cublasLtMatmulPreferenceDestroy(pref));
    if (found == 0)
        nt_die(NT_EXIT_FAIL, "cuBLASLt: no algorithm for a %dx%dx%d GEMM (transA %d, transB %d)", M, N, K, ta, tb);
    p->algo = res.algo;
    return p;
}

static void lt_matmul(void *C, cudaDataType_t ctype, const void *A, const void *B, int M, int N, int K,
                      int ta, int tb, float alpha, float beta)
{
    const gemm_plan *p = plan_for(ctype, M, N, K, ta, tb);
    NT_CHECK_CUBLAS(cublasLtMatmul(lt, p->desc, &alpha, B, p->la, A, p->lb, &beta, C, p->lc, C, p->lc, &p->algo, workspace,
                       workspace_bytes, 0));
}

static void c_matmul(void *C, const void *A, const void *B, int M, int N, int K, int ta, int tb, float alpha, float beta)
{
    lt_matmul(C, CUDA_R_16BF, A, B, M, N, K, ta, tb, alpha, beta);
}
static void c_matmul_wgrad(float *C, const void *A, const void *B, int M, int N, int K, int ta, int tb)
{
    lt_matmul(C, CUDA_R_32F, A, B, M, N, K, ta, tb, 1.0f, 1.0f);
}
static void c_emb_fwd(void *out, const int32_t *tok, const void *table, int n, int lo, int rows, int C)
{
    cuda_embedding_fwd(out, tok, table, n, lo, rows, C, 0);
}
static void c_emb_bwd(float *dt, const int32_t *tok, const void *dout, int n, int lo, int rows, int C)
{
    cuda_embedding_bwd(dt, tok, dout, n, lo, rows, C, 0);
}
static void c_ln_fwd(void *out, float *mean, float *rstd, const void *in, const void *g, const void *b, int n, int C, float eps)
{
    cuda_layernorm1p_fwd(out, mean, rstd, in, g, b, n, C, eps, 0);
}
static void c_ln_bwd(void *din, float *dg, float *db, const void *dout, const void *in, const float *mean,
                     const float *rstd, const void *g, int n, int C)
{
    cuda_layernorm1p_bwd(din, dg, db, dout, in, mean, rstd, g, n, C, 0);
}
static void c_rope_fwd(void *qkv, int B, int T, int G, int qpg, int hd, int rot, float base, int pos0,
                       const int32_t *pos)
{
    cuda_rope_fwd(qkv, B, T, G, qpg, hd, rot, base, pos0, pos, 0);
}
static void c_rope_bwd(void *d, int B, int T, int G, int qpg, int hd, int rot, float base, int pos0,
                       const int32_t *pos)
{
    cuda_rope_bwd(d, B, T, G, qpg, hd, rot, base, pos0, pos, 0);
}
static void c_attn_fwd(void *out, float *lse, const void *qkv, int B, int T, int G, int qpg, int hd,
                       const int32_t *pos)
{
    cuda_attention_fwd(out, lse, qkv, B, T, G, qpg, hd, pos, 0);
}
/* the attention backward's scratch (D, per-head dK/dV partials, dS^T tiles):
 * one buffer kept for the process and grown to the largest call, so it is
 * counted in the memory held and not re-allocated per layer */
static void *attn_ws;
static size_t attn_ws_bytes;
static void c_attn_bwd(void *dqkv, const void *dout, const void *out, const float *lse, const void *qkv, int B, int T,
                       int G, int qpg, int hd, const int32_t *pos)
{
    size_t need = cuda_attention_bwd_workspace_bytes(B, T, G, qpg, hd);
    if (need > attn_ws_bytes) {
        c_free(attn_ws);
        attn_ws = c_alloc(need, "attention backward workspace");
        attn_ws_bytes = need;
    }
    cuda_attention_bwd(dqkv, dout, out, lse, qkv, B, T, G, qpg, hd, pos, attn_ws, 0);
}
static void c_sq_fwd(void *out, const void *in, size_t n) { cuda_sqrelu_fwd(out, in, n, 0); }
static void c_sq_bwd(void *din, const void *dout, const void *in, size_t n) { cuda_sqrelu_bwd(din, dout, in, n, 0); }
static void c_add(void *y, const void *x, size_t n) { cuda_add(y, x, n, 0); }
static void c_mask_cols(void *x, int n, int V, int c0, float v) { cuda_mask_cols(x, n, V, c0, v, 0); }
static void c_ce_rowmax(float *rm, const void *logits, int n, int V) { cuda_ce_rowmax(rm, logits, n, V, 0); }
static void c_ce_sumexp(float *se, float *tgt, const void *logits, const float *rm, const int32_t *t, int lo, int n, int V)
{
    cuda_ce_sumexp(se, tgt, logits, rm, t, lo, n, V, 0);
}
static void c_ce_stats(float *rm, float *se, float *tgt, const void *logits, const int32_t *t, int lo, int n, int V)
{
    cuda_ce_stats(rm, se, tgt, logits, t, lo, n, V, 0);
}
static void c_ce_loss(float *loss, const float *rm, const float *se, const float *tgt, int n)
{
    cuda_ce_loss(loss, rm, se, tgt, n, 0);
}
static void c_ce_bwd(void *dl, const void *logits, const float *rm, const float *se, const int32_t *t,
                     const float *dloss, int lo, int n, int V)
{
    cuda_ce_bwd(dl, logits, rm, se, t, dloss, lo, n, V, 0);
}
static void c_scale_f32(float *x, float s, size_t n) { cuda_scale_f32(x, s, n, 0); }
/* every range's sum into a device array, one copy back, the sums added here in order */
static double c_sumsq_ranges(const float *x, const size_t *off, const size_t *len, int k)
{
    static double *d, *h;
    static int cap;
    if (k > cap) {
        c_free(d);
        free(h);
        cap = k;
        d = c_alloc((size_t)cap * sizeof(double), "sum-of-squares results");
        h = malloc((size_t)cap * sizeof(double));
        NT_CHECK(h != NULL, "out of host memory for %d sum-of-squares results", cap);
    }
    for (int j = 0; j < k; j++)
        cuda_sumsq(d + j, x + off[j], len[j], 0, 0);
    if (k > 0) NT_CHECK_CUDA(cudaMemcpy(h, d, (size_t)k * sizeof(double), cudaMemcpyDeviceToHost));
    double ss = 0.0;
    for (int j = 0; j < k; j++)
        ss += h[j];
    return ss;
}
static void c_adamw(float *master, void *param, float *m, float *v, const float *g, size_t n, float lr, float b1,
                    float b2, float eps, float wd, float gs, int step)
{
    cuda_adamw(master, param, m, v, g, n, lr, b1, b2, eps, wd, gs, step, 0);
}
static int32_t *c_tokens_upload(int32_t *dev, const int32_t *host, size_t n)
{
    NT_CHECK_CUDA(cudaMemcpy(dev, host, n * sizeof(int32_t), cudaMemcpyHostToDevice));
    return dev;
}

static void c_kv_append(void *kc, void *vc, const void *qkv, const int32_t *slot, const int32_t *pos, int B, int T,
                        int G, int qpg, int hd, int Tmax)
{
    cuda_kv_append(kc, vc, qkv, slot, pos, B, T, G, qpg, hd, Tmax, 0);
}
static void c_attn_decode(void *out, const void *qkv, const void *kc, const void *vc, const int32_t *slot,
                          const int32_t *len, int B, int G, int qpg, int hd, int Tmax)
{
    cuda_attention_decode(out, qkv, kc, vc, slot, len, B, G, qpg, hd, Tmax, 0);
}

static const char *c_attn_kernels(int hd)
{
    return cuda_attention_uses_wgmma(hd) ? "wgmma (Hopper warpgroup MMA, NTRON_ATTN=wgmma)"
           : cuda_attention_uses_mma(hd) ? "mma.sync tensor cores"
                                         : "generic fp32 (CUDA cores)";
}

static const nt_ops cuda_ops = {
    .name = "cuda-bf16",
    .act_bytes = 2,
    .params_are_master = 0,
    .alloc = c_alloc, .free = c_free, .zero = c_zero, .copy = c_copy, .mem_stats = c_mem_stats,
    .to_act = c_to_act, .from_act = c_from_act, .to_f32 = c_to_f32, .from_f32 = c_from_f32, .sync = c_sync,
    .time_start = c_time_start, .time_stop = c_time_stop, .attention_kernels = c_attn_kernels,
    .matmul = c_matmul, .matmul_wgrad = c_matmul_wgrad,
    .embedding_fwd = c_emb_fwd, .embedding_bwd = c_emb_bwd,
    .layernorm_fwd = c_ln_fwd, .layernorm_bwd = c_ln_bwd,
    .rope_fwd = c_rope_fwd, .rope_bwd = c_rope_bwd,
    .attention_fwd = c_attn_fwd, .attention_bwd = c_attn_bwd,
    .sqrelu_fwd = c_sq_fwd, .sqrelu_bwd = c_sq_bwd, .add = c_add, .mask_cols = c_mask_cols,
    .ce_rowmax = c_ce_rowmax, .ce_sumexp = c_ce_sumexp, .ce_stats = c_ce_stats, .ce_loss = c_ce_loss, .ce_bwd = c_ce_bwd,
    .scale_f32 = c_scale_f32, .sumsq_ranges = c_sumsq_ranges, .adamw = c_adamw,
    .tokens_upload = c_tokens_upload,
    .kv_append = c_kv_append, .attention_decode = c_attn_decode,
};

int nt_backend_is_cuda(const nt_ops *ops) { return ops && !strcmp(ops->name, cuda_ops.name); }

void nt_backend_cuda_env(const nt_comm *world)
{
    const char *sel = getenv("NTRON_ATTN");
    int impl = cuda_attention_parse_impl(sel);
    /* the lowest rank with a bad value prints it (the environments may differ) */
    int first = impl < 0 ? world->rank : world->size;
    nt_comm_allreduce_i32(world, &first, 1, NT_MIN);
    if (first < world->size)
        nt_exit_agreed(NT_EXIT_INPUT, world->rank == first, "NTRON_ATTN=%s: want mma, wgmma or generic", sel);
    if (impl == 2 && world->rank == 0 && !cuda_attention_wgmma_available()) {
        fprintf(stderr, "ntron: NTRON_ATTN=wgmma: this build or GPU has no sm_90a code (configure "
                        "--with-cuda-arch=90a on a Hopper GPU); the mma.sync attention runs\n");
        fflush(stderr);
    }
}

const nt_ops *nt_backend_cuda(int device)
{
    static int ready = -1;
    if (ready == device) return &cuda_ops;
    NT_CHECK(ready < 0, "internal: the CUDA backend is on GPU %d already, asked for GPU %d", ready, device);
    NT_CHECK_CUDA(cudaSetDevice(device));
    NT_CHECK_CUBLAS(cublasLtCreate(&lt));
    workspace = c_alloc(workspace_bytes, "cuBLASLt workspace");
    ready = device;
    return &cuda_ops;
}
#else
const nt_ops *nt_backend_cuda(int device)
{
    (void)device;
    return NULL;
}
void nt_backend_cuda_env(const struct nt_comm *world)
{
    (void)world;
}
int nt_backend_is_cuda(const nt_ops *ops)
{
    (void)ops;
    return 0;
}
#endif
