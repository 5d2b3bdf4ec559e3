// MK_TWO_ISAS(name): a pool task's body `name##_body` (an always-inline function with the
// pool's signature) compiled twice: for any x86-64 (SSE2) and for AVX2, whose 4-wide Double
// operations halve the instructions of Double loops; `name##_for_cpu()` picks one at run
// time. The including file turns FMA contraction off (and AVX2 alone has no FMA), so both
// copies give the same results bit for bit.
#ifndef MK_TWO_ISAS_H
#define MK_TWO_ISAS_H
#include <stddef.h>
#include "cmk.h"

#if defined(__x86_64__)
#define MK_TWO_ISAS(name)                                                                                 \
    static void name##_portable(void* context, size_t t, size_t worker) { name##_body(context, t, worker); } \
    __attribute__((target("avx2"))) static void name##_avx2(void* context, size_t t, size_t worker) {      \
        name##_body(context, t, worker);                                                                  \
    }                                                                                                     \
    static void (*name##_for_cpu(void))(void*, size_t, size_t) {                                          \
        return mk_cpu_supports_avx2_fma() ? name##_avx2 : name##_portable;                                \
    }
#else
#define MK_TWO_ISAS(name)                                                                                 \
    static void name##_portable(void* context, size_t t, size_t worker) { name##_body(context, t, worker); } \
    static void (*name##_for_cpu(void))(void*, size_t, size_t) { return name##_portable; }
#endif

#endif
