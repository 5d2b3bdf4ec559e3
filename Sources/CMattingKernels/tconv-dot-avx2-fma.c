// mk_f32_tconv_dot_ukernel_8c__avx2_fma: the AVX2 twin of the AVX-512 few-output-channels dot
// kernel (tconv-dot-avx512f.c): every output of one phase of one output row as a direct dot
// product, input channels 8 per ymm. Used by TransposedConvolutionKernel's phases and by
// ConvolutionKernel's stride-1 few-output-channels layers (a segmentation head's 16 → 1 2×2
// stride-2 layer, a 64 → 1 3×3 head).
#include "cmk.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

// Eight vectors to one: lane k of the result is the sum of v[k]'s 8 lanes (a transpose-and-
// add tree instead of 8 separate reductions).
static inline __m256 mk_hsum8x8(const __m256* v) {
    __m256 x[4], y[2];
    for (int i = 0; i < 4; i++)
        x[i] = _mm256_add_ps(_mm256_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm256_unpackhi_ps(v[2 * i], v[2 * i + 1]));
    for (int i = 0; i < 2; i++) {
        const __m256d a = _mm256_castps_pd(x[2 * i]), b = _mm256_castps_pd(x[2 * i + 1]);
        y[i] = _mm256_add_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(a, b)), _mm256_castpd_ps(_mm256_unpackhi_pd(a, b)));
    }
    // Each 128-bit half H of y[i] holds half H's partial sums of v[4i … 4i+3].
    return _mm256_add_ps(_mm256_permute2f128_ps(y[0], y[1], 0x20), _mm256_permute2f128_ps(y[0], y[1], 0x31));
}

static inline float mk_hsum8(__m256 v) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

void mk_f32_tconv_dot_ukernel_8c__avx2_fma(
    const float* image, const mk_tconv_dot_params* p,
    int32_t qy, int32_t qx0, size_t count, float* out, size_t out_pixel_stride,
    size_t tap_count, const int32_t* dy, const int32_t* dx,
    const float* weights, const float* bias)
{
    const int32_t H = p->input_height, W = p->input_width;
    const size_t C = (size_t) p->channels, icg = (size_t) p->group_input_channels;
    const size_t ocg = (size_t) p->group_output_channels, groups = (size_t) p->groups;
    const size_t full = icg & ~(size_t) 7;
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32((int) (icg - full)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    size_t j = 0;
    // One output channel, one group, whole 8-channel blocks (a segmentation head): 8 pixels
    // at a time, their vector sums reduced together. Used for pixel blocks whose taps are all
    // inside the image; which pixels take it depends only on the geometry, never on threads.
    if (groups == 1 && ocg == 1 && icg == full && icg > 0) {
        for (; j + 8 <= count; j += 8) {
            const int32_t qx = qx0 + (int32_t) j;
            int inside = 1;
            for (size_t t = 0; t < tap_count; t++) {
                const int32_t iy = qy + dy[t];
                inside &= iy >= 0 && iy < H && qx + dx[t] >= 0 && qx + 7 + dx[t] < W;
            }
            if (!inside) break;
            __m256 acc[8];
            for (int k = 0; k < 8; k++) acc[k] = _mm256_setzero_ps();
            for (size_t t = 0; t < tap_count; t++) {
                const float* a = image + ((size_t) (qy + dy[t]) * (size_t) W + (size_t) (qx + dx[t])) * C;
                const float* b = weights + t * icg;
                for (size_t i = 0; i < icg; i += 8) {
                    const __m256 wv = _mm256_loadu_ps(b + i);
                    for (int k = 0; k < 8; k++)
                        acc[k] = _mm256_fmadd_ps(_mm256_loadu_ps(a + (size_t) k * C + i), wv, acc[k]);
                }
            }
            const __m256 r = _mm256_add_ps(_mm256_set1_ps(bias[0]), mk_hsum8x8(acc));
            float* o = out + j * out_pixel_stride;
            if (out_pixel_stride == 1) {
                _mm256_storeu_ps(o, r);
            } else {
                float v[8];
                _mm256_storeu_ps(v, r);
                for (int k = 0; k < 8; k++) o[(size_t) k * out_pixel_stride] = v[k];
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
                __m256 acc = _mm256_setzero_ps();
                const float* wo = weights + (grp * ocg + oc) * tap_count * icg;
                for (size_t t = 0; t < tap_count; t++) {
                    const int32_t iy = qy + dy[t], ix = qx + dx[t];
                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                    const float* a = image + ((size_t) iy * (size_t) W + (size_t) ix) * C + grp * icg;
                    const float* b = wo + t * icg;
                    size_t i = 0;
                    for (; i < full; i += 8)
                        acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
                    if (i < icg)
                        acc = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, tail), _mm256_maskload_ps(b + i, tail), acc);
                }
                o[grp * ocg + oc] = bias[grp * ocg + oc] + mk_hsum8(acc);
            }
        }
    }
}

#pragma clang attribute pop

#else

void mk_f32_tconv_dot_ukernel_8c__avx2_fma(
    const float* image, const mk_tconv_dot_params* p,
    int32_t qy, int32_t qx0, size_t count, float* out, size_t out_pixel_stride,
    size_t tap_count, const int32_t* dy, const int32_t* dx,
    const float* weights, const float* bias)
{
    (void) image; (void) p; (void) qy; (void) qx0; (void) count; (void) out; (void) out_pixel_stride;
    (void) tap_count; (void) dy; (void) dx; (void) weights; (void) bias;
    __builtin_trap();  // never dispatched: mk_cpu_supports_avx2_fma() is 0 here
}

#endif
