/*
 * Task creation and switching: arch/x86/kernel/process_32.c (__switch_to),
 * process.c (copy_thread), kernel/fork.c (task allocation, fork_idle) and
 * kernel/kthread.c.
 */
#include "asm/desc.h"
#include "asm/switch_to.h"
#include "format.h"
#include "linux/memblock.h"
#include "linux/printk.h"
#include "linux/sched.h"
#include "linux/string.h"

BUILD_BUG_ON(offsetof(struct task_struct, thread.sp) != TASK_threadsp);

#define X86_EFLAGS_FIXED 0x00000002

/* The boot CPU's first task and its stack (init/init_task.c). The stack is
 * in .data, not .bss: its thread_info at the bottom is initialised. */
struct task_struct init_task = {
    .thread = { .sp0 = (unsigned long)&init_thread_union + THREAD_SIZE },
    .__state = TASK_RUNNING,
    .stack = &init_thread_union,
    .pid = 0,
    .comm = "swapper/0",
    .on_cpu = 1,
    .migrate_to = -1,
};
union thread_union init_thread_union __attribute__((section(".data..init_task"), aligned(THREAD_SIZE))) = {
    .thread_info = { .task = &init_task, .cpu = 0 },
};

/* Each CPU's idle task (kernel/smpboot.c). */
DEFINE_PER_CPU(struct task_struct *, idle_threads);

/* Task structures and their stacks are reused, never returned. */
#define NR_TASKS 64
static struct task_struct task_pool[NR_TASKS];
static unsigned int task_pool_used;
static struct task_struct *task_free_list;
static DEFINE_RAW_SPINLOCK(task_lock);
static int next_pid = 1;

/* mirrors kernel/fork.c: dup_task_struct() -- a task with an 8 KiB stack,
 * thread_info at its bottom. */
static struct task_struct *alloc_task_struct(unsigned int cpu, const char *name)
{
    unsigned long flags;
    struct task_struct *p;
    void *stack;

    raw_spin_lock_irqsave(&task_lock, flags);
    p = task_free_list;
    if (p) {
        task_free_list = p->next_free;
        stack = p->stack;
    } else if (task_pool_used < NR_TASKS) {
        p = &task_pool[task_pool_used++];
        stack = NULL;
    } else {
        raw_spin_unlock_irqrestore(&task_lock, flags);
        panic("fork: out of task structures");
    }
    int pid = next_pid++;
    raw_spin_unlock_irqrestore(&task_lock, flags);

    if (stack == NULL)
        stack = memblock_alloc(THREAD_SIZE, THREAD_SIZE);
    memset(p, 0, sizeof(*p));
    p->stack = stack;
    p->pid = pid;
    p->migrate_to = -1;
    p->__state = TASK_UNINTERRUPTIBLE;  /* not runnable until woken (TASK_NEW) */
    strlcpy(p->comm, name, sizeof(p->comm));
    INIT_LIST_HEAD(&p->run_list);
    p->thread.sp0 = task_top_of_stack(p);
    struct thread_info *ti = task_thread_info(p);
    ti->task = p;
    ti->flags = 0;
    ti->cpu = cpu;
    return p;
}

/* mirrors kernel/fork.c: put_task_struct() -- called by the scheduler once
 * a dead task is off its CPU. */
void put_task_struct(struct task_struct *p)
{
    unsigned long flags;
    raw_spin_lock_irqsave(&task_lock, flags);
    p->next_free = task_free_list;
    task_free_list = p;
    raw_spin_unlock_irqrestore(&task_lock, flags);
}

/* mirrors arch/x86/kernel/process.c: copy_thread() for a kernel thread --
 * a switch frame on top of the new stack, as if the task had been switched
 * out by __switch_to_asm() just before "ret" to ret_from_fork, with the
 * function in %ebx and its argument in %edi. */
int copy_thread(struct task_struct *p, int (*fn)(void *), void *arg)
{
    struct inactive_task_frame *frame =
        (struct inactive_task_frame *)(task_top_of_stack(p) - 16 - sizeof(*frame));
    frame->flags = X86_EFLAGS_FIXED; /* interrupts off until finish_task_switch() */
    frame->bp = 0;
    frame->bx = (unsigned long)fn;
    frame->di = (unsigned long)arg;
    frame->si = 0;
    frame->ret_addr = (unsigned long)ret_from_fork;
    p->thread.sp = (unsigned long)frame;
    return 0;
}

/* mirrors arch/x86/kernel/process_32.c: __switch_to() -- the per-CPU part of
 * a task switch: this CPU now runs next, on next's stack. Both writes are
 * single %fs:-relative instructions into THIS CPU's unit. */
__attribute__((regparm(2))) struct task_struct *__switch_to(struct task_struct *prev_p,
                                                             struct task_struct *next_p)
{
    this_cpu_write(cpu_tss_rw.x86_tss.sp0, next_p->thread.sp0);
    this_cpu_write(cpu_current_top_of_stack, task_top_of_stack(next_p));
    this_cpu_write(current_task, next_p);
    return prev_p;
}

/* mirrors kernel/fork.c: fork_idle() -- the idle task of an AP; it starts
 * running in start_secondary() on its own stack (head_32.S). */
struct task_struct *fork_idle(unsigned int cpu)
{
    char name[TASK_COMM_LEN];
    ksnprintf(name, sizeof(name), "swapper/%u", cpu);
    struct task_struct *idle = alloc_task_struct(cpu, name);
    init_idle(idle, cpu);
    return idle;
}

/* mirrors kernel/kthread.c: kthread_create_on_cpu() -- a kernel thread
 * bound to cpu, not yet runnable. */
struct task_struct *kthread_create_on_cpu(int (*threadfn)(void *data), void *data, unsigned int cpu,
                                          const char *name)
{
    struct task_struct *p = alloc_task_struct(cpu, name);
    copy_thread(p, threadfn, data);
    return p;
}

/* mirrors include/linux/kthread.h: kthread_run_on_cpu() */
struct task_struct *kthread_run_on_cpu(int (*threadfn)(void *data), void *data, unsigned int cpu,
                                       const char *name)
{
    struct task_struct *p = kthread_create_on_cpu(threadfn, data, cpu, name);
    wake_up_new_task(p);
    return p;
}
