// mk_f32_tconv_dot_ukernel_16c__avx512f: the few-output-channels dot kernel with input
// channels 16 per zmm, pixels 16 at a time on the one-output-channel path. Body:
// tconv-dot-body.h.
#include "cmk.h"

#define MK_TCONV_DOT_NAME mk_f32_tconv_dot_ukernel_16c__avx512f
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#include "mk-avx512.h"
#include "tconv-dot-body.h"
#pragma clang attribute pop
#else
#include "tconv-dot-body.h"  // a trapping stub: KernelISA offers this path on x86_64 only
#endif
