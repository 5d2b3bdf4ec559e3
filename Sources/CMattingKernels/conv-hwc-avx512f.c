// mk_f32_conv_hwc_ukernel__avx512f: the few-input-channels convolution, output channels 16
// per vector. Body: conv-hwc-body.h.
#include "cmk.h"

#define MK_CONV_HWC_NAME mk_f32_conv_hwc_ukernel__avx512f
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#include "mk-avx512.h"
#include "conv-hwc-body.h"
#pragma clang attribute pop
#else
#include "conv-hwc-body.h"
#endif
