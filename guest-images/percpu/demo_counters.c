/*
 * demo counters: per-CPU counters versus one shared atomic counter.
 *
 * Every online CPU increments its own copy of percpu_counter N times with
 * this_cpu_inc() -- one "incl %fs:percpu_counter" each, no lock prefix, and
 * the cache line never leaves the CPU -- and then increments one shared
 * counter N times with "lock incl", whose cache line every CPU fights for.
 * The total of the per-CPU counter is the sum over all possible CPUs
 * (what Linux does for, e.g., packet counts: percpu_counter_sum()).
 */
#include "demo.h"
#include "linux/printk.h"
#include "linux/sched.h"

#define COUNTER_LOOPS 100000

DEFINE_PER_CPU(unsigned long, percpu_counter);
unsigned long shared_counter ____cacheline_aligned;
unsigned long percpu_counter_sum;

static u64 percpu_cycles[NR_CPUS], shared_cycles[NR_CPUS];

/* One this_cpu_inc(), alone in a function, so that its machine code can be
 * shown: 64 ff 05 <address of percpu_counter> = incl %fs:percpu_counter. */
static void __attribute__((noinline)) percpu_counter_inc_once(void)
{
    this_cpu_inc(percpu_counter);
}

/* Prints the code of percpu_counter_inc_once() up to its "ret" and checks
 * that it is the single %fs:-prefixed instruction. */
static const char *show_this_cpu_inc(void)
{
    const u8 *code = (const u8 *)percpu_counter_inc_once;
    unsigned int n = 0;
    printk("counters: this_cpu_inc(percpu_counter) compiles to:");
    while (n < 16 && code[n] != 0xc3)
        printk(" %02x", code[n++]);
    printk(" (then ret)\n");
    unsigned long addr = (unsigned long)code[3] | (unsigned long)code[4] << 8 | (unsigned long)code[5] << 16 |
                         (unsigned long)code[6] << 24;
    printk("counters: = incl %%fs:0x%08lx, and &percpu_counter = 0x%08lx: 0x64 is the %%fs prefix\n", addr,
           (unsigned long)&percpu_counter);
    if (n != 7 || code[0] != 0x64 || code[1] != 0xff || code[2] != 0x05 || addr != (unsigned long)&percpu_counter)
        return "this_cpu_inc() is not one incl %fs:var";
    return NULL;
}

static void count_percpu(unsigned int cpu, void *arg)
{
    (void)arg;
    u64 t0 = rdtsc();
    for (int i = 0; i < COUNTER_LOOPS; i++)
        this_cpu_inc(percpu_counter);
    percpu_cycles[cpu] = rdtsc() - t0;
}

static void count_shared(unsigned int cpu, void *arg)
{
    (void)arg;
    u64 t0 = rdtsc();
    for (int i = 0; i < COUNTER_LOOPS; i++)
        __asm__ volatile("lock incl %0" : "+m"(shared_counter));
    shared_cycles[cpu] = rdtsc() - t0;
}

const char *demo_counters(void)
{
    unsigned int cpu, n = num_online_cpus();
    const char *why;

    printk("demo counters: each of %u CPU(s) does this_cpu_inc(percpu_counter) %u times, "
           "then \"lock incl shared_counter\" %u times\n", n, COUNTER_LOOPS, COUNTER_LOOPS);
    why = show_this_cpu_inc();
    percpu_counter_inc_once();   /* (on the boot CPU; reset just below) */
    for_each_possible_cpu(cpu)
        per_cpu(percpu_counter, cpu) = 0;
    shared_counter = 0;

    demo_run_on_cpus(cpu_online_mask, count_percpu, NULL);
    demo_run_on_cpus(cpu_online_mask, count_shared, NULL);

    percpu_counter_sum = 0;
    for_each_possible_cpu(cpu) {
        unsigned long v = per_cpu(percpu_counter, cpu);
        percpu_counter_sum += v;
        if (cpu_online(cpu) && v != COUNTER_LOOPS)
            why = "a CPU's own counter is wrong";
    }
    for_each_online_cpu(cpu)
        printk("counters: cpu%u per_cpu(percpu_counter, %u) at 0x%08lx = %lu\n", cpu, cpu,
               (unsigned long)&per_cpu(percpu_counter, cpu), per_cpu(percpu_counter, cpu));
    for_each_online_cpu(cpu)
        printk("counters: cpu%u this_cpu_inc cycles=%llu lock incl cycles=%llu\n", cpu,
               (unsigned long long)percpu_cycles[cpu], (unsigned long long)shared_cycles[cpu]);
    printk("counters: sum of per_cpu(percpu_counter, cpu) over for_each_possible_cpu = %lu (expected %lu)\n",
           percpu_counter_sum, (unsigned long)n * COUNTER_LOOPS);
    printk("counters: shared_counter = %lu (expected %lu)\n", shared_counter, (unsigned long)n * COUNTER_LOOPS);
    if (percpu_counter_sum != (unsigned long)n * COUNTER_LOOPS)
        why = "the per-CPU sum is wrong";
    if (shared_counter != (unsigned long)n * COUNTER_LOOPS)
        why = "the shared counter is wrong";
    return why;
}
