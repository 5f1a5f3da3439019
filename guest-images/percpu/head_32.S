/*
 * The first instructions of every CPU: arch/x86/kernel/head_32.S.
 *
 *   startup_32      the boot CPU, entered by the Multiboot loader in 32-bit
 *                   protected mode with flat segments and an undefined GDTR.
 *   startup_32_smp  each AP, entered from the real-mode trampoline
 *                   (trampoline_32.S) with the boot GDT loaded.
 *
 * Both end in the same code, which loads the GDT that early_gdt_descr points
 * at, reloads every segment register and in particular
 *
 *     %fs = __KERNEL_PERCPU (0xd8)
 *
 * and calls *initial_code on the stack *initial_stack. For the boot CPU the
 * GDT is the per-CPU TEMPLATE gdt_page (its per-CPU entry has base 0, so
 * %fs:var is the template copy of var: BOOT_PERCPU_OFFSET = 0). Before waking
 * an AP, do_boot_cpu() points early_gdt_descr at THAT CPU's own copy of
 * gdt_page, whose per-CPU entry has base __per_cpu_offset[cpu], and sets
 * initial_stack to its idle task's stack and initial_code to start_secondary.
 *
 * Linux also turns paging on here; this kernel runs with paging off.
 */
#include "asm/segment.h"

#define MB_HEADER_MAGIC 0x1BADB002
#define MB_FLAG_PAGE_ALIGN_MODULES 0x00000001
#define MB_FLAG_MEMORY_INFO 0x00000002
#define MB_HEADER_FLAGS (MB_FLAG_PAGE_ALIGN_MODULES | MB_FLAG_MEMORY_INFO)
#define THREAD_SIZE 8192

        .section .multiboot, "a"
        .align 4
multiboot_header:
        .long MB_HEADER_MAGIC
        .long MB_HEADER_FLAGS
        .long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

        .section .head.text, "ax"
        .code32
        .globl startup_32
        .type startup_32, @function
startup_32:
        cld
        cli
        /* The Multiboot GDTR is undefined: load our boot GDT first. */
        lgdt boot_gdt_descr
        ljmp $__BOOT_CS, $1f
1:      movl $__BOOT_DS, %ecx
        movl %ecx, %ds
        movl %ecx, %es
        movl %ecx, %fs
        movl %ecx, %gs
        movl %ecx, %ss
        /* Keep the Multiboot magic (%eax) and info pointer (%ebx) while the
         * bss is cleared (the loader clears it too; Linux does it here). */
        movl %eax, %esi
        movl %ebx, %edx
        xorl %eax, %eax
        movl $__bss_start, %edi
        movl $__bss_stop, %ecx
        subl %edi, %ecx
        shrl $2, %ecx
        rep stosl
        movl %esi, multiboot_magic
        movl %edx, multiboot_info
        movl initial_stack, %esp
        jmp .Ldefault_entry
        .size startup_32, . - startup_32

        .globl startup_32_smp
        .type startup_32_smp, @function
startup_32_smp:
        cld
        movl $__BOOT_DS, %eax
        movl %eax, %ds
        movl %eax, %es
        movl %eax, %fs
        movl %eax, %gs
        movl %eax, %ss
        movl initial_stack, %esp   /* this AP's idle stack (do_boot_cpu) */

.Ldefault_entry:
        pushl $0                   /* clear EFLAGS (IF=0, DF=0, ...) */
        popfl
        lgdt early_gdt_descr       /* the template GDT, or this AP's own GDT */
        ljmp $(__KERNEL_CS), $1f
1:      movl $(__KERNEL_DS), %eax
        movl %eax, %ss
        movl $(__USER_DS), %eax    /* DS/ES contain the default USER segment */
        movl %eax, %ds
        movl %eax, %es
        movl $(__KERNEL_PERCPU), %eax
        movl %eax, %fs             /* set this cpu's percpu */
        xorl %eax, %eax
        movl %eax, %gs             /* %gs is unused */
        lldt %ax                   /* no LDT */
        xorl %ebp, %ebp
        call *initial_code         /* i386_start_kernel or start_secondary */
2:      cli                        /* neither returns */
        hlt
        jmp 2b
        .size startup_32_smp, . - startup_32_smp

        .data
        .align 4
        .globl initial_code, initial_stack, multiboot_magic, multiboot_info
initial_code:
        .long i386_start_kernel
initial_stack:
        .long init_thread_union + THREAD_SIZE
multiboot_magic:
        .long 0
multiboot_info:
        .long 0

        .globl early_gdt_descr
        .align 4
        .word 0                    /* so that the base is 4-byte aligned */
early_gdt_descr:
        .word GDT_ENTRIES * 8 - 1
early_gdt_descr_base:
        .long gdt_page             /* the per-CPU template; overwritten for each AP */

        .align 4
        .word 0
boot_gdt_descr:
        .word __BOOT_DS + 7
        .long boot_gdt

        /* The boot GDT: flat 4 GiB code and data at entries 2 and 3
         * (__BOOT_CS, __BOOT_DS). The trampoline loads it too. */
        .globl boot_gdt
        .align 8
boot_gdt:
        .fill GDT_ENTRY_BOOT_CS, 8, 0
        .quad 0x00cf9a000000ffff   /* kernel 4GB code at 0x00000000 */
        .quad 0x00cf92000000ffff   /* kernel 4GB data at 0x00000000 */

        .section .note.GNU-stack, "", @progbits
