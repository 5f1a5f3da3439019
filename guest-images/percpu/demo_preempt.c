/*
 * demo preempt: why get_cpu_var() disables preemption.
 *
 * this_cpu_ptr(&var) is the address of THIS CPU's copy, computed once. If
 * the task is preempted and moved to another CPU while it still holds that
 * address, it goes on updating the old CPU's copy, racing with whatever
 * that CPU does to it. The demo makes this happen every time:
 *
 *   task W on cpu A: waits for T's signal, then this_cpu_inc(hazard_counter)
 *                    HAZARD_WORKER_INCS times (one instruction each: safe);
 *   task T on cpu A: p = this_cpu_ptr(&hazard_counter); v = *p; signal W;
 *                    <preemption point: the scheduler moves T to cpu B, and
 *                     T runs again only after W has finished>
 *                    *p = v + 1;
 *
 * Without preempt_disable() T writes cpu A's copy from cpu B with a stale
 * value: W's increments are lost, and T's increment is not on the CPU it
 * ran on. With p = &get_cpu_var(hazard_counter) ... put_cpu_var() the
 * migration waits until put_cpu_var(), and nothing is lost. (With one CPU,
 * A = B: plain preemption, no migration, and the same lost updates.)
 */
#include "demo.h"
#include "linux/completion.h"
#include "linux/printk.h"
#include "linux/sched.h"

#define HAZARD_WORKER_INCS 1000

DEFINE_PER_CPU(unsigned long, hazard_counter);

/* Results (global, for tests that read the ELF symbols). */
unsigned long hazard_lost_updates;          /* this_cpu_ptr() without preempt_disable() */
unsigned long hazard_misplaced_updates;
unsigned long hazard_lost_updates_fixed;    /* get_cpu_var() / put_cpu_var() */
unsigned long hazard_misplaced_updates_fixed;

static unsigned int hazard_cpu_a, hazard_cpu_b;
static volatile int hazard_go, hazard_worker_done;
static struct completion hazard_done;

struct hazard_run {
    unsigned int read_cpu;   /* where T took the pointer and read */
    unsigned int write_cpu;  /* where T ran when it wrote */
    unsigned int after_cpu;  /* where T ran after put_cpu_var() */
    unsigned long ptr;
};

static int hazard_worker(void *unused)
{
    (void)unused;
    while (!READ_ONCE(hazard_go))
        schedule();                         /* let T run */
    for (int i = 0; i < HAZARD_WORKER_INCS; i++)
        this_cpu_inc(hazard_counter);
    WRITE_ONCE(hazard_worker_done, 1);
    complete(&hazard_done);
    return 0;
}

/* The preemption point, with the worst possible timing: the scheduler wants
 * T on cpu B (migrate_task() takes effect at T's next switch) and, if T can
 * be preempted here, T only runs again once W is done. */
static void hazard_preemption_point(void)
{
    migrate_task(current, hazard_cpu_b);
    if (preempt_count() != 0)
        return;                             /* preemption disabled: nothing happens */
    do
        schedule();
    while (!READ_ONCE(hazard_worker_done));
}

static int hazard_task_unsafe(void *data)
{
    struct hazard_run *r = data;
    unsigned long *p = this_cpu_ptr(&hazard_counter);   /* no preempt_disable() */
    r->ptr = (unsigned long)p;
    r->read_cpu = raw_smp_processor_id();
    unsigned long v = *p;
    WRITE_ONCE(hazard_go, 1);
    hazard_preemption_point();
    *p = v + 1;
    r->write_cpu = r->after_cpu = raw_smp_processor_id();
    complete(&hazard_done);
    return 0;
}

static int hazard_task_safe(void *data)
{
    struct hazard_run *r = data;
    unsigned long *p = &get_cpu_var(hazard_counter);    /* preempt_disable() + this_cpu_ptr() */
    r->ptr = (unsigned long)p;
    r->read_cpu = smp_processor_id();
    unsigned long v = *p;
    WRITE_ONCE(hazard_go, 1);
    hazard_preemption_point();
    *p = v + 1;
    r->write_cpu = smp_processor_id();
    put_cpu_var(hazard_counter);                        /* the migration happens here */
    r->after_cpu = raw_smp_processor_id();
    while (!READ_ONCE(hazard_worker_done))
        schedule();
    complete(&hazard_done);
    return 0;
}

static void hazard_round(int (*task)(void *), struct hazard_run *r, const char *name)
{
    unsigned int cpu;
    for_each_possible_cpu(cpu)
        per_cpu(hazard_counter, cpu) = 0;
    hazard_go = 0;
    hazard_worker_done = 0;
    init_completion(&hazard_done);
    kthread_run_on_cpu(hazard_worker, NULL, hazard_cpu_a, "hazard/W");
    kthread_run_on_cpu(task, r, hazard_cpu_a, name);
    wait_for_completion(&hazard_done);
    wait_for_completion(&hazard_done);
}

static void hazard_print(const char *how, const struct hazard_run *r, unsigned long lost, unsigned long misplaced)
{
    printk("preempt: %s: T took 0x%08lx (cpu%u's copy) on cpu%u, wrote on cpu%u, ran on cpu%u after\n", how,
           r->ptr, r->read_cpu, r->read_cpu, r->write_cpu, r->after_cpu);
    printk("preempt: %s: per_cpu(hazard_counter, %u)=%lu (expected %u)", how, hazard_cpu_a,
           per_cpu(hazard_counter, hazard_cpu_a), HAZARD_WORKER_INCS + 1);
    if (hazard_cpu_b != hazard_cpu_a)
        printk(" per_cpu(hazard_counter, %u)=%lu", hazard_cpu_b, per_cpu(hazard_counter, hazard_cpu_b));
    printk(": %lu lost, %lu misplaced\n", lost, misplaced);
}

const char *demo_preempt(void)
{
    struct hazard_run r1 = { 0 }, r2 = { 0 };
    unsigned int n = num_online_cpus();

    hazard_cpu_a = n >= 2 ? 1 : 0;
    hazard_cpu_b = n >= 3 ? 2 : 0;
    printk("demo preempt: T on cpu%u reads its copy through a pointer, is preempted", hazard_cpu_a);
    if (hazard_cpu_b != hazard_cpu_a)
        printk(" and moved to cpu%u", hazard_cpu_b);
    else
        printk(" (one CPU: not moved)");
    printk(", then writes; W on cpu%u does this_cpu_inc x%u meanwhile\n", hazard_cpu_a, HAZARD_WORKER_INCS);

    hazard_round(hazard_task_unsafe, &r1, "hazard/T");
    unsigned long a = per_cpu(hazard_counter, hazard_cpu_a);
    hazard_lost_updates = HAZARD_WORKER_INCS + 1 - a;
    hazard_misplaced_updates = r1.write_cpu != r1.read_cpu ? 1 : 0;
    hazard_print("this_cpu_ptr()", &r1, hazard_lost_updates, hazard_misplaced_updates);

    hazard_round(hazard_task_safe, &r2, "hazard/T");
    a = per_cpu(hazard_counter, hazard_cpu_a);
    hazard_lost_updates_fixed = HAZARD_WORKER_INCS + 1 - a;
    hazard_misplaced_updates_fixed = r2.write_cpu != r2.read_cpu ? 1 : 0;
    hazard_print("get_cpu_var()", &r2, hazard_lost_updates_fixed, hazard_misplaced_updates_fixed);

    if (hazard_lost_updates != HAZARD_WORKER_INCS)
        return "the unprotected update did not lose the worker's increments";
    if (hazard_misplaced_updates != (hazard_cpu_a != hazard_cpu_b ? 1UL : 0UL))
        return "the unprotected task was not migrated before its write";
    if (hazard_lost_updates_fixed != 0 || hazard_misplaced_updates_fixed != 0)
        return "get_cpu_var() did not protect the update";
    if (r2.after_cpu != hazard_cpu_b)
        return "the task did not migrate at put_cpu_var()";
    return NULL;
}
