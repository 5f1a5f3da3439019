/*
 * A small preemptive scheduler: kernel/sched/core.c and completion.c,
 * reduced to round robin on per-CPU run queues.
 *
 * Every CPU has its own run queue, a per-CPU variable (runqueues, like
 * Linux's). A task runs on the CPU whose run queue it is on; tasks never
 * move by themselves (there is no load balancer), only through
 * migrate_task(). The LAPIC timer tick (scheduler_tick) ends a time slice;
 * the switch happens on the way out of the interrupt (preempt_schedule_irq)
 * or at the next preempt_enable().
 *
 * A context switch holds this CPU's rq->lock from __schedule() across the
 * stack switch; the task that resumes releases it in finish_task_switch().
 */
#include "asm/switch_to.h"
#include "linux/completion.h"
#include "linux/irq.h"
#include "linux/printk.h"
#include "linux/sched.h"
#include "linux/spinlock.h"

#define TASK_ON_RQ_QUEUED 1
#define TASK_ON_RQ_MIGRATING 2
#define SCHED_TIMESLICE 4 /* ticks */

struct rq {
    raw_spinlock_t lock;
    unsigned int cpu;
    struct task_struct *curr;   /* running on this CPU */
    struct task_struct *idle;   /* this CPU's idle task (swapper/N) */
    struct list_head queue;     /* runnable tasks waiting for this CPU */
    unsigned int nr_running;    /* tasks on the queue */
    unsigned long nr_switches;
};

/* Other CPUs lock and fill this CPU's run queue: cache-line aligned. */
DEFINE_PER_CPU_SHARED_ALIGNED(struct rq, runqueues);

#define cpu_rq(cpu) (&per_cpu(runqueues, (cpu)))
#define this_rq() this_cpu_ptr(&runqueues)
#define task_rq(p) cpu_rq(task_cpu(p))

static void enqueue_task(struct rq *rq, struct task_struct *p)
{
    list_add_tail(&p->run_list, &rq->queue);
    rq->nr_running++;
}

static void dequeue_task(struct rq *rq, struct task_struct *p)
{
    list_del_init(&p->run_list);
    rq->nr_running--;
}

/* mirrors kernel/sched/core.c: resched_curr() -- make rq's CPU reschedule:
 * set TIF_NEED_RESCHED on its current task, and either fold it into our own
 * preempt count or send that CPU a reschedule IPI. */
static void resched_curr(struct rq *rq)
{
    struct task_struct *curr = rq->curr;
    if (test_tsk_need_resched(curr))
        return;
    set_tsk_need_resched(curr);
    if (rq->cpu == smp_processor_id()) {
        set_preempt_need_resched();
        return;
    }
    smp_send_reschedule(rq->cpu);
}

/* mirrors kernel/sched/core.c: task_rq_lock() -- lock the run queue p is on,
 * waiting while p is between two run queues. */
static struct rq *task_rq_lock(struct task_struct *p, unsigned long *flags)
{
    for (;;) {
        struct rq *rq = task_rq(p);
        raw_spin_lock_irqsave(&rq->lock, *flags);
        if (likely(rq == task_rq(p) && p->on_rq != TASK_ON_RQ_MIGRATING))
            return rq;
        raw_spin_unlock_irqrestore(&rq->lock, *flags);
        while (READ_ONCE(p->on_rq) == TASK_ON_RQ_MIGRATING)
            cpu_relax();
    }
}

/* mirrors kernel/sched/core.c: move_queued_task() (second half) -- p is off
 * every run queue (TASK_ON_RQ_MIGRATING): put it on dest_cpu's. */
static void attach_task_to(struct task_struct *p, unsigned int dest_cpu)
{
    struct rq *rq = cpu_rq(dest_cpu);
    unsigned long flags;
    raw_spin_lock_irqsave(&rq->lock, flags);
    task_thread_info(p)->cpu = dest_cpu;
    p->migrate_to = -1;
    enqueue_task(rq, p);
    WRITE_ONCE(p->on_rq, TASK_ON_RQ_QUEUED);
    resched_curr(rq);
    raw_spin_unlock_irqrestore(&rq->lock, flags);
}

/*
 * Move p to dest_cpu's run queue. A stand-in for Linux's
 * set_cpus_allowed_ptr() -> affine_move_task() / move_queued_task():
 *   queued, not running: moved now;
 *   running: marked; its CPU reschedules, __schedule() leaves it off that
 *            run queue and finish_task_switch() attaches it to dest_cpu --
 *            which can only happen once p is preemptible again;
 *   sleeping: it will wake up on dest_cpu.
 */
void migrate_task(struct task_struct *p, unsigned int dest_cpu)
{
    unsigned long flags;
    struct rq *rq = task_rq_lock(p, &flags);

    if (task_cpu(p) == dest_cpu) {
        p->migrate_to = -1;
    } else if (rq->curr == p) {
        p->migrate_to = (int)dest_cpu;
        resched_curr(rq);
    } else if (p->on_rq) {
        dequeue_task(rq, p);
        p->on_rq = TASK_ON_RQ_MIGRATING;
        raw_spin_unlock_irqrestore(&rq->lock, flags);
        attach_task_to(p, dest_cpu);
        return;
    } else {
        task_thread_info(p)->cpu = dest_cpu;
    }
    raw_spin_unlock_irqrestore(&rq->lock, flags);
}

/* mirrors kernel/sched/core.c: try_to_wake_up() */
int wake_up_process(struct task_struct *p)
{
    unsigned long flags;
    int success = 0;
    struct rq *rq = task_rq_lock(p, &flags);
    if (p->__state != TASK_RUNNING) {
        success = 1;
        WRITE_ONCE(p->__state, TASK_RUNNING);
        /* Still on the run queue (it had not yet reached schedule(), or was
         * preempted before it did): making it runnable is all. */
        if (!p->on_rq) {
            p->on_rq = TASK_ON_RQ_QUEUED;
            enqueue_task(rq, p);
            if (rq->curr == rq->idle)
                resched_curr(rq);
        }
    }
    raw_spin_unlock_irqrestore(&rq->lock, flags);
    return success;
}

/* mirrors kernel/sched/core.c: wake_up_new_task() -- first enqueue of a new
 * task, on the CPU kthread_create_on_cpu() chose. */
void wake_up_new_task(struct task_struct *p)
{
    unsigned long flags;
    struct rq *rq = task_rq_lock(p, &flags);
    p->__state = TASK_RUNNING;
    p->on_rq = TASK_ON_RQ_QUEUED;
    enqueue_task(rq, p);
    if (rq->curr == rq->idle)
        resched_curr(rq);
    raw_spin_unlock_irqrestore(&rq->lock, flags);
}

void put_task_struct(struct task_struct *p);

/*
 * mirrors kernel/sched/core.c: finish_task_switch() -- the first thing a task
 * does after being switched to. prev is the task this CPU ran before.
 *
 * this_rq() is read afresh: the task that resumes here may have been switched
 * out on ANOTHER CPU, so the rq in its own __schedule() frame is not the lock
 * this CPU holds. (A per-CPU pointer taken before a switch is stale after
 * it: the same lesson as the preempt demo.)
 */
static void finish_task_switch(struct task_struct *prev)
{
    struct rq *rq = this_rq();
    long prev_state = prev->__state;
    int migrate_to = prev->on_rq == TASK_ON_RQ_MIGRATING ? prev->migrate_to : -1;

    /* prev's stack is no longer in use: another CPU may now run it. */
    smp_store_release(&prev->on_cpu, 0);
    raw_spin_unlock_irq(&rq->lock);

    if (migrate_to >= 0)
        attach_task_to(prev, (unsigned int)migrate_to);
    if (prev_state == TASK_DEAD)
        put_task_struct(prev);
}

/* mirrors kernel/sched/core.c: context_switch() */
static struct task_struct *context_switch(struct task_struct *prev, struct task_struct *next)
{
    switch_to(prev, next, prev);
    barrier();
    return prev;
}

/* mirrors kernel/sched/core.c: pick_next_task() -- round robin, else idle */
static struct task_struct *pick_next_task(struct rq *rq)
{
    if (list_empty(&rq->queue))
        return rq->idle;
    struct task_struct *p = list_first_entry(&rq->queue, struct task_struct, run_list);
    dequeue_task(rq, p);
    return p;
}

/* mirrors kernel/sched/core.c: __schedule(). preempt: called because the
 * task was preempted (then a task about to sleep stays runnable). */
static void __schedule(bool preempt)
{
    unsigned int cpu = smp_processor_id();
    struct rq *rq = cpu_rq(cpu);
    struct task_struct *prev = rq->curr, *next;

    if (!preempt && unlikely(preempt_count() != PREEMPT_DISABLE_OFFSET))
        printk("BUG: scheduling while atomic: %s/%d/0x%08x\n", prev->comm, prev->pid, preempt_count());

    local_irq_disable();
    raw_spin_lock(&rq->lock);

    if (!preempt && prev->__state != TASK_RUNNING) {
        prev->on_rq = 0;                       /* deactivate: it sleeps or dies */
    } else if (prev != rq->idle) {
        if (prev->migrate_to >= 0 && prev->migrate_to != (int)cpu) {
            prev->on_rq = TASK_ON_RQ_MIGRATING; /* finish_task_switch() moves it */
        } else {
            prev->migrate_to = -1;
            enqueue_task(rq, prev);            /* to the back of the queue */
        }
    }
    next = pick_next_task(rq);
    clear_tsk_need_resched(prev);
    clear_preempt_need_resched();

    if (likely(prev != next)) {
        rq->curr = next;
        rq->nr_switches++;
        next->nr_switches++;
        next->on_cpu = 1;
        next->time_slice = SCHED_TIMESLICE;
        prev = context_switch(prev, next);
        /* Here we are the task that was switched OUT earlier, now resumed,
         * possibly on another CPU; prev is what this CPU ran until now. */
        finish_task_switch(prev);
    } else {
        raw_spin_unlock_irq(&rq->lock);
    }
}

/* mirrors kernel/sched/core.c: schedule() */
void schedule(void)
{
    do {
        preempt_disable();
        __schedule(false);
        sched_preempt_enable_no_resched();
    } while (need_resched());
}

/* mirrors kernel/sched/core.c: schedule_idle() -- the idle task already
 * runs with preemption disabled. */
void schedule_idle(void)
{
    do
        __schedule(false);
    while (need_resched());
}

/* mirrors kernel/sched/core.c: preempt_schedule() -- reached from
 * preempt_enable() when the count drops to 0 with a reschedule pending. */
void preempt_schedule(void)
{
    if (likely(!preemptible()))
        return;
    do {
        preempt_disable();
        __schedule(true);
        preempt_enable_no_resched();
    } while (need_resched());
}

/* mirrors kernel/sched/core.c: preempt_schedule_irq() -- reached from the
 * interrupt return path (entry_32.S) with interrupts off. */
void preempt_schedule_irq(void)
{
    do {
        preempt_disable();
        local_irq_enable();
        __schedule(true);
        local_irq_disable();
        sched_preempt_enable_no_resched();
    } while (need_resched());
}

/* mirrors kernel/sched/core.c: schedule_tail() -- called by ret_from_fork */
void schedule_tail(struct task_struct *prev)
{
    finish_task_switch(prev);
    preempt_enable();
}

/* mirrors kernel/sched/core.c: scheduler_tick() -- round robin among the
 * runnable tasks of this CPU. */
void scheduler_tick(void)
{
    struct rq *rq = this_rq();
    raw_spin_lock(&rq->lock);
    struct task_struct *curr = rq->curr;
    if (curr == rq->idle) {
        if (rq->nr_running)
            resched_curr(rq);
    } else if (curr->time_slice == 0 || --curr->time_slice == 0) {
        curr->time_slice = SCHED_TIMESLICE;
        if (rq->nr_running)
            resched_curr(rq);
    }
    raw_spin_unlock(&rq->lock);
}

/* mirrors kernel/sched/core.c: scheduler_ipi() -> preempt_fold_need_resched():
 * another CPU set TIF_NEED_RESCHED on our current task; fold it into our
 * per-CPU preempt count so the interrupt return path sees it. */
void scheduler_ipi(void)
{
    if (test_tsk_need_resched(current))
        set_preempt_need_resched();
}

/* mirrors kernel/sched/core.c: init_idle() -- idle becomes rq->curr of cpu */
void init_idle(struct task_struct *idle, unsigned int cpu)
{
    struct rq *rq = cpu_rq(cpu);
    idle->__state = TASK_RUNNING;
    idle->on_cpu = 1;
    idle->migrate_to = -1;
    task_thread_info(idle)->cpu = cpu;
    rq->curr = rq->idle = idle;
    init_idle_preempt_count(idle, cpu);
}

/* mirrors kernel/sched/core.c: sched_init() -- every possible CPU's run
 * queue; the boot CPU's current task (init_task) is its idle task. */
void sched_init(void)
{
    unsigned int cpu;
    for_each_possible_cpu(cpu) {
        struct rq *rq = cpu_rq(cpu);
        raw_spin_lock_init(&rq->lock);
        rq->cpu = cpu;
        INIT_LIST_HEAD(&rq->queue);
    }
    init_idle(current, smp_processor_id());
    per_cpu(idle_threads, smp_processor_id()) = current;
}

/* mirrors kernel/exit.c: do_exit() -> do_task_dead() */
void __noreturn do_exit(long code)
{
    (void)code;
    preempt_disable();
    current->__state = TASK_DEAD;
    __schedule(false);
    panic("do_exit: a dead task ran again");
}

/* mirrors kernel/sched/completion.c: complete() */
void complete(struct completion *x)
{
    unsigned long flags;
    raw_spin_lock_irqsave(&x->lock, flags);
    x->done++;
    if (x->waiter)
        wake_up_process(x->waiter);
    raw_spin_unlock_irqrestore(&x->lock, flags);
}

/* mirrors kernel/sched/completion.c: wait_for_completion() -- sleep (off the
 * run queue) until complete(). The state is set under x->lock before
 * checking, so a complete() in between makes schedule() return at once. */
void wait_for_completion(struct completion *x)
{
    unsigned long flags;
    for (;;) {
        raw_spin_lock_irqsave(&x->lock, flags);
        if (x->done) {
            x->done--;
            x->waiter = NULL;
            raw_spin_unlock_irqrestore(&x->lock, flags);
            return;
        }
        x->waiter = current;
        set_current_state(TASK_UNINTERRUPTIBLE);
        raw_spin_unlock_irqrestore(&x->lock, flags);
        schedule();
    }
}
