#include "cmk.h"

int mk_cpu_supports_avx2_fma(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

// XCR0, read with xgetbv (inline asm: no target attribute needed). Only valid when
// CPUID.1:ECX.OSXSAVE is set.
static uint64_t mk_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t) edx << 32) | eax;
}
#endif

int mk_cpu_supports_avx512f(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) return 0;
    // compiler-rt and libgcc both check XCR0 before reporting avx512f, but which runtime
    // provides __cpu_model depends on the link; checking here makes the OS requirement
    // explicit. Bits 1–2 (SSE, AVX state) and 5–7 (opmask, ZMM0–15 high, ZMM16–31).
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_OSXSAVE)) return 0;
    return (mk_xcr0() & 0xE6) == 0xE6;
#else
    return 0;
#endif
}
