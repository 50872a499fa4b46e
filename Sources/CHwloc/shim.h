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

#endif
