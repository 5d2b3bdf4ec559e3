// mk_f32_tconv_dot_ukernel_8c__avx2_fma: the few-output-channels dot kernel with input
// channels 8 per ymm, pixels 8 at a time on the one-output-channel path. Body: tconv-dot-body.h.
#include "cmk.h"

#define MK_TCONV_DOT_NAME mk_f32_tconv_dot_ukernel_8c__avx2_fma
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "mk-avx2.h"
#include "tconv-dot-body.h"
#pragma clang attribute pop
#else
#include "tconv-dot-body.h"  // a trapping stub: KernelISA offers this path on x86_64 only
#endif
