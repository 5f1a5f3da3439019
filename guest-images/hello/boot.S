/*
 * Multiboot v1 entry point of the "hello" guest.
 *
 * The header asks for page-aligned modules (bit 0) and memory information
 * (bit 1). Bit 16 (the address fields) is deliberately NOT set: the image is
 * an ELF file and the loader takes the load addresses from its program headers.
 */
#define MB_HEADER_MAGIC 0x1BADB002
#define MB_FLAG_PAGE_ALIGN_MODULES 0x00000001
#define MB_FLAG_MEMORY_INFO 0x00000002
#define MB_HEADER_FLAGS (MB_FLAG_PAGE_ALIGN_MODULES | MB_FLAG_MEMORY_INFO)

#define STACK_SIZE 16384

        .section .multiboot, "a"
        .align 4
multiboot_header:
        .long MB_HEADER_MAGIC
        .long MB_HEADER_FLAGS
        .long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

        .section .bss
        .align 16
stack_bottom:
        .skip STACK_SIZE
stack_top:

        .section .text
        .globl _start
        .type _start, @function
_start:
        /* The loader leaves us in 32-bit protected mode with paging off;
         * EAX = boot loader magic, EBX = physical address of the info struct. */
        cli
        movl $stack_top, %esp
        xorl %ebp, %ebp
        /* Start from a known EFLAGS (IF=0, DF=0) without touching EAX/EBX. */
        pushl $0
        popfl
        /* Keep the stack 16-byte aligned at the call (i386 System V ABI). */
        subl $8, %esp
        pushl %ebx              /* const struct multiboot_info * */
        pushl %eax              /* uint32_t magic */
        call kmain
        /* kmain does not return; halt forever if it ever does. */
halt_forever:
        cli
        hlt
        jmp halt_forever
        .size _start, . - _start

        .section .note.GNU-stack, "", @progbits
