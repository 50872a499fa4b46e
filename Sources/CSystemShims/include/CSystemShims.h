#ifndef CSYSTEMSHIMS_H
#define CSYSTEMSHIMS_H
/* Linux calls that Swift cannot make directly: variadic system calls
 * (syscall(2), prctl(2)), compiler builtins, and declarations glibc shows
 * only under _GNU_SOURCE. The ones on hot paths (TSC, spin hint, current
 * CPU, futex) are inline; the rest are in shims.c. */
#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/futex.h>

/* move_pages(2) in query mode (nodes == NULL): status[i] receives the NUMA
 * node of pages[i], or a negative errno (-ENOENT: not yet touched).
 * Returns -1 where the system call does not exist. */
long mtj_query_page_nodes(unsigned long count, void **pages, int *status);

/* Names the calling thread (at most 15 bytes show), for profilers and top -H. */
int mtj_set_thread_name(const char *name);

/* The calling thread's kernel id, for tests and reports. */
long mtj_gettid(void);

/* The CPU's time-stamp counter (x86), or 0 where there is none. Not a
 * serializing read: it may run a few instructions early, which is noise at
 * the sub-microsecond scale MTJobs times chunks at. Used only where the
 * kernel itself keeps time with the TSC (see Sources/MTSupport/Clocks.swift). */
static inline uint64_t mtj_read_tsc(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return 0;
#endif
}

/* One spin-wait hint: `pause` on x86 (yields the core's pipeline to an SMT
 * sibling and avoids a memory-order flush when the polled line changes),
 * `yield` on ARM, nothing elsewhere. */
static inline void mtj_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* The CPU the calling thread runs on (glibc reads it from rseq or the
 * vDSO: no system call), or -1. Declared here because <sched.h> shows it
 * only under _GNU_SOURCE. */
int sched_getcpu(void);
static inline int mtj_current_cpu(void) { return sched_getcpu(); }

/* Sleeps while the 32-bit word at `addr` still holds `expected` (FUTEX_WAIT,
 * process-private). Returns 0, or -1 with errno (EAGAIN: the word had
 * changed; EINTR: a signal). Callers re-check the word in a loop. */
static inline long mtj_futex_wait(uint32_t *addr, uint32_t expected) {
    return syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, (void *)0, (void *)0, 0);
}

/* Wakes at most `count` threads sleeping on `addr` (FUTEX_WAKE, private). */
static inline long mtj_futex_wake(uint32_t *addr, int count) {
    return syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, count, (void *)0, (void *)0, 0);
}

#endif
