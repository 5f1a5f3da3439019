/* The real-mode trampoline the APs start in: arch/x86/include/asm/realmode.h. */
#ifndef _ASM_X86_REALMODE_H
#define _ASM_X86_REALMODE_H

#include "asm/desc.h"
#include "linux/types.h"

/* Where the trampoline is copied: a STARTUP IPI starts an AP in real mode at
 * vector * 4096, so this must be page aligned and below 1 MiB. (Page 0x8000,
 * just below where Multiboot loaders put their information at 0x9000.) */
#define TRAMPOLINE_BASE 0x8000

/* Filled in by setup_real_mode(), read by trampoline_32.S. Must match the
 * layout of trampoline_header in trampoline_32.S. */
struct trampoline_header {
    u32 start;        /* 32-bit entry point: startup_32_smp */
    u16 gdt_pad;
    u16 gdt_limit;    /* the GDT for the switch to protected mode: boot_gdt */
    u32 gdt_base;
} __attribute__((packed));

extern const unsigned char trampoline_start[], trampoline_end[], trampoline_header[];
extern unsigned char boot_gdt[];

/* head_32.S: what the next CPU through startup_32_smp will use. */
extern unsigned long initial_code;
extern unsigned long initial_stack;
extern struct desc_ptr early_gdt_descr;

void setup_real_mode(void);

#endif
