/*
 * Tasks and the scheduler interface: include/linux/sched.h,
 * arch/x86/include/asm/current.h and thread_info.h.
 */
#ifndef _LINUX_SCHED_H
#define _LINUX_SCHED_H

#include "asm/atomic.h"
#include "linux/list.h"
#include "linux/spinlock.h"
#include "linux/smp.h"
#include "asm/processor.h"

#define TASK_RUNNING 0x0000
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_DEAD 0x0080

#define TASK_COMM_LEN 16

/*
 * struct thread_info sits at the bottom of every kernel stack (x86 before
 * Linux 4.9 kept it there; the layout is still the clearest way to show
 * how current_thread_info() is found from the top of the stack).
 */
struct thread_info {
    struct task_struct *task;
    unsigned long flags;   /* TIF_* bits */
    u32 cpu;               /* the CPU the task is on or will run on */
};

#define TIF_NEED_RESCHED 3

union thread_union {
    struct thread_info thread_info;
    unsigned long stack[THREAD_SIZE / sizeof(long)];
};

struct task_struct {
    struct thread_struct thread;  /* first: entry_32.S uses TASK_threadsp = 0 */
    volatile long __state;
    void *stack;                  /* the thread_union: thread_info + stack */
    int pid;
    char comm[TASK_COMM_LEN];
    int on_cpu;                   /* running on a CPU right now (or being switched out) */
    int on_rq;                    /* runnable: current on its CPU or on its run queue */
    int migrate_to;               /* -1, or the CPU migrate_task() wants it on */
    unsigned int time_slice;      /* ticks left before the round robin moves on */
    struct list_head run_list;    /* on rq->queue */
    struct task_struct *next_free;
    unsigned long nr_switches;
};

#define task_thread_info(task) ((struct thread_info *)(task)->stack)
#define task_stack_page(task) ((void *)(task)->stack)
#define task_top_of_stack(task) ((unsigned long)task_stack_page(task) + THREAD_SIZE)
#define task_cpu(p) (task_thread_info(p)->cpu)

/* The running task of this CPU, written by __switch_to() (asm/current.h). */
DECLARE_PER_CPU(struct task_struct *, current_task);

static __always_inline struct task_struct *get_current(void)
{
    return this_cpu_read_stable(current_task);
}
#define current get_current()

/* The same task found the pre-4.9 way: from the top of the stack. */
static __always_inline struct thread_info *current_thread_info(void)
{
    return (struct thread_info *)(current_top_of_stack() - THREAD_SIZE);
}

#define set_current_state(state_value) smp_store_release(&current->__state, (state_value))

static inline bool test_tsk_need_resched(struct task_struct *tsk)
{
    return test_bit(TIF_NEED_RESCHED, &task_thread_info(tsk)->flags);
}
static inline void set_tsk_need_resched(struct task_struct *tsk) { set_bit(TIF_NEED_RESCHED, &task_thread_info(tsk)->flags); }
static inline void clear_tsk_need_resched(struct task_struct *tsk) { clear_bit(TIF_NEED_RESCHED, &task_thread_info(tsk)->flags); }
static __always_inline bool need_resched(void) { return unlikely(test_tsk_need_resched(current)); }

extern struct task_struct init_task;
extern union thread_union init_thread_union;

DECLARE_PER_CPU(struct task_struct *, idle_threads);

/* kernel/sched/core.c */
void sched_init(void);
void schedule(void);
void schedule_idle(void);
void preempt_schedule_irq(void);
void scheduler_tick(void);
void scheduler_ipi(void);
int wake_up_process(struct task_struct *p);
void wake_up_new_task(struct task_struct *p);
void init_idle(struct task_struct *idle, unsigned int cpu);
void migrate_task(struct task_struct *p, unsigned int dest_cpu);
void __noreturn do_exit(long code);
void schedule_tail(struct task_struct *prev);
#define preemptible() (preempt_count() == 0 && !irqs_disabled())

/* kernel/fork.c / kernel/kthread.c */
struct task_struct *fork_idle(unsigned int cpu);
struct task_struct *kthread_create_on_cpu(int (*threadfn)(void *data), void *data, unsigned int cpu,
                                          const char *name);
struct task_struct *kthread_run_on_cpu(int (*threadfn)(void *data), void *data, unsigned int cpu,
                                       const char *name);

/* arch/x86/kernel/process_32.c */
int copy_thread(struct task_struct *p, int (*fn)(void *), void *arg);

/* kernel/sched/idle.c */
void __noreturn cpu_startup_entry(void);

#endif
