/*
 * Interrupt/exception entry and the task switch: arch/x86/entry/entry_32.S.
 *
 * Every one of the 256 IDT vectors has a 16-byte stub (vector_entries, like
 * Linux's irq_entries_start) that pushes an error code (0 when the CPU does
 * not push one) and the vector number, then jumps to common_entry, which
 * saves the registers as a struct pt_regs (SAVE_ALL) and calls do_entry().
 *
 * SAVE_ALL loads %fs with __KERNEL_PERCPU and RESTORE_ALL pops the saved %fs:
 * BOTH reload the hidden part of %fs from this CPU's GDT. (Kernel code runs
 * with %fs = __KERNEL_PERCPU all the time; Linux reloads it on entry because
 * user space has its own %fs.) So an interrupt refreshes a stale %fs: the
 * stalefs demo runs with interrupts off for that reason.
 */
#include "asm/segment.h"
#include "asm/switch_to.h"

#define X86_EFLAGS_IF 0x00000200
#define PT_EFLAGS 60

.macro SAVE_ALL
        cld
        pushl %gs
        pushl %fs
        pushl %es
        pushl %ds
        pushl %eax
        pushl %ebp
        pushl %edi
        pushl %esi
        pushl %edx
        pushl %ecx
        pushl %ebx
        movl $(__USER_DS), %edx
        movl %edx, %ds
        movl %edx, %es
        movl $(__KERNEL_PERCPU), %edx
        movl %edx, %fs
.endm

.macro RESTORE_ALL
        popl %ebx
        popl %ecx
        popl %edx
        popl %esi
        popl %edi
        popl %ebp
        popl %eax
        popl %ds
        popl %es
        popl %fs
        popl %gs
        addl $8, %esp              /* vector and error code */
.endm

        .text
        .balign 16
        .globl vector_entries_start
vector_entries_start:
        vector = 0
        .rept 256
        .balign 16
        /* The CPU pushes an error code for #DF, #TS, #NP, #SS, #GP, #PF, #AC,
         * #CP, #VC and #SX; the stub pushes a 0 for everything else. */
        .if (vector == 8) || ((vector >= 10) && (vector <= 14)) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
        .else
        pushl $0
        .endif
        pushl $vector
        jmp common_entry
        vector = vector + 1
        .endr

        .balign 16
common_entry:
        SAVE_ALL
        movl %esp, %eax
        pushl %eax                 /* struct pt_regs * */
        call do_entry
        addl $4, %esp

        /* ret_from_intr / resume_kernel (CONFIG_PREEMPTION): a raw count of 0
         * means "preemption enabled and a reschedule is pending"
         * (PREEMPT_NEED_RESCHED is inverted). Preempt only if the interrupted
         * code had interrupts on. */
        cmpl $0, %fs:__preempt_count
        jnz restore_all
        testl $X86_EFLAGS_IF, PT_EFLAGS(%esp)
        jz restore_all
        call preempt_schedule_irq
restore_all:
        RESTORE_ALL
        iret

/*
 * struct task_struct *__switch_to_asm(prev = %eax, next = %edx)
 *
 * Saves the callee-saved registers and EFLAGS on prev's stack, stores %esp in
 * prev->thread.sp, takes next->thread.sp, pops next's registers and jumps to
 * __switch_to(prev, next), whose "ret" returns on next's stack: into the
 * __schedule() that switched next out, or into ret_from_fork for a new task.
 */
        .globl __switch_to_asm
        .type __switch_to_asm, @function
__switch_to_asm:
        pushl %ebp
        pushl %ebx
        pushl %edi
        pushl %esi
        pushfl
        movl %esp, TASK_threadsp(%eax)   /* switch stack */
        movl TASK_threadsp(%edx), %esp
        popfl
        popl %esi
        popl %edi
        popl %ebx
        popl %ebp
        jmp __switch_to
        .size __switch_to_asm, . - __switch_to_asm

/*
 * A new task's first instructions (copy_thread() put this address in its
 * inactive_task_frame): %eax = the task switched away from, %ebx = the
 * function, %edi = its argument.
 */
        .globl ret_from_fork
        .type ret_from_fork, @function
ret_from_fork:
        pushl %eax
        call schedule_tail
        addl $4, %esp
        pushl %edi
        call *%ebx
        addl $4, %esp
        pushl %eax
        call do_exit               /* does not return */
        .size ret_from_fork, . - ret_from_fork

        .section .note.GNU-stack, "", @progbits
