/* The demos (demo*.c) and their helpers (demo.c). */
#ifndef PERCPU_DEMO_H
#define PERCPU_DEMO_H

#include "linux/cpumask.h"
#include "linux/types.h"

/* Runs the demos named in "demo=a,b,c" (NULL or "all": every demo) and
 * returns how many failed. */
unsigned int run_demos(const char *list);

/* Each demo returns NULL on success or a short reason for the failure. */
const char *demo_counters(void);
const char *demo_falseshare(void);
const char *demo_preempt(void);
const char *demo_dynamic(void);
const char *demo_stalefs(void);

/* Runs fn(cpu, arg) in a kernel thread on every CPU of mask, all starting
 * together (a barrier), and returns when all have finished. */
void demo_run_on_cpus(const struct cpumask *mask, void (*fn)(unsigned int cpu, void *arg), void *arg);

/* The online CPUs, or the first n of them. */
void demo_first_cpus(struct cpumask *mask, unsigned int n);

#endif
