// mk_f32_dwconv_ukernel_16c__avx512f: depthwise convolution, one output row, channels
// vectorised 16 at a time (NHWC): the AVX-512F twin of mk_f32_dwconv_ukernel_8c__avx2_fma,
// same structure and tap order. 3×3 and 5×5 interiors have unrolled kernels with the weights
// held in registers (25 zmm for 5×5: 32 registers leave room, no spills); borders, other
// sizes and the channel tail (__mmask16 loads/stores) take a general per-pixel path.
// Weights and bias are padded to a multiple of 16 channels (channel_stride).
#include "cmk.h"
#include "mk-dwconv.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#include "mk-avx512.h"



// One output pixel at any position (borders): taps outside the image are skipped.
static inline void mk_dw16_pixel(
    const float* input, float* o, const float* weights, const float* bias,
    const mk_dwconv_params* p, const mk_activation* act, int32_t iy0, int32_t ky_lo, int32_t ky_hi,
    int32_t ix0, __mmask16 tail_mask)
{
    const int32_t W = p->input_width, C = p->channels, cs = p->channel_stride;
    const int32_t kw = p->kernel_width, dh = p->dilation_height, dw = p->dilation_width;
    const size_t pix = (size_t) C, xstep = (size_t) dw * pix;
    int32_t kx_lo, kx_hi;
    mk_dw_tap_range(ix0, kw, dw, W, &kx_lo, &kx_hi);
    for (int32_t c = 0; c < C; c += 16) {
        const int full = c + 16 <= C;
        __m512 a0 = _mm512_loadu_ps(bias + c);
        for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
            const float* ip = input + ((size_t) (iy0 + ky * dh) * (size_t) W + (size_t) (ix0 + kx_lo * dw)) * pix + c;
            const float* wp = weights + (size_t) (ky * kw + kx_lo) * (size_t) cs + c;
            for (int32_t kx = kx_lo; kx < kx_hi; kx++) {
                const __m512 iv = full ? _mm512_loadu_ps(ip) : _mm512_maskz_loadu_ps(tail_mask, ip);
                a0 = _mm512_fmadd_ps(iv, _mm512_loadu_ps(wp), a0);
                ip += xstep; wp += cs;
            }
        }
        if (full) _mm512_storeu_ps(o + c, mk_activate_avx512(a0, act));
        else _mm512_mask_storeu_ps(o + c, tail_mask, mk_activate_avx512(a0, act));
    }
}

// Interior pixels [ox_lo, ox_hi) where every kx tap is inside the row. Channel block outer,
// pixels inner: the block's KH×KW weight vectors are loaded once and stay in registers
// (spilling to L1 for 5×5) while the pixels stream past. Each tap reads `base[t] + off`
// (loop-invariant base, one shared offset), so a pixel costs one index increment rather
// than one pointer increment per tap; two pixels per iteration share the loop overhead.
// KH, KW and KIND are compile-time constants at every call site (fully unrolled loops,
// activation selected outside the loop).
static inline __attribute__((always_inline)) __m512 mk_dw16_act_kind(const int KIND, __m512 x, const mk_activation* act) {
    switch (KIND) {
    case MK_ACT_HARDSWISH: {
        const __m512 r = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(x, _mm512_set1_ps(3.0f)),
                                                     _mm512_setzero_ps()), _mm512_set1_ps(6.0f));
        return _mm512_mul_ps(_mm512_mul_ps(x, r), _mm512_set1_ps(1.0f / 6.0f));
    }
    case MK_ACT_LEAKY_RELU:
        return _mm512_mask_mul_ps(x, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), x,
                                  _mm512_set1_ps(act->alpha));
    case MK_ACT_HARD_SIGMOID: {
        const __m512 y = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(act->alpha)), _mm512_set1_ps(act->beta));
        return _mm512_max_ps(_mm512_setzero_ps(), _mm512_min_ps(_mm512_set1_ps(1.0f), y));
    }
    default:
        return _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(act->lo)), _mm512_set1_ps(act->hi));
    }
}

static inline __attribute__((always_inline)) void mk_dw16_interior_full(
    const int32_t KH, const int32_t KW, const int KIND,
    const float* const* base, const __m512* wv, __m512 bv, float* o, size_t n, size_t ostep, size_t pix,
    size_t xstep, const mk_activation* act)
{
    size_t off = 0, i = 0;
    // 3×3 with stride == dilation (stride 1 in practice): neighbouring outputs share input
    // columns, so four pixels per iteration load 6 vectors per kernel row instead of 12 (the
    // loads, not the FMAs, bound this loop). Each pixel's taps are still summed in the order
    // t = ky·3 + kx, so the results are the bits of the 2-pixel loop below.
    if (KH == 3 && KW == 3 && ostep == xstep) {
        for (; i + 4 <= n; i += 4) {
            __asm__("" : "+r"(off));
            __m512 a0 = bv, a1 = bv, a2 = bv, a3 = bv;
            for (int32_t ky = 0; ky < 3; ky++) {
                const float* r = base[ky * 3] + off;
                const __m512 x0 = _mm512_loadu_ps(r), x1 = _mm512_loadu_ps(r + xstep);
                const __m512 x2 = _mm512_loadu_ps(r + 2 * xstep), x3 = _mm512_loadu_ps(r + 3 * xstep);
                const __m512 x4 = _mm512_loadu_ps(r + 4 * xstep), x5 = _mm512_loadu_ps(r + 5 * xstep);
                const __m512 w0 = wv[ky * 3], w1 = wv[ky * 3 + 1], w2 = wv[ky * 3 + 2];
                a0 = _mm512_fmadd_ps(x0, w0, a0); a1 = _mm512_fmadd_ps(x1, w0, a1);
                a2 = _mm512_fmadd_ps(x2, w0, a2); a3 = _mm512_fmadd_ps(x3, w0, a3);
                a0 = _mm512_fmadd_ps(x1, w1, a0); a1 = _mm512_fmadd_ps(x2, w1, a1);
                a2 = _mm512_fmadd_ps(x3, w1, a2); a3 = _mm512_fmadd_ps(x4, w1, a3);
                a0 = _mm512_fmadd_ps(x2, w2, a0); a1 = _mm512_fmadd_ps(x3, w2, a1);
                a2 = _mm512_fmadd_ps(x4, w2, a2); a3 = _mm512_fmadd_ps(x5, w2, a3);
            }
            _mm512_storeu_ps(o, mk_dw16_act_kind(KIND, a0, act));
            _mm512_storeu_ps(o + pix, mk_dw16_act_kind(KIND, a1, act));
            _mm512_storeu_ps(o + 2 * pix, mk_dw16_act_kind(KIND, a2, act));
            _mm512_storeu_ps(o + 3 * pix, mk_dw16_act_kind(KIND, a3, act));
            o += 4 * pix;
            off += 4 * ostep;
        }
    }
    for (; i + 2 <= n; i += 2) {
        // Opaque to the optimiser: otherwise loop strength reduction turns every base[t] + off
        // into its own induction pointer (9–50 increments and spills per iteration).
        __asm__("" : "+r"(off));
        const size_t off1 = off + ostep;
        __m512 a0 = bv, a1 = bv;
        for (int32_t t = 0; t < KH * KW; t++) {
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(base[t] + off), wv[t], a0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(base[t] + off1), wv[t], a1);
        }
        _mm512_storeu_ps(o, mk_dw16_act_kind(KIND, a0, act));
        _mm512_storeu_ps(o + pix, mk_dw16_act_kind(KIND, a1, act));
        o += 2 * pix;
        off += 2 * ostep;
    }
    if (i < n) {
        __m512 a0 = bv;
        for (int32_t t = 0; t < KH * KW; t++) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(base[t] + off), wv[t], a0);
        _mm512_storeu_ps(o, mk_dw16_act_kind(KIND, a0, act));
    }
}

static inline __attribute__((always_inline)) void mk_dw16_interior(
    const int32_t KH, const int32_t KW,
    const float* input, float* output_row, const float* weights, const float* bias,
    const mk_dwconv_params* p, const mk_activation* act_in, int32_t iy0,
    int32_t ox_lo, int32_t ox_hi, __mmask16 tail_mask)
{
    const mk_activation act = *act_in;  // a local copy: stores to the output cannot alias it
    const int32_t W = p->input_width, C = p->channels, cs = p->channel_stride;
    const size_t pix = (size_t) C;
    const size_t xstep = (size_t) p->dilation_width * pix;
    const size_t ostep = (size_t) p->stride_width * pix;
    const float* first = input + (ptrdiff_t) (ox_lo * p->stride_width - p->pad_left) * (ptrdiff_t) pix;
    const size_t n = (size_t) (ox_hi - ox_lo);
    for (int32_t c = 0; c < C; c += 16) {
        __m512 wv[25];  // fixed size (KH, KW ≤ 5): VLAs of over-aligned types misbehave at -O0
        const float* base[25];
        for (int32_t ky = 0; ky < KH; ky++) {
            const float* row = first + (ptrdiff_t) (iy0 + ky * p->dilation_height) * (ptrdiff_t) W * (ptrdiff_t) pix + c;
            for (int32_t kx = 0; kx < KW; kx++) {
                base[ky * KW + kx] = row + (size_t) kx * xstep;
                wv[ky * KW + kx] = _mm512_loadu_ps(weights + (size_t) (ky * KW + kx) * (size_t) cs + c);
            }
        }
        const __m512 bv = _mm512_loadu_ps(bias + c);
        float* o = output_row + (size_t) ox_lo * pix + c;
        if (c + 16 <= C) {
            switch (act.kind) {
            case MK_ACT_HARDSWISH: mk_dw16_interior_full(KH, KW, MK_ACT_HARDSWISH, base, wv, bv, o, n, ostep, pix, xstep, &act); break;
            case MK_ACT_LEAKY_RELU: mk_dw16_interior_full(KH, KW, MK_ACT_LEAKY_RELU, base, wv, bv, o, n, ostep, pix, xstep, &act); break;
            case MK_ACT_HARD_SIGMOID: mk_dw16_interior_full(KH, KW, MK_ACT_HARD_SIGMOID, base, wv, bv, o, n, ostep, pix, xstep, &act); break;
            default: mk_dw16_interior_full(KH, KW, MK_ACT_CLAMP, base, wv, bv, o, n, ostep, pix, xstep, &act); break;
            }
        } else {
            size_t off = 0;
            for (size_t i = 0; i < n; i++) {
                __asm__("" : "+r"(off));
                __m512 acc = bv;
                for (int32_t t = 0; t < KH * KW; t++)
                    acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail_mask, base[t] + off), wv[t], acc);
                _mm512_mask_storeu_ps(o, tail_mask, mk_activate_avx512(acc, &act));
                o += pix;
                off += ostep;
            }
        }
    }
}

void mk_f32_dwconv_ukernel_16c__avx512f(
    const float* input, int32_t output_y, float* output_row,
    const float* weights, const float* bias,
    const mk_dwconv_params* p, const mk_activation* act)
{
    const int32_t H = p->input_height, C = p->channels;
    const int32_t kh = p->kernel_height, kw = p->kernel_width;
    const int32_t sw = p->stride_width, dh = p->dilation_height;
    const int32_t iy0 = output_y * p->stride_height - p->pad_top;
    int32_t ky_lo, ky_hi;
    mk_dw_tap_range(iy0, kh, dh, H, &ky_lo, &ky_hi);
    const __mmask16 tail_mask = mk_mask16((size_t) (C & 15));

    const int32_t outW = p->output_width;
    int32_t ox_lo, ox_hi;  // interior columns: every horizontal tap inside the row
    mk_dw_interior_columns(p, &ox_lo, &ox_hi);

    for (int32_t ox = 0; ox < ox_lo; ox++)
        mk_dw16_pixel(input, output_row + (size_t) ox * (size_t) C, weights, bias, p, act, iy0, ky_lo, ky_hi,
                    ox * sw - p->pad_left, tail_mask);
    // Rows with every ky tap inside the image (all but the top/bottom border rows).
    const int all_rows = ky_lo == 0 && ky_hi == kh;
    if (ox_lo < ox_hi) {
        if (all_rows && kh == 3 && kw == 3) {
            mk_dw16_interior(3, 3, input, output_row, weights, bias, p, act, iy0, ox_lo, ox_hi, tail_mask);
        } else if (all_rows && kh == 5 && kw == 5) {
            mk_dw16_interior(5, 5, input, output_row, weights, bias, p, act, iy0, ox_lo, ox_hi, tail_mask);
        } else {
            for (int32_t ox = ox_lo; ox < ox_hi; ox++)
                mk_dw16_pixel(input, output_row + (size_t) ox * (size_t) C, weights, bias, p, act, iy0, ky_lo, ky_hi,
                            ox * sw - p->pad_left, tail_mask);
        }
    }
    for (int32_t ox = ox_hi > ox_lo ? ox_hi : ox_lo; ox < outW; ox++)
        mk_dw16_pixel(input, output_row + (size_t) ox * (size_t) C, weights, bias, p, act, iy0, ky_lo, ky_hi,
                    ox * sw - p->pad_left, tail_mask);
}

#pragma clang attribute pop

#else

void mk_f32_dwconv_ukernel_16c__avx512f(
    const float* input, int32_t output_y, float* output_row, const float* weights,
    const float* bias, const mk_dwconv_params* p, const mk_activation* act)
{
    mk_f32_dwconv_ukernel_4c__portable(input, output_y, output_row, weights, bias, p, act);
}

#endif
