/* emu_cublaslt.c — the host emulator's cuBLASLt (emu/c/cublasLt.h): column-
 * major D = alpha op(A) op(B) + beta C with bf16 A and B, bf16 or fp32 C = D
 * and fp32 compute, as the CUDA backend asks for it.  The operands are
 * widened to fp32, multiplied by cblas_sgemm (fp32 accumulation, as the
 * tensor cores), and D is rounded to its type once (round to nearest
 * even).  C is not read when beta is 0 (cuBLAS's rule: it may be
 * uninitialised).  Every operand must be emulated device memory. */
#include "cublasLt.h"
#include "util/bf16.h"

#include <cblas.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nt_emu_lt { int live; };
struct nt_emu_lt_desc { cublasComputeType_t compute; cudaDataType_t scale; cublasOperation_t ta, tb; };
struct nt_emu_lt_layout { cudaDataType_t type; uint64_t rows, cols; int64_t ld; };
struct nt_emu_lt_pref { size_t workspace; };

static char last_text[320];

static cublasStatus_t failed(cublasStatus_t s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static cublasStatus_t failed(cublasStatus_t s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_text, sizeof last_text, fmt, ap);
    va_end(ap);
    return s;
}

const char *cublasLtGetStatusString(cublasStatus_t s)
{
    static char buf[400];
    const char *base = s == CUBLAS_STATUS_SUCCESS            ? "CUBLAS_STATUS_SUCCESS"
                       : s == CUBLAS_STATUS_NOT_INITIALIZED ? "CUBLAS_STATUS_NOT_INITIALIZED"
                       : s == CUBLAS_STATUS_ALLOC_FAILED    ? "CUBLAS_STATUS_ALLOC_FAILED"
                       : s == CUBLAS_STATUS_INVALID_VALUE   ? "CUBLAS_STATUS_INVALID_VALUE"
                       : s == CUBLAS_STATUS_NOT_SUPPORTED   ? "CUBLAS_STATUS_NOT_SUPPORTED"
                                                            : "CUBLAS_STATUS_UNKNOWN";
    snprintf(buf, sizeof buf, "%s (emulated%s%s)", base, last_text[0] ? ": " : "", last_text);
    return buf;
}

#define NEW(p) ((*(p) = calloc(1, sizeof **(p))) ? CUBLAS_STATUS_SUCCESS : failed(CUBLAS_STATUS_ALLOC_FAILED, "host calloc"))

cublasStatus_t cublasLtCreate(cublasLtHandle_t *h)
{
    cublasStatus_t s = NEW(h);
    if (s == CUBLAS_STATUS_SUCCESS) (*h)->live = 1;
    return s;
}
cublasStatus_t cublasLtDestroy(cublasLtHandle_t h) { free(h); return CUBLAS_STATUS_SUCCESS; }

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *d, cublasComputeType_t compute, cudaDataType_t scale)
{
    if (compute != CUBLAS_COMPUTE_32F || scale != CUDA_R_32F)
        return failed(CUBLAS_STATUS_NOT_SUPPORTED, "compute type %d / scale type %d: only fp32 is emulated", (int)compute, (int)scale);
    cublasStatus_t s = NEW(d);
    if (s == CUBLAS_STATUS_SUCCESS) { (*d)->compute = compute; (*d)->scale = scale; }
    return s;
}
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d) { free(d); return CUBLAS_STATUS_SUCCESS; }

cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr,
                                              const void *buf, size_t size)
{
    if (size != sizeof(cublasOperation_t) || (attr != CUBLASLT_MATMUL_DESC_TRANSA && attr != CUBLASLT_MATMUL_DESC_TRANSB))
        return failed(CUBLAS_STATUS_NOT_SUPPORTED, "matmul attribute %d (size %zu) is not emulated", (int)attr, size);
    cublasOperation_t op;
    memcpy(&op, buf, sizeof op);
    if (op != CUBLAS_OP_N && op != CUBLAS_OP_T) return failed(CUBLAS_STATUS_INVALID_VALUE, "operation %d", (int)op);
    if (attr == CUBLASLT_MATMUL_DESC_TRANSA) d->ta = op;
    else d->tb = op;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *l, cudaDataType_t type, uint64_t rows, uint64_t cols,
                                          int64_t ld)
{
    if (type != CUDA_R_16BF && type != CUDA_R_32F)
        return failed(CUBLAS_STATUS_NOT_SUPPORTED, "matrix type %d: only bf16 and fp32 are emulated", (int)type);
    if (ld < (int64_t)(rows ? rows : 1)) return failed(CUBLAS_STATUS_INVALID_VALUE, "leading dimension %lld < rows %llu", (long long)ld, (unsigned long long)rows);
    cublasStatus_t s = NEW(l);
    if (s == CUBLAS_STATUS_SUCCESS) **l = (struct nt_emu_lt_layout){type, rows, cols, ld};
    return s;
}
cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t l) { free(l); return CUBLAS_STATUS_SUCCESS; }

cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t *p) { return NEW(p); }
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t p) { free(p); return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t p,
                                                    cublasLtMatmulPreferenceAttributes_t attr, const void *buf,
                                                    size_t size)
{
    if (attr != CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES || size != sizeof(size_t))
        return failed(CUBLAS_STATUS_NOT_SUPPORTED, "preference attribute %d is not emulated", (int)attr);
    memcpy(&p->workspace, buf, sizeof p->workspace);
    return CUBLAS_STATUS_SUCCESS;
}

/* op(X) of a stored layout: rows and columns after the operation */
static void op_dims(const struct nt_emu_lt_layout *l, cublasOperation_t op, uint64_t *r, uint64_t *c)
{
    *r = op == CUBLAS_OP_T ? l->cols : l->rows;
    *c = op == CUBLAS_OP_T ? l->rows : l->cols;
}

static cublasStatus_t check_shapes(cublasLtMatmulDesc_t d, cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                   cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t dl)
{
    uint64_t am, ak, bk, bn;
    op_dims(a, d->ta, &am, &ak);
    op_dims(b, d->tb, &bk, &bn);
    if (a->type != CUDA_R_16BF || b->type != CUDA_R_16BF)
        return failed(CUBLAS_STATUS_NOT_SUPPORTED, "A and B must be bf16 (types %d, %d)", (int)a->type, (int)b->type);
    if (ak != bk || c->rows != am || c->cols != bn)
        return failed(CUBLAS_STATUS_INVALID_VALUE, "shapes: op(A) %llux%llu, op(B) %llux%llu, C %llux%llu",
                      (unsigned long long)am, (unsigned long long)ak, (unsigned long long)bk, (unsigned long long)bn,
                      (unsigned long long)c->rows, (unsigned long long)c->cols);
    if (c->type != dl->type || c->rows != dl->rows || c->cols != dl->cols || c->ld != dl->ld)
        return failed(CUBLAS_STATUS_NOT_SUPPORTED, "C and D must share one layout");
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t h, cublasLtMatmulDesc_t d, cublasLtMatrixLayout_t a,
                                              cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c,
                                              cublasLtMatrixLayout_t dl, cublasLtMatmulPreference_t p, int requested,
                                              cublasLtMatmulHeuristicResult_t *res, int *found)
{
    (void)p;
    *found = 0;
    if (!h || !h->live) return failed(CUBLAS_STATUS_NOT_INITIALIZED, "no handle");
    if (requested < 1) return failed(CUBLAS_STATUS_INVALID_VALUE, "requested %d algorithms", requested);
    cublasStatus_t s = check_shapes(d, a, b, c, dl);
    if (s != CUBLAS_STATUS_SUCCESS) return s;
    memset(res, 0, sizeof *res);
    *found = 1;
    return CUBLAS_STATUS_SUCCESS;
}

/* the bytes a stored layout spans */
static size_t span_bytes(const struct nt_emu_lt_layout *l)
{
    size_t e = l->type == CUDA_R_16BF ? 2 : 4;
    return l->rows && l->cols ? ((size_t)l->ld * (l->cols - 1) + l->rows) * e : 0;
}

/* a stored bf16 matrix as a dense column-major fp32 one */
static float *widen(const uint16_t *x, const struct nt_emu_lt_layout *l)
{
    size_t cells = (size_t)(l->rows * l->cols);
    float *f = malloc((cells ? cells : 1) * sizeof *f);
    if (!f) return NULL;
    for (uint64_t j = 0; j < l->cols; j++)
        for (uint64_t i = 0; i < l->rows; i++) f[i + j * l->rows] = nt_bf16_to_f32(x[i + j * (uint64_t)l->ld]);
    return f;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t h, cublasLtMatmulDesc_t d, const void *alpha, const void *A,
                              cublasLtMatrixLayout_t la, const void *B, cublasLtMatrixLayout_t lb, const void *beta,
                              const void *C, cublasLtMatrixLayout_t lc, void *D, cublasLtMatrixLayout_t ld,
                              const cublasLtMatmulAlgo_t *algo, void *workspace, size_t workspace_bytes,
                              cudaStream_t s)
{
    (void)algo;
    (void)s;
    if (!h || !h->live) return failed(CUBLAS_STATUS_NOT_INITIALIZED, "no handle");
    cublasStatus_t st = check_shapes(d, la, lb, lc, ld);
    if (st != CUBLAS_STATUS_SUCCESS) return st;
    const char *name[] = {"A", "B", "C", "D", "workspace"};
    const void *ptr[] = {A, B, C, D, workspace};
    size_t bytes[] = {span_bytes(la), span_bytes(lb), span_bytes(lc), span_bytes(ld), workspace_bytes};
    float fa, fb;
    memcpy(&fa, alpha, sizeof fa);
    memcpy(&fb, beta, sizeof fb);
    for (int i = 0; i < 5; i++) {
        if (i == 2 && fb == 0.0f) continue;   /* C unread */
        if (bytes[i] && !nt_emu_is_device(ptr[i], bytes[i]))
            return failed(CUBLAS_STATUS_INVALID_VALUE, "%s (%p, %zu bytes) is not device memory", name[i], ptr[i], bytes[i]);
    }
    uint64_t m = ld->rows, n = ld->cols, k = d->ta == CUBLAS_OP_T ? la->rows : la->cols;
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    float *fa_m = widen(A, la), *fb_m = widen(B, lb), *t = calloc(m * n, sizeof *t);
    if (!fa_m || !fb_m || !t) {
        free(fa_m); free(fb_m); free(t);
        return failed(CUBLAS_STATUS_ALLOC_FAILED, "host memory for a %llux%llux%llu product", (unsigned long long)m,
                      (unsigned long long)n, (unsigned long long)k);
    }
    if (k > 0)
        cblas_sgemm(CblasColMajor, d->ta == CUBLAS_OP_T ? CblasTrans : CblasNoTrans,
                    d->tb == CUBLAS_OP_T ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, fa, fa_m,
                    (int)la->rows, fb_m, (int)lb->rows, 0.0f, t, (int)m);
    for (uint64_t j = 0; j < n; j++)
        for (uint64_t i = 0; i < m; i++) {
            size_t at = i + j * (uint64_t)ld->ld;
            float v = t[i + j * m];
            if (ld->type == CUDA_R_32F) {
                if (fb != 0.0f) v += fb * ((const float *)C)[at];
                ((float *)D)[at] = v;
            } else {
                if (fb != 0.0f) v += fb * nt_bf16_to_f32(((const uint16_t *)C)[at]);
                ((uint16_t *)D)[at] = nt_f32_to_bf16(v);
            }
        }
    free(fa_m);
    free(fb_m);
    free(t);
    return CUBLAS_STATUS_SUCCESS;
}
