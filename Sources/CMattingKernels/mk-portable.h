// Shared by the portable microkernels (gemm, dwconv): generic 128-bit vectors, which
// compile to SSE2 on x86_64 and NEON on arm64, and the scalar fused activations. Private
// to this target.
#pragma once
#include <string.h>
#include "cmk.h"

typedef float mk_v4 __attribute__((vector_size(16), aligned(4)));

static inline mk_v4 mk_load4(const float* p) { mk_v4 v; memcpy(&v, p, sizeof v); return v; }
static inline void mk_store4(float* p, mk_v4 v) { memcpy(p, &v, sizeof v); }
static inline mk_v4 mk_splat4(float x) { return (mk_v4){x, x, x, x}; }

/// y[i] = f(x[i]) for i < n (in place allowed), 4 lanes at a time; the tail through a
/// zero-padded vector, so nothing is read or written past n. Always inlined: `f` is a
/// constant at every call and inlines too.
__attribute__((always_inline)) static inline void mk_map4(size_t n, const float* x, float* y, mk_v4 (*f)(mk_v4)) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) mk_store4(y + i, f(mk_load4(x + i)));
    if (i < n) {
        float in[4] = {0, 0, 0, 0}, out[4];
        for (size_t t = 0; i + t < n; t++) in[t] = x[i + t];
        mk_store4(out, f(mk_load4(in)));
        for (size_t t = 0; i + t < n; t++) y[i + t] = out[t];
    }
}

/// One value through a fused activation (everything but identity/relu/relu6/clip, which
/// arrive as `lo`/`hi` clamps in the default case).
static inline float mk_activate1(float x, const mk_activation* act) {
    switch (act->kind) {
    case MK_ACT_HARDSWISH: {
        float r = x + 3.0f; r = r > 0.0f ? r : 0.0f; r = r < 6.0f ? r : 6.0f;
        return x * r * (1.0f / 6.0f);
    }
    case MK_ACT_LEAKY_RELU: return x >= 0.0f ? x : act->alpha * x;
    case MK_ACT_HARD_SIGMOID: {
        float y = act->alpha * x + act->beta; y = y < 1.0f ? y : 1.0f;
        return y > 0.0f ? y : 0.0f;
    }
    default: {
        float y = x > act->lo ? x : act->lo;
        return y < act->hi ? y : act->hi;
    }
    }
}
