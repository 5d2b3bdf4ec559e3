// Shared by the AVX2/FMA microkernels (gemm, dwconv, tconv dot): the fused activations on 8
// lanes, the tail-mask table and the lane-neutral mk_vf_* names for 8-lane vectors. Include
// after `#pragma clang attribute push(... target("avx2,fma"))` so these functions are
// compiled for AVX2 too. Private to this target.
#pragma once
#include <immintrin.h>
#include "cmk.h"
#include "mk-vf.h"

/// Eight values through a fused activation; the same definitions as mk_activate1.
static inline __m256 mk_activate_avx2(__m256 x, const mk_activation* act) {
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

/// Eight -1s then eight 0s: `_mm256_loadu_si256(mk_mask_table + 8 - n)` masks the first n lanes.
static const int32_t mk_mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

// The lane-neutral names (mk-vf.h) for 8 lanes.
#define MK_VF_LANES 8
typedef __m256 mk_vf;
typedef __m256i mk_vf_mask;
MK_VF_DEFINE(_mm256)
/// The first n (0…8) lanes, for mk_vf_load_first.
static inline mk_vf_mask mk_vf_first(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int) n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
/// A fused activation (mk_activate1's definitions) on a vector.
static inline mk_vf mk_vf_activate(mk_vf x, const mk_activation* act) { return mk_activate_avx2(x, act); }
/// The masked lanes of p, zeros elsewhere; nothing is read outside them.
static inline mk_vf mk_vf_load_first(const float* p, mk_vf_mask m) { return _mm256_maskload_ps(p, m); }
/// Stores the masked lanes of v; nothing is written outside them.
static inline void mk_vf_store_first(float* p, mk_vf_mask m, mk_vf v) { _mm256_maskstore_ps(p, m, v); }
/// Per-lane comparison results (all bits set where true): a vector on AVX2.
typedef __m256 mk_vf_lanes;
static inline mk_vf_lanes mk_vf_less(mk_vf a, mk_vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
static inline mk_vf_lanes mk_vf_greater(mk_vf a, mk_vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
/// v with the lanes in `lanes` set to 0.
static inline mk_vf mk_vf_clear(mk_vf_lanes lanes, mk_vf v) { return _mm256_andnot_ps(lanes, v); }
/// b in the lanes in `lanes`, a elsewhere.
static inline mk_vf mk_vf_select(mk_vf_lanes lanes, mk_vf a, mk_vf b) { return _mm256_blendv_ps(a, b, lanes); }
/// −|v| (the sign bit set; NaN stays NaN).
static inline mk_vf mk_vf_minus_abs(mk_vf v) { return _mm256_or_ps(v, _mm256_set1_ps(-0.0f)); }
/// v's bits as 32-bit integers, shifted left by 23: the low bits moved into the exponent field.
static inline mk_vf mk_vf_shift_to_exponent(mk_vf v) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(v), 23));
}

/// The sum of v's 8 lanes: halves added, then pairs, then the last two.
static inline float mk_vf_sum(mk_vf v) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

/// Eight vectors to one: lane k of the result is the sum of v[k]'s 8 lanes (a transpose-and-
/// add tree instead of 8 separate reductions).
static inline mk_vf mk_vf_sums(const mk_vf* v) {
    __m256 y[2];
    mk_vf_sums_within_lanes(v, y);
    // Each 128-bit half H of y[i] holds half H's partial sums of v[4i … 4i+3].
    return _mm256_add_ps(_mm256_permute2f128_ps(y[0], y[1], 0x20), _mm256_permute2f128_ps(y[0], y[1], 0x31));
}
