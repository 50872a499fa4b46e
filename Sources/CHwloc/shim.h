#ifndef CHWLOC_SHIM_H
#define CHWLOC_SHIM_H
/* hwloc.h pulls in bitmap, helper, inlines, cpukinds, distances and memattrs. */
#include <hwloc.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/prctl.h>

/* move_pages(2) in query mode (nodes == NULL): status[i] receives the NUMA
 * node of pages[i], or a negative errno (-ENOENT: not yet touched).
 * syscall(2) is variadic, so Swift cannot call it directly. */
static inline long mtj_query_page_nodes(unsigned long count, void **pages, int *status) {
#ifdef SYS_move_pages
    return syscall(SYS_move_pages, 0, count, pages, (const int *)0, status, 0);
#else
    (void)count; (void)pages; (void)status;
    return -1;
#endif
}

/* Names the calling thread (at most 15 bytes show), for profilers and top -H.
 * prctl(2) is variadic, so Swift cannot call it directly. */
static inline int mtj_set_thread_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }

/* The calling thread's kernel id, for tests and reports. */
static inline long mtj_gettid(void) { return syscall(SYS_gettid); }

/* ---- Worker pool helpers (see Sources/WorkerPool/Parking.md) ---- */
#include <stdint.h>
#include <linux/futex.h>

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
