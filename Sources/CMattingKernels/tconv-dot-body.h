// The body of mk_f32_tconv_dot_ukernel_<N>c__<isa>, the few-output-channels dot kernel
// (DotConvolutionRow.swift): every output of one phase of one output row of a transposed
// convolution with few output channels per group (TransposedConvolutionKernel: a segmentation
// head's 16 → 1 2×2 stride-2 layer), or of one row of such a stride-1 convolution
// (ConvolutionKernel: a 64 → 1 3×3 head), as a direct dot product. There a GEMM panel would
// waste nearly all its columns.
//
// Included by tconv-dot-avx2-fma.c (8 lanes, ymm) and tconv-dot-avx512f.c (16 lanes, zmm),
// which define MK_TCONV_DOT_NAME and, on x86_64, push their target pragma and include their
// ISA's vector helpers first (mk-avx2.h or mk-avx512.h: mk_vf, MK_VF_LANES, mk_vf_*). One
// source, two vector widths; each ISA keeps its own horizontal sums, so the order of the
// additions is a property of the path. Private to this target.
#include "cmk.h"

#if defined(__x86_64__)

void MK_TCONV_DOT_NAME(
    const float* image, const mk_tconv_dot_params* p,
    int32_t qy, int32_t qx0, size_t count, float* out, size_t out_pixel_stride,
    size_t tap_count, const int32_t* dy, const int32_t* dx,
    const float* weights, const float* bias)
{
    enum { N = MK_VF_LANES };
    const int32_t H = p->input_height, W = p->input_width;
    const size_t C = (size_t) p->channels, icg = (size_t) p->group_input_channels;
    const size_t ocg = (size_t) p->group_output_channels, groups = (size_t) p->groups;
    const size_t full = icg & ~(size_t) (N - 1);
    const mk_vf_mask tail = mk_vf_first(icg - full);
    size_t j = 0;
    // One output channel, one group, whole N-channel blocks (a segmentation head): N pixels
    // at a time, their vector sums reduced together. Used for pixel blocks whose taps are all
    // inside the image; which pixels take it depends only on the geometry, never on threads.
    if (groups == 1 && ocg == 1 && icg == full && icg > 0) {
        for (; j + N <= count; j += N) {
            const int32_t qx = qx0 + (int32_t) j;
            int inside = 1;
            for (size_t t = 0; t < tap_count; t++) {
                const int32_t iy = qy + dy[t];
                inside &= iy >= 0 && iy < H && qx + dx[t] >= 0 && qx + (N - 1) + dx[t] < W;
            }
            if (!inside) break;
            mk_vf acc[N];
            for (int k = 0; k < N; k++) acc[k] = mk_vf_zero();
            for (size_t t = 0; t < tap_count; t++) {
                const float* a = image + ((size_t) (qy + dy[t]) * (size_t) W + (size_t) (qx + dx[t])) * C;
                const float* b = weights + t * icg;
                for (size_t i = 0; i < icg; i += N) {
                    const mk_vf wv = mk_vf_load(b + i);
                    for (int k = 0; k < N; k++)
                        acc[k] = mk_vf_fmadd(mk_vf_load(a + (size_t) k * C + i), wv, acc[k]);
                }
            }
            const mk_vf r = mk_vf_add(mk_vf_splat(bias[0]), mk_vf_sums(acc));
            float* o = out + j * out_pixel_stride;
            if (out_pixel_stride == 1) {
                mk_vf_store(o, r);
            } else {
                float v[N];
                mk_vf_store(v, r);
                for (int k = 0; k < N; k++) o[(size_t) k * out_pixel_stride] = v[k];
            }
        }
    }
    for (; j < count; j++) {
        const int32_t qx = qx0 + (int32_t) j;
        float* o = out + j * out_pixel_stride;
        for (size_t grp = 0; grp < groups; grp++) {
            for (size_t oc = 0; oc < ocg; oc++) {
                // One vector sum over taps and channel blocks, reduced once: a fixed order for
                // a given geometry, whichever thread computes the row.
                mk_vf acc = mk_vf_zero();
                const float* wo = weights + (grp * ocg + oc) * tap_count * icg;
                for (size_t t = 0; t < tap_count; t++) {
                    const int32_t iy = qy + dy[t], ix = qx + dx[t];
                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                    const float* a = image + ((size_t) iy * (size_t) W + (size_t) ix) * C + grp * icg;
                    const float* b = wo + t * icg;
                    size_t i = 0;
                    for (; i < full; i += N)
                        acc = mk_vf_fmadd(mk_vf_load(a + i), mk_vf_load(b + i), acc);
                    if (i < icg)
                        acc = mk_vf_fmadd(mk_vf_load_first(a + i, tail), mk_vf_load_first(b + i, tail), acc);
                }
                o[grp * ocg + oc] = bias[grp * ocg + oc] + mk_vf_sum(acc);
            }
        }
    }
}

#else

void MK_TCONV_DOT_NAME(
    const float* image, const mk_tconv_dot_params* p,
    int32_t qy, int32_t qx0, size_t count, float* out, size_t out_pixel_stride,
    size_t tap_count, const int32_t* dy, const int32_t* dx,
    const float* weights, const float* bias)
{
    (void) image; (void) p; (void) qy; (void) qx0; (void) count; (void) out; (void) out_pixel_stride;
    (void) tap_count; (void) dy; (void) dx; (void) weights; (void) bias;
    __builtin_trap();  // never dispatched: KernelISA offers the x86 paths only on x86_64
}

#endif
