/*
 * The x86_32 GDT layout and segment selectors: arch/x86/include/asm/segment.h.
 * Used from C and from the assembly files.
 *
 *   0 - null                        16 - TSS            <- GDT_ENTRY_TSS
 *   1 - reserved                    17 - LDT
 *   2 - reserved (boot CS)          18-22 - PNPBIOS support
 *   3 - reserved (boot DS)          23-25 - APM BIOS support
 *   4 - unused                      26 - ESPFIX small SS
 *   5 - unused                      27 - per-cpu        <- GDT_ENTRY_PERCPU
 *   6-8 - TLS segments              28 - stack_canary-20 (old kernels)
 *   9-11 - reserved                 29, 30 - unused
 *  12 - kernel code segment         31 - TSS for double fault handler
 *  13 - kernel data segment
 *  14 - default user CS
 *  15 - default user DS
 */
#ifndef _ASM_X86_SEGMENT_H
#define _ASM_X86_SEGMENT_H

#define GDT_ENTRY_TLS_MIN 6
#define GDT_ENTRY_KERNEL_CS 12
#define GDT_ENTRY_KERNEL_DS 13
#define GDT_ENTRY_DEFAULT_USER_CS 14
#define GDT_ENTRY_DEFAULT_USER_DS 15
#define GDT_ENTRY_TSS 16
#define GDT_ENTRY_LDT 17
#define GDT_ENTRY_PNPBIOS_CS32 18
#define GDT_ENTRY_PNPBIOS_CS16 19
#define GDT_ENTRY_PNPBIOS_DS 20
#define GDT_ENTRY_PNPBIOS_TS1 21
#define GDT_ENTRY_PNPBIOS_TS2 22
#define GDT_ENTRY_APMBIOS_BASE 23
#define GDT_ENTRY_ESPFIX_SS 26
#define GDT_ENTRY_PERCPU 27
#define GDT_ENTRY_DOUBLEFAULT_TSS 31
#define GDT_ENTRIES 32

/* Selectors: index * 8 | table indicator (0 = GDT) | requested privilege level. */
#define __KERNEL_CS (GDT_ENTRY_KERNEL_CS * 8)           /* 0x60 */
#define __KERNEL_DS (GDT_ENTRY_KERNEL_DS * 8)           /* 0x68 */
#define __USER_CS (GDT_ENTRY_DEFAULT_USER_CS * 8 + 3)   /* 0x73 */
#define __USER_DS (GDT_ENTRY_DEFAULT_USER_DS * 8 + 3)   /* 0x7b */
#define __KERNEL_PERCPU (GDT_ENTRY_PERCPU * 8)          /* 0xd8 */
#define __KERNEL_TSS (GDT_ENTRY_TSS * 8)                /* 0x80 */

/* The boot GDT (head_32.S boot_gdt) used by the first instructions of the
 * boot CPU and by the APs' trampoline: flat code and data at entries 2 and 3. */
#define GDT_ENTRY_BOOT_CS 2
#define GDT_ENTRY_BOOT_DS 3
#define __BOOT_CS (GDT_ENTRY_BOOT_CS * 8)               /* 0x10 */
#define __BOOT_DS (GDT_ENTRY_BOOT_DS * 8)               /* 0x18 */

#ifndef __ASSEMBLER__
/* Load a segment register: loadsegment(fs, __KERNEL_PERCPU). Loading copies
 * the descriptor from the GDT into the register's hidden part; later changes
 * to the GDT entry are not seen until the next load. */
#define loadsegment(seg, value) __asm__ volatile("movl %k0, %%" #seg : : "rm"(value) : "memory")
#define savesegment(seg, value) __asm__("mov %%" #seg ", %0" : "=r"(value) : : "memory")
#endif

#endif
