// e^x for x ≤ 0 (or NaN) on the lane-neutral vectors (mk-vf.h): mk-exp.h's method and
// constants, for 8 lanes after mk-avx2.h or 16 after mk-avx512.h. Private to this target.
#pragma once
#include "mk-exp.h"

static inline mk_vf mk_vf_exp_nonpositive(mk_vf x) {
    // max(lo, x) keeps x's NaN (the second operand is returned when either is NaN).
    const mk_vf_lanes tiny = mk_vf_less(x, mk_vf_splat(MK_EXP_LO));
    const mk_vf c = mk_vf_max(mk_vf_splat(MK_EXP_LO), x);
    const mk_vf magic = mk_vf_splat(MK_EXP_MAGIC);
    const mk_vf t = mk_vf_fmadd(c, mk_vf_splat(1.442695041f), magic);
    const mk_vf scale = mk_vf_shift_to_exponent(t);
    const mk_vf n = mk_vf_sub(t, magic);
    mk_vf r = mk_vf_fnmadd(n, mk_vf_splat(MK_EXP_LN2_HI), c);
    r = mk_vf_fnmadd(n, mk_vf_splat(MK_EXP_LN2_LO), r);
    mk_vf p = mk_vf_splat(MK_EXP_C5);
    p = mk_vf_fmadd(p, r, mk_vf_splat(MK_EXP_C4));
    p = mk_vf_fmadd(p, r, mk_vf_splat(MK_EXP_C3));
    p = mk_vf_fmadd(p, r, mk_vf_splat(MK_EXP_C2));
    p = mk_vf_fmadd(p, r, mk_vf_splat(MK_EXP_C1));
    return mk_vf_clear(tiny, mk_vf_mul(mk_vf_fmadd(r, p, mk_vf_splat(1.0f)), scale));
}
