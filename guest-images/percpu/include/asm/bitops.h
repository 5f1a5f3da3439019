/* Bit operations on unsigned long arrays: arch/x86/include/asm/bitops.h and
 * the generic find_next_bit(). set_bit()/clear_bit() are atomic (lock bts/btr). */
#ifndef _ASM_X86_BITOPS_H
#define _ASM_X86_BITOPS_H

#include "linux/compiler.h"

#define BITS_PER_LONG 32
#define BITS_TO_LONGS(n) (((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define BIT_WORD(nr) ((nr) / BITS_PER_LONG)
#define BIT_MASK(nr) (1UL << ((nr) % BITS_PER_LONG))

static inline void set_bit(long nr, volatile unsigned long *addr)
{
    __asm__ volatile("lock btsl %1, %0" : "+m"(*(volatile long *)addr) : "Ir"(nr) : "memory");
}

static inline void clear_bit(long nr, volatile unsigned long *addr)
{
    __asm__ volatile("lock btrl %1, %0" : "+m"(*(volatile long *)addr) : "Ir"(nr) : "memory");
}

static inline void __set_bit(long nr, unsigned long *addr) { addr[BIT_WORD(nr)] |= BIT_MASK(nr); }
static inline void __clear_bit(long nr, unsigned long *addr) { addr[BIT_WORD(nr)] &= ~BIT_MASK(nr); }

static inline bool test_bit(long nr, const volatile unsigned long *addr)
{
    return (addr[BIT_WORD(nr)] >> (nr % BITS_PER_LONG)) & 1;
}

/* First set (or clear) bit at or after offset, or size if none. */
static inline unsigned long find_next_bit(const unsigned long *addr, unsigned long size, unsigned long offset)
{
    for (; offset < size; offset++)
        if (test_bit(offset, addr))
            return offset;
    return size;
}

static inline unsigned long find_next_zero_bit(const unsigned long *addr, unsigned long size, unsigned long offset)
{
    for (; offset < size; offset++)
        if (!test_bit(offset, addr))
            return offset;
    return size;
}

static inline unsigned int hweight_long(unsigned long w) { return (unsigned int)__builtin_popcountl(w); }

#endif
