// The vectorised sigmoid's one body for both x86 widths (vsigmoid.c says what it computes):
// defines MK_VSIGMOID_NAME on the lane-neutral names of mk-avx2.h or mk-avx512.h, included
// after one of them; off x86_64, a stub that traps (KernelISA offers these paths there only).
#include "cmk.h"

#if defined(__x86_64__)
#include "mk-exp-vf.h"

static inline mk_vf mk_vf_sigmoid(mk_vf x) {
    const mk_vf e = mk_vf_exp_nonpositive(mk_vf_minus_abs(x));
    const mk_vf f = mk_vf_div(e, mk_vf_add(e, mk_vf_splat(1.0f)));
    // x > 0: 1 − f. NaN compares false and keeps f, which is NaN.
    return mk_vf_select(mk_vf_greater(x, mk_vf_zero()), f, mk_vf_sub(mk_vf_splat(1.0f), f));
}

void MK_VSIGMOID_NAME(size_t n, const float* x, float* y) {
    size_t i = 0;
    for (; i + MK_VF_LANES <= n; i += MK_VF_LANES) mk_vf_store(y + i, mk_vf_sigmoid(mk_vf_load(x + i)));
    if (i < n) {
        const mk_vf_mask m = mk_vf_first(n - i);
        mk_vf_store_first(y + i, m, mk_vf_sigmoid(mk_vf_load_first(x + i, m)));
    }
}

#else

void MK_VSIGMOID_NAME(size_t n, const float* x, float* y) {
    (void) n; (void) x; (void) y;
    __builtin_trap();
}

#endif
