/*
 * demo falseshare: two CPUs, two variables, one cache line.
 *
 * CPU A increments falseshare_pair.a while CPU B increments
 * falseshare_pair.b. The variables are independent, but they share a
 * 64-byte cache line, and a cache holds whole lines: every write by one CPU
 * invalidates the line in the other's cache ("false sharing"). Then the same
 * with the two counters padded onto separate lines, and with a per-CPU
 * variable: each CPU's copy is in its own unit, and
 * DEFINE_PER_CPU_SHARED_ALIGNED also keeps it off the lines of this CPU's
 * other per-CPU data.
 *
 * The self-check is on the counts and on the addresses (same line or not);
 * the cycle counts are for looking at (on QEMU they say little: its caches
 * are not modelled).
 */
#include "demo.h"
#include "linux/printk.h"
#include "linux/sched.h"

#define FALSESHARE_LOOPS 100000

struct falseshare_pair {
    volatile unsigned long a;   /* written by CPU A */
    volatile unsigned long b;   /* written by CPU B: same cache line */
};
struct falseshare_pair falseshare_pair ____cacheline_aligned;

struct falseshare_padded {
    volatile unsigned long v ____cacheline_aligned;  /* one line each */
};
struct falseshare_padded falseshare_padded[2];

DEFINE_PER_CPU_SHARED_ALIGNED(unsigned long, falseshare_percpu);

static unsigned int fs_cpu[2];
static u64 cycles_pair[2], cycles_padded[2], cycles_percpu[2];

static int which(unsigned int cpu) { return cpu == fs_cpu[0] ? 0 : 1; }

static void run_pair(unsigned int cpu, void *arg)
{
    (void)arg;
    volatile unsigned long *v = which(cpu) == 0 ? &falseshare_pair.a : &falseshare_pair.b;
    u64 t0 = rdtsc();
    for (int i = 0; i < FALSESHARE_LOOPS; i++)
        (*v)++;
    cycles_pair[which(cpu)] = rdtsc() - t0;
}

static void run_padded(unsigned int cpu, void *arg)
{
    (void)arg;
    volatile unsigned long *v = &falseshare_padded[which(cpu)].v;
    u64 t0 = rdtsc();
    for (int i = 0; i < FALSESHARE_LOOPS; i++)
        (*v)++;
    cycles_padded[which(cpu)] = rdtsc() - t0;
}

static void run_percpu(unsigned int cpu, void *arg)
{
    (void)arg;
    u64 t0 = rdtsc();
    for (int i = 0; i < FALSESHARE_LOOPS; i++)
        this_cpu_inc(falseshare_percpu);
    cycles_percpu[which(cpu)] = rdtsc() - t0;
}

#define LINE(addr) ((unsigned long)(addr) / L1_CACHE_BYTES)

const char *demo_falseshare(void)
{
    struct cpumask two;
    unsigned int cpu, i = 0;

    if (num_online_cpus() < 2) {
        printk("demo falseshare: needs 2 CPUs, 1 online: nothing to show\n");
        return NULL;
    }
    demo_first_cpus(&two, 2);
    for_each_cpu(cpu, &two)
        fs_cpu[i++] = cpu;
    printk("demo falseshare: cpu%u and cpu%u each increment their own counter %u times\n", fs_cpu[0],
           fs_cpu[1], FALSESHARE_LOOPS);

    falseshare_pair.a = falseshare_pair.b = 0;
    falseshare_padded[0].v = falseshare_padded[1].v = 0;
    for_each_possible_cpu(cpu)
        per_cpu(falseshare_percpu, cpu) = 0;

    demo_run_on_cpus(&two, run_pair, NULL);
    demo_run_on_cpus(&two, run_padded, NULL);
    demo_run_on_cpus(&two, run_percpu, NULL);

    unsigned long *p0 = &per_cpu(falseshare_percpu, fs_cpu[0]);
    unsigned long *p1 = &per_cpu(falseshare_percpu, fs_cpu[1]);
    printk("falseshare: one line: &falseshare_pair.a=0x%08lx &falseshare_pair.b=0x%08lx (line 0x%lx, 0x%lx)\n",
           (unsigned long)&falseshare_pair.a, (unsigned long)&falseshare_pair.b, LINE(&falseshare_pair.a),
           LINE(&falseshare_pair.b));
    printk("falseshare: padded: &falseshare_padded[0]=0x%08lx &falseshare_padded[1]=0x%08lx (line 0x%lx, 0x%lx)\n",
           (unsigned long)&falseshare_padded[0], (unsigned long)&falseshare_padded[1], LINE(&falseshare_padded[0]),
           LINE(&falseshare_padded[1]));
    printk("falseshare: per-CPU: &falseshare_percpu=0x%08lx, per_cpu_ptr on cpu%u=0x%08lx cpu%u=0x%08lx "
           "(line 0x%lx, 0x%lx)\n", (unsigned long)&falseshare_percpu, fs_cpu[0], (unsigned long)p0, fs_cpu[1],
           (unsigned long)p1, LINE(p0), LINE(p1));
    for (i = 0; i < 2; i++)
        printk("falseshare: cpu%u same line cycles=%llu padded cycles=%llu per-CPU cycles=%llu\n", fs_cpu[i],
               (unsigned long long)cycles_pair[i], (unsigned long long)cycles_padded[i],
               (unsigned long long)cycles_percpu[i]);
    printk("falseshare: counts: pair %lu %lu, padded %lu %lu, per-CPU %lu %lu (expected %u each)\n",
           falseshare_pair.a, falseshare_pair.b, falseshare_padded[0].v, falseshare_padded[1].v, *p0, *p1,
           FALSESHARE_LOOPS);

    if (falseshare_pair.a != FALSESHARE_LOOPS || falseshare_pair.b != FALSESHARE_LOOPS ||
        falseshare_padded[0].v != FALSESHARE_LOOPS || falseshare_padded[1].v != FALSESHARE_LOOPS ||
        *p0 != FALSESHARE_LOOPS || *p1 != FALSESHARE_LOOPS)
        return "a counter is wrong";
    if (LINE(&falseshare_pair.a) != LINE(&falseshare_pair.b))
        return "the pair is not in one cache line";
    if (LINE(&falseshare_padded[0]) == LINE(&falseshare_padded[1]))
        return "the padded counters share a line";
    if (LINE(p0) == LINE(p1) || !IS_ALIGNED((unsigned long)&falseshare_percpu, L1_CACHE_BYTES))
        return "the per-CPU copies share a line or are not cache-line aligned";
    return NULL;
}
