// y = 1 / (1 + e^(−x)) on vectors: 4 lanes portable (SSE2 / NEON) here; 8 with AVX2+FMA and 16
// with AVX-512F (masked tail) from the same steps in vsigmoid-body.h. A model that ends in a sigmoid over a full-resolution map (the
// selfie model: 65,536 values a run) and squeeze-and-excitation gates run it; element by
// element with the C library's expf it cost about 10 ns a value.
//
// e = e^(−|x|) (mk-exp.h: relative error 1.6e-7, 0 below −87.34 so no denormal ever reaches
// an arithmetic instruction — on Intel cores one that does costs a microcode assist of a
// hundred cycles or more, which made the first AVX-512 version, whose 2^n could underflow
// gradually, spend most of its time there on the selfie model's strongly negative logits),
// f = e / (1 + e), and 1 − f for x > 0. So every output is in [0, 1]; where the exact
// sigmoid is below the smallest normal float (x < −87.34) the output is 0. NaN gives NaN.
#include "cmk.h"
#include "mk-exp.h"

static inline mk_v4 mk_sigmoid4(mk_v4 x) {
    const mk_si4 negative = (mk_si4)(x < mk_splat4(0.0f)), positive = (mk_si4)(x > mk_splat4(0.0f));
    const mk_v4 minus_abs = (mk_v4)(((mk_si4)x & negative) | ((mk_si4)(-x) & ~negative));  // −|x|, NaN kept
    const mk_v4 e = mk_exp4_nonpositive(minus_abs);
    const mk_v4 f = e / (e + mk_splat4(1.0f));
    return (mk_v4)(((mk_si4)(mk_splat4(1.0f) - f) & positive) | ((mk_si4)f & ~positive));
}

void mk_f32_vsigmoid_ukernel_4__portable(size_t n, const float* x, float* y) { mk_map4(n, x, y, mk_sigmoid4); }
