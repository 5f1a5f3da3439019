/*
 * Boot-time memory: a stand-in for mm/memblock.c. Linux's memblock tracks
 * the firmware's memory map and hands out physical ranges before the page
 * allocator exists; here one bump pointer does: every allocation comes after
 * the previous one, nothing is ever freed.
 *
 * It starts at the first 1 MiB boundary after the kernel image (_end), and
 * not at the loader's memory map, so the addresses it returns (the per-CPU
 * units, the task stacks) are the same on QEMU and on the emulator.
 */
#include "linux/compiler.h"
#include "linux/memblock.h"
#include "linux/printk.h"
#include "linux/spinlock.h"
#include "linux/string.h"

static unsigned long memblock_start, memblock_next, memblock_end;
/* Tasks are created while other CPUs run, so the bump pointer needs a lock
 * (an arch lock: memblock is used before preemption counting works). */
static arch_spinlock_t memblock_lock = __ARCH_SPIN_LOCK_UNLOCKED;

/* mirrors mm/memblock.c: memblock_add() of the usable RAM */
void memblock_init(unsigned long start, unsigned long end)
{
    memblock_start = memblock_next = start;
    memblock_end = end;
}

/* mirrors mm/memblock.c: memblock_alloc_try_nid() (returns NULL on failure) */
void *memblock_alloc_try(size_t size, size_t align)
{
    unsigned long flags;
    local_irq_save(flags);
    arch_spin_lock(&memblock_lock);
    unsigned long base = ALIGN(memblock_next, (unsigned long)align);
    if (base < memblock_next || base + size > memblock_end || base + size < base) {
        arch_spin_unlock(&memblock_lock);
        local_irq_restore(flags);
        return NULL;
    }
    memblock_next = base + size;
    arch_spin_unlock(&memblock_lock);
    local_irq_restore(flags);
    memset((void *)base, 0, size);
    return (void *)base;
}

/* mirrors mm/memblock.c: memblock_alloc() (panics on failure) */
void *memblock_alloc(size_t size, size_t align)
{
    void *p = memblock_alloc_try(size, align);
    if (p == NULL)
        panic("memblock: out of memory allocating %u bytes", (unsigned)size);
    return p;
}

unsigned long memblock_used(void)
{
    return memblock_next - memblock_start;
}
