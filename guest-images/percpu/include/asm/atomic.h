/* atomic_t: arch/x86/include/asm/atomic.h. Every read-modify-write carries
 * the lock prefix, which makes the CPU own the cache line for the whole
 * instruction. */
#ifndef _ASM_X86_ATOMIC_H
#define _ASM_X86_ATOMIC_H

#include "linux/compiler.h"

typedef struct {
    int counter;
} atomic_t;

#define ATOMIC_INIT(i) { (i) }

static __always_inline int atomic_read(const atomic_t *v) { return READ_ONCE(v->counter); }
static __always_inline void atomic_set(atomic_t *v, int i) { WRITE_ONCE(v->counter, i); }

static __always_inline void atomic_inc(atomic_t *v)
{
    __asm__ volatile("lock incl %0" : "+m"(v->counter) : : "memory");
}

static __always_inline void atomic_dec(atomic_t *v)
{
    __asm__ volatile("lock decl %0" : "+m"(v->counter) : : "memory");
}

static __always_inline int atomic_add_return(int i, atomic_t *v)
{
    int old = i;
    __asm__ volatile("lock xaddl %0, %1" : "+r"(old), "+m"(v->counter) : : "memory");
    return old + i;
}

static __always_inline int atomic_xchg(atomic_t *v, int new)
{
    __asm__ volatile("xchgl %0, %1" : "+r"(new), "+m"(v->counter) : : "memory");
    return new;
}

/* x86 is TSO: loads are not reordered with loads, stores not with stores, so
 * smp_rmb()/smp_wmb() only stop the compiler; smp_mb() is a locked op. */
#define smp_mb() __asm__ volatile("lock; addl $0,-4(%%esp)" : : : "memory", "cc")
#define smp_rmb() barrier()
#define smp_wmb() barrier()
#define smp_store_release(p, v) do { barrier(); WRITE_ONCE(*(p), (v)); } while (0)
#define smp_load_acquire(p) ({ __typeof__(*(p)) ___v = READ_ONCE(*(p)); barrier(); ___v; })

#endif
