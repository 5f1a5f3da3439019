/* Interrupt vector numbers: arch/x86/include/asm/irq_vectors.h. */
#ifndef _ASM_X86_IRQ_VECTORS_H
#define _ASM_X86_IRQ_VECTORS_H

#define NR_VECTORS 256
#define FIRST_EXTERNAL_VECTOR 0x20
#define ISA_IRQ_VECTOR(irq) (0x30 + (irq))  /* the 8259 PICs are moved here (and masked) */
#define LOCAL_TIMER_VECTOR 0xec
#define CALL_FUNCTION_VECTOR 0xfc           /* (unused here) */
#define RESCHEDULE_VECTOR 0xfd
#define ERROR_APIC_VECTOR 0xfe
#define SPURIOUS_APIC_VECTOR 0xff

#endif
