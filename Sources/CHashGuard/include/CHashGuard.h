#ifndef CHASHGUARD_H
#define CHASHGUARD_H
/* mtrun hash: guarded file mappings (see Sources/HashEngine/FileWindow.swift).
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
 * and passed to every call; the handler finds it through a static that
 * mtj_guard_install (to be called once per process from one place) sets. */
#include <stddef.h>

/* Bytes to allocate (zeroed) for a table. */
size_t mtj_guard_table_size(void);

/* Installs the SIGBUS handler for `table` (zeroed, never freed). Call once
 * per process. Returns 0, or -1 when it could not be installed (then
 * mappings must not be read). */
int mtj_guard_install(void *table);

/* Registers [start, start+length) as guarded. Returns the slot, or -1 when
 * every slot is taken (then the range must not be read). */
int mtj_guard_register(void *table, const void *start, size_t length);

/* Frees the slot; returns whether a fault was caught in its range since it
 * was registered. Call it before the range is unmapped. */
int mtj_guard_unregister(void *table, int slot);

#endif
