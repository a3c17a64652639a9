/* attention_decode.cu — cached-KV attention for generation (bf16), as
 * kernels/cpu/attention_decode.c: the K/V cache append and the attention of
 * one new query per sequence over its cached positions.
 *
 * cuda_attention_decode: one block per (sequence, query head); each warp
 * walks a strided share of the cached positions with an online softmax
 * (running max, sum and hd/32 output accumulators per lane, fp32), then the
 * warps' partial results are merged through shared memory.  K and V are
 * read once per query head; shared memory does not grow with the length. */
#include "nt_device.cuh"

#define DEC_THREADS 128
#define DEC_WARPS (DEC_THREADS / 32)
#define DEC_MAX_HD 256
#define DEC_PER_LANE (DEC_MAX_HD / 32)

__global__ void k_kv_append(uint16_t *__restrict__ kc, uint16_t *__restrict__ vc, const uint16_t *__restrict__ qkv,
                            const int32_t *__restrict__ slot, const int32_t *__restrict__ pos, int B, int T, int G,
                            int qpg, int hd, int Tmax)
{
    const size_t W = (size_t)G * (qpg + 2) * hd;
    const size_t total = (size_t)B * T * G * hd;
    for (size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        const int c = (int)(idx % hd);
        size_t rest = idx / hd;
        const int g = (int)(rest % G);
        rest /= G;
        const int t = (int)(rest % T);
        const int b = (int)(rest / T);
        const uint16_t *row = qkv + ((size_t)b * T + t) * W + (size_t)g * (qpg + 2) * hd;
        const size_t dst = (((size_t)slot[b] * G + g) * Tmax + (size_t)(pos[b] + t)) * hd + c;
        kc[dst] = row[(size_t)qpg * hd + c];
        vc[dst] = row[(size_t)(qpg + 1) * hd + c];
    }
}

__global__ void __launch_bounds__(DEC_THREADS)
k_attn_decode(uint16_t *__restrict__ out, const uint16_t *__restrict__ qkv, const uint16_t *__restrict__ kc,
              const uint16_t *__restrict__ vc, const int32_t *__restrict__ slot, const int32_t *__restrict__ len,
              int G, int qpg, int hd, int Tmax, float scale)
{
    __shared__ float sm_m[DEC_WARPS], sm_l[DEC_WARPS];
    __shared__ float sm_o[DEC_WARPS][DEC_MAX_HD];
    const int H = G * qpg;
    const int b = blockIdx.x / H, h = blockIdx.x % H, g = h / qpg, j = h % qpg;
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    const size_t W = (size_t)G * (qpg + 2) * hd, Wo = (size_t)H * hd;
    const uint16_t *q = qkv + (size_t)b * W + ((size_t)g * (qpg + 2) + j) * hd;
    float qr[DEC_PER_LANE], o[DEC_PER_LANE];
#pragma unroll
    for (int i = 0; i < DEC_PER_LANE; i++) {
        const int c = lane + 32 * i;
        qr[i] = c < hd ? nt_bf2f(q[c]) : 0.0f;
        o[i] = 0.0f;
    }
    const int n = len[b];
    const size_t base = ((size_t)slot[b] * G + g) * (size_t)Tmax * hd;
    const uint16_t *K = kc + base, *V = vc + base;
    float m = -INFINITY, l = 0.0f;
    for (int t = w; t < n; t += DEC_WARPS) {
        const uint16_t *kr = K + (size_t)t * hd, *vr = V + (size_t)t * hd;
        float d = 0.0f;
#pragma unroll
        for (int i = 0; i < DEC_PER_LANE; i++) {
            const int c = lane + 32 * i;
            if (c < hd) d += qr[i] * nt_bf2f(kr[c]);
        }
        d = nt_warp_reduce(d, NtSum());
        const float s = d * scale, mn = s > m ? s : m;
        const float corr = expf(m - mn), p = expf(s - mn);
        l = l * corr + p;
#pragma unroll
        for (int i = 0; i < DEC_PER_LANE; i++) {
            const int c = lane + 32 * i;
            if (c < hd) o[i] = o[i] * corr + p * nt_bf2f(vr[c]);
        }
        m = mn;
    }
    if (lane == 0) {
        sm_m[w] = m;
        sm_l[w] = l;
    }
#pragma unroll
    for (int i = 0; i < DEC_PER_LANE; i++) {
        const int c = lane + 32 * i;
        if (c < hd) sm_o[w][c] = o[i];
    }
    __syncthreads();
    float M = -INFINITY;
    for (int k = 0; k < DEC_WARPS; k++) M = sm_m[k] > M ? sm_m[k] : M;
    for (int c = threadIdx.x; c < hd; c += blockDim.x) {
        float L = 0.0f, O = 0.0f;
        if (n > 0)
            for (int k = 0; k < DEC_WARPS; k++) {
                if (sm_m[k] == -INFINITY) continue;
                const float e = expf(sm_m[k] - M);
                L += sm_l[k] * e;
                O += sm_o[k][c] * e;
            }
        out[(size_t)b * Wo + (size_t)h * hd + c] = nt_f2bf(n > 0 ? O / L : 0.0f);
    }
}

extern "C" void cuda_kv_append(nt_bf16 *kc, nt_bf16 *vc, const nt_bf16 *qkv, const int32_t *slot, const int32_t *pos,
                               int B, int T, int G, int qpg, int hd, int Tmax, nt_stream stream)
{
    if (B <= 0 || T <= 0 || G <= 0 || hd <= 0) return;
    const size_t total = (size_t)B * T * G * hd;
    NT_LAUNCH(k_kv_append, nt_grid_for(total, 256), 256, 0, stream, kc, vc, qkv, slot, pos, B, T, G, qpg, hd, Tmax);
}

extern "C" void cuda_attention_decode(nt_bf16 *out, const nt_bf16 *qkv, const nt_bf16 *kc, const nt_bf16 *vc,
                                      const int32_t *slot, const int32_t *len, int B, int G, int qpg, int hd,
                                      int Tmax, nt_stream stream)
{
    if (B <= 0 || G <= 0 || qpg <= 0 || hd <= 0) return;
    NT_REQUIRE(hd <= DEC_MAX_HD, "cuda_attention_decode: head dim > 256 unsupported");
    const float scale = (float)(1.0 / sqrt((double)hd));
    NT_LAUNCH(k_attn_decode, (unsigned)(B * G * qpg), DEC_THREADS, 0, stream, out, qkv, kc, vc, slot, len, G, qpg,
              hd, Tmax, scale);
}
