/*
 * Boot sector of the bench guest's disk image (build/bench-boot.img), for
 * machines that boot only from a disk, such as Bochs. Image layout:
 *
 *   sector 0      this boot sector (16-bit code, loaded by the BIOS at 0x7C00)
 *   sector 1      the kernel command line, NUL-terminated (patch it to choose
 *                 the workload: "work=alu iters=N", as for the Multiboot build)
 *   sectors 2..   build/bench.elf unchanged (PAYLOAD_SECTORS sectors)
 *
 * It reads sectors 1.. to BUFFER with the BIOS (int 13h, AH=42h, LBA), enables
 * A20, enters 32-bit protected mode with flat code and data segments (the
 * selectors the payload uses, KERNEL_CS and KERNEL_DS), loads the ELF image's
 * PT_LOAD segments to their physical addresses (1 MiB up), zeroes their bss,
 * and enters the ELF's entry point as a Multiboot v1 loader would: EAX =
 * 0x2BADB002, EBX = a Multiboot information structure whose only field is the
 * command line (flags bit 2). The payload is the very same ELF file as the
 * Multiboot build, so the measured loops are the same bytes at the same
 * addresses.
 */
#include "../bench.h"

#define BUFFER_SEG 0x1000
#define BUFFER (BUFFER_SEG << 4)        /* the command line sector, then the ELF */
#define ELF_BUFFER (BUFFER + 512)
#define COM1 0x3F8

        .code16
        .section .text
        .globl boot_start
boot_start:
        cli
        xorw %ax, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movw $0x7C00, %sp
        ljmp $0, $1f                    /* CS:IP = 0:7C0x whatever the BIOS used */
1:      cld

        /* A20: the BIOS call, then the fast A20 gate (port 0x92) in any case. */
        movw $0x2401, %ax
        int $0x15
        inb $0x92, %al
        orb $2, %al
        andb $0xFE, %al
        outb %al, $0x92

        /* DL still holds the boot drive the BIOS passed. */
        movw $dap, %si
        movb $0x42, %ah
        int $0x13
        jc disk_error

        lgdtl gdt_ptr
        movl %cr0, %eax
        orb $1, %al
        movl %eax, %cr0
        ljmpl $KERNEL_CS, $pm32

disk_error:
        movw $disk_error_msg, %si
2:      lodsb
        testb %al, %al
        jz 3f
        movw $COM1, %dx
        outb %al, %dx
        jmp 2b
3:      movb $1, %al
        outb %al, $0xF4
4:      hlt
        jmp 4b

        .code32
pm32:
        movw $KERNEL_DS, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movw %ax, %fs
        movw %ax, %gs
        movl $0x7C00, %esp

        /* The ELF32 header: e_phoff at 0x1C, e_phentsize at 0x2A, e_phnum at 0x2C. */
        movl $ELF_BUFFER, %ebp
        cmpl $0x464C457F, (%ebp)        /* "\x7fELF" */
        jne elf_error
        movl 0x1C(%ebp), %ebx
        addl %ebp, %ebx                 /* EBX = the program header */
        movzwl 0x2C(%ebp), %edx         /* EDX = headers left */
next_phdr:
        testl %edx, %edx
        jz enter
        cmpl $1, (%ebx)                 /* PT_LOAD */
        jne 5f
        movl 4(%ebx), %esi              /* p_offset */
        addl %ebp, %esi
        movl 12(%ebx), %edi             /* p_paddr */
        movl 16(%ebx), %ecx             /* p_filesz */
        rep movsb
        movl 20(%ebx), %ecx             /* p_memsz - p_filesz bytes of zeroes */
        subl 16(%ebx), %ecx
        xorl %eax, %eax
        rep stosb
5:      movzwl 0x2A(%ebp), %eax
        addl %eax, %ebx
        decl %edx
        jmp next_phdr

enter:
        movl 0x18(%ebp), %ecx           /* e_entry */
        movl $0x2BADB002, %eax
        movl $mb_info, %ebx
        jmp *%ecx

elf_error:
        movl $elf_error_msg, %esi
        movw $COM1, %dx
6:      lodsb
        testb %al, %al
        jz 7f
        outb %al, %dx
        jmp 6b
7:      movb $1, %al
        outb %al, $0xF4
8:      cli
        hlt
        jmp 8b

        .balign 8
gdt:
        .quad 0
        .quad 0x00CF9A000000FFFF        /* KERNEL_CS: flat 4 GiB code */
        .quad 0x00CF92000000FFFF        /* KERNEL_DS: flat 4 GiB data */
gdt_end:
gdt_ptr:
        .word gdt_end - gdt - 1
        .long gdt

        .balign 4
dap:                                    /* int 13h AH=42h disk address packet */
        .byte 16, 0
        .word 1 + PAYLOAD_SECTORS       /* the command line sector and the ELF */
        .word 0, BUFFER_SEG             /* offset, segment */
        .quad 1                         /* first LBA */

mb_info:                                /* Multiboot information: flags, ..., cmdline */
        .long 4, 0, 0, 0, BUFFER

disk_error_msg:
        .asciz "boot: disk read failed\n"
elf_error_msg:
        .asciz "boot: no ELF image after the command line sector\n"

        .org 510
        .byte 0x55, 0xAA

/* Sector 1: the default command line (the script that runs the image rewrites it). */
cmdline:
        .asciz "work=alu iters=1000000"
        .org 1024

        .section .note.GNU-stack, "", @progbits
