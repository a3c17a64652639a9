/* rope.cu — partial rotary position embedding, in place on the q and k heads
 * of fused QKV [B, T, G*(qpg+2)*hd] (bf16), exactly as kernels/cpu/rope.c:
 *   inv_freq_i = 1 / powf(base, (float)(2i) / (float)rot)   (fp32; computed on
 *                the host with the same libm powf as the CPU and passed in)
 *   angle      = (float)(pos0 + t) * inv_freq_i              (fp32 multiply)
 *   fwd: y_i = x_i cos - x_{i+h} sin ; y_{i+h} = x_{i+h} cos + x_i sin  (h = rot/2)
 *   bwd: the same with -sin (inverse rotation).
 * One block per token: the token's cos/sin (fp32 cosf/sinf of the angle, as
 * the CPU's) computed once and shared by its G*(qpg+1) q/k heads, then one
 * thread per rotated pair with 32-bit index arithmetic (one thread per pair
 * over all tokens, with 64-bit divisions and cos/sin per head, was bound by
 * that arithmetic, not by memory); the products and sums are rounded like
 * the CPU's (no FMA contraction).
 * pos (device, [B*T], or NULL): packed rows, token (b, t) at position
 * pos0 + pos[b*T+t] inside its own sample, as the CPU's. */
#include "nt_device.cuh"

#define ROPE_MAX_HALF 128

struct RopeInvFreq {
    float v[ROPE_MAX_HALF];
};

/* one block per token: the cos/sin of the token's angles (they depend on the
 * position and i only) once into shared memory, then every q/k head's pairs,
 * consecutive threads on consecutive i */
__global__ void k_rope(uint16_t *__restrict__ qkv, RopeInvFreq inv, int T, int G, int qpg, int hd, int half,
                       int pos0, const int32_t *__restrict__ pos, float sign)
{
    __shared__ float cs[ROPE_MAX_HALF], sn[ROPE_MAX_HALF];
    const size_t bt = blockIdx.x;
    const int t = pos ? pos[bt] : (int)(bt % (size_t)T);
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        const float a = (float)(pos0 + t) * inv.v[i];
        cs[i] = cosf(a);
        sn[i] = sign * sinf(a);
    }
    __syncthreads();
    uint16_t *row = qkv + bt * ((size_t)G * (qpg + 2) * hd);
    const int heads = G * (qpg + 1), total = heads * half;
    for (int p = threadIdx.x; p < total; p += blockDim.x) {
        const int j = p / half, i = p - j * half;
        const int g = j / (qpg + 1), jj = j - g * (qpg + 1);
        uint16_t *x = row + (g * (qpg + 2) + jj) * hd;
        const float c = cs[i], s = sn[i];
        const float x1 = nt_bf2f(x[i]), x2 = nt_bf2f(x[i + half]);
        x[i] = nt_f2bf(__fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, s)));
        x[i + half] = nt_f2bf(__fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, s)));
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
    NT_REQUIRE((long long)G * (qpg + 2) * hd < (1LL << 31), "cuda_rope: row of fused QKV too wide");
    NT_LAUNCH(k_rope, (unsigned)((size_t)B * T), 128, 0, stream, qkv, inv, T, G, qpg, hd, half, pos0, pos,
              sign);
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
