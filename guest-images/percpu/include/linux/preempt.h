/*
 * preempt_disable()/preempt_enable() and the count's fields:
 * include/linux/preempt.h.
 *
 *   bits  0- 7  preemption disable depth (preempt_disable())
 *   bits  8-15  softirq (unused here)
 *   bits 16-19  hardirq nesting (irq_enter())
 *   bit  31     PREEMPT_NEED_RESCHED (inverted, see asm/preempt.h)
 */
#ifndef _LINUX_PREEMPT_H
#define _LINUX_PREEMPT_H

#include "asm/preempt.h"

#define PREEMPT_SHIFT 0
#define SOFTIRQ_SHIFT 8
#define HARDIRQ_SHIFT 16
#define PREEMPT_MASK 0x000000ff
#define SOFTIRQ_MASK 0x0000ff00
#define HARDIRQ_MASK 0x000f0000
#define HARDIRQ_OFFSET (1UL << HARDIRQ_SHIFT)

#define hardirq_count() (preempt_count() & HARDIRQ_MASK)
#define in_interrupt() (preempt_count() & (HARDIRQ_MASK | SOFTIRQ_MASK))

#define preempt_count_inc() __preempt_count_add(1)
#define preempt_count_dec() __preempt_count_sub(1)

#define preempt_disable()          \
    do {                           \
        preempt_count_inc();       \
        barrier();                 \
    } while (0)

#define sched_preempt_enable_no_resched() \
    do {                                  \
        barrier();                        \
        preempt_count_dec();              \
    } while (0)

#define preempt_enable_no_resched() sched_preempt_enable_no_resched()

/* Dropping to 0 with a reschedule pending calls the scheduler right here. */
#define preempt_enable()                                   \
    do {                                                   \
        barrier();                                         \
        if (unlikely(__preempt_count_dec_and_test()))      \
            __preempt_schedule();                          \
    } while (0)

#endif
