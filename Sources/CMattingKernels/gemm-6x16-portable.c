// mk_f32_gemm_ukernel_6x16__portable: the same contract and packed layout as the AVX2
// kernel, written with generic 128-bit vectors (SSE2 on x86_64, NEON on arm64). It is the
// fallback on CPUs without AVX2/FMA and the path MATTINGKIT_ISA=portable forces. `a * b + c`
// is written out (not fma()) so baseline x86_64 compiles it to mulps+addps, never libm calls.
#include "mk-portable.h"




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
        const size_t col0 = half * 8;
        if (col0 >= nc) break;
        const size_t ncols = nc - col0 < 8 ? nc - col0 : 8;
        mk_v4 acc[6][2];
        for (size_t r = 0; r < 6; r++) {
            const size_t row = r < mr ? r : mr - 1;
            if (flags & MK_GEMM_ACCUMULATE) {
                float tmp[8] = {0};
                memcpy(tmp, c + row * c_stride + col0, ncols * sizeof(float));
                acc[r][0] = mk_load4(tmp); acc[r][1] = mk_load4(tmp + 4);
            } else if (bias) {
                acc[r][0] = mk_load4(bias + col0); acc[r][1] = mk_load4(bias + col0 + 4);
            } else {
                acc[r][0] = mk_splat4(0.0f); acc[r][1] = mk_splat4(0.0f);
            }
        }
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
        for (size_t r = 0; r < mr; r++) {
            float tmp[8];
            mk_store4(tmp, acc[r][0]); mk_store4(tmp + 4, acc[r][1]);
            if (flags & MK_GEMM_ACTIVATE) {
                for (size_t j = 0; j < ncols; j++) tmp[j] = mk_activate1(tmp[j], activation);
            }
            memcpy(c + r * c_stride + col0, tmp, ncols * sizeof(float));
        }
    }
}
