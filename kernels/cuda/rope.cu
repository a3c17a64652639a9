/* rope.cu — partial rotary position embedding, in place on the q and k heads
 * of fused QKV [B, T, G*(qpg+2)*hd] (bf16), exactly as kernels/cpu/rope.c:
 *   inv_freq_i = 1 / powf(base, (float)(2i) / (float)rot)   (fp32; computed on
 *                the host with the same libm powf as the CPU and passed in)
 *   angle      = (float)(pos0 + t) * inv_freq_i              (fp32 multiply)
 *   fwd: y_i = x_i cos - x_{i+h} sin ; y_{i+h} = x_{i+h} cos + x_i sin  (h = rot/2)
 *   bwd: the same with -sin (inverse rotation).
 * One thread per rotated pair (token, head among the qpg+1 q/k heads, i < h);
 * the products and sums are rounded like the CPU's (no FMA contraction).
 * pos (device, [B*T], or NULL): packed rows, token (b, t) at position
 * pos0 + pos[b*T+t] inside its own sample, as the CPU's. */
#include "nt_device.cuh"

#define ROPE_MAX_HALF 128

struct RopeInvFreq {
    float v[ROPE_MAX_HALF];
};

__global__ void k_rope(uint16_t *__restrict__ qkv, RopeInvFreq inv, int B, int T, int G, int qpg,
                       int hd, int half, int pos0, const int32_t *__restrict__ pos, float sign)
{
    const size_t W = (size_t)G * (qpg + 2) * hd;
    const size_t total = (size_t)B * T * G * (qpg + 1) * half;
    for (size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        const int i = (int)(idx % half);
        size_t rest = idx / half;
        const int j = (int)(rest % (qpg + 1));
        rest /= (qpg + 1);
        const int g = (int)(rest % G);
        const size_t bt = rest / G;
        const int t = pos ? pos[bt] : (int)(bt % T);
        const float a = (float)(pos0 + t) * inv.v[i];
        const float c = cosf(a), sn = sign * sinf(a);
        uint16_t *x = qkv + bt * W + ((size_t)g * (qpg + 2) + j) * hd;
        const float x1 = nt_bf2f(x[i]), x2 = nt_bf2f(x[i + half]);
        x[i] = nt_f2bf(__fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, sn)));
        x[i + half] = nt_f2bf(__fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, sn)));
    }
}

static void rope_launch(nt_bf16 *qkv, int B, int T, int G, int qpg, int hd, int rot, float base,
                        int pos0, const int32_t *pos, float sign, nt_stream stream)
{
    const int half = rot / 2;
    if (half <= 0 || B <= 0 || T <= 0 || G <= 0 || qpg <= 0)
        return;
    NT_REQUIRE(rot <= hd, "cuda_rope: rot > head dim");
    NT_REQUIRE(half <= ROPE_MAX_HALF, "cuda_rope: rot/2 > 128 (head dim > 256) unsupported");
    RopeInvFreq inv;
    memset(&inv, 0, sizeof inv);
    for (int i = 0; i < half; i++) {
        float e = (float)(2 * i) / (float)rot;
        inv.v[i] = 1.0f / powf(base, e);
    }
    const size_t total = (size_t)B * T * G * (qpg + 1) * half;
    NT_LAUNCH(k_rope, nt_grid_for(total, 256), 256, 0, stream, qkv, inv, B, T, G, qpg, hd, half,
              pos0, pos, sign);
}

extern "C" void cuda_rope_fwd(nt_bf16 *qkv, int B, int T, int G, int qpg, int hd, int rot,
                              float base, int pos0, const int32_t *pos, nt_stream stream)
{
    rope_launch(qkv, B, T, G, qpg, hd, rot, base, pos0, pos, 1.0f, stream);
}

extern "C" void cuda_rope_bwd(nt_bf16 *dqkv, int B, int T, int G, int qpg, int hd, int rot,
                              float base, int pos0, const int32_t *pos, nt_stream stream)
{
    rope_launch(dqkv, B, T, G, qpg, hd, rot, base, pos0, pos, -1.0f, stream);
}
