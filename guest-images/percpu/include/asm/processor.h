/* CPU-level definitions: arch/x86/include/asm/processor.h (x86_32 parts). */
#ifndef _ASM_X86_PROCESSOR_H
#define _ASM_X86_PROCESSOR_H

#include "linux/percpu-defs.h"
#include "asm/percpu.h"

/* "rep; nop" = pause: tells the CPU this is a spin-wait loop. */
static __always_inline void cpu_relax(void) { __asm__ volatile("rep; nop" : : : "memory"); }

/* The time stamp counter (asm/msr.h rdtsc()). */
static __always_inline u64 rdtsc(void)
{
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}

/* The hardware TSS (x86_hw_tss, 32-bit). The kernel never leaves ring 0 here,
 * so sp0/ss0 are never used by the CPU, but every CPU still needs a TSS to
 * load into TR, and __switch_to() keeps sp0 up to date as Linux does. */
struct x86_hw_tss {
    u16 back_link, __blh;
    u32 sp0;
    u16 ss0, __ss0h;
    u32 sp1;
    u16 ss1, __ss1h;
    u32 sp2;
    u16 ss2, __ss2h;
    u32 __cr3, ip, flags, ax, cx, dx, bx, sp, bp, si, di;
    u16 es, __esh, cs, __csh, ss, __ssh, ds, __dsh, fs, __fsh, gs, __gsh, ldt, __ldth;
    u16 trace, io_bitmap_base;
} __packed;

struct tss_struct {
    struct x86_hw_tss x86_tss;
} __aligned(PAGE_SIZE);

/* Every CPU's own TSS (arch/x86/kernel/process.c). */
DECLARE_PER_CPU_PAGE_ALIGNED(struct tss_struct, cpu_tss_rw);

/* struct cpuinfo_x86, reduced to what this kernel knows about a CPU. */
struct cpuinfo_x86 {
    unsigned int cpu_index;
    u32 apicid;
    u32 initial_apicid;
};

DECLARE_PER_CPU_READ_MOSTLY(struct cpuinfo_x86, cpu_info);
#define cpu_data(cpu) per_cpu(cpu_info, cpu)

/* The kernel stack of a task: THREAD_SIZE = 8 KiB on x86_32. */
#define THREAD_SIZE (2 * PAGE_SIZE)

struct thread_struct {
    unsigned long sp;   /* saved %esp while switched out (__switch_to_asm) */
    unsigned long sp0;  /* top of the task's kernel stack */
};

/* The top of the running task's stack (x86_32: a per-CPU variable, written
 * by __switch_to()). */
DECLARE_PER_CPU(unsigned long, cpu_current_top_of_stack);

static __always_inline unsigned long current_top_of_stack(void)
{
    return this_cpu_read_stable(cpu_current_top_of_stack);
}

#endif
