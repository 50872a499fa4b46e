#ifndef CHWLOC_SHIM_H
#define CHWLOC_SHIM_H
/* hwloc.h pulls in bitmap, helper, inlines, cpukinds, distances and memattrs.
 * This module is hwloc and nothing else; only Topology imports it. The
 * operating system calls the other modules need live in CSystemShims. */
#include <hwloc.h>
#endif
