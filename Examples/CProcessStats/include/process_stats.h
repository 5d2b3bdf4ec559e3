#ifndef PROCESS_STATS_H
#define PROCESS_STATS_H

#include <stddef.h>

/// Bytes the C allocator has handed out and not had back (heap blocks plus mmapped blocks),
/// over all arenas; 0 where the C library cannot say (not glibc, or glibc before 2.33).
size_t process_heap_bytes_in_use(void);

#endif
