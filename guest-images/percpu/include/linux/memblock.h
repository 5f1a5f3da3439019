/* Boot-time memory allocation: include/linux/memblock.h. */
#ifndef _LINUX_MEMBLOCK_H
#define _LINUX_MEMBLOCK_H

#include <stddef.h>

void memblock_init(unsigned long start, unsigned long end);
/* Zeroed memory, aligned to align; panics when memory runs out. */
void *memblock_alloc(size_t size, size_t align);
/* The same, but returns NULL when memory runs out. */
void *memblock_alloc_try(size_t size, size_t align);
unsigned long memblock_used(void);

#endif
