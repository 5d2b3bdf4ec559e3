// The few-input-channels convolution's one body for both x86 widths (cmk.h says what it
// computes): defines MK_CONV_HWC_NAME on the lane-neutral names of mk-avx2.h or mk-avx512.h,
// included after one of them; off x86_64, a stub that traps (KernelISA offers these paths
// there only).
//
// Per output block of MK_VF_LANES channels, pixels whose taps all lie inside the picture go 8
// at a time: each packed weight vector is loaded once and meets 8 broadcast input values, 8
// independent accumulators (the FMA latency is hidden and loads stay about one per FMA).
// Pixels near the left and right edges go one at a time and skip the taps outside. Both add
// the taps in the same (ky, kx, ic) order from the bias, so the grouping changes no bits.
#include "cmk.h"

#if defined(__x86_64__)

#define MK_CONV_HWC_GROUP 8

// The row, for `C` input channels: always inlined, so the call with a literal 3 (RGB) gets
// its channel loops unrolled.
__attribute__((always_inline)) static inline void mk_conv_hwc_row(
    const float* input, int32_t oy, float* out, const float* weights, const float* bias,
    const mk_conv_hwc_params* p, const mk_activation* act, const int32_t C) {
    const int32_t H = p->input_height, W = p->input_width;
    const int32_t KH = p->kernel_height, KW = p->kernel_width, SH = p->stride_height, SW = p->stride_width;
    const int32_t DH = p->dilation_height, DW = p->dilation_width, OW = p->output_width, OC = p->output_channels;
    const size_t tap_floats = (size_t) C * MK_VF_LANES, block_floats = (size_t) KH * (size_t) KW * tap_floats;
    // The kernel rows inside the picture for this output row.
    const int32_t iy0 = oy * SH - p->pad_top;
    int32_t ky0 = 0, ky1 = KH;
    while (ky0 < KH && iy0 + ky0 * DH < 0) ky0++;
    while (ky1 > ky0 && iy0 + (ky1 - 1) * DH >= H) ky1--;
    // The output columns whose taps all lie inside the picture: [inner0, inner1).
    int32_t inner0 = 0, inner1 = OW;
    while (inner0 < OW && inner0 * SW - p->pad_left < 0) inner0++;
    while (inner1 > inner0 && (inner1 - 1) * SW - p->pad_left + (KW - 1) * DW >= W) inner1--;
    const int32_t blocks = (OC + MK_VF_LANES - 1) / MK_VF_LANES;
    for (int32_t b = 0; b < blocks; b++) {
        const float* wb = weights + (size_t) b * block_floats;
        const mk_vf start = mk_vf_load(bias + (size_t) b * MK_VF_LANES);
        const int32_t oc0 = b * MK_VF_LANES, n = OC - oc0 < MK_VF_LANES ? OC - oc0 : MK_VF_LANES;
        const mk_vf_mask first = mk_vf_first((size_t) n);
        int32_t ox = 0;
        while (ox < OW) {
            const int grouped = ox >= inner0 && ox + MK_CONV_HWC_GROUP <= inner1;
            const int count = grouped ? MK_CONV_HWC_GROUP : 1;
            mk_vf acc[MK_CONV_HWC_GROUP];
            for (int g = 0; g < count; g++) acc[g] = start;
            const int32_t ix0 = ox * SW - p->pad_left;
            for (int32_t ky = ky0; ky < ky1; ky++) {
                const float* row = input + (size_t) (iy0 + ky * DH) * (size_t) W * (size_t) C;
                for (int32_t kx = 0; kx < KW; kx++) {
                    const int32_t ix = ix0 + kx * DW;
                    const float* w = wb + ((size_t) ky * (size_t) KW + (size_t) kx) * tap_floats;
                    if (grouped) {
                        const float* px = row + (size_t) ix * (size_t) C;
                        for (int32_t c = 0; c < C; c++) {
                            const mk_vf wv = mk_vf_load(w + (size_t) c * MK_VF_LANES);
                            for (int g = 0; g < MK_CONV_HWC_GROUP; g++)
                                acc[g] = mk_vf_fmadd(mk_vf_splat(px[(size_t) g * (size_t) SW * (size_t) C + (size_t) c]), wv, acc[g]);
                        }
                    } else if (ix >= 0 && ix < W) {
                        const float* px = row + (size_t) ix * (size_t) C;
                        for (int32_t c = 0; c < C; c++)
                            acc[0] = mk_vf_fmadd(mk_vf_splat(px[c]), mk_vf_load(w + (size_t) c * MK_VF_LANES), acc[0]);
                    }
                }
            }
            for (int g = 0; g < count; g++) {
                float* o = out + (size_t) (ox + g) * (size_t) OC + (size_t) oc0;
                const mk_vf v = mk_vf_activate(acc[g], act);
                if (n == MK_VF_LANES) mk_vf_store(o, v);
                else mk_vf_store_first(o, first, v);
            }
            ox += count;
        }
    }
}

void MK_CONV_HWC_NAME(const float* input, int32_t oy, float* out, const float* weights, const float* bias,
                      const mk_conv_hwc_params* p, const mk_activation* act) {
    if (p->input_channels == 3) mk_conv_hwc_row(input, oy, out, weights, bias, p, act, 3);
    else mk_conv_hwc_row(input, oy, out, weights, bias, p, act, p->input_channels);
}

#else

void MK_CONV_HWC_NAME(const float* input, int32_t oy, float* out, const float* weights, const float* bias,
                      const mk_conv_hwc_params* p, const mk_activation* act) {
    (void) input; (void) oy; (void) out; (void) weights; (void) bias; (void) p; (void) act;
    __builtin_trap();
}

#endif
