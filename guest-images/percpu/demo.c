/*
 * Choosing and running the demos ("demo=counters,stalefs" on the kernel
 * command line, default all), and the helper that runs a function on
 * several CPUs at once.
 */
#include "asm/atomic.h"
#include "demo.h"
#include "format.h"
#include "linux/completion.h"
#include "linux/printk.h"
#include "linux/sched.h"
#include "linux/string.h"

static const struct {
    const char *name;
    const char *(*run)(void);
} demos[] = {
    { "counters", demo_counters },
    { "falseshare", demo_falseshare },
    { "preempt", demo_preempt },
    { "dynamic", demo_dynamic },
    { "stalefs", demo_stalefs },
};

static unsigned int run_one(const char *name, size_t len)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(demos); i++) {
        if (strlen(demos[i].name) == len && strncmp(demos[i].name, name, len) == 0) {
            printk("\n");
            const char *why = demos[i].run();
            if (why == NULL) {
                printk("demo %s: ok\n", demos[i].name);
                return 0;
            }
            printk("demo %s: FAILED (%s)\n", demos[i].name, why);
            return 1;
        }
    }
    char buf[32];
    strlcpy(buf, name, len + 1 < sizeof(buf) ? len + 1 : sizeof(buf));
    printk("demo %s: FAILED (no such demo)\n", buf);
    return 1;
}

unsigned int run_demos(const char *list)
{
    unsigned int failed = 0;
    if (list == NULL || strcmp(list, "all") == 0) {
        for (unsigned int i = 0; i < ARRAY_SIZE(demos); i++)
            failed += run_one(demos[i].name, strlen(demos[i].name));
        return failed;
    }
    const char *p = list;
    while (*p) {
        const char *end = p;
        while (*end && *end != ',')
            end++;
        if (end > p)
            failed += run_one(p, (size_t)(end - p));
        p = *end ? end + 1 : end;
    }
    return failed;
}

struct on_cpus_work {
    void (*fn)(unsigned int cpu, void *arg);
    void *arg;
    unsigned int nr;
    atomic_t arrived;
    struct completion done;
};

static int on_cpus_thread(void *data)
{
    struct on_cpus_work *w = data;
    /* Start together: wait until every thread has arrived. (The one on the
     * boot CPU arrives only once kernel_init sleeps in wait_for_completion.) */
    atomic_inc(&w->arrived);
    while ((unsigned int)atomic_read(&w->arrived) < w->nr)
        cpu_relax();
    w->fn(raw_smp_processor_id(), w->arg);
    complete(&w->done);
    return 0;
}

void demo_run_on_cpus(const struct cpumask *mask, void (*fn)(unsigned int cpu, void *arg), void *arg)
{
    struct on_cpus_work w = { .fn = fn, .arg = arg, .nr = cpumask_weight(mask), .arrived = ATOMIC_INIT(0) };
    unsigned int cpu;
    init_completion(&w.done);
    for_each_cpu(cpu, mask) {
        char name[TASK_COMM_LEN];
        ksnprintf(name, sizeof(name), "demo/%u", cpu);
        kthread_run_on_cpu(on_cpus_thread, &w, cpu, name);
    }
    for (unsigned int i = 0; i < w.nr; i++)
        wait_for_completion(&w.done);
}

void demo_first_cpus(struct cpumask *mask, unsigned int n)
{
    unsigned int cpu;
    memset(mask, 0, sizeof(*mask));
    for_each_online_cpu(cpu) {
        if (n-- == 0)
            break;
        cpumask_set_cpu(cpu, mask);
    }
}
