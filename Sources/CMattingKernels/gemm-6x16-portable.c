// mk_f32_gemm_ukernel_6x16__portable: the same contract and packed layout as the AVX2
// kernel, written with generic 128-bit vectors (SSE2 on x86_64, NEON on arm64). It is the
// fallback on CPUs without AVX2/FMA and the path MATTINGKIT_ISA=portable forces. `a * b + c`
// is written out (not fma()) so baseline x86_64 compiles it to mulps+addps, never libm calls.
#include "gemm-6x16-portable.h"




void mk_f32_gemm_ukernel_6x16__portable(
    size_t mr, size_t nc, size_t kc,
    const float* a, size_t a_stride,
    const float* w, const float* bias,
    float* c, size_t c_stride,
    uint32_t flags, const mk_activation* activation)
{
    // Two passes of 6×8 keep 12 accumulators live, which fits 16 xmm/NEON registers
    // better than 24; the k order per output is unchanged.
    for (size_t half = 0; half < 2; half++) {
        MK_6X16_PORTABLE_BEGIN
        const float* a0 = a;
        const float* a1 = mr > 1 ? a0 + a_stride : a0;
        const float* a2 = mr > 2 ? a1 + a_stride : a1;
        const float* a3 = mr > 3 ? a2 + a_stride : a2;
        const float* a4 = mr > 4 ? a3 + a_stride : a3;
        const float* a5 = mr > 5 ? a4 + a_stride : a4;
        const float* wp = w + col0;
        for (size_t k = 0; k < kc; k++) {
            const mk_v4 w0 = mk_load4(wp), w1 = mk_load4(wp + 4);
            wp += 16;
            mk_v4 va;
            va = mk_splat4(a0[k]); acc[0][0] = va * w0 + acc[0][0]; acc[0][1] = va * w1 + acc[0][1];
            va = mk_splat4(a1[k]); acc[1][0] = va * w0 + acc[1][0]; acc[1][1] = va * w1 + acc[1][1];
            va = mk_splat4(a2[k]); acc[2][0] = va * w0 + acc[2][0]; acc[2][1] = va * w1 + acc[2][1];
            va = mk_splat4(a3[k]); acc[3][0] = va * w0 + acc[3][0]; acc[3][1] = va * w1 + acc[3][1];
            va = mk_splat4(a4[k]); acc[4][0] = va * w0 + acc[4][0]; acc[4][1] = va * w1 + acc[4][1];
            va = mk_splat4(a5[k]); acc[5][0] = va * w0 + acc[5][0]; acc[5][1] = va * w1 + acc[5][1];
        }
        MK_6X16_PORTABLE_END
    }
}
