/*
 * The idle loop: kernel/sched/idle.c. Every CPU ends up here, in its idle
 * task (swapper/N), with preemption disabled; it halts until an interrupt
 * and calls the scheduler when something set need_resched.
 */
#include "linux/sched.h"

/* mirrors arch/x86/kernel/process.c: arch_cpu_idle() -> default_idle():
 * "sti; hlt", so an interrupt arriving between the check and the halt is
 * not lost -- it ends the halt instead. */
static void arch_cpu_idle(void)
{
    safe_halt();
}

/* mirrors kernel/sched/idle.c: do_idle() */
static void do_idle(void)
{
    while (!need_resched()) {
        local_irq_disable();
        if (need_resched()) {
            local_irq_enable();
            break;
        }
        arch_cpu_idle();
    }
    schedule_idle();
}

/* mirrors kernel/sched/idle.c: cpu_startup_entry() */
void __noreturn cpu_startup_entry(void)
{
    for (;;)
        do_idle();
}
