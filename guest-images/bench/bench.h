/* Constants shared by the bench guest's C and assembly. */
#ifndef BENCH_H
#define BENCH_H

#define BENCH_MARKER_PORT 0xE0
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define PERCPU_SEL(cpu) (0x18 + 8 * (cpu))
#define MAX_CPUS 16
#define BOOT_STACK_SIZE 16384
#define AP_STACK_SHIFT 12
#define TRAMPOLINE_BASE 0x8000

/* Per-CPU area offsets (each CPU's %fs segment is based at its own area). */
#define PCPU_SEED 0
#define PCPU_MIX 4
#define PCPU_COUNT 8
#define PCPU_SIZE 64

/* Instructions per iteration of the measured loops (boot.S). */
#define ALU_PER_ITER 8
#define WALK_PER_ELEMENT 5
#define WALK_PER_PASS 3
#define COUNTER_PER_ITER 4
/* The instructions of a region besides its loop: the second marker write and its movb. */
#define REGION_EXTRA 2

#endif
