/* Port I/O (arch/x86/include/asm/io.h) and memory-mapped register access. */
#ifndef _ASM_X86_IO_H
#define _ASM_X86_IO_H

#include "linux/types.h"

static inline void outb(u8 value, u16 port)
{
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

static inline u8 inb(u16 port)
{
    u8 value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port) : "memory");
    return value;
}

static inline u32 readl(const volatile void *addr) { return *(const volatile u32 *)addr; }
static inline void writel(u32 value, volatile void *addr) { *(volatile u32 *)addr = value; }

/* Paging is off in this kernel: physical == virtual. (The empty asm hides
 * the constant from the compiler, which otherwise warns about accesses to
 * fixed low addresses such as 0x40E.) */
static inline void *phys_to_virt(unsigned long phys)
{
    __asm__("" : "+r"(phys));
    return (void *)phys;
}
#define virt_to_phys(v) ((unsigned long)(v))

#endif
