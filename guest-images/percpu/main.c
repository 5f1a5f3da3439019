/*
 * The kernel's main line: init/main.c (start_kernel, rest_init, kernel_init).
 */
#include "asm/apic.h"
#include "asm/io.h"
#include "asm/segment.h"
#include "linux/init.h"
#include "linux/irq.h"
#include "linux/printk.h"
#include "linux/sched.h"
#include "linux/string.h"
#include "demo.h"

/* QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,iosize=0x04):
 * writing v makes QEMU exit with status (v << 1) | 1. */
#define DEBUG_EXIT_PORT 0xF4

unsigned int percpu_selftest_report(void);
void percpu_selftest_record(void);

/* Stops the machine: the number of failures goes to the debug-exit port,
 * then this CPU halts for good. (127 = a fatal exception, see traps.c.) */
void __noreturn kernel_exit(unsigned int failures)
{
    outb((u8)(failures > 255 ? 255 : failures), DEBUG_EXIT_PORT);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* "oops=ud" or "oops=gp" on the command line: fault on purpose, to see
 * the exception report (traps.c). #GP: load %fs with selector 0x100, past
 * the end of the 32-entry GDT -- the CPU checks the selector against GDTR's
 * limit when a segment register is loaded. */
static void maybe_oops(void)
{
    const char *oops = cmdline_find_option("oops");
    if (oops == NULL)
        return;
    printk("oops: faulting on purpose (oops=%s)\n", oops);
    if (strcmp(oops, "ud") == 0)
        __asm__ volatile("ud2");
    else if (strcmp(oops, "gp") == 0)
        loadsegment(fs, 0x100);
    printk("oops: unknown kind '%s' (ud, gp)\n", oops);
}

/* mirrors init/main.c: kernel_init() -- pid 1: bring up the other CPUs,
 * then do the work (here: the demos) and stop the machine. */
static int kernel_init(void *unused)
{
    (void)unused;
    smp_prepare_cpus();
    smp_init();

    preempt_disable();
    percpu_selftest_record();   /* the boot CPU's view, like each AP recorded its own */
    preempt_enable();
    unsigned int bad = percpu_selftest_report();
    if (bad)
        printk("percpu: self-check FAILED on %u CPU%s\n", bad, bad > 1 ? "s" : "");

    maybe_oops();
    unsigned int failed = run_demos(cmdline_find_option("demo"));
    printk("percpu: done: %u CPUs, %u demo failure%s, %u self-check failure%s\n", num_online_cpus(), failed,
           failed == 1 ? "" : "s", bad, bad == 1 ? "" : "s");
    kernel_exit(failed + bad);
}

/* mirrors init/main.c: rest_init() -- start kernel_init, and the boot task
 * becomes CPU 0's idle task. */
static void __noreturn rest_init(void)
{
    kthread_run_on_cpu(kernel_init, NULL, 0, "kernel_init");
    cpu_startup_entry();
}

/* mirrors init/main.c: start_kernel() (the parts this kernel has) */
void start_kernel(void)
{
    printk("percpu: a teaching kernel for Linux's x86_32 per-CPU data (%%fs = __per_cpu_offset[cpu])\n");
    printk("Command line: %s\n", boot_command_line);

    setup_arch();            /* memory, early IDT, find the CPUs */
    setup_per_cpu_areas();   /* units, __per_cpu_offset[], each GDT's per-CPU entry */
    smp_prepare_boot_cpu();  /* the boot CPU on its own GDT; online */
    trap_init();             /* the boot CPU's TSS and IDT */
    sched_init();            /* run queues; init_task becomes CPU 0's idle task */
    init_IRQ();              /* mask the 8259s */
    setup_local_APIC();      /* APIC_init_uniprocessor / apic_intr_mode_init */
    setup_APIC_timer();      /* time_init -> setup_boot_APIC_clock */
    printk("APIC: timer: periodic, vector 0x%x, divide 16, fixed count (not calibrated)\n", 0xec);
    local_irq_enable();
    rest_init();
}
