// mk_f32_vsigmoid_ukernel_8__avx2_fma: the vectorised sigmoid, 8 lanes. Body: vsigmoid-body.h.
#include "cmk.h"

#define MK_VSIGMOID_NAME mk_f32_vsigmoid_ukernel_8__avx2_fma
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "mk-avx2.h"
#include "vsigmoid-body.h"
#pragma clang attribute pop
#else
#include "vsigmoid-body.h"
#endif
