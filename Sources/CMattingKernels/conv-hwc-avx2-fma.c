// mk_f32_conv_hwc_ukernel__avx2_fma: the few-input-channels convolution, output channels 8
// per vector. Body: conv-hwc-body.h.
#include "cmk.h"

#define MK_CONV_HWC_NAME mk_f32_conv_hwc_ukernel__avx2_fma
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "mk-avx2.h"
#include "conv-hwc-body.h"
#pragma clang attribute pop
#else
#include "conv-hwc-body.h"
#endif
