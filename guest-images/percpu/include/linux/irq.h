/* Interrupt entry bookkeeping: include/linux/hardirq.h, arch/x86/include/asm/hardirq.h,
 * asm/irq_regs.h. */
#ifndef _LINUX_IRQ_H
#define _LINUX_IRQ_H

#include "linux/percpu.h"
#include "asm/ptrace.h"

/* Per-CPU interrupt statistics (what /proc/interrupts shows as LOC, RES). */
typedef struct {
    unsigned int apic_timer_irqs;
    unsigned int irq_resched_count;
    unsigned int irq_spurious_count;
} ____cacheline_aligned irq_cpustat_t;

DECLARE_PER_CPU_SHARED_ALIGNED(irq_cpustat_t, irq_stat);
#define inc_irq_stat(member) this_cpu_inc(irq_stat.member)

/* Interrupt nesting depth on this CPU: -1 outside interrupts, 0 in the outer one. */
DECLARE_PER_CPU(unsigned int, irq_count);

/* The registers of the interrupted context, for the handler that wants them. */
DECLARE_PER_CPU(struct pt_regs *, irq_regs);

static inline struct pt_regs *get_irq_regs(void) { return this_cpu_read(irq_regs); }
static inline struct pt_regs *set_irq_regs(struct pt_regs *new_regs)
{
    struct pt_regs *old_regs = this_cpu_read(irq_regs);
    this_cpu_write(irq_regs, new_regs);
    return old_regs;
}

extern volatile unsigned long jiffies;

void irq_enter(void);
void irq_exit(void);
void init_IRQ(void);
void init_8259A(void);
void idt_setup(void);
void load_current_idt(void);

#endif
