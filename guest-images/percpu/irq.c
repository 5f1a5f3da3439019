/*
 * Interrupt dispatch: arch/x86/kernel/irq.c, apic/apic.c, smp.c and
 * kernel/softirq.c (irq_enter/irq_exit).
 *
 * do_entry() is called by common_entry (entry_32.S) for every vector.
 */
#include "asm/apic.h"
#include "asm/irq_vectors.h"
#include "linux/irq.h"
#include "linux/printk.h"
#include "linux/sched.h"

/* Per-CPU interrupt counters (/proc/interrupts LOC, RES, SPU). */
DEFINE_PER_CPU_SHARED_ALIGNED(irq_cpustat_t, irq_stat);

/* Interrupt nesting depth: -1 when no interrupt is being handled (x86_64
 * Linux uses this to decide when to switch to the IRQ stack). */
DEFINE_PER_CPU(unsigned int, irq_count) = (unsigned int)-1;

/* The interrupted registers, while a handler runs (set_irq_regs()). */
DEFINE_PER_CPU(struct pt_regs *, irq_regs);

/* The tick counter, advanced by CPU 0's timer (kernel/time/timer.c). */
volatile unsigned long jiffies;

void do_trap(struct pt_regs *regs);

/* mirrors kernel/softirq.c: irq_enter() -- count the nesting; the hardirq
 * bits of the preempt count make in_interrupt() true and keep the
 * scheduler away while the handler runs. */
void irq_enter(void)
{
    this_cpu_inc(irq_count);
    __preempt_count_add(HARDIRQ_OFFSET);
}

/* mirrors kernel/softirq.c: irq_exit() */
void irq_exit(void)
{
    __preempt_count_sub(HARDIRQ_OFFSET);
    this_cpu_dec(irq_count);
}

/* mirrors arch/x86/kernel/apic/apic.c: sysvec_apic_timer_interrupt() ->
 * local_apic_timer_interrupt() -> the tick */
static void smp_apic_timer_interrupt(void)
{
    ack_APIC_irq();
    inc_irq_stat(apic_timer_irqs);
    if (smp_processor_id() == 0)
        jiffies++;
    scheduler_tick();
}

/* mirrors arch/x86/kernel/smp.c: sysvec_reschedule_ipi() -- another CPU
 * put work on our run queue or asked us to switch tasks */
static void smp_reschedule_interrupt(void)
{
    ack_APIC_irq();
    inc_irq_stat(irq_resched_count);
    scheduler_ipi();
}

/* mirrors arch/x86/kernel/apic/apic.c: spurious_interrupt() / error_interrupt() */
static void smp_spurious_interrupt(unsigned long vector)
{
    inc_irq_stat(irq_spurious_count);
    if (vector != SPURIOUS_APIC_VECTOR)
        ack_APIC_irq();
    if (vector == ERROR_APIC_VECTOR) {
        apic_write(APIC_ESR, 0);
        printk("APIC: error interrupt on CPU%u, ESR 0x%x\n", smp_processor_id(), apic_read(APIC_ESR));
    } else if (vector < ISA_IRQ_VECTOR(0) || vector > ISA_IRQ_VECTOR(15)) {
        if (vector != SPURIOUS_APIC_VECTOR)
            printk("do_IRQ: %u.%lu No irq handler for vector\n", smp_processor_id(), vector);
    }
}

/* The C side of common_entry: exceptions go to do_trap() (fatal), the
 * rest are interrupts, handled between irq_enter() and irq_exit(). */
void do_entry(struct pt_regs *regs)
{
    if (regs->vector < FIRST_EXTERNAL_VECTOR) {
        do_trap(regs);
        return;
    }
    struct pt_regs *old_regs = set_irq_regs(regs);
    irq_enter();
    switch (regs->vector) {
    case LOCAL_TIMER_VECTOR:
        smp_apic_timer_interrupt();
        break;
    case RESCHEDULE_VECTOR:
        smp_reschedule_interrupt();
        break;
    default:
        smp_spurious_interrupt(regs->vector);
        break;
    }
    irq_exit();
    set_irq_regs(old_regs);
}

/* mirrors arch/x86/kernel/irqinit.c: init_IRQ() / native_init_IRQ() */
void init_IRQ(void)
{
    init_8259A();
}
