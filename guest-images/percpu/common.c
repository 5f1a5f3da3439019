/*
 * Per-CPU state every CPU has, and loading it: arch/x86/kernel/cpu/common.c
 * (x86_32 parts).
 */
#include "asm/desc.h"
#include "asm/processor.h"
#include "linux/init.h"
#include "linux/irq.h"
#include "linux/printk.h"
#include "linux/sched.h"

/*
 * The GDT is itself a per-CPU variable: one page in every CPU's unit. This
 * definition is the TEMPLATE that setup_per_cpu_areas() copies into each
 * unit; the boot CPU runs on the template itself until switch_to_new_gdt().
 * The entries are Linux's (desc_defs.h flags: DESC_CODE32 = 0xc09b,
 * DESC_DATA32 = 0xc093: present, accessed, 4 KiB granularity, 32-bit).
 * GDT_ENTRY_PERCPU starts with base 0; setup_percpu_segment() gives CPU n's
 * copy base __per_cpu_offset[n].
 */
DEFINE_PER_CPU_PAGE_ALIGNED(struct gdt_page, gdt_page) = { .gdt = {
    [GDT_ENTRY_KERNEL_CS] = GDT_ENTRY_INIT(DESC_CODE32, 0, 0xfffff),
    [GDT_ENTRY_KERNEL_DS] = GDT_ENTRY_INIT(DESC_DATA32, 0, 0xfffff),
    [GDT_ENTRY_DEFAULT_USER_CS] = GDT_ENTRY_INIT(DESC_CODE32 | DESC_USER, 0, 0xfffff),
    [GDT_ENTRY_DEFAULT_USER_DS] = GDT_ENTRY_INIT(DESC_DATA32 | DESC_USER, 0, 0xfffff),
    /* Segments used for calling PnP BIOS have byte granularity. */
    [GDT_ENTRY_PNPBIOS_CS32] = GDT_ENTRY_INIT(DESC_CODE32_BIOS, 0, 0xffff),
    [GDT_ENTRY_PNPBIOS_CS16] = GDT_ENTRY_INIT(DESC_CODE16, 0, 0xffff),
    [GDT_ENTRY_PNPBIOS_DS] = GDT_ENTRY_INIT(DESC_DATA16, 0, 0xffff),
    [GDT_ENTRY_PNPBIOS_TS1] = GDT_ENTRY_INIT(DESC_DATA16, 0, 0),
    [GDT_ENTRY_PNPBIOS_TS2] = GDT_ENTRY_INIT(DESC_DATA16, 0, 0),
    /* The APM segments have byte granularity and their bases are set at run time. */
    [GDT_ENTRY_APMBIOS_BASE] = GDT_ENTRY_INIT(DESC_CODE32_BIOS, 0, 0xffff),
    [GDT_ENTRY_APMBIOS_BASE + 1] = GDT_ENTRY_INIT(DESC_CODE16, 0, 0xffff),
    [GDT_ENTRY_APMBIOS_BASE + 2] = GDT_ENTRY_INIT(DESC_DATA32_BIOS, 0, 0xffff),
    [GDT_ENTRY_ESPFIX_SS] = GDT_ENTRY_INIT(DESC_DATA32, 0, 0xfffff),
    [GDT_ENTRY_PERCPU] = GDT_ENTRY_INIT(DESC_DATA32, 0, 0xfffff),
} };

/* The running task and the top of its stack (asm/current.h, processor.h).
 * The template values describe the boot CPU's first task, init_task. */
DEFINE_PER_CPU(struct task_struct *, current_task) ____cacheline_aligned = &init_task;
DEFINE_PER_CPU(int, __preempt_count) = (int)INIT_PREEMPT_COUNT;
DEFINE_PER_CPU(unsigned long, cpu_current_top_of_stack) = (unsigned long)&init_thread_union + THREAD_SIZE;

/* Each CPU's TSS (arch/x86/kernel/process.c), page aligned like Linux's. */
DEFINE_PER_CPU_PAGE_ALIGNED(struct tss_struct, cpu_tss_rw);

/* mirrors arch/x86/kernel/cpu/common.c: load_direct_gdt() */
static void load_direct_gdt(unsigned int cpu)
{
    struct desc_ptr gdt_descr;
    gdt_descr.address = (unsigned long)get_cpu_gdt_rw(cpu);
    gdt_descr.size = GDT_ENTRIES * 8 - 1;
    native_load_gdt(&gdt_descr);
}

/* mirrors arch/x86/kernel/cpu/common.c: load_percpu_segment().
 * Reloading %fs makes the CPU read GDT_ENTRY_PERCPU again, from the GDT that
 * GDTR now points at, into %fs's hidden base. */
void load_percpu_segment(unsigned int cpu)
{
    (void)cpu;
    loadsegment(fs, __KERNEL_PERCPU);
}

/* mirrors arch/x86/kernel/cpu/common.c: switch_to_new_gdt(): "Current gdt
 * points %fs at the "master" per-cpu area: after this, it's on the real one." */
void switch_to_new_gdt(unsigned int cpu)
{
    load_direct_gdt(cpu);
    load_percpu_segment(cpu);
}

/* mirrors arch/x86/include/asm/desc.h: set_tss_desc() -- a system descriptor
 * (S = 0) of type "available 32-bit TSS" in entry GDT_ENTRY_TSS of THIS CPU's
 * GDT. ltr marks it busy there, which is one reason every CPU needs its own GDT. */
static void set_tss_desc(unsigned int cpu, struct x86_hw_tss *addr)
{
    struct desc_struct d = GDT_ENTRY_INIT(DESC_TSS | _DESC_PRESENT, (unsigned long)addr,
                                          sizeof(struct x86_hw_tss) - 1);
    write_gdt_entry(get_cpu_gdt_rw(cpu), GDT_ENTRY_TSS, &d, DESC_TSS);
}

/* mirrors arch/x86/kernel/cpu/common.c: cpu_init_exception_handling() + cpu_init():
 * load this CPU's TSS and the (shared) IDT. Runs on the CPU itself. */
void cpu_init(void)
{
    unsigned int cpu = raw_smp_processor_id();
    struct x86_hw_tss *tss = &per_cpu(cpu_tss_rw, cpu).x86_tss;

    tss->ss0 = __KERNEL_DS;
    tss->sp0 = current->thread.sp0;
    tss->io_bitmap_base = sizeof(struct x86_hw_tss); /* no I/O bitmap */
    set_tss_desc(cpu, tss);
    native_load_tr_desc();
    load_current_idt();
}
