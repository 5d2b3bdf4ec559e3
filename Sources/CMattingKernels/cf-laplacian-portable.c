// mk_f64_cf_laplacian_ukernel__portable: the closed-form matting Laplacian's tile product
// compiled for the baseline ISA (SSE2 on x86_64, NEON on arm64). Body: cf-laplacian-body.h.
#define MK_CF_LAPLACIAN_NAME mk_f64_cf_laplacian_ukernel__portable
#define MK_CF_STATS_NAME mk_f64_cf_tile_stats__portable
#define MK_CF_DIAGONAL_NAME mk_f64_cf_tile_diagonal__portable
#include "cf-laplacian-body.h"
