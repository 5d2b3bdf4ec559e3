// mk_f64_cf_mgcg: flexible conjugate gradients on the unknown pixels of a closed-form
// matting Laplacian, preconditioned by one multigrid V-cycle over the coarse-to-fine
// pyramid (MattingRefine's ClosedFormMatting+Multigrid.swift builds the levels).
//
// Why: Jacobi-preconditioned CG (cf-pcg.c) needs hundreds of iterations per level to
// reach a relative residual of 1e-6 on real photos — the smooth, semi-transparent modes
// of L are the slow ones, and the diagonal cannot see them. A coarse-grid correction
// removes them: each V-cycle smooths with damped Jacobi, restricts the residual to the
// next level, solves there recursively, prolongs the correction back and takes the step
// along it that minimises the energy. The slow modes of L are functions locally affine in
// colour, which in textured regions are not smooth in space; so prolongation is guided by
// colour (the guided filter's weights, restriction its transpose): a piecewise-constant
// one needed twice the iterations. The
// second level's operator is the Galerkin product PᵀAP of the finest (when the caller gives
// it room: half the iterations on real photos); the coarser levels' are their own matting
// Laplacians, rediscretised from the halved colours. The energy-minimising step makes the
// cycle non-linear, so the outer loop is flexible CG (Notay 2000; Polak–Ribière β) rather
// than plain PCG.
//
// Determinism: the Laplacian and Galerkin products and the Galerkin operator's assembly run
// on the pool over tiles, each writing only its own unknowns (each coarse row of the
// operator gathered in a fixed order); every other vector operation and every dot product
// is serial in unknown order, so results do not depend on the thread count. FMA
// contraction is off.
#include <stdlib.h>
#include <string.h>
#include "cmk.h"
#include "cmk_threadpool.h"
#include "mk_multigrid.h"
#include "mk-two-isas.h"

#pragma clang fp contract(off)

// Inner CG iterations and target on the coarsest level (≤ ~1000 unknowns: cheap).
enum { mk_cf_mg_coarse_iterations = 40 };

static const double mk_cf_mg_coarse_tolerance = 1e-2;

typedef struct mk_cf_mg_apply_state {
    const mk_cf_system* system;
    const double* p;
    double* out;
} mk_cf_mg_apply_state;

static void mk_cf_mg_apply_tile(void* context, size_t t, size_t worker) {
    const mk_cf_mg_apply_state* st = context;
    const mk_cf_system* s = st->system;
    (void) s->kernel(s->tiles + t, st->p, st->out + s->offsets[t], s->scratch + worker * s->scratch_stride);
}

// out = L·p restricted to the level's unknowns (p full-size, as it stands). `serial`: on
// the calling thread (the coarsest level: its few hundred unknowns cost less than waking
// the pool, 40 times a V-cycle). Each tile writes its own outputs either way.
static void mk_cf_mg_product_on(const mk_cf_mg_level* level, double* out, int serial) {
    const mk_cf_system* s = &level->system;
    mk_cf_mg_apply_state st = {.system = s, .p = level->p, .out = out};
    if (s->pool && !serial) {
        mk_threadpool_run(s->pool, s->tile_count, mk_cf_mg_apply_tile, &st);
    } else {
        for (size_t t = 0; t < s->tile_count; t++) mk_cf_mg_apply_tile(&st, t, 0);
    }
}

static void mk_cf_mg_product(const mk_cf_mg_level* level, double* out) { mk_cf_mg_product_on(level, out, 0); }

// out = L_UU v: v scattered into the level's picture (0 at every known pixel).
static void mk_cf_mg_apply(const mk_cf_mg_level* level, const double* v, double* out) {
    const int32_t* unknown = level->system.unknown;
    for (size_t k = 0; k < level->m; k++) level->p[unknown[k]] = v[k];
    mk_cf_mg_product(level, out);
}

typedef struct mk_cf_mg_galerkin_state {
    const mk_cf_mg_level* level;
    double* out;
} mk_cf_mg_galerkin_state;

// Tile t's rows of the Galerkin product (each output its own: any thread order).
static void mk_cf_mg_galerkin_tile(void* context, size_t t, size_t worker) {
    (void) worker;
    const mk_cf_mg_galerkin_state* st = context;
    const mk_cf_mg_level* level = st->level;
    const size_t W = level->galerkin_width;
    const float* X = level->galerkin_padded;
    const int32_t* index = level->galerkin_index;
    for (size_t k = level->system.offsets[t]; k < level->system.offsets[t + 1]; k++) {
        // Rows of 12 (the 12th weight is 0), in Float: twelve independent partial sums, so
        // the sum vectorises in a fixed order.
        const float* g = level->galerkin + 132 * k;
        const float* x = X + index[k] - 5 * W - 5;
        float s[12] = {0};
        for (size_t y = 0; y < 11; y++) {
            for (size_t u = 0; u < 12; u++) s[u] += g[12 * y + u] * x[y * W + u];
        }
        const float s4[4] = {(s[0] + s[4]) + s[8], (s[1] + s[5]) + s[9], (s[2] + s[6]) + s[10], (s[3] + s[7]) + s[11]};
        st->out[k] = (double) ((s4[0] + s4[1]) + (s4[2] + s4[3]));
    }
}

// out = G v with the level's Galerkin operator (v scattered into its padded picture).
static void mk_cf_mg_galerkin_apply(const mk_cf_mg_level* level, const double* v, double* out, int serial) {
    const int32_t* index = level->galerkin_index;
    float* X = level->galerkin_padded;
    for (size_t k = 0; k < level->m; k++) X[index[k]] = (float) v[k];
    mk_cf_mg_galerkin_state st = {.level = level, .out = out};
    const mk_cf_system* s = &level->system;
    if (s->pool && !serial) {
        mk_threadpool_run(s->pool, s->tile_count, mk_cf_mg_galerkin_tile, &st);
    } else {
        for (size_t t = 0; t < s->tile_count; t++) mk_cf_mg_galerkin_tile(&st, t, 0);
    }
    for (size_t k = 0; k < level->m; k++) X[index[k]] = 0;
}

// The operator of level `l` of a V-cycle whose finest level is levels[0]: the Galerkin
// one below the finest where there is one, else the level's own Laplacian.
static void mk_cf_mg_apply_at(const mk_cf_mg_level* levels, size_t l, const double* v, double* out, int serial) {
    const mk_cf_mg_level* level = levels + l;
    if (l > 0 && level->galerkin) {
        mk_cf_mg_galerkin_apply(level, v, out, serial);
        return;
    }
    const int32_t* unknown = level->system.unknown;
    for (size_t k = 0; k < level->m; k++) level->p[unknown[k]] = v[k];
    mk_cf_mg_product_on(level, out, serial);
}

// The Galerkin assembly's gather (mk_cf_mg_build_galerkin): per coarse tile, the rows of
// A P for the fine unknowns whose stencil reaches the tile, then each coarse row of Pᵀ(A P).

typedef struct mk_cf_mg_gather_state {
    const mk_cf_mg_level* fine;
    mk_cf_mg_level* coarse;
    const float* rows;        // A's rows: 25 per fine unknown
    const int32_t* fine_map;  // fine pixel -> unknown, or −1
    double* scratch;          // per worker: region rows of A P (49 each) + region indices
    size_t scratch_stride, region;  // region: fine pixels a coarse tile's stencils reach, at most
    int32_t W, H, wc, hc;
} mk_cf_mg_gather_state;

// (A P) row k on the 7×7 coarse pixels around k's parent.
static void mk_cf_mg_ap_row(const mk_cf_mg_gather_state* st, size_t k, double* ap) {
    const mk_cf_mg_level* fine = st->fine;
    const size_t PW = st->coarse->padded_width;
    const int32_t* base = fine->prolongation_base;
    const float* pw = fine->prolongation_weight;
    const int32_t W = st->W, H = st->H;
    const int32_t x = fine->system.unknown[k] % W, y = fine->system.unknown[k] / W;
    const int32_t px = (int32_t) (base[k] % PW), py = (int32_t) (base[k] / PW);
    for (int i = 0; i < 49; i++) ap[i] = 0;
    for (int dy = -2; dy <= 2; dy++) {
        for (int dx = -2; dx <= 2; dx++) {
            const double a = st->rows[25 * k + 5 * (dy + 2) + dx + 2];
            if (a == 0 || x + dx < 0 || x + dx >= W || y + dy < 0 || y + dy >= H) continue;
            const int32_t j = st->fine_map[(y + dy) * W + x + dx];
            if (j < 0) continue;
            const int32_t qx = (int32_t) (base[j] % PW) - px, qy = (int32_t) (base[j] / PW) - py;
            const float* w = pw + 25 * (size_t) j;
            for (int v = 0; v < 5; v++) {
                for (int u = 0; u < 5; u++) ap[(qy + v + 1) * 7 + qx + u + 1] += a * w[5 * v + u];
            }
        }
    }
}

// Coarse tile t's rows of G = Pᵀ(A P), gathered in a fixed order (fine pixels row by row),
// written as Float rows of 12 with the inverse diagonal: each row its own, any thread order.
static void mk_cf_mg_gather_tile(void* context, size_t t, size_t worker) {
    const mk_cf_mg_gather_state* st = context;
    const mk_cf_mg_level* fine = st->fine;
    mk_cf_mg_level* coarse = st->coarse;
    const mk_cf_tile* tile = coarse->system.tiles + t;
    const int32_t W = st->W, H = st->H, wc = st->wc, hc = st->hc;
    const size_t PW = coarse->padded_width;
    const int32_t* base = fine->prolongation_base;
    const float* pw = fine->prolongation_weight;
    // The fine pixels whose parent lies within 2 of the tile (parents are (x/2, y/2),
    // clamped to the coarse picture, so the last coarse column takes every fine one past it).
    const int32_t fx0 = 2 * (tile->x0 - 2) > 0 ? 2 * (tile->x0 - 2) : 0;
    const int32_t fy0 = 2 * (tile->y0 - 2) > 0 ? 2 * (tile->y0 - 2) : 0;
    const int32_t fx1 = tile->x0 + tile->width + 1 >= wc - 1 ? W : (2 * (tile->x0 + tile->width + 2) < W ? 2 * (tile->x0 + tile->width + 2) : W);
    const int32_t fy1 = tile->y0 + tile->height + 1 >= hc - 1 ? H : (2 * (tile->y0 + tile->height + 2) < H ? 2 * (tile->y0 + tile->height + 2) : H);
    const int32_t rw = fx1 - fx0;
    double* ap = st->scratch + worker * st->scratch_stride;
    int32_t* slot = (int32_t*) (ap + 49 * st->region);
    int32_t used = 0;
    for (int32_t y = fy0; y < fy1; y++) {
        for (int32_t x = fx0; x < fx1; x++) {
            const int32_t k = st->fine_map[y * W + x];
            slot[(y - fy0) * rw + x - fx0] = k < 0 ? -1 : used;
            if (k >= 0) mk_cf_mg_ap_row(st, (size_t) k, ap + 49 * (size_t) used++);
        }
    }
    const size_t wcc = (size_t) wc;
    for (size_t a = coarse->system.offsets[t]; a < coarse->system.offsets[t + 1]; a++) {
        const int32_t ax = (int32_t) (coarse->system.unknown[a] % wcc), ay = (int32_t) (coarse->system.unknown[a] / wcc);
        double g[121] = {0};
        // G[a, b] = Σ_k P[k, a] (A P)[k, b] over the fine unknowns k whose stencil holds a.
        const int32_t y0 = 2 * (ay - 2) > fy0 ? 2 * (ay - 2) : fy0, x0 = 2 * (ax - 2) > fx0 ? 2 * (ax - 2) : fx0;
        const int32_t y1 = ay + 2 >= hc - 1 ? fy1 : 2 * (ay + 3), x1 = ax + 2 >= wc - 1 ? fx1 : 2 * (ax + 3);
        for (int32_t y = y0; y < y1; y++) {
            for (int32_t x = x0; x < x1; x++) {
                const int32_t s = slot[(y - fy0) * rw + x - fx0];
                if (s < 0) continue;
                const int32_t k = st->fine_map[y * W + x];
                const int32_t px = (int32_t) (base[k] % PW), py = (int32_t) (base[k] / PW);
                const int32_t u = ax - px + 2, v = ay - py + 2;  // a in k's stencil
                if (u < 0 || v < 0 || u > 4 || v > 4) continue;
                const double wa = pw[25 * (size_t) k + 5 * v + u];
                if (wa == 0) continue;
                const double* row = ap + 49 * (size_t) s;
                for (int bv = 0; bv < 7; bv++) {
                    for (int bu = 0; bu < 7; bu++) g[(bv - v + 4) * 11 + bu - u + 4] += wa * row[7 * bv + bu];
                }
            }
        }
        // Stored as Float, rows padded to 12 (the product reads half the memory).
        coarse->inverse_diagonal[a] = g[60] > 0 ? 1 / g[60] : 0;
        float* out = coarse->galerkin + 132 * a;
        for (size_t r = 0; r < 11; r++) {
            for (size_t c = 0; c < 11; c++) out[12 * r + c] = (float) g[11 * r + c];
            out[12 * r + 11] = 0;
        }
    }
}

int mk_cf_mg_probe_rows(mk_cf_mg_level* fine, float* rows) {
    const size_t mf = fine->m;
    const int32_t W = (int32_t) fine->padded_width - 4;
    double* out = malloc(sizeof(double) * (mf ? mf : 1));
    uint8_t* cls = malloc(mf ? mf : 1);
    if (!out || !cls) {
        free(out); free(cls);
        return 0;
    }
    const int32_t* fu = fine->system.unknown;
    for (size_t k = 0; k < mf; k++) cls[k] = (uint8_t) ((fu[k] % W) % 5 + 5 * ((fu[k] / W) % 5));
    // A's rows: row k, entry (dy + 2)·5 + dx + 2 = A[k, pixel + (dx, dy)].
    for (int c = 0; c < 25; c++) {
        for (size_t k = 0; k < mf; k++) {
            if (cls[k] == c) fine->p[fu[k]] = 1;
        }
        mk_cf_mg_product(fine, out);
        for (size_t k = 0; k < mf; k++) {
            const int ck = cls[k];
            const int dx = ((c % 5) - ck % 5 + 7) % 5 - 2, dy = ((c / 5) - ck / 5 + 7) % 5 - 2;
            rows[25 * k + 5 * (dy + 2) + dx + 2] = (float) out[k];
            if (ck == c) fine->p[fu[k]] = 0;
        }
    }
    free(out); free(cls);
    return 1;
}

// Level 0's rows straight from the window statistics (mk_cf_mg_stencil_rows): tile t's
// unknowns, each row its own (any thread order).
typedef struct mk_cf_mg_stencil_state {
    const mk_cf_system* system;
    const uint8_t* is_unknown;  // the picture padded by 2 on every side: 1 at an unknown
    float* rows;
} mk_cf_mg_stencil_state;

// Row of unknown i = (x, y): L_ij = Σ_{valid k ∋ i, j} (δ_ij − (1 + d_iᵀ Δ_k⁻¹ d_j) / 9),
// d = I − μ_k, over the windows k of radius 1 holding i whose centre is at least 1 from the
// border (the product's windows): the diagonal kernel's sum for L_ii (cf-laplacian-body.h)
// with the 24 other pixels j of those windows added. Per window, e = Δ_k⁻¹ d_i once, so
// d_iᵀ Δ_k⁻¹ d_j = eᵀ I_j − eᵀ μ_k; the sums over the windows two pixels share are box sums of
// (e, eᵀ μ_k) over the 3 × 3 windows (separable: columns, then rows). Δ_k⁻¹ is the tile's
// `stats` (0 for windows not inside the picture, so they add nothing; their count is left
// out by vx, vy), μ_k is recomputed from its colour (the 5 × 5 pixels around i). Entries
// at known pixels and outside the picture are 0, as the probed rows' are.
static inline __attribute__((always_inline)) void mk_cf_mg_stencil_tile_body(void* context, size_t t, size_t worker) {
    (void) worker;
    const mk_cf_mg_stencil_state* st = context;
    const mk_cf_tile* tile = st->system->tiles + t;
    const int32_t W = tile->picture_width, H = tile->picture_height;
    // Colour on the pixel grid from (x0 − 2, y0 − 2), Δ_k⁻¹ on the centre grid from (x0 − 1, y0 − 1).
    const size_t pw = (size_t) tile->width + 4, gw = (size_t) tile->width + 2, mw = (size_t) W + 4;
    const size_t pn = pw * ((size_t) tile->height + 4), gn = gw * ((size_t) tile->height + 2);
    const double ninth = 1.0 / 9;  // 1 / |w| (μ_k as the product recomputes it: the sum times this)
    float* rows = st->rows + 25 * st->system->offsets[t];
    for (int32_t j = 0; j < tile->unknown_count; j++) {
        const int32_t x = tile->unknown[j] % W, y = tile->unknown[j] / W;
        const size_t lx = (size_t) (x - tile->x0), ly = (size_t) (y - tile->y0);
        // c[ch][5v + u]: pixel (x + u − 2, y + v − 2), the one entry 5v + u of the row couples to.
        double c[3][25];
        for (int ch = 0; ch < 3; ch++) {
            const float* C = tile->colour + (size_t) ch * pn + ly * pw + lx;
            for (size_t v = 0; v < 5; v++) {
                for (size_t u = 0; u < 5; u++) c[ch][5 * v + u] = (double) C[v * pw + u];
            }
        }
        // Window (a, b), a, b ∈ 0…2: centre (x + a − 1, y + b − 1), pixels u ∈ a…a + 2,
        // v ∈ b…b + 2. vx[a], vy[b]: 1 where its centre column, row is at least 1 from the border.
        double vx[3], vy[3];
        for (int a = 0; a < 3; a++) {
            vx[a] = x + a - 1 >= 1 && x + a - 1 <= W - 2 ? 1 : 0;
            vy[a] = y + a - 1 >= 1 && y + a - 1 <= H - 2 ? 1 : 0;
        }
        double cs[3][3][5];  // colour sums down each window row's 3 pixel rows
        for (int ch = 0; ch < 3; ch++) {
            for (int b = 0; b < 3; b++) {
                for (int u = 0; u < 5; u++) cs[ch][b][u] = c[ch][5 * b + u] + c[ch][5 * b + 5 + u] + c[ch][5 * b + 10 + u];
            }
        }
        double E[4][3][3];  // per window: e (3), eᵀ μ_k
        for (int b = 0; b < 3; b++) {
            for (int a = 0; a < 3; a++) {
                double m[3];
                for (int ch = 0; ch < 3; ch++) m[ch] = (cs[ch][b][a] + cs[ch][b][a + 1] + cs[ch][b][a + 2]) * ninth;
                const double* V = tile->stats + (ly + (size_t) b) * gw + lx + (size_t) a;
                const double v00 = V[0], v01 = V[gn], v02 = V[2 * gn], v11 = V[3 * gn], v12 = V[4 * gn], v22 = V[5 * gn];
                const double d0 = c[0][12] - m[0], d1 = c[1][12] - m[1], d2 = c[2][12] - m[2];
                const double e0 = v00 * d0 + v01 * d1 + v02 * d2;
                const double e1 = v01 * d0 + v11 * d1 + v12 * d2;
                const double e2 = v02 * d0 + v12 * d1 + v22 * d2;
                E[0][b][a] = e0;
                E[1][b][a] = e1;
                E[2][b][a] = e2;
                E[3][b][a] = e0 * m[0] + e1 * m[1] + e2 * m[2];
            }
        }
        // S[s][v][u]: E summed over the windows holding pixel (u, v); nx, ny: those windows' columns, rows.
        double R[4][3][5], S[4][5][5];
        for (int s = 0; s < 4; s++) {
            for (int b = 0; b < 3; b++) {
                R[s][b][0] = E[s][b][0];
                R[s][b][1] = E[s][b][0] + E[s][b][1];
                R[s][b][2] = R[s][b][1] + E[s][b][2];
                R[s][b][3] = E[s][b][1] + E[s][b][2];
                R[s][b][4] = E[s][b][2];
            }
            for (int u = 0; u < 5; u++) {
                S[s][0][u] = R[s][0][u];
                S[s][1][u] = R[s][0][u] + R[s][1][u];
                S[s][2][u] = S[s][1][u] + R[s][2][u];
                S[s][3][u] = R[s][1][u] + R[s][2][u];
                S[s][4][u] = R[s][2][u];
            }
        }
        const double nx[5] = {vx[0], vx[0] + vx[1], vx[0] + vx[1] + vx[2], vx[1] + vx[2], vx[2]};
        const double ny[5] = {vy[0], vy[0] + vy[1], vy[0] + vy[1] + vy[2], vy[1] + vy[2], vy[2]};
        const uint8_t* mask = st->is_unknown + (size_t) y * mw + (size_t) x;  // pixel (x − 2, y − 2)
        float* row = rows + 25 * (size_t) j;
        for (int v = 0; v < 5; v++) {
            for (int u = 0; u < 5; u++) {
                const int o = 5 * v + u;
                const double n = nx[u] * ny[v];
                const double q = S[0][v][u] * c[0][o] + S[1][v][u] * c[1][o] + S[2][v][u] * c[2][o] - S[3][v][u];
                const double value = (o == 12 ? n : 0) - (n + q) * ninth;
                row[o] = mask[(size_t) v * mw + (size_t) u] ? (float) value : 0;
            }
        }
    }
}

// (Compiled for SSE2 and AVX2: the same rows, in about half the instructions on AVX2.)
MK_TWO_ISAS(mk_cf_mg_stencil_tile)

int mk_cf_mg_stencil_rows(const mk_cf_mg_level* fine, float* rows) {
    const mk_cf_system* s = &fine->system;
    for (size_t t = 0; t < s->tile_count; t++) {
        if (s->tiles[t].radius != 1) return 0;
    }
    const size_t W = fine->padded_width - 4, mw = W + 4;
    uint8_t* is_unknown = calloc(mw * (fine->n / W + 4), 1);
    if (!is_unknown) return 0;
    for (size_t k = 0; k < fine->m; k++) {
        const size_t i = (size_t) s->unknown[k];
        is_unknown[(i / W + 2) * mw + i % W + 2] = 1;
    }
    mk_cf_mg_stencil_state st = {.system = s, .is_unknown = is_unknown, .rows = rows};
    void (*tile)(void*, size_t, size_t) = mk_cf_mg_stencil_tile_for_cpu();
    if (s->pool) {
        mk_threadpool_run(s->pool, s->tile_count, tile, &st);
    } else {
        for (size_t t = 0; t < s->tile_count; t++) tile(&st, t, 0);
    }
    free(is_unknown);
    return 1;
}

// Builds coarse->galerkin = Pᵀ A P (A: fine's operator on its unknowns, P: fine's guided
// prolongation from coarse's unknowns) and coarse's inverse diagonal from it. A's rows
// are probed with the product itself (25 products, one per pixel class (x mod 5, y mod 5):
// L couples pixels at most 2 apart), so G is consistent with the fine operator to
// rounding. Then each coarse tile, on the pool, gathers its rows of G in a fixed order:
// independent of the thread count. fine->p must be all 0 (it is left so). Returns 0 when
// out of memory (then coarse->galerkin is not used).
static int mk_cf_mg_build_galerkin(mk_cf_mg_level* fine, mk_cf_mg_level* coarse) {
    const size_t mf = fine->m, mc = coarse->m;
    const int32_t W = (int32_t) fine->padded_width - 4, H = (int32_t) (fine->n / (size_t) W);
    const int32_t wc = (int32_t) coarse->padded_width - 4, hc = (int32_t) (coarse->n / (size_t) wc);
    const size_t nf = (size_t) W * (size_t) H;
    // A coarse tile w × h reaches at most 2(w + 4) × 2(h + 4) fine pixels (one more row and
    // column at the picture's far edges, where parents are clamped).
    size_t side = 0;
    for (size_t t = 0; t < coarse->system.tile_count; t++) {
        const mk_cf_tile* tile = coarse->system.tiles + t;
        const size_t s = (size_t) (tile->width > tile->height ? tile->width : tile->height);
        if (2 * (s + 4) + 1 > side) side = 2 * (s + 4) + 1;
    }
    const size_t region = side * side;
    const size_t stride = 49 * region + (region + 1) / 2;  // A P rows, then the int32 slots
    const size_t workers = fine->system.threads > coarse->system.threads ? fine->system.threads : coarse->system.threads;
    float* rows = malloc(sizeof(float) * 25 * (mf ? mf : 1));
    int32_t* fine_map = malloc(sizeof(int32_t) * nf);
    double* scratch = malloc(sizeof(double) * stride * (workers ? workers : 1));
    if (!rows || !fine_map || !scratch || !mk_cf_mg_probe_rows(fine, rows)) {
        free(rows); free(fine_map); free(scratch);
        return 0;
    }
    const int32_t* fu = fine->system.unknown;
    for (size_t i = 0; i < nf; i++) fine_map[i] = -1;
    for (size_t k = 0; k < mf; k++) fine_map[fu[k]] = (int32_t) k;
    mk_cf_mg_gather_state st = {
        .fine = fine, .coarse = coarse, .rows = rows, .fine_map = fine_map, .scratch = scratch,
        .scratch_stride = stride, .region = region, .W = W, .H = H, .wc = wc, .hc = hc};
    if (coarse->system.pool) {
        mk_threadpool_run(coarse->system.pool, coarse->system.tile_count, mk_cf_mg_gather_tile, &st);
    } else {
        for (size_t t = 0; t < coarse->system.tile_count; t++) mk_cf_mg_gather_tile(&st, t, 0);
    }
    const size_t PW = coarse->padded_width;
    const int32_t* base = fine->prolongation_base;
    const float* pw = fine->prolongation_weight;
    free(rows); free(fine_map); free(scratch);
    if (coarse->checks_galerkin) {
        // Test hook: G x against Pᵀ(A(P x)) through the cycle's own prolongation, product
        // and restriction, for a fixed pseudo-random x.
        double* xc = malloc(sizeof(double) * mc), *gx = malloc(sizeof(double) * mc), *rc = malloc(sizeof(double) * mc);
        double* e = malloc(sizeof(double) * mf), *ae = malloc(sizeof(double) * mf);
        if (xc && gx && rc && e && ae) {
            for (size_t k = 0; k < mc; k++) xc[k] = (double) ((k * 2654435761u) % 1000) / 1000.0 - 0.5;
            mk_cf_mg_galerkin_apply(coarse, xc, gx, 1);
            double* P = coarse->padded;
            const int32_t* pidx = coarse->padded_index;
            for (size_t j = 0; j < mc; j++) P[pidx[j]] = xc[j];
            mk_cf_mg_prolong(fine, P, e);
            for (size_t j = 0; j < mc; j++) P[pidx[j]] = 0;
            mk_cf_mg_apply(fine, e, ae);
            for (size_t k = 0; k < mf; k++) {
                double* b = P + base[k];
                const float* w = pw + 25 * k;
                for (size_t v = 0; v < 5; v++) {
                    for (size_t u = 0; u < 5; u++) b[v * PW + u] += w[5 * v + u] * ae[k];
                }
            }
            for (size_t j = 0; j < mc; j++) rc[j] = P[pidx[j]];
            memset(P, 0, sizeof(double) * coarse->padded_count);
            memset(fine->p, 0, sizeof(double) * fine->n);
            double diff = 0, norm = 0;
            for (size_t k = 0; k < mc; k++) {
                diff += (rc[k] - gx[k]) * (rc[k] - gx[k]);
                norm += rc[k] * rc[k];
            }
            coarse->galerkin_error = norm > 0 ? __builtin_sqrt(diff / norm) : 0;
        }
        free(xc); free(gx); free(rc); free(e); free(ae);
    }
    return 1;
}

static double mk_cf_mg_dot(const double* a, const double* b, size_t m) {
    double s = 0;
    for (size_t k = 0; k < m; k++) s += a[k] * b[k];
    return s;
}

// Chebyshev smoothing targets D⁻¹A's eigenvalues in [fraction·λ, λ], λ the largest
// (estimated by power iterations, times the margin). Coffee photo, 1e-6, degree 4: fraction
// 0.05 and 0.1 gave 35 finest iterations, 0.2 42; degree 3 48, degree 6 34 (Docs/Quality.md).
static const double mk_cf_mg_chebyshev_fraction = 0.1, mk_cf_mg_chebyshev_margin = 1.2;
enum { mk_cf_mg_power_iterations = 10 };

// λ ≈ the largest eigenvalue of D⁻¹A on level l (its operator in this cycle): power
// iterations from a fixed start, the Rayleigh quotient xᵀAx / xᵀDx of the last iterate.
static double mk_cf_mg_largest_eigenvalue(const mk_cf_mg_level* levels, size_t l) {
    const mk_cf_mg_level* level = levels + l;
    const size_t m = level->m;
    double* x = level->work + 2 * m;
    double* ax = level->work + 3 * m;
    const double* inverse = level->inverse_diagonal;
    for (size_t k = 0; k < m; k++) x[k] = (double) ((k * 2654435761u) % 1000) / 1000.0 - 0.5;
    double lambda = 0;
    for (int i = 0; i < mk_cf_mg_power_iterations; i++) {
        mk_cf_mg_apply_at(levels, l, x, ax, 0);
        double xax = 0, xdx = 0, norm = 0;
        for (size_t k = 0; k < m; k++) {
            xax += x[k] * ax[k];
            xdx += inverse[k] > 0 ? x[k] * x[k] / inverse[k] : 0;
        }
        lambda = xdx > 0 ? xax / xdx : 0;
        for (size_t k = 0; k < m; k++) {
            x[k] = inverse[k] * ax[k];
            norm += x[k] * x[k];
        }
        if (!(norm > 0)) break;
        const double scale = 1 / __builtin_sqrt(norm);
        for (size_t k = 0; k < m; k++) x[k] *= scale;
    }
    return lambda;
}

// z ≈ L⁻¹ r on the coarsest level: Jacobi-preconditioned CG from zero, a few dozen steps.
static void mk_cf_mg_coarse_solve(const mk_cf_mg_level* levels, size_t l, const double* r, double* z) {
    const mk_cf_mg_level* level = levels + l;
    const size_t m = level->m;
    double* res = level->work + 2 * m;
    double* d = level->work + 3 * m;
    double* q = level->work + 4 * m;
    const double* inverse = level->inverse_diagonal;
    double rz = 0, rr0 = 0;
    for (size_t k = 0; k < m; k++) {
        z[k] = 0;
        res[k] = r[k];
        d[k] = r[k] * inverse[k];
        rz += res[k] * d[k];
        rr0 += res[k] * res[k];
    }
    for (int i = 0; i < mk_cf_mg_coarse_iterations && rz > 0; i++) {
        mk_cf_mg_apply_at(levels, l, d, q, 1);
        const double dq = mk_cf_mg_dot(d, q, m);
        if (!(dq > 0)) break;
        const double step = rz / dq;
        double rz_new = 0, rr = 0;
        for (size_t k = 0; k < m; k++) {
            z[k] += step * d[k];
            res[k] -= step * q[k];
            rz_new += res[k] * res[k] * inverse[k];
            rr += res[k] * res[k];
        }
        if (rr <= mk_cf_mg_coarse_tolerance * mk_cf_mg_coarse_tolerance * rr0) break;
        const double beta = rz_new / rz;
        rz = rz_new;
        for (size_t k = 0; k < m; k++) d[k] = res[k] * inverse[k] + beta * d[k];
    }
}

// z = V(r) on level `l` of `count` (work: 6·m doubles per level, see the header).
static void mk_cf_mg_vcycle(const mk_cf_mg_level* levels, size_t l, size_t count, const double* r, double* z) {
    const mk_cf_mg_level* level = levels + l;
    const size_t m = level->m;
    if (m == 0) return;
    if (l + 1 == count) {
        mk_cf_mg_coarse_solve(levels, l, r, z);
        return;
    }
    const mk_cf_mg_level* coarse = levels + l + 1;
    double* t = level->work + 2 * m;    // L z
    double* res = level->work + 3 * m;  // r − L z
    double* e = level->work + 4 * m;    // the prolonged correction
    double* le = level->work + 5 * m;   // L e
    double* rc = coarse->work;          // the coarse level's right-hand side
    double* ec = coarse->work + coarse->m;
    const double* inverse = level->inverse_diagonal;
    const int sweeps = level->sweeps, post_sweeps = level->post_sweeps;
    const double omega = level->omega;
    // The first level of a solve (the one its outer loop iterates on) smooths with damped
    // Jacobi, the ones below with Chebyshev where they ask for it (and have an eigenvalue).
    const int degree = l > 0 && level->lambda_max > 0 ? level->chebyshev : 0;
    // Chebyshev (Saad, Iterative Methods for Sparse Linear Systems, Algorithm 12.1) on
    // [a, b] = [fraction·λ, λ] of D⁻¹A's spectrum: `degree` products before the coarse
    // correction and degree − 1 after (the first step after it needs none).
    const double cheb_b = level->lambda_max, cheb_a = mk_cf_mg_chebyshev_fraction * cheb_b;
    const double theta = (cheb_b + cheb_a) / 2, delta = (cheb_b - cheb_a) / 2, sigma = theta / delta;
    if (degree > 0) {
        // From zero: res = r − L z kept along, d the step (in e's storage, free until the
        // correction), L d in t.
        double rho = 1 / sigma;
        for (size_t k = 0; k < m; k++) {
            z[k] = 0;
            res[k] = r[k];
            e[k] = inverse[k] * r[k] / theta;
        }
        for (int i = 0; i < degree; i++) {
            for (size_t k = 0; k < m; k++) z[k] += e[k];
            mk_cf_mg_apply_at(levels, l, e, t, 0);
            for (size_t k = 0; k < m; k++) res[k] -= t[k];
            if (i + 1 == degree) break;
            const double rho_new = 1 / (2 * sigma - rho);
            const double c1 = rho_new * rho, c2 = 2 * rho_new / delta;
            for (size_t k = 0; k < m; k++) e[k] = c1 * e[k] + c2 * inverse[k] * res[k];
            rho = rho_new;
        }
    } else if (sweeps == 0) {
        memset(z, 0, sizeof(double) * m);
        memset(t, 0, sizeof(double) * m);
    } else {
        for (size_t k = 0; k < m; k++) z[k] = omega * inverse[k] * r[k];
        mk_cf_mg_apply_at(levels, l, z, t, 0);
    }
    for (int sweep = 1; sweep < sweeps; sweep++) {
        for (size_t k = 0; k < m; k++) z[k] += omega * inverse[k] * (r[k] - t[k]);
        mk_cf_mg_apply_at(levels, l, z, t, 0);
    }
    // Restriction (the prolongation's transpose): scatter into the coarse padded picture,
    // gather its unknowns, clear it again (known pixels were written too).
    const int32_t* base = level->prolongation_base;
    const float* pw = level->prolongation_weight;
    double* P = coarse->padded;
    const size_t W = coarse->padded_width;
    for (size_t k = 0; k < m; k++) {
        const double rk = degree > 0 ? res[k] : r[k] - t[k];
        res[k] = rk;
        double* b = P + base[k];
        const float* w = pw + 25 * k;
        for (size_t v = 0; v < 5; v++) {
            for (size_t u = 0; u < 5; u++) b[v * W + u] += w[5 * v + u] * rk;
        }
    }
    const int32_t* pidx = coarse->padded_index;
    for (size_t j = 0; j < coarse->m; j++) rc[j] = P[pidx[j]];
    memset(P, 0, sizeof(double) * coarse->padded_count);
    mk_cf_mg_vcycle(levels, l + 1, count, rc, ec);
    for (size_t j = 0; j < coarse->m; j++) P[pidx[j]] = ec[j];
    mk_cf_mg_prolong(level, P, e);
    for (size_t j = 0; j < coarse->m; j++) P[pidx[j]] = 0;
    mk_cf_mg_apply_at(levels, l, e, le, 0);
    const double ele = mk_cf_mg_dot(e, le, m);
    const double step = ele > 0 ? mk_cf_mg_dot(e, res, m) / ele : 0;
    if (degree > 0) {
        // z += step·e, res −= step·L e, then Chebyshev from there (d in e, L d in le).
        double rho = 1 / sigma;
        for (size_t k = 0; k < m; k++) {
            z[k] += step * e[k];
            res[k] -= step * le[k];
            e[k] = inverse[k] * res[k] / theta;
        }
        for (int i = 0; i < degree; i++) {
            for (size_t k = 0; k < m; k++) z[k] += e[k];
            if (i + 1 == degree) break;
            mk_cf_mg_apply_at(levels, l, e, le, 0);
            const double rho_new = 1 / (2 * sigma - rho);
            const double c1 = rho_new * rho, c2 = 2 * rho_new / delta;
            for (size_t k = 0; k < m; k++) {
                res[k] -= le[k];
                e[k] = c1 * e[k] + c2 * inverse[k] * res[k];
            }
            rho = rho_new;
        }
        return;
    }
    // Post-smoothing: the residual after the correction needs no product (L e is known).
    for (size_t k = 0; k < m; k++) {
        const double zk = z[k] + step * e[k];
        const double rk = res[k] - step * le[k];
        z[k] = zk + omega * inverse[k] * rk;
    }
    for (int sweep = 1; sweep < post_sweeps; sweep++) {
        mk_cf_mg_apply_at(levels, l, z, t, 0);
        for (size_t k = 0; k < m; k++) z[k] += omega * inverse[k] * (r[k] - t[k]);
    }
}

typedef struct mk_cf_mg_prolong_state {
    const mk_cf_mg_level* level;
    const double* padded;
    double* out;
} mk_cf_mg_prolong_state;

// The prolongation of tile t's unknowns (each output is its own: any thread order).
static void mk_cf_mg_prolong_tile(void* context, size_t t, size_t worker) {
    (void) worker;
    const mk_cf_mg_prolong_state* st = context;
    const mk_cf_mg_level* level = st->level;
    const size_t W = level[1].padded_width;
    const int32_t* base = level->prolongation_base;
    const float* pw = level->prolongation_weight;
    const size_t* offsets = level->system.offsets;
    for (size_t k = offsets[t]; k < offsets[t + 1]; k++) {
        const double* b = st->padded + base[k];
        const float* w = pw + 25 * k;
        double v = 0;
        for (size_t y = 0; y < 5; y++) {
            for (size_t u = 0; u < 5; u++) v += w[5 * y + u] * b[y * W + u];
        }
        st->out[k] = v;
    }
}

void mk_cf_mg_prolong(const mk_cf_mg_level* level, const double* padded, double* out) {
    mk_cf_mg_prolong_state st = {.level = level, .padded = padded, .out = out};
    const mk_cf_system* s = &level->system;
    if (s->pool) {
        mk_threadpool_run(s->pool, s->tile_count, mk_cf_mg_prolong_tile, &st);
    } else {
        for (size_t t = 0; t < s->tile_count; t++) mk_cf_mg_prolong_tile(&st, t, 0);
    }
}

// r = b − A_UU x = c − A·(picture with x at the unknowns), while the picture still holds the
// known values (A = L + E and c as the system gives them: L and 0 without).
static void mk_cf_mg_residual(mk_cf_mg_level* top, const double* x, double* r) {
    const mk_cf_system* s = &top->system;
    for (size_t k = 0; k < top->m; k++) top->p[s->unknown[k]] = x[k];
    mk_cf_mg_product(top, r);
    if (s->extra_product) s->extra_product(s->extra_context, top->p, r);
    for (size_t k = 0; k < top->m; k++) r[k] = s->rhs ? s->rhs[k] - r[k] : -r[k];
}

typedef struct mk_cf_mg_cycle {
    const mk_cf_mg_level* levels;
    size_t count;
} mk_cf_mg_cycle;

static void mk_cf_mg_vcycle_apply(void* context, const double* r, double* z) {
    const mk_cf_mg_cycle* c = context;
    mk_cf_mg_vcycle(c->levels, 0, c->count, r, z);
}

// The multigrid cycle's setup, once the picture is homogeneous: the second level's Galerkin
// operator, when it has room for one (its inverse diagonal then follows it), and the
// Chebyshev levels' largest eigenvalues.
static void mk_cf_mg_prepare(void* context) {
    const mk_cf_mg_cycle* c = context;
    mk_cf_mg_level* levels = (mk_cf_mg_level*) c->levels;
    const size_t count = c->count;
    mk_cf_mg_level* top = levels;
    if (count >= 2 && levels[1].galerkin && levels[1].m > 0 && !mk_cf_mg_build_galerkin(top, levels + 1)) {
        levels[1].galerkin = NULL;
        mk_cf_mg_level* coarse = levels + 1;
        for (size_t k = 0; k < coarse->m; k++) coarse->inverse_diagonal[k] = coarse->diagonal[k] > 0 ? 1 / coarse->diagonal[k] : 0;
    }
    // Chebyshev smoothing below the finest level: each such level's largest eigenvalue of
    // D⁻¹A as its operator stands in this solve's cycles (level 1's is the Galerkin one when
    // there is one), with a margin: power iterations approach it from below.
    for (size_t l = 1; l + 1 < count; l++) {
        if (levels[l].chebyshev > 0) levels[l].lambda_max = mk_cf_mg_chebyshev_margin * mk_cf_mg_largest_eigenvalue(levels, l);
    }
}

int mk_f64_cf_mgcg(mk_cf_mg_level* levels, size_t count, double* x, double tolerance, int max_iterations,
                   double* residual) {
    *residual = 0;
    if (levels->m == 0 || count == 0) return 0;
    for (size_t l = 0; l < count; l++) {
        mk_cf_mg_level* level = levels + l;
        double* inverse = level->inverse_diagonal;
        for (size_t k = 0; k < level->m; k++) inverse[k] = level->diagonal[k] > 0 ? 1 / level->diagonal[k] : 0;
    }
    mk_cf_mg_cycle cycle = {.levels = levels, .count = count};
    return mk_cf_fcg(levels, x, tolerance, max_iterations, residual, mk_cf_mg_prepare, mk_cf_mg_vcycle_apply, &cycle);
}

int mk_cf_fcg(mk_cf_mg_level* top, double* x, double tolerance, int max_iterations, double* residual,
              void (*prepare)(void* context), void (*precondition)(void* context, const double* r, double* z),
              void* context) {
    const size_t m = top->m;
    *residual = 0;
    if (m == 0) return 0;
    // The outer vectors live in the top level's work: r, z (the preconditioner's input and
    // output) and, past the V-cycle's own 6·m, d, q and b.
    double* r = top->work;
    double* z = top->work + m;
    double* d = top->work + 6 * m;
    double* q = top->work + 7 * m;
    double* b = top->work + 8 * m;

    // The system's extra operator E (the information-flow terms; cmk.h), right-hand side c:
    // every product of A below is L's then E's, A = L + E, and b = c − A_UK x_K.
    const mk_cf_system* s = &top->system;
    void (*extra)(void*, const double*, double*) = s->extra_product;
    const double* c = s->rhs;

    // b = c − A_UK x_K: the product of the picture, which holds the known values and 0 at
    // the unknowns; then r = b − A_UU x.
    mk_cf_mg_product(top, b);
    if (extra) extra(s->extra_context, top->p, b);
    for (size_t k = 0; k < m; k++) b[k] = c ? c[k] - b[k] : -b[k];
    const double norm_b = __builtin_sqrt(mk_cf_mg_dot(b, b, m));
    // b = 0 (a trimap with background only, say): x = 0 solves the system (as in cf-pcg.c).
    if (norm_b == 0) {
        memset(x, 0, sizeof(double) * m);
        return 0;
    }
    mk_cf_mg_residual(top, x, r);
    // From here on products are homogeneous: p is zero at every pixel but the unknowns
    // being multiplied (the knowns' contribution is in b).
    memset(top->p, 0, sizeof(double) * top->n);
    if (prepare) prepare(context);
    double rel = __builtin_sqrt(mk_cf_mg_dot(r, r, m)) / norm_b;
    int iterations = 0, stopped = 0, vcycle = 1;
    // z = the preconditioner's r, or r / diag(L) once it has broken down.
#define MK_CF_PRECONDITION()                                                          \
    do {                                                                              \
        if (vcycle) {                                                                 \
            precondition(context, r, z);                                              \
        } else {                                                                      \
            for (size_t k = 0; k < m; k++) z[k] = r[k] * top->inverse_diagonal[k];    \
        }                                                                             \
    } while (0)
    // The recurrence r −= step·q drifts from the true residual by rounding; the loop ends
    // on the true residual b − L_UU x (one product), restarting from it if the recurrence
    // was too optimistic.
    for (int restart = 0; restart < 4 && !stopped && rel > tolerance && iterations < max_iterations; restart++) {
        MK_CF_PRECONDITION();
        memcpy(d, z, sizeof(double) * m);
        double rz = mk_cf_mg_dot(r, z, m);
        while (iterations < max_iterations && rel > tolerance) {
            iterations++;
            mk_cf_mg_apply(top, d, q);
            if (extra) extra(s->extra_context, top->p, q);
            const double dq = mk_cf_mg_dot(d, q, m);
            if (!(dq > 0) || !(rz > 0)) {
                // The preconditioner was not positive definite here (the V-cycle can be, for
                // some damping on some pictures): go on from this iterate with the diagonal,
                // which is.
                if (vcycle) {
                    vcycle = 0;
                } else {
                    stopped = 1;
                }
                break;
            }
            const double step = rz / dq;
            double rr = 0;
            for (size_t k = 0; k < m; k++) {
                x[k] += step * d[k];
                r[k] -= step * q[k];
                rr += r[k] * r[k];
            }
            rel = __builtin_sqrt(rr) / norm_b;
            if (rel <= tolerance || iterations == max_iterations) break;
            // The system's per-iteration callback (progress, cancellation) may stop the loop.
            if (top->system.on_iteration && top->system.on_iteration(top->system.on_iteration_context, iterations, rel)) {
                stopped = 1;
                break;
            }
            MK_CF_PRECONDITION();
            // Flexible (Polak–Ribière) β = z_newᵀ(r_new − r_old)/(z_oldᵀ r_old), r_new − r_old = −step·q.
            const double rz_new = mk_cf_mg_dot(r, z, m);
            const double beta = -step * mk_cf_mg_dot(z, q, m) / rz;
            rz = rz_new;
            for (size_t k = 0; k < m; k++) d[k] = z[k] + beta * d[k];
        }
        // The true residual (p is zero but at the unknowns, which this sets).
        mk_cf_mg_apply(top, x, r);
        if (extra) extra(s->extra_context, top->p, r);
        for (size_t k = 0; k < m; k++) r[k] = b[k] - r[k];
        rel = __builtin_sqrt(mk_cf_mg_dot(r, r, m)) / norm_b;
    }
#undef MK_CF_PRECONDITION
    *residual = rel;
    return iterations;
}

// Guided prolongation weights (see mk_multigrid.h): the guided filter's output at fine
// pixel i, (1/K) Σ_{k∋j} (a_kᵀ I_i + b_k), is linear in the coarse values; its
// coefficient for coarse pixel j' is (1/K) Σ_{k∋j, j'∈k} (1 + (I_i − μ_k)ᵀ Σ_k⁻¹ (I_j' − μ_k)) / |k|.
typedef struct mk_cf_mg_guided_state {
    const int32_t* unknown;
    size_t m;
    int32_t fine_width;
    const float* fine_colour;
    const float* coarse_planes;
    int32_t wc, hc;
    double epsilon;
    int32_t* out_base;
    float* out_weight;
} mk_cf_mg_guided_state;

enum { mk_cf_mg_guided_chunk = 4096 };  // unknowns per task on the pool

// The weights of unknowns chunk·t ..< chunk·(t + 1) (each unknown its own: any thread order).
static void mk_cf_mg_guided_chunk_run(void* context, size_t t, size_t worker) {
    (void) worker;
    const mk_cf_mg_guided_state* st = context;
    const int32_t* unknown = st->unknown;
    const int32_t fine_width = st->fine_width, wc = st->wc, hc = st->hc;
    const float* fine_colour = st->fine_colour;
    const float* coarse_planes = st->coarse_planes;
    const double epsilon = st->epsilon;
    int32_t* out_base = st->out_base;
    float* out_weight = st->out_weight;
    const size_t nc = (size_t) wc * (size_t) hc;
    const size_t k1 = (t + 1) * mk_cf_mg_guided_chunk < st->m ? (t + 1) * mk_cf_mg_guided_chunk : st->m;
    for (size_t k = t * mk_cf_mg_guided_chunk; k < k1; k++) {
        const int32_t x = unknown[k] % fine_width, y = unknown[k] / fine_width;
        const int32_t jx = x / 2 < wc ? x / 2 : wc - 1, jy = y / 2 < hc ? y / 2 : hc - 1;
        const double I0 = fine_colour[3 * k], I1 = fine_colour[3 * k + 1], I2 = fine_colour[3 * k + 2];
        double w[25] = {0};
        int windows = 0;
        for (int cy = jy - 1; cy <= jy + 1; cy++) {
            for (int cx = jx - 1; cx <= jx + 1; cx++) {
                if (cx < 0 || cy < 0 || cx >= wc || cy >= hc) continue;
                windows++;
                double s0 = 0, s1 = 0, s2 = 0, s00 = 0, s01 = 0, s02 = 0, s11 = 0, s12 = 0, s22 = 0;
                int count = 0;
                for (int v = cy - 1; v <= cy + 1; v++) {
                    for (int u = cx - 1; u <= cx + 1; u++) {
                        if (u < 0 || v < 0 || u >= wc || v >= hc) continue;
                        const size_t q = (size_t) v * wc + u;
                        const double c0 = coarse_planes[q], c1 = coarse_planes[nc + q], c2 = coarse_planes[2 * nc + q];
                        s0 += c0; s1 += c1; s2 += c2;
                        s00 += c0 * c0; s01 += c0 * c1; s02 += c0 * c2; s11 += c1 * c1; s12 += c1 * c2; s22 += c2 * c2;
                        count++;
                    }
                }
                const double n = count, m0 = s0 / n, m1 = s1 / n, m2 = s2 / n;
                const double a = s00 / n - m0 * m0 + epsilon, b = s01 / n - m0 * m1, c = s02 / n - m0 * m2;
                const double d = s11 / n - m1 * m1 + epsilon, e = s12 / n - m1 * m2, f = s22 / n - m2 * m2 + epsilon;
                // Inverse of [[a b c][b d e][c e f]] by the adjugate.
                const double A = d * f - e * e, B = c * e - b * f, C = b * e - c * d;
                const double D = a * f - c * c, E = b * c - a * e, F = a * d - b * b;
                const double det = a * A + b * B + c * C;
                const double inv = 1 / det;
                const double g0 = (A * (I0 - m0) + B * (I1 - m1) + C * (I2 - m2)) * inv;
                const double g1 = (B * (I0 - m0) + D * (I1 - m1) + E * (I2 - m2)) * inv;
                const double g2 = (C * (I0 - m0) + E * (I1 - m1) + F * (I2 - m2)) * inv;
                for (int v = cy - 1; v <= cy + 1; v++) {
                    for (int u = cx - 1; u <= cx + 1; u++) {
                        if (u < 0 || v < 0 || u >= wc || v >= hc) continue;
                        const size_t q = (size_t) v * wc + u;
                        const double t = 1 + g0 * (coarse_planes[q] - m0) + g1 * (coarse_planes[nc + q] - m1)
                                       + g2 * (coarse_planes[2 * nc + q] - m2);
                        w[(v - jy + 2) * 5 + (u - jx + 2)] += t / n;
                    }
                }
            }
        }
        out_base[k] = jy * (wc + 4) + jx;  // (jx − 2, jy − 2) in padded coordinates
        for (int s = 0; s < 25; s++) out_weight[25 * k + s] = (float) (w[s] / windows);
    }
}

void mk_cf_mg_guided_prolongation(
    const int32_t* unknown, size_t m, int32_t fine_width, const float* fine_colour,
    const float* coarse_planes, int32_t wc, int32_t hc,
    double epsilon, int32_t* out_base, float* out_weight, struct mk_threadpool* pool) {
    mk_cf_mg_guided_state st = {
        .unknown = unknown, .m = m, .fine_width = fine_width, .fine_colour = fine_colour,
        .coarse_planes = coarse_planes, .wc = wc, .hc = hc, .epsilon = epsilon,
        .out_base = out_base, .out_weight = out_weight};
    const size_t chunks = (m + mk_cf_mg_guided_chunk - 1) / mk_cf_mg_guided_chunk;
    if (pool) {
        mk_threadpool_run(pool, chunks, mk_cf_mg_guided_chunk_run, &st);
    } else {
        for (size_t t = 0; t < chunks; t++) mk_cf_mg_guided_chunk_run(&st, t, 0);
    }
}
