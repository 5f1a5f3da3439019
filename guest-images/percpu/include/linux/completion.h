/* Completions: include/linux/completion.h. wait_for_completion() sleeps
 * until someone calls complete(); each complete() lets one wait through. */
#ifndef _LINUX_COMPLETION_H
#define _LINUX_COMPLETION_H

#include "linux/spinlock.h"

struct task_struct;

struct completion {
    unsigned int done;
    raw_spinlock_t lock;
    struct task_struct *waiter;   /* a single waiter is all this kernel needs */
};

#define COMPLETION_INITIALIZER(work) { 0, __RAW_SPIN_LOCK_UNLOCKED, NULL }

static inline void init_completion(struct completion *x)
{
    x->done = 0;
    raw_spin_lock_init(&x->lock);
    x->waiter = NULL;
}

void complete(struct completion *x);
void wait_for_completion(struct completion *x);

#endif
