/* smp_processor_id() and friends: include/linux/smp.h, arch/x86/include/asm/smp.h. */
#ifndef _LINUX_SMP_H
#define _LINUX_SMP_H

#include "linux/percpu.h"
#include "linux/cpumask.h"

/* This CPU's number, kept in every unit (arch/x86/kernel/setup_percpu.c). */
DECLARE_PER_CPU_READ_MOSTLY(int, cpu_number);

/* this_cpu_read(), so volatile: a task that was moved reads its new CPU. The
 * answer can be stale by the time it is used unless preemption is off --
 * hence "raw" (smp_processor_id() in Linux checks that preemption is off). */
#define raw_smp_processor_id() ((unsigned int)this_cpu_read(cpu_number))
#define smp_processor_id() raw_smp_processor_id()

/* get_cpu(): this CPU's number, pinned until put_cpu(). */
#define get_cpu() ({ preempt_disable(); smp_processor_id(); })
#define put_cpu() preempt_enable()

/* The local APIC id of each CPU (an early per-CPU map, see asm/percpu.h). */
DECLARE_EARLY_PER_CPU_READ_MOSTLY(u16, x86_cpu_to_apicid);
#define BAD_APICID 0xFFFFu

void smp_send_reschedule(unsigned int cpu);
void smp_prepare_boot_cpu(void);
void smp_prepare_cpus(void);
void smp_init(void);

#endif
