#ifndef CHWLOC_SHIM_H
#define CHWLOC_SHIM_H
/* hwloc.h pulls in bitmap, helper, inlines, cpukinds, distances and memattrs. */
#include <hwloc.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <stdint.h>

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

/* The CPU's time-stamp counter (x86), or 0 where there is none. Not a
 * serializing read: it may run a few instructions early, which is noise at
 * the sub-microsecond scale MTJobs times chunks at. Used only where the
 * kernel itself keeps time with the TSC (see Sources/MTJobs/RunClock.swift). */
static inline uint64_t mtj_read_tsc(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return 0;
#endif
}

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

/* ---- mtrun hash: guarded file mappings (see Sources/HashEngine/FileWindow.swift) ----
 * A file mapped with mmap(2) raises SIGBUS when a page beyond its end is
 * touched, which happens when the file shrinks while it is being hashed.
 * Code that reads a mapping registers the mapped range in a table; the
 * SIGBUS handler, for a fault inside a registered range, maps anonymous
 * zero-filled memory over the rest of that range (MAP_FIXED), marks the range
 * as faulted and returns, so the read finishes on zeros; the caller then sees
 * the mark and discards what it computed from the range. A SIGBUS anywhere
 * else goes to the handler that was installed before (or the default action:
 * the process dies as it would have). Everything the handler touches is
 * async-signal-safe: atomic loads and stores, mmap(2), sigaction(2), raise(3).
 *
 * The table is allocated by the caller (calloc(1, mtj_guard_table_size()))
 * and passed to every call, so one table serves the process even though a
 * header's statics may exist once per object file; only the handler finds it
 * through a static, which mtj_guard_install (its only user, to be called
 * once per process from one place) sets. */
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#define MTJ_GUARD_SLOTS 64

struct mtj_guard_slot {
    uintptr_t start;   /* 0: free; written last on register, first on unregister */
    uintptr_t end;
    int claimed;       /* 0/1, taken with a CAS */
    int faulted;       /* set by the handler */
};

struct mtj_guard_table {
    struct mtj_guard_slot slots[MTJ_GUARD_SLOTS];
    struct sigaction previous; /* written before the handler is installed */
    uintptr_t page_size;
};

/* Bytes to allocate (zeroed) for a table. */
static inline size_t mtj_guard_table_size(void) { return sizeof(struct mtj_guard_table); }

/* The table the handler uses (set once by mtj_guard_install). */
static inline struct mtj_guard_table **mtj_guard_handler_table(void) {
    static struct mtj_guard_table *table;
    return &table;
}

static inline void mtj_guard_handler(int sig, siginfo_t *info, void *context) {
    struct mtj_guard_table *t = __atomic_load_n(mtj_guard_handler_table(), __ATOMIC_ACQUIRE); /* pairs with install */
    uintptr_t a = (uintptr_t)info->si_addr;
    for (int i = 0; i < MTJ_GUARD_SLOTS; i++) {
        struct mtj_guard_slot *s = &t->slots[i];
        uintptr_t start = __atomic_load_n(&s->start, __ATOMIC_ACQUIRE); /* pairs with register's release store */
        if (start == 0 || a < start) continue;
        uintptr_t end = __atomic_load_n(&s->end, __ATOMIC_RELAXED);
        /* The slot may have been reused between the two loads: check again. */
        if (__atomic_load_n(&s->start, __ATOMIC_ACQUIRE) != start || a >= end) continue;
        uintptr_t page = a & ~(t->page_size - 1);
        void *p = mmap((void *)page, end - page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p == MAP_FAILED) break;
        __atomic_store_n(&s->faulted, 1, __ATOMIC_RELEASE); /* pairs with unregister's exchange */
        return;
    }
    /* Not ours: the previous handler, or the default action. */
    if ((t->previous.sa_flags & SA_SIGINFO) && t->previous.sa_sigaction) {
        t->previous.sa_sigaction(sig, info, context);
        return;
    }
    if (t->previous.sa_handler != SIG_DFL && t->previous.sa_handler != SIG_IGN) {
        t->previous.sa_handler(sig);
        return;
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, (struct sigaction *)0);
    raise(sig); /* pending until we return; a faulting instruction also faults again */
}

/* Installs the SIGBUS handler for `table` (zeroed, never freed). Call once
 * per process. Returns 0, or -1 when it could not be installed (then
 * mappings must not be read). */
static inline int mtj_guard_install(void *table) {
    struct mtj_guard_table *t = (struct mtj_guard_table *)table;
    t->page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
    __atomic_store_n(mtj_guard_handler_table(), t, __ATOMIC_RELEASE); /* pairs with the handler's load */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = mtj_guard_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGBUS, &sa, &t->previous) == 0 ? 0 : -1;
}

/* Registers [start, start+length) as guarded. Returns the slot, or -1 when
 * every slot is taken (then the range must not be read). */
static inline int mtj_guard_register(void *table, const void *start, size_t length) {
    struct mtj_guard_table *t = (struct mtj_guard_table *)table;
    for (int i = 0; i < MTJ_GUARD_SLOTS; i++) {
        struct mtj_guard_slot *s = &t->slots[i];
        int expected = 0;
        if (__atomic_load_n(&s->claimed, __ATOMIC_RELAXED) != 0) continue;
        if (!__atomic_compare_exchange_n(&s->claimed, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) continue;
        __atomic_store_n(&s->faulted, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&s->end, (uintptr_t)start + length, __ATOMIC_RELAXED);
        __atomic_store_n(&s->start, (uintptr_t)start, __ATOMIC_RELEASE); /* pairs with the handler's acquire load */
        return i;
    }
    return -1;
}

/* Frees the slot; returns whether a fault was caught in its range since it
 * was registered. Call it before the range is unmapped. */
static inline int mtj_guard_unregister(void *table, int slot) {
    struct mtj_guard_slot *s = &((struct mtj_guard_table *)table)->slots[slot];
    __atomic_store_n(&s->start, 0, __ATOMIC_RELEASE);
    int faulted = __atomic_exchange_n(&s->faulted, 0, __ATOMIC_ACQ_REL); /* pairs with the handler's store */
    __atomic_store_n(&s->claimed, 0, __ATOMIC_RELEASE); /* pairs with register's CAS */
    return faulted;
}

#endif
