/* Task switching: arch/x86/include/asm/switch_to.h. */
#ifndef _ASM_X86_SWITCH_TO_H
#define _ASM_X86_SWITCH_TO_H

/* offsetof(struct task_struct, thread.sp), for entry_32.S (Linux generates
 * it with asm-offsets; process_32.c checks it with a static assertion). */
#define TASK_threadsp 0

#ifndef __ASSEMBLER__
struct task_struct;

/* The frame __switch_to_asm() leaves on a switched-out task's stack. */
struct inactive_task_frame {
    unsigned long flags;
    unsigned long si;
    unsigned long di;
    unsigned long bx;
    unsigned long bp;
    unsigned long ret_addr;
};

/* Both take prev in %eax and next in %edx (Linux compiles x86_32 with
 * -mregparm=3; here only these two functions use register arguments). */
__attribute__((regparm(2))) struct task_struct *__switch_to_asm(struct task_struct *prev,
                                                                 struct task_struct *next);
__attribute__((regparm(2))) struct task_struct *__switch_to(struct task_struct *prev,
                                                             struct task_struct *next);
void ret_from_fork(void);

#define switch_to(prev, next, last) ((last) = __switch_to_asm((prev), (next)))
#endif

#endif
