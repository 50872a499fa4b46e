// Which kernels this CPU and its operating system can run, decided once.
// AVX2 needs the CPUID bit *and* the OS saving YMM state on context switch
// (OSXSAVE set and XCR0 bits 1 and 2, read with XGETBV); without both,
// nothing wide runs.

#include "cb3_internal.h"

#if defined(__x86_64__)
#include <cpuid.h>

static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static unsigned detect(void) {
    unsigned mask = 1u << CB3_KERNEL_PORTABLE;
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return mask;
    const int sse41 = (ecx >> 19) & 1;
    const int osxsave = (ecx >> 27) & 1;
    const int avx = (ecx >> 28) & 1;
    if (sse41) mask |= 1u << CB3_KERNEL_SSE41;
    if (!(osxsave && avx)) return mask;
    if ((read_xcr0() & 0x6) != 0x6) return mask;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return mask;
    if ((ebx >> 5) & 1) mask |= 1u << CB3_KERNEL_AVX2;
    return mask;
}
#else
static unsigned detect(void) { return 1u << CB3_KERNEL_PORTABLE; }
#endif

unsigned cb3_available_kernels(void) {
    // 0 means "not yet computed"; the answer always has the portable bit.
    static unsigned cached = 0;
    unsigned mask = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (mask == 0) {
        mask = detect();
        __atomic_store_n(&cached, mask, __ATOMIC_RELAXED);
    }
    return mask;
}
