// mk_f64_cf_laplacian_ukernel__avx2_fma: the same tile product as the portable kernel,
// compiled for AVX2 + FMA (4 doubles per vector; the compiler contracts a·b + c to FMA, so
// results differ from the portable path in the last bits). Body: cf-laplacian-body.h.
#include "cmk.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define MK_CF_LAPLACIAN_NAME mk_f64_cf_laplacian_ukernel__avx2_fma
#define MK_CF_STATS_NAME mk_f64_cf_tile_stats__avx2_fma
#define MK_CF_DIAGONAL_NAME mk_f64_cf_tile_diagonal__avx2_fma
#include "cf-laplacian-body.h"
#pragma clang attribute pop
#else
double mk_f64_cf_laplacian_ukernel__avx2_fma(const mk_cf_tile* tile, const double* p, double* out, double* scratch) {
    return mk_f64_cf_laplacian_ukernel__portable(tile, p, out, scratch);
}
void mk_f64_cf_tile_stats__avx2_fma(const mk_cf_tile* tile, double epsilon, double* mean, double* inverse, double* scratch) {
    mk_f64_cf_tile_stats__portable(tile, epsilon, mean, inverse, scratch);
}
void mk_f64_cf_tile_diagonal__avx2_fma(const mk_cf_tile* tile, const double* mean, const double* inverse,
                                       double* diagonal, double* count, int32_t* local, double* scratch) {
    mk_f64_cf_tile_diagonal__portable(tile, mean, inverse, diagonal, count, local, scratch);
}
#endif
