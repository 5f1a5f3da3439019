/*
 * The CPU masks and nr_cpu_ids: kernel/cpu.c and kernel/smp.c.
 */
#include "linux/cpumask.h"

/* The highest possible CPU number + 1; NR_CPUS until prefill_possible_map()
 * knows better (mirrors kernel/smp.c: nr_cpu_ids, setup_nr_cpu_ids()). */
unsigned int nr_cpu_ids = NR_CPUS;

struct cpumask __cpu_possible_mask;
struct cpumask __cpu_online_mask;
struct cpumask __cpu_present_mask;
struct cpumask __cpu_active_mask;

/* mirrors include/linux/cpumask.h: set_cpu_possible() */
void set_cpu_possible(unsigned int cpu, bool possible)
{
    if (possible)
        cpumask_set_cpu(cpu, &__cpu_possible_mask);
    else
        cpumask_clear_cpu(cpu, &__cpu_possible_mask);
}

/* mirrors include/linux/cpumask.h: set_cpu_present() */
void set_cpu_present(unsigned int cpu, bool present)
{
    if (present)
        cpumask_set_cpu(cpu, &__cpu_present_mask);
    else
        cpumask_clear_cpu(cpu, &__cpu_present_mask);
}

/* mirrors kernel/cpu.c: set_cpu_online() */
void set_cpu_online(unsigned int cpu, bool online)
{
    if (online)
        cpumask_set_cpu(cpu, &__cpu_online_mask);
    else
        cpumask_clear_cpu(cpu, &__cpu_online_mask);
}

/* mirrors include/linux/cpumask.h: set_cpu_active() */
void set_cpu_active(unsigned int cpu, bool active)
{
    if (active)
        cpumask_set_cpu(cpu, &__cpu_active_mask);
    else
        cpumask_clear_cpu(cpu, &__cpu_active_mask);
}

/* mirrors include/linux/cpumask.h: reset_cpu_possible_mask() */
void reset_cpu_possible_mask(void)
{
    for (unsigned int i = 0; i < BITS_TO_LONGS(NR_CPUS); i++)
        __cpu_possible_mask.bits[i] = 0;
}

/* mirrors kernel/smp.c: set_nr_cpu_ids() */
void set_nr_cpu_ids(unsigned int nr)
{
    nr_cpu_ids = nr;
}
