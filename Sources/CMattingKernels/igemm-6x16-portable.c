// mk_f32_igemm_ukernel_6x16__portable: the indirect (implicit-GEMM) twin of
// mk_f32_gemm_ukernel_6x16__portable: A rows come from `ks` taps of six pointers each.
// Same packed B layout, flags, activation and k order; generic 128-bit vectors.
#include "gemm-6x16-portable.h"

void mk_f32_igemm_ukernel_6x16__portable(
    size_t mr, size_t nc, size_t kc, size_t ks,
    const float* const* a, size_t a_offset, const float* zero,
    const float* w, const float* bias,
    float* c, size_t c_stride,
    uint32_t flags, const mk_activation* activation)
{
    for (size_t half = 0; half < 2; half++) {
        MK_6X16_PORTABLE_BEGIN
        const float* wp = w + col0;
        const float* const* ap = a;
        for (size_t t = 0; t < ks; t++, ap += 6) {
            const float* ar[6];
            for (size_t r = 0; r < 6; r++) ar[r] = ap[r] == zero ? zero : ap[r] + a_offset;
            for (size_t k = 0; k < kc; k++) {
                const mk_v4 w0 = mk_load4(wp), w1 = mk_load4(wp + 4);
                wp += 16;
                mk_v4 va;
                va = mk_splat4(ar[0][k]); acc[0][0] = va * w0 + acc[0][0]; acc[0][1] = va * w1 + acc[0][1];
                va = mk_splat4(ar[1][k]); acc[1][0] = va * w0 + acc[1][0]; acc[1][1] = va * w1 + acc[1][1];
                va = mk_splat4(ar[2][k]); acc[2][0] = va * w0 + acc[2][0]; acc[2][1] = va * w1 + acc[2][1];
                va = mk_splat4(ar[3][k]); acc[3][0] = va * w0 + acc[3][0]; acc[3][1] = va * w1 + acc[3][1];
                va = mk_splat4(ar[4][k]); acc[4][0] = va * w0 + acc[4][0]; acc[4][1] = va * w1 + acc[4][1];
                va = mk_splat4(ar[5][k]); acc[5][0] = va * w0 + acc[5][0]; acc[5][1] = va * w1 + acc[5][1];
            }
        }
        MK_6X16_PORTABLE_END
    }
}
