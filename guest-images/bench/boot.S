/*
 * Multiboot v1 entry of the "bench" guest, the AP trampoline and the measured
 * loops. Every measured loop is bracketed by two writes to the bench marker
 * port (BENCH_MARKER_PORT, al = 1 then al = 2): the region is the instructions
 * after the first write up to and including the second. Its length is exact
 * and known from the code below (see the *_REGION comments and bench.c).
 */
#include "bench.h"

#define MB_HEADER_MAGIC 0x1BADB002
#define MB_HEADER_FLAGS 0x00000003

        .section .multiboot, "a"
        .align 4
        .long MB_HEADER_MAGIC
        .long MB_HEADER_FLAGS
        .long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

        .section .bss
        .align 16
stack_bottom:
        .skip BOOT_STACK_SIZE
stack_top:

        .section .text
        .globl _start
        .type _start, @function
_start:
        cli
        movl $stack_top, %esp
        xorl %ebp, %ebp
        pushl $0
        popfl
        subl $8, %esp
        pushl %ebx
        pushl %eax
        call bench_main
1:      cli
        hlt
        jmp 1b
        .size _start, . - _start

/* void load_segments(const void *gdtr, unsigned fs_selector) */
        .globl load_segments
        .type load_segments, @function
load_segments:
        movl 4(%esp), %eax
        lgdt (%eax)
        movl 8(%esp), %ecx
        ljmp $KERNEL_CS, $1f
1:      movw $KERNEL_DS, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movw %ax, %gs
        movw %cx, %fs
        ret
        .size load_segments, . - load_segments

/*
 * void bench_alu(uint32_t iters): ALU_PER_ITER instructions per iteration,
 * three of them %fs-relative memory accesses (a load, a store and a
 * read-modify-write). Region = ALU_PER_ITER * iters + 2.
 */
        .globl bench_alu
        .type bench_alu, @function
bench_alu:
        pushl %ebx
        movl 8(%esp), %ecx
        xorl %ebx, %ebx
        xorl %edx, %edx
        movb $1, %al
        outb %al, $BENCH_MARKER_PORT
1:      movl %fs:PCPU_SEED, %eax
        addl %eax, %ebx
        xorl %ebx, %edx
        roll $3, %edx
        movl %edx, %fs:PCPU_MIX
        addl $3, %fs:PCPU_COUNT
        decl %ecx
        jnz 1b
        movb $2, %al
        outb %al, $BENCH_MARKER_PORT
        popl %ebx
        ret
        .size bench_alu, . - bench_alu

/*
 * uint32_t bench_walk(uint32_t base, uint32_t end, uint32_t passes): reads one
 * dword every 64 bytes of [base, end), passes times. Region =
 * passes * (WALK_PER_ELEMENT * elements + WALK_PER_PASS) + 2.
 */
        .globl bench_walk
        .type bench_walk, @function
bench_walk:
        pushl %ebx
        pushl %esi
        pushl %edi
        movl 16(%esp), %ebx
        movl 20(%esp), %edi
        movl 24(%esp), %ecx
        xorl %edx, %edx
        movb $1, %al
        outb %al, $BENCH_MARKER_PORT
2:      movl %ebx, %esi
1:      movl (%esi), %eax
        addl %eax, %edx
        addl $64, %esi
        cmpl %edi, %esi
        jb 1b
        decl %ecx
        jnz 2b
        movb $2, %al
        outb %al, $BENCH_MARKER_PORT
        movl %edx, %eax
        popl %edi
        popl %esi
        popl %ebx
        ret
        .size bench_walk, . - bench_walk

/*
 * void bench_counter(uint32_t iters, volatile uint32_t *shared): per
 * iteration a per-CPU increment through %fs and a locked shared increment.
 * Region = COUNTER_PER_ITER * iters + 2 (per CPU).
 */
        .globl bench_counter
        .type bench_counter, @function
bench_counter:
        movl 4(%esp), %ecx
        movl 8(%esp), %edx
        movb $1, %al
        outb %al, $BENCH_MARKER_PORT
1:      incl %fs:PCPU_COUNT
        lock incl (%edx)
        decl %ecx
        jnz 1b
        movb $2, %al
        outb %al, $BENCH_MARKER_PORT
        ret
        .size bench_counter, . - bench_counter

/*
 * The APs' real-mode entry, copied to TRAMPOLINE_BASE (STARTUP vector
 * TRAMPOLINE_BASE >> 12). It loads the GDT pointer stored in tr_gdtr by the
 * BSP, enters protected mode and jumps to ap_start32.
 */
#define RM(sym) ((sym) - trampoline_start)
        .section .rodata, "a"
        .code16
        .balign 16
        .globl trampoline_start
trampoline_start:
        cli
        movw %cs, %ax
        movw %ax, %ds
        lgdtl RM(tr_gdtr)
        movw $1, %dx
        lmsw %dx
        ljmpl $KERNEL_CS, $ap_start32
        .balign 4
        .globl tr_gdtr
tr_gdtr:
        .word 0
        .long 0
        .globl trampoline_end
trampoline_end:

        .section .text
        .code32
ap_start32:
        movw $KERNEL_DS, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movw %ax, %gs
        movl $1, %eax
        lock xaddl %eax, next_cpu_id
        movl %eax, %esp
        incl %esp
        shll $AP_STACK_SHIFT, %esp
        addl $ap_stacks, %esp
        pushl %eax
        call ap_main
2:      cli
        hlt
        jmp 2b

        .section .note.GNU-stack, "", @progbits
