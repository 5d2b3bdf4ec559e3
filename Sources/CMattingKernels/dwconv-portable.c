// mk_f32_dwconv_ukernel_4c__portable: the depthwise row kernel with generic 128-bit vectors
// (4 channels at a time, scalar channel tail). Same tap order as the AVX2 kernel.
#include "mk-portable.h"
#include "mk-dwconv.h"




void mk_f32_dwconv_ukernel_4c__portable(
    const float* input, int32_t output_y, float* output_row,
    const float* weights, const float* bias,
    const mk_dwconv_params* p, const mk_activation* act)
{
    const int32_t H = p->input_height, W = p->input_width, C = p->channels, cs = p->channel_stride;
    const int32_t kh = p->kernel_height, kw = p->kernel_width;
    const int32_t sw = p->stride_width, dh = p->dilation_height, dw = p->dilation_width;
    const int32_t iy0 = output_y * p->stride_height - p->pad_top;
    int32_t ky_lo, ky_hi;
    mk_dw_tap_range(iy0, kh, dh, H, &ky_lo, &ky_hi);
    const size_t pix = (size_t) C, xstep = (size_t) dw * pix;
    const int32_t C4 = C & ~3;
    for (int32_t ox = 0; ox < p->output_width; ox++) {
        const int32_t ix0 = ox * sw - p->pad_left;
        int32_t kx_lo, kx_hi;
        mk_dw_tap_range(ix0, kw, dw, W, &kx_lo, &kx_hi);
        float* o = output_row + (size_t) ox * pix;
        for (int32_t c = 0; c < C4; c += 4) {
            mk_v4 acc = mk_load4(bias + c);
            for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
                const float* ip = input + ((size_t) (iy0 + ky * dh) * (size_t) W + (size_t) (ix0 + kx_lo * dw)) * pix + c;
                const float* wp = weights + (size_t) (ky * kw + kx_lo) * (size_t) cs + c;
                for (int32_t kx = kx_lo; kx < kx_hi; kx++) {
                    acc = mk_load4(ip) * mk_load4(wp) + acc;
                    ip += xstep; wp += cs;
                }
            }
            float tmp[4];
            memcpy(tmp, &acc, sizeof tmp);
            for (int i = 0; i < 4; i++) o[c + i] = mk_activate1(tmp[i], act);
        }
        for (int32_t c = C4; c < C; c++) {
            float acc = bias[c];
            for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
                const float* ip = input + ((size_t) (iy0 + ky * dh) * (size_t) W + (size_t) (ix0 + kx_lo * dw)) * pix + c;
                const float* wp = weights + (size_t) (ky * kw + kx_lo) * (size_t) cs + c;
                for (int32_t kx = kx_lo; kx < kx_hi; kx++) {
                    acc = *ip * *wp + acc;
                    ip += xstep; wp += cs;
                }
            }
            o[c] = mk_activate1(acc, act);
        }
    }
}
