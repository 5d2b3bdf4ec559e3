// mk_f32_tconv_dot_ukernel_16c__avx512f: the transposed convolution's few-output-channels
// path (TransposedConvolutionKernel, outC/groups ≤ 4, e.g. a segmentation head's 16 → 1
// 2×2 stride-2 layer): every output of one phase of one output row as a direct dot product,
// input channels 16 per zmm. There a GEMM panel would waste nearly all its columns.
#include "cmk.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#include "mk-avx512.h"

// Sixteen vectors to one: lane k of the result is the sum of v[k]'s 16 lanes (a transpose-
// and-add tree, 45 shuffles/adds for 16 horizontal sums instead of 16 separate reductions).
static inline __m512 mk_hsum16x16(const __m512* v) {
    __m512 x[8], y[4];
    for (int i = 0; i < 8; i++)
        x[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
    for (int i = 0; i < 4; i++) {
        const __m512d a = _mm512_castps_pd(x[2 * i]), b = _mm512_castps_pd(x[2 * i + 1]);
        y[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)), _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
    }
    // Each 128-bit lane L of y[i] now holds lane L's partial sums of v[4i … 4i+3].
    const __m512 z0 = _mm512_add_ps(_mm512_shuffle_f32x4(y[0], y[1], 0x88), _mm512_shuffle_f32x4(y[0], y[1], 0xDD));
    const __m512 z1 = _mm512_add_ps(_mm512_shuffle_f32x4(y[2], y[3], 0x88), _mm512_shuffle_f32x4(y[2], y[3], 0xDD));
    return _mm512_add_ps(_mm512_shuffle_f32x4(z0, z1, 0x88), _mm512_shuffle_f32x4(z0, z1, 0xDD));
}

void mk_f32_tconv_dot_ukernel_16c__avx512f(
    const float* image, const mk_tconv_dot_params* p,
    int32_t qy, int32_t qx0, size_t count, float* out, size_t out_pixel_stride,
    size_t tap_count, const int32_t* dy, const int32_t* dx,
    const float* weights, const float* bias)
{
    const int32_t H = p->input_height, W = p->input_width;
    const size_t C = (size_t) p->channels, icg = (size_t) p->group_input_channels;
    const size_t ocg = (size_t) p->group_output_channels, groups = (size_t) p->groups;
    const size_t full = icg & ~(size_t) 15;
    const __mmask16 tail = mk_mask16(icg - full);
    size_t j = 0;
    // One output channel, one group, whole 16-channel blocks (a segmentation head): 16 pixels
    // at a time, their vector sums reduced together. Used for pixel blocks whose taps are all
    // inside the image; which pixels take it depends only on the geometry, never on threads.
    if (groups == 1 && ocg == 1 && icg == full && icg > 0) {
        for (; j + 16 <= count; j += 16) {
            const int32_t qx = qx0 + (int32_t) j;
            int inside = 1;
            for (size_t t = 0; t < tap_count; t++) {
                const int32_t iy = qy + dy[t];
                inside &= iy >= 0 && iy < H && qx + dx[t] >= 0 && qx + 15 + dx[t] < W;
            }
            if (!inside) break;
            __m512 acc[16];
            for (int k = 0; k < 16; k++) acc[k] = _mm512_setzero_ps();
            for (size_t t = 0; t < tap_count; t++) {
                const float* a = image + ((size_t) (qy + dy[t]) * (size_t) W + (size_t) (qx + dx[t])) * C;
                const float* b = weights + t * icg;
                for (size_t i = 0; i < icg; i += 16) {
                    const __m512 wv = _mm512_loadu_ps(b + i);
                    for (int k = 0; k < 16; k++)
                        acc[k] = _mm512_fmadd_ps(_mm512_loadu_ps(a + (size_t) k * C + i), wv, acc[k]);
                }
            }
            const __m512 r = _mm512_add_ps(_mm512_set1_ps(bias[0]), mk_hsum16x16(acc));
            float* o = out + j * out_pixel_stride;
            if (out_pixel_stride == 1) {
                _mm512_storeu_ps(o, r);
            } else {
                float v[16];
                _mm512_storeu_ps(v, r);
                for (int k = 0; k < 16; k++) o[(size_t) k * out_pixel_stride] = v[k];
            }
        }
    }
    for (; j < count; j++) {
        const int32_t qx = qx0 + (int32_t) j;
        float* o = out + j * out_pixel_stride;
        for (size_t grp = 0; grp < groups; grp++) {
            for (size_t oc = 0; oc < ocg; oc++) {
                // One vector sum over taps and channel blocks, reduced once: a fixed order for
                // a given geometry, whichever thread computes the row.
                __m512 acc = _mm512_setzero_ps();
                const float* wo = weights + (grp * ocg + oc) * tap_count * icg;
                for (size_t t = 0; t < tap_count; t++) {
                    const int32_t iy = qy + dy[t], ix = qx + dx[t];
                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                    const float* a = image + ((size_t) iy * (size_t) W + (size_t) ix) * C + grp * icg;
                    const float* b = wo + t * icg;
                    size_t i = 0;
                    for (; i < full; i += 16)
                        acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc);
                    if (i < icg)
                        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, a + i), _mm512_maskz_loadu_ps(tail, b + i), acc);
                }
                o[grp * ocg + oc] = bias[grp * ocg + oc] + _mm512_reduce_add_ps(acc);
            }
        }
    }
}

#pragma clang attribute pop

#else

void mk_f32_tconv_dot_ukernel_16c__avx512f(
    const float* image, const mk_tconv_dot_params* p,
    int32_t qy, int32_t qx0, size_t count, float* out, size_t out_pixel_stride,
    size_t tap_count, const int32_t* dy, const int32_t* dx,
    const float* weights, const float* bias)
{
    (void) image; (void) p; (void) qy; (void) qx0; (void) count; (void) out; (void) out_pixel_stride;
    (void) tap_count; (void) dy; (void) dx; (void) weights; (void) bias;
    __builtin_trap();  // never dispatched: mk_cpu_supports_avx512f() is 0 here
}

#endif
