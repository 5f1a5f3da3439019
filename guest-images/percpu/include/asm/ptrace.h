/* The registers saved on interrupt/exception entry: arch/x86/include/asm/ptrace.h
 * (32-bit layout; this kernel keeps the vector and the error code in two
 * words where Linux folds them into orig_ax). Must match SAVE_ALL in entry_32.S. */
#ifndef _ASM_X86_PTRACE_H
#define _ASM_X86_PTRACE_H

#include "linux/types.h"

struct pt_regs {
    unsigned long bx, cx, dx, si, di, bp, ax;
    unsigned long ds, es, fs, gs;
    unsigned long vector;       /* pushed by the entry stub */
    unsigned long error_code;   /* pushed by the CPU, or 0 by the stub */
    unsigned long ip, cs, flags;
    /* no sp/ss: ring 0 to ring 0 interrupts do not push them */
};

#define PT_EFLAGS 60  /* offsetof(struct pt_regs, flags), used by entry_32.S */

#endif
