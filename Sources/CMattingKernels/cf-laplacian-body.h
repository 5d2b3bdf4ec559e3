// The body of mk_f64_cf_laplacian_ukernel__<isa>: one tile's product (L p)_i of the
// closed-form matting Laplacian (MattingRefine's MattingLaplacian.swift). Included by
// cf-laplacian-portable.c and cf-laplacian-avx2-fma.c, which define MK_CF_LAPLACIAN_NAME
// (and, for AVX2, wrap it in the target pragma): one source, two instruction sets, so the
// paths differ only by the compiler's vectorisation and FMA contraction. Private to this target.
//
// Plain loops over restrict pointers, written for the auto-vectoriser: every inner loop
// runs along a row, reads consecutive addresses and has no loop-carried dependency.
#include <string.h>
#include "cmk.h"

// Each loop sits in its own function because clang honours `restrict` only on parameters:
// with the pointers as locals it neither proves independence nor vectorises.

// Vertical window sums of p and I_c·p over k rows (row stride `stride`) for n columns.
static inline __attribute__((always_inline)) void mk_cf_vertical_products(
    double* restrict v0, double* restrict v1, double* restrict v2, double* restrict v3,
    const double* restrict P, const float* restrict C0, const float* restrict C1, const float* restrict C2,
    int32_t n, int32_t k, size_t stride)
{
    for (int32_t x = 0; x < n; x++) {
        const double q = P[x];
        v0[x] = q;
        v1[x] = (double) C0[x] * q;
        v2[x] = (double) C1[x] * q;
        v3[x] = (double) C2[x] * q;
    }
    for (int32_t v = 1; v < k; v++) {
        const size_t o = (size_t) v * stride;
        for (int32_t x = 0; x < n; x++) {
            const double q = P[o + x];
            v0[x] += q;
            v1[x] += (double) C0[o + x] * q;
            v2[x] += (double) C1[o + x] * q;
            v3[x] += (double) C2[o + x] * q;
        }
    }
}

// Horizontal window sums of the vertical sums (v*: Σp, Σ I_c p over the window's rows) and
// the coefficients in one pass: the window sums never leave registers.
static inline __attribute__((always_inline)) void mk_cf_row_coefficients(
    double* restrict b, double* restrict a0, double* restrict a1, double* restrict a2,
    const double* restrict v0, const double* restrict v1, const double* restrict v2, const double* restrict v3,
    const double* restrict m0, const double* restrict m1, const double* restrict m2,
    const double* restrict i00, const double* restrict i01, const double* restrict i02,
    const double* restrict i11, const double* restrict i12, const double* restrict i22,
    int32_t n, int32_t k, double inverse_area)
{
    for (int32_t x = 0; x < n; x++) {
        double s0 = v0[x], s1 = v1[x], s2 = v2[x], s3 = v3[x];
        for (int32_t u = 1; u < k; u++) { s0 += v0[x + u]; s1 += v1[x + u]; s2 += v2[x + u]; s3 += v3[x + u]; }
        const double mp = s0 * inverse_area;
        const double c0 = s1 * inverse_area - m0[x] * mp;
        const double c1 = s2 * inverse_area - m1[x] * mp;
        const double c2 = s3 * inverse_area - m2[x] * mp;
        const double e0 = i00[x] * c0 + i01[x] * c1 + i02[x] * c2;
        const double e1 = i01[x] * c0 + i11[x] * c1 + i12[x] * c2;
        const double e2 = i02[x] * c0 + i12[x] * c1 + i22[x] * c2;
        b[x] = mp - (e0 * m0[x] + e1 * m1[x] + e2 * m2[x]);
        a0[x] = e0;
        a1[x] = e1;
        a2[x] = e2;
    }
}

// Vertical window sums of the 4 coefficient planes (plane stride `plane`, row stride `stride`).
static inline __attribute__((always_inline)) void mk_cf_vertical_coefficients(
    double* restrict u0, double* restrict u1, double* restrict u2, double* restrict u3,
    const double* restrict A, size_t plane, int32_t n, int32_t k, size_t stride)
{
    for (int32_t x = 0; x < n; x++) {
        u0[x] = A[x];
        u1[x] = A[plane + x];
        u2[x] = A[2 * plane + x];
        u3[x] = A[3 * plane + x];
    }
    for (int32_t v = 1; v < k; v++) {
        const size_t o = (size_t) v * stride;
        for (int32_t x = 0; x < n; x++) {
            u0[x] += A[o + x];
            u1[x] += A[plane + o + x];
            u2[x] += A[2 * plane + o + x];
            u3[x] += A[3 * plane + o + x];
        }
    }
}

// t[x] = (Σa)ᵀ I + Σb for one output row: horizontal window sums of the vertical sums.
static inline __attribute__((always_inline)) void mk_cf_output_row(
    double* restrict t, const double* restrict u0, const double* restrict u1,
    const double* restrict u2, const double* restrict u3,
    const float* restrict C0, const float* restrict C1, const float* restrict C2, int32_t n, int32_t k)
{
    if (k == 3) {
        for (int32_t x = 0; x < n; x++) {
            const double s0 = u0[x] + u0[x + 1] + u0[x + 2];
            const double s1 = u1[x] + u1[x + 1] + u1[x + 2];
            const double s2 = u2[x] + u2[x + 1] + u2[x + 2];
            const double s3 = u3[x] + u3[x + 1] + u3[x + 2];
            t[x] = s1 * (double) C0[x] + s2 * (double) C1[x] + s3 * (double) C2[x] + s0;
        }
        return;
    }
    for (int32_t x = 0; x < n; x++) {
        double s0 = u0[x], s1 = u1[x], s2 = u2[x], s3 = u3[x];
        for (int32_t u = 1; u < k; u++) { s0 += u0[x + u]; s1 += u1[x + u]; s2 += u2[x + u]; s3 += u3[x + u]; }
        t[x] = s1 * (double) C0[x] + s2 * (double) C1[x] + s3 * (double) C2[x] + s0;
    }
}

// The product for window side k = 2r + 1; inlined into the entry point once per common k so
// the window loops are unrolled with constant trip counts.
static inline __attribute__((always_inline)) double mk_cf_laplacian_apply(
    const mk_cf_tile* restrict tile, const double* restrict p, double* restrict out,
    double* restrict scratch, const int32_t k)
{
    const int32_t r = (k - 1) / 2;
    const int32_t tw = tile->width, th = tile->height;
    const int32_t gw = tw + 2 * r, gh = th + 2 * r, pw = tw + 4 * r, ph = th + 4 * r;
    const size_t pn = (size_t) pw * (size_t) ph, gn = (size_t) gw * (size_t) gh, tn = (size_t) tw * (size_t) th;
    const int32_t W = tile->picture_width, H = tile->picture_height;
    const double inverse_area = 1.0 / (double) (k * k);

    double* restrict P = scratch;              // p on the pixel grid, 0 outside the picture
    double* restrict V = P + pn;               // 4 rows of pw: vertical sums of p, I_c·p
    double* restrict A = V + 4 * (size_t) pw;  // 4 planes gn: b_k, a_k (3)
    double* restrict VA = A + 4 * gn;          // 4 rows of gw: vertical sums of A
    double* restrict T = VA + 4 * (size_t) gw; // tn: (Σa)ᵀ I_i + Σb on the output rectangle

    // 1. Gather p with its 2r halo.
    const int32_t px0 = tile->x0 - 2 * r, py0 = tile->y0 - 2 * r;
    const int32_t lo = px0 < 0 ? -px0 : 0, hi = W - px0 < pw ? W - px0 : pw;
    for (int32_t py = 0; py < ph; py++) {
        double* restrict row = P + (size_t) py * (size_t) pw;
        const int32_t y = py0 + py;
        if (y < 0 || y >= H || hi <= lo) {
            memset(row, 0, sizeof(double) * (size_t) pw);
            continue;
        }
        for (int32_t x = 0; x < lo; x++) row[x] = 0;
        memcpy(row + lo, p + (size_t) y * (size_t) W + (size_t) (px0 + lo), sizeof(double) * (size_t) (hi - lo));
        for (int32_t x = hi; x < pw; x++) row[x] = 0;
    }

    // 2. Per window centre: mean(p), mean(I·p) by box sums, then
    //    a_k = Δ_k⁻¹ (mean(I p) − μ_k mean(p)), b_k = mean(p) − a_kᵀ μ_k; 0 for windows that
    //    do not lie inside the picture (centre closer than r to a border).
    const int32_t gx0 = tile->x0 - r, gy0 = tile->y0 - r;
    int32_t vx0 = r - gx0, vx1 = W - r - gx0;
    if (vx0 < 0) vx0 = 0;
    if (vx1 > gw) vx1 = gw;
    const float* restrict C0 = tile->colour;
    const float* restrict C1 = C0 + pn;
    const float* restrict C2 = C1 + pn;
    const double* restrict S = tile->stats;
    for (int32_t gy = 0; gy < gh; gy++) {
        double* b = A + (size_t) gy * (size_t) gw;
        double* a0 = b + gn;
        double* a1 = a0 + gn;
        double* a2 = a1 + gn;
        const int32_t y = gy0 + gy;
        if (y < r || y >= H - r || vx1 <= vx0) {
            memset(b, 0, sizeof(double) * (size_t) gw);
            memset(a0, 0, sizeof(double) * (size_t) gw);
            memset(a1, 0, sizeof(double) * (size_t) gw);
            memset(a2, 0, sizeof(double) * (size_t) gw);
            continue;
        }
        double* v0 = V;
        double* v1 = V + pw;
        double* v2 = V + 2 * pw;
        double* v3 = V + 3 * pw;
        const size_t op = (size_t) gy * (size_t) pw;
        mk_cf_vertical_products(v0, v1, v2, v3, P + op, C0 + op, C1 + op, C2 + op, pw, k, (size_t) pw);
        const size_t o = (size_t) gy * (size_t) gw;
        const double* m0 = S + o;
        const double* m1 = m0 + gn;
        const double* m2 = m1 + gn;
        const double* i00 = m2 + gn;
        const double* i01 = i00 + gn;
        const double* i02 = i01 + gn;
        const double* i11 = i02 + gn;
        const double* i12 = i11 + gn;
        const double* i22 = i12 + gn;
        for (int32_t x = 0; x < vx0; x++) { b[x] = 0; a0[x] = 0; a1[x] = 0; a2[x] = 0; }
        mk_cf_row_coefficients(b + vx0, a0 + vx0, a1 + vx0, a2 + vx0, v0 + vx0, v1 + vx0, v2 + vx0, v3 + vx0,
                               m0 + vx0, m1 + vx0, m2 + vx0, i00 + vx0, i01 + vx0, i02 + vx0,
                               i11 + vx0, i12 + vx0, i22 + vx0, vx1 - vx0, k, inverse_area);
        for (int32_t x = vx1; x < gw; x++) { b[x] = 0; a0[x] = 0; a1[x] = 0; a2[x] = 0; }
    }

    // 3. Per output pixel: Σ_{k ∋ i} (a_kᵀ I_i + b_k), as box sums of a_k, b_k.
    for (int32_t ty = 0; ty < th; ty++) {
        double* u0 = VA;
        double* u1 = VA + gw;
        double* u2 = VA + 2 * gw;
        double* u3 = VA + 3 * gw;
        const size_t o = (size_t) ty * (size_t) gw;
        mk_cf_vertical_coefficients(u0, u1, u2, u3, A + o, gn, gw, k, (size_t) gw);
        // The colour of output pixel (tx, ty) sits at (tx + 2r, ty + 2r) on the pixel grid.
        const size_t oc = (size_t) (ty + 2 * r) * (size_t) pw + (size_t) (2 * r);
        mk_cf_output_row(T + (size_t) ty * (size_t) tw, u0, u1, u2, u3, C0 + oc, C1 + oc, C2 + oc, tw, k);
    }

    // 4. (L p)_i = n_i p_i − that, for the unknown pixels; Σ p_i (L p)_i for the CG step.
    const int32_t* restrict unknown = tile->unknown;
    const int32_t* restrict local = tile->local;
    const double* restrict count = tile->count;
    double dot = 0;
    for (int32_t j = 0; j < tile->unknown_count; j++) {
        const double pi = p[unknown[j]];
        const double value = count[j] * pi - T[local[j]];
        out[j] = value;
        dot += pi * value;
    }
    (void) tn;
    return dot;
}

double MK_CF_LAPLACIAN_NAME(const mk_cf_tile* restrict tile, const double* restrict p,
                            double* restrict out, double* restrict scratch)
{
    switch (tile->radius) {
    case 1: return mk_cf_laplacian_apply(tile, p, out, scratch, 3);
    case 2: return mk_cf_laplacian_apply(tile, p, out, scratch, 5);
    default: return mk_cf_laplacian_apply(tile, p, out, scratch, 2 * tile->radius + 1);
    }
}
