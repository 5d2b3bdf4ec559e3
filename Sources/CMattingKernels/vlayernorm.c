// Layer normalisation of `rows` rows of n values: y = (x − μ) / √(σ² + ε) · scale + offset,
// μ and σ² the row's mean and (biased) variance, in two passes over the row (the sum, then
// the squared deviations from μ) as the reference does. A transformer runs it before every
// attention and MLP block (Swin-T at 512²: 32 of them over 16384 tokens of 96 channels
// down to 256 of 768).
//
// Sums run in 8 lane-wise partial sums (two 4-lane vectors on the portable path, one 8-lane
// one on AVX2), added in a fixed order, then the tail: the result depends only on the row
// and the ISA path, never on threads. y == x is allowed (each row is read whole before it
// is written).
#include "cmk.h"

// The 8-float helpers below are always inlined, so no vector crosses a call: the ABI note
// clang gives for 32-byte vectors without AVX does not apply.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float mk_v8 __attribute__((vector_size(32), aligned(4)));

static inline __attribute__((always_inline)) mk_v8 mk_load8(const float* p) {
    mk_v8 v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void mk_store8(float* p, mk_v8 v) { __builtin_memcpy(p, &v, sizeof v); }

static inline __attribute__((always_inline)) float mk_sum8(mk_v8 v) {
    return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
}

static inline __attribute__((always_inline)) void mk_layernorm_rows(
    size_t rows, size_t n, const float* x, float* y, const float* scale, const float* offset, float epsilon) {
    const size_t body = n / 8 * 8;
    for (size_t r = 0; r < rows; r++) {
        const float* src = x + r * n;
        float* dst = y + r * n;
        mk_v8 acc = {0};
        for (size_t k = 0; k < body; k += 8) acc += mk_load8(src + k);
        float sum = mk_sum8(acc);
        for (size_t k = body; k < n; k++) sum += src[k];
        const float mu = sum / (float) n;
        acc = (mk_v8){0};
        for (size_t k = 0; k < body; k += 8) {
            const mk_v8 d = mk_load8(src + k) - mu;
            acc += d * d;
        }
        float squares = mk_sum8(acc);
        for (size_t k = body; k < n; k++) squares += (src[k] - mu) * (src[k] - mu);
        const float inverse = 1.0f / __builtin_sqrtf(squares / (float) n + epsilon);
        for (size_t k = 0; k < body; k += 8)
            mk_store8(dst + k, (mk_load8(src + k) - mu) * inverse * mk_load8(scale + k) + mk_load8(offset + k));
        for (size_t k = body; k < n; k++) dst[k] = (src[k] - mu) * inverse * scale[k] + offset[k];
    }
}

void mk_f32_layernorm_rows__portable(
    size_t rows, size_t n, const float* x, float* y, const float* scale, const float* offset, float epsilon) {
    mk_layernorm_rows(rows, n, x, y, scale, offset, epsilon);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void mk_f32_layernorm_rows__avx2_fma(
    size_t rows, size_t n, const float* x, float* y, const float* scale, const float* offset, float epsilon) {
    mk_layernorm_rows(rows, n, x, y, scale, offset, epsilon);
}
#else
void mk_f32_layernorm_rows__avx2_fma(
    size_t rows, size_t n, const float* x, float* y, const float* scale, const float* offset, float epsilon) {
    mk_layernorm_rows(rows, n, x, y, scale, offset, epsilon);
}
#endif

// ---------------------------------------------------------------------------------------
// Instance normalisation's statistics and the per-channel affine that applies them, over
// NHWC data (pixels rows of `stride` values). Memory-bound: one portable build (generic
// vectors of 8 channels, SSE2 or NEON code).

// Each channel's sum in pixel order, 8 channels at a time (the order a scalar loop over
// pixels gives, so the bits do not depend on the vector width).
void mk_f32_channel_moments(size_t pixels, size_t stride, const float* x, size_t n, float epsilon,
                            float* mean, float* inverse) {
    const size_t body = n / 8 * 8;
    const float count = (float) pixels;
    for (size_t c = 0; c < body; c += 8) {
        mk_v8 sum = {0};
        for (size_t p = 0; p < pixels; p++) sum += mk_load8(x + p * stride + c);
        const mk_v8 mu = sum / count;
        mk_v8 squares = {0};
        for (size_t p = 0; p < pixels; p++) {
            const mk_v8 d = mk_load8(x + p * stride + c) - mu;
            squares += d * d;
        }
        mk_store8(mean + c, mu);
        for (int l = 0; l < 8; l++) inverse[c + l] = 1.0f / __builtin_sqrtf(squares[l] / count + epsilon);
    }
    for (size_t c = body; c < n; c++) {
        float sum = 0;
        for (size_t p = 0; p < pixels; p++) sum += x[p * stride + c];
        const float mu = sum / count;
        float squares = 0;
        for (size_t p = 0; p < pixels; p++) squares += (x[p * stride + c] - mu) * (x[p * stride + c] - mu);
        mean[c] = mu;
        inverse[c] = 1.0f / __builtin_sqrtf(squares / count + epsilon);
    }
}

void mk_f32_center_scale_shift_rows(size_t rows, size_t n, const float* x, float* y, const float* center,
                                    const float* scale, const float* shift) {
    const size_t body = n / 8 * 8;
    for (size_t r = 0; r < rows; r++) {
        const float* src = x + r * n;
        float* dst = y + r * n;
        for (size_t k = 0; k < body; k += 8)
            mk_store8(dst + k, (mk_load8(src + k) - mk_load8(center + k)) * mk_load8(scale + k) + mk_load8(shift + k));
        for (size_t k = body; k < n; k++) dst[k] = (src[k] - center[k]) * scale[k] + shift[k];
    }
}
