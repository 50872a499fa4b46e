#ifndef CBENCHSHIMS_H
#define CBENCHSHIMS_H
/* The CPU the calling thread runs on (glibc: rseq or the vDSO, no system
 * call), or -1. Declared here because <sched.h> shows it only under
 * _GNU_SOURCE, which Swift's Glibc module does not set. */
int sched_getcpu(void);
static inline int bench_current_cpu(void) { return sched_getcpu(); }
#endif
