/*
 * Compiler helpers, as in include/linux/compiler.h, compiler_types.h and
 * cache.h. Only what this kernel uses.
 */
#ifndef _LINUX_COMPILER_H
#define _LINUX_COMPILER_H

#include "linux/kconfig.h"
#include "linux/types.h"

/* Sparse's address-space marker: a __percpu pointer is an offset-like value
 * that must go through per_cpu_ptr()/this_cpu_ptr() before it is used.
 * Like in Linux, it means nothing to the C compiler. */
#define __percpu
#define __kernel
#define __force

#define __always_inline inline __attribute__((always_inline))
#define __aligned(x) __attribute__((aligned(x)))
#define __used __attribute__((used))
#define __noreturn __attribute__((noreturn))
#define __packed __attribute__((packed))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* The compiler may not move memory accesses across this. */
#define barrier() __asm__ __volatile__("" : : : "memory")

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val) (*(volatile __typeof__(x) *)&(x) = (val))

/*
 * RELOC_HIDE(ptr, off): ptr + off, computed so that the compiler cannot see
 * that the result is derived from ptr. per_cpu() uses it: &var + offset points
 * far outside the object var, which C would call undefined behaviour.
 */
#define RELOC_HIDE(ptr, off)                                     \
    ({                                                           \
        unsigned long __ptr;                                     \
        __asm__("" : "=r"(__ptr) : "0"(ptr));                    \
        (__typeof__(ptr))(__ptr + (off));                        \
    })

#define __stringify_1(x...) #x
#define __stringify(x...) __stringify_1(x)

#define BUILD_BUG_ON(cond) _Static_assert(!(cond), #cond)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#define ALIGN(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define max(a, b) ((a) > (b) ? (a) : (b))
#define min(a, b) ((a) < (b) ? (a) : (b))

/* include/linux/cache.h: the L1 cache line (X86_L1_CACHE_SHIFT = 6). */
#define L1_CACHE_SHIFT 6
#define L1_CACHE_BYTES (1 << L1_CACHE_SHIFT)
#define SMP_CACHE_BYTES L1_CACHE_BYTES
#define ____cacheline_aligned __attribute__((__aligned__(SMP_CACHE_BYTES)))
#ifdef CONFIG_SMP
#define ____cacheline_aligned_in_smp ____cacheline_aligned
#else
#define ____cacheline_aligned_in_smp
#endif

/* arch/x86/include/asm/page_types.h */
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PFN_ALIGN(x) (((unsigned long)(x) + (PAGE_SIZE - 1)) & ~(PAGE_SIZE - 1))
#define PFN_DOWN(x) ((x) >> PAGE_SHIFT)

#endif
