/* Interrupt flag helpers: arch/x86/include/asm/irqflags.h. */
#ifndef _ASM_X86_IRQFLAGS_H
#define _ASM_X86_IRQFLAGS_H

#include "linux/compiler.h"

#define X86_EFLAGS_IF 0x00000200

static __always_inline unsigned long native_save_fl(void)
{
    unsigned long flags;
    __asm__ volatile("pushfl ; popl %0" : "=rm"(flags) : : "memory");
    return flags;
}

static __always_inline void native_irq_disable(void) { __asm__ volatile("cli" : : : "memory"); }
static __always_inline void native_irq_enable(void) { __asm__ volatile("sti" : : : "memory"); }

/* sti takes effect after the NEXT instruction, so "sti; hlt" cannot lose a
 * wake-up interrupt between the two. */
static __always_inline void native_safe_halt(void) { __asm__ volatile("sti; hlt" : : : "memory"); }
static __always_inline void native_halt(void) { __asm__ volatile("hlt" : : : "memory"); }

#define local_irq_disable() native_irq_disable()
#define local_irq_enable() native_irq_enable()
#define local_irq_save(flags)             \
    do {                                  \
        (flags) = native_save_fl();       \
        native_irq_disable();             \
    } while (0)
#define local_irq_restore(flags)                  \
    do {                                          \
        if ((flags) & X86_EFLAGS_IF)              \
            native_irq_enable();                  \
    } while (0)
#define irqs_disabled() (!(native_save_fl() & X86_EFLAGS_IF))
#define safe_halt() native_safe_halt()

#endif
