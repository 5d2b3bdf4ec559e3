// mk_f32_dwconv_ukernel_8c__avx2_fma: depthwise convolution, one output row, channels
// vectorised 8 at a time (NHWC), 4 output pixels at once in the interior so every weight
// load feeds 4 FMAs; border pixels and the channel tail (masked) take the same tap order.
#include "cmk.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

static inline __m256 mk_dw_activate(__m256 x, const mk_activation* act) {
    switch (act->kind) {
    case MK_ACT_HARDSWISH: {
        const __m256 r = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(x, _mm256_set1_ps(3.0f)),
                                                     _mm256_setzero_ps()), _mm256_set1_ps(6.0f));
        return _mm256_mul_ps(_mm256_mul_ps(x, r), _mm256_set1_ps(1.0f / 6.0f));
    }
    case MK_ACT_LEAKY_RELU: {
        const __m256 neg = _mm256_mul_ps(x, _mm256_set1_ps(act->alpha));
        return _mm256_blendv_ps(neg, x, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
    }
    case MK_ACT_HARD_SIGMOID: {
        const __m256 y = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(act->alpha)), _mm256_set1_ps(act->beta));
        return _mm256_max_ps(_mm256_setzero_ps(), _mm256_min_ps(_mm256_set1_ps(1.0f), y));
    }
    default:
        return _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(act->lo)), _mm256_set1_ps(act->hi));
    }
}

static const int32_t mk_dw_mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

void mk_f32_dwconv_ukernel_8c__avx2_fma(
    const float* input, int32_t output_y, float* output_row,
    const float* weights, const float* bias,
    const mk_dwconv_params* p, const mk_activation* act)
{
    const int32_t H = p->input_height, W = p->input_width, C = p->channels, cs = p->channel_stride;
    const int32_t kh = p->kernel_height, kw = p->kernel_width;
    const int32_t sw = p->stride_width, dh = p->dilation_height, dw = p->dilation_width;
    const int32_t iy0 = output_y * p->stride_height - p->pad_top;
    int32_t ky_lo = 0, ky_hi = kh;
    while (ky_lo < kh && iy0 + ky_lo * dh < 0) ky_lo++;
    while (ky_hi > ky_lo && iy0 + (ky_hi - 1) * dh >= H) ky_hi--;
    const size_t pix = (size_t) C;                 // floats between horizontally adjacent pixels
    const size_t xstep = (size_t) dw * pix;        // between taps kx and kx+1
    const size_t ostep = (size_t) sw * pix;        // between outputs ox and ox+1
    const int32_t C8 = C & ~7;
    const __m256i tail_mask = _mm256_loadu_si256((const __m256i*) &mk_dw_mask_table[8 - (C - C8)]);

    int32_t ox = 0;
    while (ox < p->output_width) {
        const int32_t ix0 = ox * sw - p->pad_left;
        const int interior4 = ox + 4 <= p->output_width && ix0 >= 0
            && (ox + 3) * sw - p->pad_left + (kw - 1) * dw < W;
        if (interior4) {
            float* o = output_row + (size_t) ox * pix;
            for (int32_t c = 0; c < C8; c += 8) {
                __m256 a0 = _mm256_loadu_ps(bias + c), a1 = a0, a2 = a0, a3 = a0;
                for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
                    const float* ip = input + ((size_t) (iy0 + ky * dh) * (size_t) W + (size_t) ix0) * pix + c;
                    const float* wp = weights + (size_t) (ky * kw) * (size_t) cs + c;
                    for (int32_t kx = 0; kx < kw; kx++) {
                        const __m256 wv = _mm256_loadu_ps(wp);
                        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(ip), wv, a0);
                        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(ip + ostep), wv, a1);
                        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(ip + 2 * ostep), wv, a2);
                        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(ip + 3 * ostep), wv, a3);
                        ip += xstep; wp += cs;
                    }
                }
                _mm256_storeu_ps(o + c, mk_dw_activate(a0, act));
                _mm256_storeu_ps(o + pix + c, mk_dw_activate(a1, act));
                _mm256_storeu_ps(o + 2 * pix + c, mk_dw_activate(a2, act));
                _mm256_storeu_ps(o + 3 * pix + c, mk_dw_activate(a3, act));
            }
            if (C8 < C) {
                const int32_t c = C8;
                __m256 a0 = _mm256_loadu_ps(bias + c), a1 = a0, a2 = a0, a3 = a0;
                for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
                    const float* ip = input + ((size_t) (iy0 + ky * dh) * (size_t) W + (size_t) ix0) * pix + c;
                    const float* wp = weights + (size_t) (ky * kw) * (size_t) cs + c;
                    for (int32_t kx = 0; kx < kw; kx++) {
                        const __m256 wv = _mm256_loadu_ps(wp);
                        a0 = _mm256_fmadd_ps(_mm256_maskload_ps(ip, tail_mask), wv, a0);
                        a1 = _mm256_fmadd_ps(_mm256_maskload_ps(ip + ostep, tail_mask), wv, a1);
                        a2 = _mm256_fmadd_ps(_mm256_maskload_ps(ip + 2 * ostep, tail_mask), wv, a2);
                        a3 = _mm256_fmadd_ps(_mm256_maskload_ps(ip + 3 * ostep, tail_mask), wv, a3);
                        ip += xstep; wp += cs;
                    }
                }
                _mm256_maskstore_ps(o + c, tail_mask, mk_dw_activate(a0, act));
                _mm256_maskstore_ps(o + pix + c, tail_mask, mk_dw_activate(a1, act));
                _mm256_maskstore_ps(o + 2 * pix + c, tail_mask, mk_dw_activate(a2, act));
                _mm256_maskstore_ps(o + 3 * pix + c, tail_mask, mk_dw_activate(a3, act));
            }
            ox += 4;
            continue;
        }
        // One pixel, any position: skip the taps outside the image.
        int32_t kx_lo = 0, kx_hi = kw;
        while (kx_lo < kw && ix0 + kx_lo * dw < 0) kx_lo++;
        while (kx_hi > kx_lo && ix0 + (kx_hi - 1) * dw >= W) kx_hi--;
        float* o = output_row + (size_t) ox * pix;
        for (int32_t c = 0; c < C; c += 8) {
            const int full = c + 8 <= C;
            __m256 a0 = _mm256_loadu_ps(bias + c);
            for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
                const float* ip = input + ((size_t) (iy0 + ky * dh) * (size_t) W + (size_t) (ix0 + kx_lo * dw)) * pix + c;
                const float* wp = weights + (size_t) (ky * kw + kx_lo) * (size_t) cs + c;
                for (int32_t kx = kx_lo; kx < kx_hi; kx++) {
                    const __m256 iv = full ? _mm256_loadu_ps(ip) : _mm256_maskload_ps(ip, tail_mask);
                    a0 = _mm256_fmadd_ps(iv, _mm256_loadu_ps(wp), a0);
                    ip += xstep; wp += cs;
                }
            }
            if (full) _mm256_storeu_ps(o + c, mk_dw_activate(a0, act));
            else _mm256_maskstore_ps(o + c, tail_mask, mk_dw_activate(a0, act));
        }
        ox += 1;
    }
}

#pragma clang attribute pop

#else

void mk_f32_dwconv_ukernel_8c__avx2_fma(
    const float* input, int32_t output_y, float* output_row, const float* weights,
    const float* bias, const mk_dwconv_params* p, const mk_activation* act)
{
    mk_f32_dwconv_ukernel_4c__portable(input, output_y, output_row, weights, bias, p, act);
}

#endif
