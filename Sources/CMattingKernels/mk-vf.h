// The lane-neutral vector names that bodies written once for both x86 vector widths use
// (tconv-dot-body.h, vsigmoid-body.h, mk-exp-vf.h): mk-avx2.h expands MK_VF_DEFINE(_mm256) for 8 lanes and mk-avx512.h
// MK_VF_DEFINE(_mm512) for 16, each under its own target pragma, after defining mk_vf. Each
// ISA header adds what differs by more than the prefix (masks, horizontal sums). Private to
// this target.
#pragma once

// mk_vf_sums_within_lanes is the first half of a transpose-and-add tree, the part that stays
// inside 128-bit lanes and so reads the same at both widths: from MK_VF_LANES vectors v to
// MK_VF_LANES / 4 vectors y, where 128-bit lane L of y[i] holds lane L's partial sums of
// v[4i … 4i+3] (lane k of that lane: v[4i + k]'s). The ISA header's mk_vf_sums finishes it
// across lanes.
#define MK_VF_DEFINE(P) \
    static inline mk_vf mk_vf_zero(void) { return P##_setzero_ps(); } \
    static inline mk_vf mk_vf_splat(float x) { return P##_set1_ps(x); } \
    static inline mk_vf mk_vf_load(const float* p) { return P##_loadu_ps(p); } \
    static inline void mk_vf_store(float* p, mk_vf v) { P##_storeu_ps(p, v); } \
    static inline mk_vf mk_vf_add(mk_vf a, mk_vf b) { return P##_add_ps(a, b); } \
    static inline mk_vf mk_vf_fmadd(mk_vf a, mk_vf b, mk_vf c) { return P##_fmadd_ps(a, b, c); } \
    static inline mk_vf mk_vf_fnmadd(mk_vf a, mk_vf b, mk_vf c) { return P##_fnmadd_ps(a, b, c); } \
    static inline mk_vf mk_vf_sub(mk_vf a, mk_vf b) { return P##_sub_ps(a, b); } \
    static inline mk_vf mk_vf_mul(mk_vf a, mk_vf b) { return P##_mul_ps(a, b); } \
    static inline mk_vf mk_vf_div(mk_vf a, mk_vf b) { return P##_div_ps(a, b); } \
    /* max(a, b): b where either is NaN, as the instruction does */ \
    static inline mk_vf mk_vf_max(mk_vf a, mk_vf b) { return P##_max_ps(a, b); } \
    static inline void mk_vf_sums_within_lanes(const mk_vf* v, mk_vf* y) { \
        mk_vf x[MK_VF_LANES / 2]; \
        for (int i = 0; i < MK_VF_LANES / 2; i++) \
            x[i] = P##_add_ps(P##_unpacklo_ps(v[2 * i], v[2 * i + 1]), P##_unpackhi_ps(v[2 * i], v[2 * i + 1])); \
        for (int i = 0; i < MK_VF_LANES / 4; i++) { \
            const __auto_type a = P##_castps_pd(x[2 * i]); \
            const __auto_type b = P##_castps_pd(x[2 * i + 1]); \
            y[i] = P##_add_ps(P##_castpd_ps(P##_unpacklo_pd(a, b)), P##_castpd_ps(P##_unpackhi_pd(a, b))); \
        } \
    }
