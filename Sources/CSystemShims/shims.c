#include "CSystemShims.h"
#include <sys/prctl.h>

long mtj_query_page_nodes(unsigned long count, void **pages, int *status) {
#ifdef SYS_move_pages
    return syscall(SYS_move_pages, 0, count, pages, (const int *)0, status, 0);
#else
    (void)count; (void)pages; (void)status;
    return -1;
#endif
}

int mtj_set_thread_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }

long mtj_gettid(void) { return syscall(SYS_gettid); }
