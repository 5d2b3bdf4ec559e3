// mk_f32_vsigmoid_ukernel_16__avx512f: y = 1 / (1 + exp(−x)), 16 lanes at a time (masked
// tail). Replaces a scalar expf loop (~10 ns per value) where a model ends in a sigmoid over
// a full-resolution map (the selfie model: 65,536 values per run).
//
// exp(−|x|) = 2^n · p(r) with n = round(−|x|·log2 e) and r = −|x| − n·ln 2 (ln 2 split in
// two for an exact reduction, |r| ≤ ln2/2); p is the degree-7 Taylor polynomial (relative
// error < 1e-8 on that interval, below float rounding); 2^n is applied by vscalefps, which
// also underflows cleanly to 0 for |x| > 104. Then f = e / (1 + e), and 1 − f for x > 0.
// Maximum error against the double-precision sigmoid is a few float ulps (tested).
#include "cmk.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#include "mk-avx512.h"

static inline __m512 mk_sigmoid16(__m512 x) {
    const __m512 z = _mm512_abs_ps(x);
    const __m512 t = _mm512_sub_ps(_mm512_setzero_ps(), z);  // −|x| ≤ 0
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(t, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), t);      // ln2 hi (exact product)
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860682030941723212e-6f), r);    // ln2 lo
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __m512 e = _mm512_scalef_ps(p, n);
    const __m512 f = _mm512_div_ps(e, _mm512_add_ps(e, _mm512_set1_ps(1.0f)));
    // x > 0: 1 − f. NaN compares false and keeps f, which is NaN.
    const __mmask16 positive = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ);
    return _mm512_mask_sub_ps(f, positive, _mm512_set1_ps(1.0f), f);
}

void mk_f32_vsigmoid_ukernel_16__avx512f(size_t n, const float* x, float* y) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, mk_sigmoid16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = mk_mask16(n - i);
        _mm512_mask_storeu_ps(y + i, m, mk_sigmoid16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

#pragma clang attribute pop

#else

void mk_f32_vsigmoid_ukernel_16__avx512f(size_t n, const float* x, float* y) {
    (void) n; (void) x; (void) y;
    __builtin_trap();  // never dispatched: mk_cpu_supports_avx512f() is 0 here
}

#endif
