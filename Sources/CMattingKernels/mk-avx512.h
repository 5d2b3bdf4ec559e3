// Shared by the AVX-512F microkernels (gemm, dwconv, tconv dot): the fused activations on 16
// lanes, the tail masks and the lane-neutral mk_vf_* names for 16-lane vectors. Include after
// `#pragma clang attribute push(... target("avx512f"))` so these functions are compiled for
// AVX-512F too. Private to this target.
#pragma once
#include <immintrin.h>
#include "cmk.h"
#include "mk-vf.h"

/// Sixteen values through a fused activation; the same definitions as mk_activate1.
static inline __m512 mk_activate_avx512(__m512 x, const mk_activation* act) {
    switch (act->kind) {
    case MK_ACT_HARDSWISH: {
        const __m512 r = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(x, _mm512_set1_ps(3.0f)),
                                                     _mm512_setzero_ps()), _mm512_set1_ps(6.0f));
        return _mm512_mul_ps(_mm512_mul_ps(x, r), _mm512_set1_ps(1.0f / 6.0f));
    }
    case MK_ACT_LEAKY_RELU: {
        // Lanes with x >= 0 keep x, the others take alpha·x.
        const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
        return _mm512_mask_mul_ps(x, neg, x, _mm512_set1_ps(act->alpha));
    }
    case MK_ACT_HARD_SIGMOID: {
        const __m512 y = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(act->alpha)), _mm512_set1_ps(act->beta));
        return _mm512_max_ps(_mm512_setzero_ps(), _mm512_min_ps(_mm512_set1_ps(1.0f), y));
    }
    default:
        return _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(act->lo)), _mm512_set1_ps(act->hi));
    }
}

/// The first n (0…16) lanes.
static inline __mmask16 mk_mask16(size_t n) {
    return n >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << n) - 1u);
}

// The lane-neutral names (mk-vf.h) for 16 lanes.
#define MK_VF_LANES 16
typedef __m512 mk_vf;
typedef __mmask16 mk_vf_mask;
MK_VF_DEFINE(_mm512)
/// The first n (0…16) lanes, for mk_vf_load_first.
static inline mk_vf_mask mk_vf_first(size_t n) { return mk_mask16(n); }
/// A fused activation (mk_activate1's definitions) on a vector.
static inline mk_vf mk_vf_activate(mk_vf x, const mk_activation* act) { return mk_activate_avx512(x, act); }
/// The masked lanes of p, zeros elsewhere; nothing is read outside them.
static inline mk_vf mk_vf_load_first(const float* p, mk_vf_mask m) { return _mm512_maskz_loadu_ps(m, p); }
/// Stores the masked lanes of v; nothing is written outside them.
static inline void mk_vf_store_first(float* p, mk_vf_mask m, mk_vf v) { _mm512_mask_storeu_ps(p, m, v); }
/// Per-lane comparison results: a mask register on AVX-512.
typedef __mmask16 mk_vf_lanes;
static inline mk_vf_lanes mk_vf_less(mk_vf a, mk_vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
static inline mk_vf_lanes mk_vf_greater(mk_vf a, mk_vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
/// v with the lanes in `lanes` set to 0.
static inline mk_vf mk_vf_clear(mk_vf_lanes lanes, mk_vf v) { return _mm512_maskz_mov_ps((__mmask16) ~lanes, v); }
/// b in the lanes in `lanes`, a elsewhere.
static inline mk_vf mk_vf_select(mk_vf_lanes lanes, mk_vf a, mk_vf b) { return _mm512_mask_mov_ps(a, lanes, b); }
/// −|v| (the sign bit set; NaN stays NaN).
static inline mk_vf mk_vf_minus_abs(mk_vf v) {
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int) 0x80000000u)));
}
/// v's bits as 32-bit integers, shifted left by 23: the low bits moved into the exponent field.
static inline mk_vf mk_vf_shift_to_exponent(mk_vf v) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(v), 23));
}

/// The sum of v's 16 lanes: clang's _mm512_reduce_add_ps, which adds halves, then halves of
/// those, down to one lane.
static inline float mk_vf_sum(mk_vf v) { return _mm512_reduce_add_ps(v); }

/// Sixteen vectors to one: lane k of the result is the sum of v[k]'s 16 lanes (a transpose-
/// and-add tree, 45 shuffles/adds for 16 horizontal sums instead of 16 separate reductions).
static inline mk_vf mk_vf_sums(const mk_vf* v) {
    __m512 y[4];
    mk_vf_sums_within_lanes(v, y);
    // Each 128-bit lane L of y[i] now holds lane L's partial sums of v[4i … 4i+3].
    const __m512 z0 = _mm512_add_ps(_mm512_shuffle_f32x4(y[0], y[1], 0x88), _mm512_shuffle_f32x4(y[0], y[1], 0xDD));
    const __m512 z1 = _mm512_add_ps(_mm512_shuffle_f32x4(y[2], y[3], 0x88), _mm512_shuffle_f32x4(y[2], y[3], 0xDD));
    return _mm512_add_ps(_mm512_shuffle_f32x4(z0, z1, 0x88), _mm512_shuffle_f32x4(z0, z1, 0xDD));
}
