/*
 * The preemption counter: arch/x86/include/asm/preempt.h.
 *
 * On x86 the counter is a per-CPU variable, __preempt_count, not a field of
 * the task: preempt_disable() is a single "incl %fs:__preempt_count".
 *
 * Its top bit is PREEMPT_NEED_RESCHED, stored INVERTED: the bit is 1 when no
 * reschedule is needed. So the whole 32-bit value is 0 exactly when
 * preemption is enabled AND a reschedule is pending, and preempt_enable() is
 * "decl %fs:__preempt_count; je __preempt_schedule" -- one instruction and one
 * branch to test both conditions.
 */
#ifndef _ASM_X86_PREEMPT_H
#define _ASM_X86_PREEMPT_H

#include "linux/percpu-defs.h"
#include "asm/percpu.h"

DECLARE_PER_CPU(int, __preempt_count);

#define PREEMPT_NEED_RESCHED 0x80000000
#define PREEMPT_ENABLED (0 + PREEMPT_NEED_RESCHED)
#define PREEMPT_DISABLE_OFFSET 1
#define PREEMPT_DISABLED (PREEMPT_DISABLE_OFFSET + PREEMPT_ENABLED)
/* The boot CPU starts with preemption disabled; so does each idle task. */
#define INIT_PREEMPT_COUNT PREEMPT_DISABLED

static __always_inline int preempt_count(void)
{
    return raw_cpu_read_4(__preempt_count) & ~PREEMPT_NEED_RESCHED;
}

/* mirrors init_idle_preempt_count(): an idle task runs with preemption off. */
#define init_idle_preempt_count(p, cpu)                                    \
    do {                                                                   \
        per_cpu(__preempt_count, (cpu)) = (int)PREEMPT_DISABLED;           \
    } while (0)

/* The inverted NEED_RESCHED bit: clearing it means "reschedule needed". */
static __always_inline void set_preempt_need_resched(void)
{
    raw_cpu_and_4(__preempt_count, ~PREEMPT_NEED_RESCHED);
}

static __always_inline void clear_preempt_need_resched(void)
{
    raw_cpu_or_4(__preempt_count, PREEMPT_NEED_RESCHED);
}

static __always_inline bool test_preempt_need_resched(void)
{
    return !(raw_cpu_read_4(__preempt_count) & PREEMPT_NEED_RESCHED);
}

static __always_inline void __preempt_count_add(int val)
{
    raw_cpu_add_4(__preempt_count, val);
}

static __always_inline void __preempt_count_sub(int val)
{
    raw_cpu_add_4(__preempt_count, -val);
}

/* decl %fs:__preempt_count, and ZF says whether the result is 0, i.e. count
 * dropped to zero with a reschedule pending. */
static __always_inline bool __preempt_count_dec_and_test(void)
{
    bool zero;
    __asm__ volatile("decl " __percpu_arg([var])
                     : [var] "+m"(__preempt_count), "=@ccz"(zero)
                     :
                     : "memory");
    return zero;
}

/* Would a reschedule happen if the count dropped to preempt_offset? */
static __always_inline bool should_resched(int preempt_offset)
{
    return unlikely((u32)raw_cpu_read_4(__preempt_count) == (u32)preempt_offset);
}

void preempt_schedule(void);
#define __preempt_schedule() preempt_schedule()

#endif
