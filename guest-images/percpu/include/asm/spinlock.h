/*
 * A ticket spinlock, as x86 Linux had from 2.6.25 to 4.1
 * (arch/x86/include/asm/spinlock.h): take a ticket with "lock xadd" on tail,
 * wait until head reaches it; unlock advances head. Fair: CPUs get the lock
 * in the order they asked.
 */
#ifndef _ASM_X86_SPINLOCK_H
#define _ASM_X86_SPINLOCK_H

#include "linux/compiler.h"
#include "asm/processor.h"

typedef struct {
    volatile u16 head;
    volatile u16 tail;
} arch_spinlock_t;

#define __ARCH_SPIN_LOCK_UNLOCKED { 0, 0 }

static __always_inline void arch_spin_lock(arch_spinlock_t *lock)
{
    u16 ticket = 1;
    __asm__ volatile("lock xaddw %0, %1" : "+r"(ticket), "+m"(lock->tail) : : "memory");
    while (READ_ONCE(lock->head) != ticket)
        cpu_relax();
    barrier();
}

static __always_inline void arch_spin_unlock(arch_spinlock_t *lock)
{
    barrier();
    /* Only the owner writes head: a plain (unlocked) add is enough on x86. */
    __asm__ volatile("addw $1, %0" : "+m"(lock->head) : : "memory");
}

static __always_inline bool arch_spin_is_locked(const arch_spinlock_t *lock)
{
    return READ_ONCE(lock->head) != READ_ONCE(lock->tail);
}

#endif
