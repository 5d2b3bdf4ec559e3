// mk_f32_vsigmoid_ukernel_16__avx512f: the vectorised sigmoid, 16 lanes. Body: vsigmoid-body.h.
#include "cmk.h"

#define MK_VSIGMOID_NAME mk_f32_vsigmoid_ukernel_16__avx512f
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#include "mk-avx512.h"
#include "vsigmoid-body.h"
#pragma clang attribute pop
#else
#include "vsigmoid-body.h"
#endif
