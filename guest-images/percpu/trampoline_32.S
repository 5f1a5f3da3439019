/*
 * The real-mode entry of the APs: arch/x86/realmode/rm/trampoline_32.S.
 *
 * A STARTUP IPI with vector v starts the AP in real mode at CS:IP = (v<<8):0,
 * i.e. physical v * 4096. setup_real_mode() copies the bytes between
 * trampoline_start and trampoline_end to TRAMPOLINE_BASE (0x8000, vector 8)
 * and fills in trampoline_header; the code below only uses addresses relative
 * to trampoline_start, so it runs at the copy.
 *
 * It loads the boot GDT, sets CR0.PE with lmsw and far-jumps into 32-bit code,
 * which jumps on to startup_32_smp in head_32.S.
 */
#include "asm/segment.h"

#define TRAMPOLINE_BASE 0x8000
#define RM(sym) ((sym) - trampoline_start)

        .section .rodata, "a"
        .code16
        .balign 16
        .globl trampoline_start
trampoline_start:
        cli
        wbinvd                     /* as Linux: harmless, flushes caches */
        mov %cs, %ax               /* code and data in the same place */
        mov %ax, %ds

        movl RM(tr_start), %eax    /* where we need to go: startup_32_smp */

        /* lgdtl/lidtl: the 32-bit forms, so the full base is loaded even in
         * real mode (the 16-bit form would only take 24 bits of it). */
        lidtl RM(tr_idt)           /* load idt with 0, 0 */
        lgdtl RM(tr_gdt)           /* load gdt: boot_gdt */

        movw $1, %dx               /* protected mode (PE) bit */
        lmsw %dx                   /* into protected mode */

        ljmpl $__BOOT_CS, $(TRAMPOLINE_BASE + RM(startup_32_tramp))

        .code32
startup_32_tramp:
        jmp *%eax

        .balign 4
tr_idt:
        .word 0                    /* idt limit = 0 */
        .long 0                    /* idt base = 0 */

        /* struct trampoline_header (asm/realmode.h) */
        .balign 4
        .globl trampoline_header
trampoline_header:
tr_start:
        .long 0                    /* start: startup_32_smp */
        .word 0                    /* gdt_pad */
tr_gdt:
        .word 0                    /* gdt_limit */
        .long 0                    /* gdt_base */

        .globl trampoline_end
trampoline_end:

        .section .note.GNU-stack, "", @progbits
