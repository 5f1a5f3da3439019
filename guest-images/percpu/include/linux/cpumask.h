/*
 * CPU masks: include/linux/cpumask.h. A struct cpumask is a bitmap of
 * NR_CPUS bits, one per CPU number.
 *
 *   cpu_possible_mask  CPUs that can ever exist (per-CPU areas are made for these)
 *   cpu_present_mask   CPUs that are there now (the firmware tables listed them)
 *   cpu_online_mask    CPUs that are running and schedulable
 *   cpu_active_mask    CPUs the scheduler may move tasks to
 */
#ifndef _LINUX_CPUMASK_H
#define _LINUX_CPUMASK_H

#include "asm/bitops.h"

typedef struct cpumask {
    unsigned long bits[BITS_TO_LONGS(NR_CPUS)];
} cpumask_t;

#define cpumask_bits(maskp) ((maskp)->bits)

/* kernel/cpu.c */
extern unsigned int nr_cpu_ids;  /* the highest possible CPU number + 1 */
extern struct cpumask __cpu_possible_mask;
extern struct cpumask __cpu_online_mask;
extern struct cpumask __cpu_present_mask;
extern struct cpumask __cpu_active_mask;
#define cpu_possible_mask ((const struct cpumask *)&__cpu_possible_mask)
#define cpu_online_mask ((const struct cpumask *)&__cpu_online_mask)
#define cpu_present_mask ((const struct cpumask *)&__cpu_present_mask)
#define cpu_active_mask ((const struct cpumask *)&__cpu_active_mask)

/* nr_cpumask_bits: how many bits the mask operations look at. */
#define nr_cpumask_bits nr_cpu_ids

static inline void cpumask_set_cpu(unsigned int cpu, struct cpumask *dstp) { set_bit(cpu, cpumask_bits(dstp)); }
static inline void cpumask_clear_cpu(unsigned int cpu, struct cpumask *dstp) { clear_bit(cpu, cpumask_bits(dstp)); }
static inline bool cpumask_test_cpu(int cpu, const struct cpumask *cpumask)
{
    return test_bit(cpu, cpumask_bits(cpumask));
}

/* The next CPU in the mask after n (n = -1 for the first); >= nr_cpu_ids if none. */
static inline unsigned int cpumask_next(int n, const struct cpumask *srcp)
{
    return find_next_bit(cpumask_bits(srcp), nr_cpumask_bits, n + 1);
}

static inline unsigned int cpumask_weight(const struct cpumask *srcp)
{
    unsigned int w = 0;
    for (unsigned int i = 0; i < BITS_TO_LONGS(NR_CPUS); i++)
        w += hweight_long(srcp->bits[i]);
    return w;
}

#define for_each_cpu(cpu, mask) \
    for ((cpu) = -1; (cpu) = cpumask_next((cpu), (mask)), (cpu) < nr_cpu_ids;)
#define for_each_possible_cpu(cpu) for_each_cpu((cpu), cpu_possible_mask)
#define for_each_online_cpu(cpu) for_each_cpu((cpu), cpu_online_mask)
#define for_each_present_cpu(cpu) for_each_cpu((cpu), cpu_present_mask)

#define num_possible_cpus() cpumask_weight(cpu_possible_mask)
#define num_online_cpus() cpumask_weight(cpu_online_mask)
#define num_present_cpus() cpumask_weight(cpu_present_mask)
#define cpu_online(cpu) cpumask_test_cpu((cpu), cpu_online_mask)
#define cpu_possible(cpu) cpumask_test_cpu((cpu), cpu_possible_mask)

void set_cpu_possible(unsigned int cpu, bool possible);
void set_cpu_present(unsigned int cpu, bool present);
void set_cpu_online(unsigned int cpu, bool online);
void set_cpu_active(unsigned int cpu, bool active);
void reset_cpu_possible_mask(void);
void set_nr_cpu_ids(unsigned int nr);

#endif
