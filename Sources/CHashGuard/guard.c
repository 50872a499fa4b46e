#include "CHashGuard.h"
#include <stdint.h>
#include <unistd.h>
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

size_t mtj_guard_table_size(void) { return sizeof(struct mtj_guard_table); }

/* The table the handler uses (set once by mtj_guard_install). */
static struct mtj_guard_table *handler_table;

static void mtj_guard_handler(int sig, siginfo_t *info, void *context) {
    struct mtj_guard_table *t = __atomic_load_n(&handler_table, __ATOMIC_ACQUIRE); /* pairs with install */
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

int mtj_guard_install(void *table) {
    struct mtj_guard_table *t = (struct mtj_guard_table *)table;
    t->page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
    __atomic_store_n(&handler_table, t, __ATOMIC_RELEASE); /* pairs with the handler's load */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = mtj_guard_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGBUS, &sa, &t->previous) == 0 ? 0 : -1;
}

int mtj_guard_register(void *table, const void *start, size_t length) {
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

int mtj_guard_unregister(void *table, int slot) {
    struct mtj_guard_slot *s = &((struct mtj_guard_table *)table)->slots[slot];
    __atomic_store_n(&s->start, 0, __ATOMIC_RELEASE);
    int faulted = __atomic_exchange_n(&s->faulted, 0, __ATOMIC_ACQ_REL); /* pairs with the handler's store */
    __atomic_store_n(&s->claimed, 0, __ATOMIC_RELEASE); /* pairs with register's CAS */
    return faulted;
}

