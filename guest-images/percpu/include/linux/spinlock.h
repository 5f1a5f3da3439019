/* raw spinlocks: include/linux/spinlock.h and spinlock_api_smp.h. Taking a
 * lock disables preemption (a task holding a spinlock must not be switched
 * out); the _irq variants also disable interrupts on this CPU. */
#ifndef _LINUX_SPINLOCK_H
#define _LINUX_SPINLOCK_H

#include "asm/irqflags.h"
#include "asm/spinlock.h"
#include "linux/preempt.h"

typedef struct raw_spinlock {
    arch_spinlock_t raw_lock;
} raw_spinlock_t;

#define __RAW_SPIN_LOCK_UNLOCKED { __ARCH_SPIN_LOCK_UNLOCKED }
#define DEFINE_RAW_SPINLOCK(x) raw_spinlock_t x = __RAW_SPIN_LOCK_UNLOCKED

static inline void raw_spin_lock_init(raw_spinlock_t *lock)
{
    lock->raw_lock.head = 0;
    lock->raw_lock.tail = 0;
}

static inline void raw_spin_lock(raw_spinlock_t *lock)
{
    preempt_disable();
    arch_spin_lock(&lock->raw_lock);
}

static inline void raw_spin_unlock(raw_spinlock_t *lock)
{
    arch_spin_unlock(&lock->raw_lock);
    preempt_enable();
}

static inline void raw_spin_lock_irq(raw_spinlock_t *lock)
{
    local_irq_disable();
    preempt_disable();
    arch_spin_lock(&lock->raw_lock);
}

static inline void raw_spin_unlock_irq(raw_spinlock_t *lock)
{
    arch_spin_unlock(&lock->raw_lock);
    local_irq_enable();
    preempt_enable();
}

#define raw_spin_lock_irqsave(lock, flags)        \
    do {                                          \
        local_irq_save(flags);                    \
        preempt_disable();                        \
        arch_spin_lock(&(lock)->raw_lock);        \
    } while (0)

static inline void raw_spin_unlock_irqrestore(raw_spinlock_t *lock, unsigned long flags)
{
    arch_spin_unlock(&lock->raw_lock);
    local_irq_restore(flags);
    preempt_enable();
}

#endif
