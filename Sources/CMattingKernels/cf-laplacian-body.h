// The bodies of mk_f64_cf_laplacian_ukernel__<isa> (one tile's product (L p)_i of the
// closed-form matting Laplacian, MattingRefine's MattingLaplacian.swift) and
// mk_f64_cf_tile_stats__<isa> (its per-tile window statistics). Included by
// cf-laplacian-portable.c and cf-laplacian-avx2-fma.c, which define MK_CF_LAPLACIAN_NAME and
// MK_CF_STATS_NAME (and, for AVX2, wrap them in the target pragma): one source, two
// instruction sets, so the paths differ only by the compiler's vectorisation and FMA
// contraction. Private to this target.
//
// Plain loops over restrict pointers, written for the auto-vectoriser: every inner loop
// runs along a row, reads consecutive addresses and has no loop-carried dependency.
#include <string.h>
#include "cmk.h"

// Each loop sits in its own function because clang honours `restrict` only on parameters:
// with the pointers as locals it neither proves independence nor vectorises.

// Vertical window sums of p, I_c·p and I_c over k rows (row stride `stride`) for n columns.
static inline __attribute__((always_inline)) void mk_cf_vertical_products(
    double* restrict v0, double* restrict v1, double* restrict v2, double* restrict v3,
    double* restrict v4, double* restrict v5, double* restrict v6,
    const double* restrict P, const float* restrict C0, const float* restrict C1, const float* restrict C2,
    int32_t n, int32_t k, size_t stride)
{
    for (int32_t x = 0; x < n; x++) {
        const double q = P[x], c0 = (double) C0[x], c1 = (double) C1[x], c2 = (double) C2[x];
        v0[x] = q;
        v1[x] = c0 * q;
        v2[x] = c1 * q;
        v3[x] = c2 * q;
        v4[x] = c0;
        v5[x] = c1;
        v6[x] = c2;
    }
    for (int32_t v = 1; v < k; v++) {
        const size_t o = (size_t) v * stride;
        for (int32_t x = 0; x < n; x++) {
            const double q = P[o + x], c0 = (double) C0[o + x], c1 = (double) C1[o + x], c2 = (double) C2[o + x];
            v0[x] += q;
            v1[x] += c0 * q;
            v2[x] += c1 * q;
            v3[x] += c2 * q;
            v4[x] += c0;
            v5[x] += c1;
            v6[x] += c2;
        }
    }
}

// Horizontal window sums of the vertical sums (v0..v3: Σp, Σ I_c p over the window's rows;
// v4..v6: Σ I_c) and the coefficients in one pass: the window sums never leave registers.
// μ_k is recomputed here from the colour the kernel reads anyway, in exactly the order and
// arithmetic of mk_cf_tile_stats (so it is the same Double), instead of being loaded: the
// product is bound by memory traffic on large bands and μ was a third of the statistics.
static inline __attribute__((always_inline)) void mk_cf_row_coefficients(
    double* restrict b, double* restrict a0, double* restrict a1, double* restrict a2,
    const double* restrict v0, const double* restrict v1, const double* restrict v2, const double* restrict v3,
    const double* restrict v4, const double* restrict v5, const double* restrict v6,
    const double* restrict i00, const double* restrict i01, const double* restrict i02,
    const double* restrict i11, const double* restrict i12, const double* restrict i22,
    int32_t n, int32_t k, double inverse_area)
{
    for (int32_t x = 0; x < n; x++) {
        double s0 = v0[x], s1 = v1[x], s2 = v2[x], s3 = v3[x], t0 = v4[x], t1 = v5[x], t2 = v6[x];
        for (int32_t u = 1; u < k; u++) {
            s0 += v0[x + u]; s1 += v1[x + u]; s2 += v2[x + u]; s3 += v3[x + u];
            t0 += v4[x + u]; t1 += v5[x + u]; t2 += v6[x + u];
        }
        const double m0 = t0 * inverse_area, m1 = t1 * inverse_area, m2 = t2 * inverse_area;
        const double mp = s0 * inverse_area;
        const double c0 = s1 * inverse_area - m0 * mp;
        const double c1 = s2 * inverse_area - m1 * mp;
        const double c2 = s3 * inverse_area - m2 * mp;
        const double e0 = i00[x] * c0 + i01[x] * c1 + i02[x] * c2;
        const double e1 = i01[x] * c0 + i11[x] * c1 + i12[x] * c2;
        const double e2 = i02[x] * c0 + i12[x] * c1 + i22[x] * c2;
        b[x] = mp - (e0 * m0 + e1 * m1 + e2 * m2);
        a0[x] = e0;
        a1[x] = e1;
        a2[x] = e2;
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

// Vertical window sums of the 4 coefficient planes over window rows ty … ty + k − 1, held
// in a ring of k rows of n (row y in slot y mod k, plane stride `plane`), in row order.
static inline __attribute__((always_inline)) void mk_cf_vertical_coefficients_ring(
    double* restrict u0, double* restrict u1, double* restrict u2, double* restrict u3,
    const double* restrict A, size_t plane, int32_t ty, int32_t n, int32_t k)
{
    const double* restrict a = A + (size_t) (ty % k) * (size_t) n;
    for (int32_t x = 0; x < n; x++) {
        u0[x] = a[x];
        u1[x] = a[plane + x];
        u2[x] = a[2 * plane + x];
        u3[x] = a[3 * plane + x];
    }
    for (int32_t v = 1; v < k; v++) {
        const double* restrict b = A + (size_t) ((ty + v) % k) * (size_t) n;
        for (int32_t x = 0; x < n; x++) {
            u0[x] += b[x];
            u1[x] += b[plane + x];
            u2[x] += b[2 * plane + x];
            u3[x] += b[3 * plane + x];
        }
    }
}

// The product for window side k = 2r + 1; inlined into the entry point once per common k so
// the window loops are unrolled with constant trip counts.
//
// One pass down the tile: window row gy's coefficients go into a ring of k rows, and as
// soon as the k rows an output row needs are there, that output row and its unknowns are
// finished. The working set (p with its halo, the ring, a few rows) stays in L1; the
// arithmetic and its order are those of computing every plane whole.
static inline __attribute__((always_inline)) double mk_cf_laplacian_apply(
    const mk_cf_tile* restrict tile, const double* restrict p, double* restrict out,
    double* restrict scratch, const int32_t k)
{
    const int32_t r = (k - 1) / 2;
    const int32_t tw = tile->width, th = tile->height;
    const int32_t gw = tw + 2 * r, gh = th + 2 * r, pw = tw + 4 * r, ph = th + 4 * r;
    const size_t pn = (size_t) pw * (size_t) ph, gn = (size_t) gw * (size_t) gh;
    const size_t ring_plane = (size_t) k * (size_t) gw;
    const int32_t W = tile->picture_width, H = tile->picture_height;
    const double inverse_area = 1.0 / (double) (k * k);

    double* restrict P = scratch;              // p on the pixel grid, 0 outside the picture
    double* restrict V = P + pn;               // 7 rows of pw: vertical sums of p, I_c·p, I_c
    double* restrict A = V + 7 * (size_t) pw;  // 4 planes of k ring rows of gw: b_k, a_k (3)
    double* restrict VA = A + 4 * ring_plane;  // 4 rows of gw: vertical sums of A
    double* restrict T = VA + 4 * (size_t) gw; // one output row: (Σa)ᵀ I_i + Σb

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

    const int32_t gx0 = tile->x0 - r, gy0 = tile->y0 - r;
    int32_t vx0 = r - gx0, vx1 = W - r - gx0;
    if (vx0 < 0) vx0 = 0;
    if (vx1 > gw) vx1 = gw;
    const float* restrict C0 = tile->colour;
    const float* restrict C1 = C0 + pn;
    const float* restrict C2 = C1 + pn;
    const double* restrict S = tile->stats;
    const int32_t* restrict unknown = tile->unknown;
    const int32_t* restrict local = tile->local;
    const double* restrict count = tile->count;
    const int32_t unknown_count = tile->unknown_count;
    int32_t j = 0;
    double dot = 0;
    for (int32_t gy = 0; gy < gh; gy++) {
        // 2. Window row gy: mean(p), mean(I·p) by box sums, then
        //    a_k = Δ_k⁻¹ (mean(I p) − μ_k mean(p)), b_k = mean(p) − a_kᵀ μ_k; 0 for windows
        //    that do not lie inside the picture (centre closer than r to a border).
        double* b = A + (size_t) (gy % k) * (size_t) gw;
        double* a0 = b + ring_plane;
        double* a1 = a0 + ring_plane;
        double* a2 = a1 + ring_plane;
        const int32_t y = gy0 + gy;
        if (y < r || y >= H - r || vx1 <= vx0) {
            memset(b, 0, sizeof(double) * (size_t) gw);
            memset(a0, 0, sizeof(double) * (size_t) gw);
            memset(a1, 0, sizeof(double) * (size_t) gw);
            memset(a2, 0, sizeof(double) * (size_t) gw);
        } else {
            double* v0 = V;
            double* v1 = V + pw;
            double* v2 = V + 2 * pw;
            double* v3 = V + 3 * pw;
            const size_t op = (size_t) gy * (size_t) pw;
            double* v4 = V + 4 * pw;
            double* v5 = V + 5 * pw;
            double* v6 = V + 6 * pw;
            mk_cf_vertical_products(v0, v1, v2, v3, v4, v5, v6, P + op, C0 + op, C1 + op, C2 + op, pw, k, (size_t) pw);
            const size_t o = (size_t) gy * (size_t) gw;
            const double* i00 = S + o;
            const double* i01 = i00 + gn;
            const double* i02 = i01 + gn;
            const double* i11 = i02 + gn;
            const double* i12 = i11 + gn;
            const double* i22 = i12 + gn;
            for (int32_t x = 0; x < vx0; x++) { b[x] = 0; a0[x] = 0; a1[x] = 0; a2[x] = 0; }
            mk_cf_row_coefficients(b + vx0, a0 + vx0, a1 + vx0, a2 + vx0, v0 + vx0, v1 + vx0, v2 + vx0, v3 + vx0,
                                   v4 + vx0, v5 + vx0, v6 + vx0, i00 + vx0, i01 + vx0, i02 + vx0,
                                   i11 + vx0, i12 + vx0, i22 + vx0, vx1 - vx0, k, inverse_area);
            for (int32_t x = vx1; x < gw; x++) { b[x] = 0; a0[x] = 0; a1[x] = 0; a2[x] = 0; }
        }
        const int32_t ty = gy - (k - 1);
        if (ty < 0) continue;
        // 3. Output row ty: Σ_{k ∋ i} (a_kᵀ I_i + b_k), as box sums of a_k, b_k over window
        //    rows ty … ty + k − 1 (ring slots in that order).
        mk_cf_vertical_coefficients_ring(VA, VA + gw, VA + 2 * gw, VA + 3 * gw, A, ring_plane, ty, gw, k);
        // The colour of output pixel (tx, ty) sits at (tx + 2r, ty + 2r) on the pixel grid.
        const size_t oc = (size_t) (ty + 2 * r) * (size_t) pw + (size_t) (2 * r);
        mk_cf_output_row(T, VA, VA + gw, VA + 2 * gw, VA + 3 * gw, C0 + oc, C1 + oc, C2 + oc, tw, k);
        // 4. (L p)_i = n_i p_i − that, for the row's unknowns (row-major order, so the
        //    Σ p_i (L p)_i for the CG step is summed in j order).
        const int32_t row_end = (ty + 1) * tw, row_start = ty * tw;
        for (; j < unknown_count && local[j] < row_end; j++) {
            const double pi = p[unknown[j]];
            const double value = count[j] * pi - T[local[j] - row_start];
            out[j] = value;
            dot += pi * value;
        }
    }
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

// Vertical sums of I (3) and I·Iᵀ (6) over k rows of the pixel grid, for n columns.
static inline __attribute__((always_inline)) void mk_cf_vertical_moments(
    double* restrict V, const float* restrict C0, const float* restrict C1, const float* restrict C2,
    int32_t n, int32_t k, size_t stride, size_t vs)
{
    double* restrict v0 = V;
    double* restrict v1 = V + vs;
    double* restrict v2 = V + 2 * vs;
    double* restrict v3 = V + 3 * vs;
    double* restrict v4 = V + 4 * vs;
    double* restrict v5 = V + 5 * vs;
    double* restrict v6 = V + 6 * vs;
    double* restrict v7 = V + 7 * vs;
    double* restrict v8 = V + 8 * vs;
    for (int32_t x = 0; x < n; x++) {
        v0[x] = 0; v1[x] = 0; v2[x] = 0; v3[x] = 0; v4[x] = 0; v5[x] = 0; v6[x] = 0; v7[x] = 0; v8[x] = 0;
    }
    for (int32_t v = 0; v < k; v++) {
        const size_t o = (size_t) v * stride;
        for (int32_t x = 0; x < n; x++) {
            const double a = (double) C0[o + x], b = (double) C1[o + x], c = (double) C2[o + x];
            v0[x] += a; v1[x] += b; v2[x] += c;
            v3[x] += a * a; v4[x] += a * b; v5[x] += a * c;
            v6[x] += b * b; v7[x] += b * c; v8[x] += c * c;
        }
    }
}

// μ_k and Δ_k⁻¹ (adjugate / determinant) for n window centres from the vertical moments.
static inline __attribute__((always_inline)) void mk_cf_row_stats(
    double* restrict m0, double* restrict m1, double* restrict m2,
    double* restrict i00, double* restrict i01, double* restrict i02,
    double* restrict i11, double* restrict i12, double* restrict i22,
    const double* restrict V, size_t vs, int32_t n, int32_t k, double area, double e)
{
    const double inverse_area = 1.0 / area;
    const double* restrict v0 = V;
    const double* restrict v1 = V + vs;
    const double* restrict v2 = V + 2 * vs;
    const double* restrict v3 = V + 3 * vs;
    const double* restrict v4 = V + 4 * vs;
    const double* restrict v5 = V + 5 * vs;
    const double* restrict v6 = V + 6 * vs;
    const double* restrict v7 = V + 7 * vs;
    const double* restrict v8 = V + 8 * vs;
    for (int32_t x = 0; x < n; x++) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0;
        for (int32_t u = 0; u < k; u++) {
            s0 += v0[x + u]; s1 += v1[x + u]; s2 += v2[x + u];
            s3 += v3[x + u]; s4 += v4[x + u]; s5 += v5[x + u];
            s6 += v6[x + u]; s7 += v7[x + u]; s8 += v8[x + u];
        }
        // μ exactly as the product recomputes it (window sums in the same order, × 1/|w|).
        const double a0 = s0 * inverse_area, a1 = s1 * inverse_area, a2 = s2 * inverse_area;
        const double c00 = s3 / area - a0 * a0 + e, c01 = s4 / area - a0 * a1, c02 = s5 / area - a0 * a2;
        const double c11 = s6 / area - a1 * a1 + e, c12 = s7 / area - a1 * a2, c22 = s8 / area - a2 * a2 + e;
        const double j00 = c11 * c22 - c12 * c12, j01 = c02 * c12 - c01 * c22, j02 = c01 * c12 - c02 * c11;
        const double j11 = c00 * c22 - c02 * c02, j12 = c01 * c02 - c00 * c12, j22 = c00 * c11 - c01 * c01;
        const double inv = 1 / (c00 * j00 + c01 * j01 + c02 * j02);
        m0[x] = a0; m1[x] = a1; m2[x] = a2;
        i00[x] = j00 * inv; i01[x] = j01 * inv; i02[x] = j02 * inv;
        i11[x] = j11 * inv; i12[x] = j12 * inv; i22[x] = j22 * inv;
    }
}

void MK_CF_STATS_NAME(const mk_cf_tile* restrict tile, double epsilon, double* restrict mean,
                      double* restrict inverse, double* restrict scratch)
{
    const int32_t r = tile->radius, k = 2 * r + 1;
    const int32_t tw = tile->width, th = tile->height;
    const int32_t gw = tw + 2 * r, gh = th + 2 * r, pw = tw + 4 * r, ph = th + 4 * r;
    const size_t pn = (size_t) pw * (size_t) ph, gn = (size_t) gw * (size_t) gh;
    const int32_t W = tile->picture_width, H = tile->picture_height;
    const double area = (double) (k * k), e = epsilon / area;
    memset(mean, 0, sizeof(double) * 3 * gn);
    memset(inverse, 0, sizeof(double) * 6 * gn);
    const int32_t gx0 = tile->x0 - r, gy0 = tile->y0 - r;
    int32_t vx0 = r - gx0, vx1 = W - r - gx0, vy0 = r - gy0, vy1 = H - r - gy0;
    if (vx0 < 0) vx0 = 0;
    if (vx1 > gw) vx1 = gw;
    if (vy0 < 0) vy0 = 0;
    if (vy1 > gh) vy1 = gh;
    if (vx1 <= vx0) return;
    const float* C0 = tile->colour;
    const float* C1 = C0 + pn;
    const float* C2 = C1 + pn;
    (void) ph;
    for (int32_t gy = vy0; gy < vy1; gy++) {
        const size_t op = (size_t) gy * (size_t) pw;
        mk_cf_vertical_moments(scratch, C0 + op, C1 + op, C2 + op, pw, k, (size_t) pw, (size_t) pw);
        const size_t o = (size_t) gy * (size_t) gw + (size_t) vx0;
        double* m = mean + o;
        double* v = inverse + o;
        mk_cf_row_stats(m, m + gn, m + 2 * gn, v, v + gn, v + 2 * gn,
                        v + 3 * gn, v + 4 * gn, v + 5 * gn, scratch + vx0, (size_t) pw, vx1 - vx0,
                        k, area, e);
    }
}

// The diagonal L_ii = Σ_{valid k ∋ i} (1 − (1 + dᵀ Δ_k⁻¹ d) / |w|), d = I_i − μ_k, and the
// window count n_i of every unknown pixel of a tile, from the statistics (`mean`, 3 planes;
// `inverse`, 6 planes, both on the window-centre grid). Row by row over the tile's output
// rectangle, vectorised along the row: each window offset adds its term where the window
// is inside the picture (0 elsewhere, which leaves the sum unchanged), in the same window
// order as a per-pixel double loop. FMA contraction is off so every ISA path rounds alike.
// Also writes local[j] (the pixel's index in the rectangle). `scratch`: 2 × width doubles.
void MK_CF_DIAGONAL_NAME(const mk_cf_tile* restrict tile, const double* restrict mean,
                         const double* restrict inverse, double* restrict diagonal,
                         double* restrict count, int32_t* restrict local, double* restrict scratch)
{
#pragma clang fp contract(off)
    const int32_t r = tile->radius, k = 2 * r + 1;
    const int32_t tw = tile->width, th = tile->height;
    const int32_t gw = tw + 2 * r, gh = th + 2 * r, pw = tw + 4 * r, ph = th + 4 * r;
    const size_t pn = (size_t) pw * (size_t) ph, gn = (size_t) gw * (size_t) gh;
    const int32_t W = tile->picture_width, H = tile->picture_height;
    const double area = (double) (k * k);
    const int32_t x0 = tile->x0, y0 = tile->y0;
    int32_t vx0 = r - (x0 - r), vx1 = W - r - (x0 - r), vy0 = r - (y0 - r), vy1 = H - r - (y0 - r);
    if (vx0 < 0) vx0 = 0;
    if (vx1 > gw) vx1 = gw;
    if (vy0 < 0) vy0 = 0;
    if (vy1 > gh) vy1 = gh;
    const float* restrict C0 = tile->colour;
    const float* restrict C1 = C0 + pn;
    const float* restrict C2 = C1 + pn;
    const double* restrict m0 = mean;
    const double* restrict m1 = mean + gn;
    const double* restrict m2 = mean + 2 * gn;
    const double* restrict v00 = inverse;
    const double* restrict v01 = inverse + gn;
    const double* restrict v02 = inverse + 2 * gn;
    const double* restrict v11 = inverse + 3 * gn;
    const double* restrict v12 = inverse + 4 * gn;
    const double* restrict v22 = inverse + 5 * gn;
    double* restrict sum = scratch;
    double* restrict n = scratch + tw;
    int32_t j = 0;
    const int32_t unknown_count = tile->unknown_count;
    for (int32_t ly = 0; ly < th && j < unknown_count; ly++) {
        for (int32_t lx = 0; lx < tw; lx++) { sum[lx] = 0; n[lx] = 0; }
        // Colour of output pixel (lx, ly) sits at (lx + 2r, ly + 2r) on the pixel grid.
        const size_t pc = (size_t) (ly + 2 * r) * (size_t) pw + (size_t) (2 * r);
        for (int32_t dy = 0; dy < k; dy++) {
            const int32_t gy = ly + dy;
            if (gy < vy0 || gy >= vy1) continue;
            for (int32_t dx = 0; dx < k; dx++) {
                const size_t g = (size_t) gy * (size_t) gw + (size_t) dx;
                for (int32_t lx = 0; lx < tw; lx++) {
                    const int32_t gx = lx + dx;
                    const double d0 = (double) C0[pc + lx] - m0[g + lx];
                    const double d1 = (double) C1[pc + lx] - m1[g + lx];
                    const double d2 = (double) C2[pc + lx] - m2[g + lx];
                    const double quad = d0 * (v00[g + lx] * d0 + v01[g + lx] * d1 + v02[g + lx] * d2)
                        + d1 * (v01[g + lx] * d0 + v11[g + lx] * d1 + v12[g + lx] * d2)
                        + d2 * (v02[g + lx] * d0 + v12[g + lx] * d1 + v22[g + lx] * d2);
                    const int valid = gx >= vx0 && gx < vx1;
                    sum[lx] += valid ? 1 - (1 + quad) / area : 0;
                    n[lx] += valid ? 1 : 0;
                }
            }
        }
        const int32_t row_start = (y0 + ly) * W + x0;
        while (j < unknown_count && tile->unknown[j] < row_start + tw && tile->unknown[j] >= row_start) {
            const int32_t lx = tile->unknown[j] - row_start;
            diagonal[j] = sum[lx];
            count[j] = n[lx];
            local[j] = ly * tw + lx;
            j++;
        }
    }
    (void) ph;
}
