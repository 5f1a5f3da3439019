/*
 * Bringing up the other CPUs: arch/x86/kernel/smpboot.c, kernel/smp.c,
 * kernel/cpu.c (cpu_up) and arch/x86/realmode/init.c.
 *
 * For each present CPU the boot CPU
 *   1. makes an idle task (fork_idle) and records its stack top in
 *      per_cpu(cpu_current_top_of_stack, cpu) and the task in
 *      per_cpu(current_task, cpu)               -- common_cpu_up()
 *   2. points early_gdt_descr at per_cpu(gdt_page, cpu), initial_stack at
 *      the idle stack and initial_code at start_secondary -- do_boot_cpu()
 *   3. sets the warm-reset vector and sends INIT, STARTUP, STARTUP to the
 *      CPU's local APIC                       -- wakeup_secondary_cpu_via_init()
 * The AP starts in real mode in the trampoline, enters protected mode, and
 * head_32.S loads ITS OWN GDT and %fs = __KERNEL_PERCPU: from its first C
 * instruction, this_cpu_*() reach its own unit.
 */
#define pr_fmt(fmt) "smpboot: " fmt

#include "asm/apic.h"
#include "asm/desc.h"
#include "asm/io.h"
#include "asm/mpspec.h"
#include "asm/realmode.h"
#include "linux/delay.h"
#include "linux/init.h"
#include "linux/irq.h"
#include "linux/printk.h"
#include "linux/sched.h"
#include "linux/string.h"

DEFINE_PER_CPU_READ_MOSTLY(struct cpuinfo_x86, cpu_info);

/* APs that reached smp_callin() (arch/x86/kernel/smpboot.c). */
static struct cpumask cpu_callin_mask;

extern const char startup_32_smp[];

/*
 * What each CPU sees through its own %fs and GDTR, recorded by the CPU
 * itself (percpu_selftest_record) and checked and printed by the boot CPU.
 * Not a Linux structure: it makes the per-CPU mechanism visible.
 */
struct percpu_selftest {
    unsigned int cpu_number;       /* this_cpu_read(cpu_number) */
    unsigned long this_cpu_off;    /* this_cpu_read(this_cpu_off) */
    unsigned long gdtr;            /* sgdt: the GDT this CPU uses */
    unsigned long fs_desc_base;    /* base of GDT_ENTRY_PERCPU in that GDT */
    unsigned int fs, tr;           /* the selectors in %fs and TR */
    struct task_struct *cur;       /* current: this_cpu_read_stable(current_task) */
    struct task_struct *ti_task;   /* current_thread_info()->task */
    unsigned long top_of_stack;    /* this_cpu_read(cpu_current_top_of_stack) */
    unsigned long esp;             /* a stack address, to check it is in that stack */
    unsigned int apicid;           /* the local APIC's own id register */
    unsigned int apicid_percpu;    /* this_cpu_read(x86_cpu_to_apicid): a 2-byte read */
    bool recorded;
};
DEFINE_PER_CPU(struct percpu_selftest, percpu_selftest);

/* Runs on the CPU being checked, with preemption off. */
void percpu_selftest_record(void)
{
    struct percpu_selftest *t = this_cpu_ptr(&percpu_selftest);
    struct desc_ptr gdtr;
    unsigned int fs, tr;

    native_store_gdt(&gdtr);
    savesegment(fs, fs);
    __asm__ volatile("str %0" : "=r"(tr));
    t->cpu_number = (unsigned int)this_cpu_read(cpu_number);
    t->this_cpu_off = this_cpu_read(this_cpu_off);
    t->gdtr = gdtr.address;
    t->fs_desc_base = get_desc_base(&((struct desc_struct *)gdtr.address)[GDT_ENTRY_PERCPU]);
    t->fs = fs & 0xffff;
    t->tr = tr & 0xffff;
    t->cur = current;
    t->ti_task = current_thread_info()->task;
    t->top_of_stack = this_cpu_read(cpu_current_top_of_stack);
    t->esp = (unsigned long)&gdtr;
    t->apicid = read_apic_id();
    t->apicid_percpu = this_cpu_read(x86_cpu_to_apicid);   /* movw %fs:x86_cpu_to_apicid, %ax */
    smp_wmb();
    t->recorded = true;
}

/* Prints what every online CPU recorded and checks it; returns the number
 * of CPUs whose view is wrong. */
unsigned int percpu_selftest_report(void)
{
    unsigned int cpu, bad = 0;
    for_each_online_cpu(cpu) {
        const struct percpu_selftest *t = &per_cpu(percpu_selftest, cpu);
        const char *why = NULL;
        if (!t->recorded)
            why = "nothing recorded";
        else if (t->cpu_number != cpu)
            why = "this_cpu_read(cpu_number) is wrong";
        else if (t->this_cpu_off != per_cpu_offset(cpu))
            why = "this_cpu_read(this_cpu_off) != __per_cpu_offset[cpu]";
        else if (t->gdtr != (unsigned long)get_cpu_gdt_rw(cpu))
            why = "GDTR is not per_cpu(gdt_page, cpu)";
        else if (t->fs_desc_base != per_cpu_offset(cpu))
            why = "GDT_ENTRY_PERCPU base != __per_cpu_offset[cpu]";
        else if (t->fs != __KERNEL_PERCPU || t->tr != __KERNEL_TSS)
            why = "%fs or TR holds the wrong selector";
        else if (t->ti_task != t->cur)
            why = "current_thread_info()->task != current";
        else if (t->top_of_stack != task_top_of_stack(t->cur) || t->esp >= t->top_of_stack ||
                 t->esp < t->top_of_stack - THREAD_SIZE)
            why = "not running on current's stack";
        else if (t->apicid != per_cpu(x86_cpu_to_apicid, cpu) || t->apicid_percpu != t->apicid)
            why = "APIC id does not match x86_cpu_to_apicid";
        printk("percpu: cpu%u sees cpu_number=%u this_cpu_off=0x%08lx GDTR=0x%08lx fs=0x%02x "
               "GDT_ENTRY_PERCPU.base=0x%08lx current=%s stack_top=0x%08lx apicid=%u: %s%s\n",
               cpu, t->cpu_number, t->this_cpu_off, t->gdtr, t->fs, t->fs_desc_base,
               t->cur ? t->cur->comm : "?", t->top_of_stack, t->apicid, why ? "FAILED: " : "ok",
               why ? why : "");
        if (why)
            bad++;
    }
    return bad;
}

/* mirrors arch/x86/kernel/smpboot.c: prefill_possible_map() -- possible
 * CPUs = the enabled ones plus the listed-but-disabled ones (hotplug). */
void prefill_possible_map(void)
{
    unsigned int i, possible = num_processors + disabled_cpus;
    if (possible > NR_CPUS) {
        pr_warn("%u Processors exceeds NR_CPUS limit of %d\n", possible, NR_CPUS);
        possible = NR_CPUS;
    }
    pr_info("Allowing %u CPUs, %u hotplug CPUs\n", possible,
            possible > num_processors ? possible - num_processors : 0);
    reset_cpu_possible_mask();
    for (i = 0; i < possible; i++)
        set_cpu_possible(i, true);
    set_nr_cpu_ids(possible);
}

/* mirrors arch/x86/realmode/init.c: setup_real_mode() -- copy the
 * trampoline below 1 MiB and tell it where to go. */
void setup_real_mode(void)
{
    unsigned char *base = phys_to_virt(TRAMPOLINE_BASE);
    size_t size = (size_t)(trampoline_end - trampoline_start);
    memcpy(base, trampoline_start, size);
    struct trampoline_header *th = (struct trampoline_header *)(base + (trampoline_header - trampoline_start));
    th->start = (u32)(unsigned long)startup_32_smp;
    th->gdt_limit = __BOOT_DS + 7;
    th->gdt_base = (u32)(unsigned long)boot_gdt;
}

/* mirrors arch/x86/kernel/smpboot.c: smpboot_setup_warm_reset_vector() --
 * for CPUs that start through a warm reset instead of STARTUP: CMOS
 * shutdown code 0x0A means "jump via the vector at 40:67". */
static void smpboot_setup_warm_reset_vector(unsigned long start_eip)
{
    unsigned long flags;
    local_irq_save(flags);
    outb(0xf, 0x70);   /* CMOS_WRITE(0xa, 0xf) */
    outb(0xa, 0x71);
    local_irq_restore(flags);
    *((volatile unsigned short *)phys_to_virt(0x469)) = (unsigned short)(start_eip >> 4);
    *((volatile unsigned short *)phys_to_virt(0x467)) = (unsigned short)(start_eip & 0xf);
}

/* mirrors arch/x86/kernel/smpboot.c: smpboot_restore_warm_reset_vector() */
static void smpboot_restore_warm_reset_vector(void)
{
    unsigned long flags;
    local_irq_save(flags);
    outb(0xf, 0x70);   /* CMOS_WRITE(0, 0xf) */
    outb(0x0, 0x71);
    local_irq_restore(flags);
    *((volatile u32 *)phys_to_virt(0x467)) = 0;
}

/* mirrors arch/x86/kernel/smpboot.c: wakeup_secondary_cpu_via_init() --
 * INIT assert, INIT deassert, then two STARTUP IPIs whose vector is the
 * trampoline's page number. Modern CPUs need no 10 ms pause after INIT
 * (Linux: init_udelay = 0), only the short pauses around STARTUP. */
static int wakeup_secondary_cpu_via_init(unsigned int phys_apicid, unsigned long start_eip)
{
    unsigned int send_status, accept_status = 0;
    unsigned int maxlvt = GET_APIC_MAXLVT(apic_read(APIC_LVR));

    if (maxlvt > 3)
        apic_write(APIC_ESR, 0);
    apic_read(APIC_ESR);

    apic_icr_write(APIC_INT_LEVELTRIG | APIC_INT_ASSERT | APIC_DM_INIT, phys_apicid);
    send_status = (unsigned)safe_apic_wait_icr_idle();
    apic_icr_write(APIC_INT_LEVELTRIG | APIC_DM_INIT, phys_apicid);
    send_status |= (unsigned)safe_apic_wait_icr_idle();

    for (int j = 1; j <= 2; j++) {
        if (maxlvt > 3)
            apic_write(APIC_ESR, 0);
        apic_read(APIC_ESR);
        apic_icr_write(APIC_DM_STARTUP | (start_eip >> 12), phys_apicid);
        udelay(10);
        send_status |= (unsigned)safe_apic_wait_icr_idle();
        udelay(10);
        if (maxlvt > 3)
            apic_write(APIC_ESR, 0);
        accept_status = apic_read(APIC_ESR) & 0xEF;
        if (send_status || accept_status)
            break;
    }
    if (send_status)
        pr_err("APIC never delivered???\n");
    if (accept_status)
        pr_err("APIC delivery error (%x)\n", accept_status);
    return (int)(send_status | accept_status);
}

/* mirrors arch/x86/kernel/smpboot.c: announce_cpu() --
 * ".... node  #0, CPUs:      #1 #2 #3" */
static void announce_cpu(unsigned int cpu)
{
    unsigned int width = 1 + (num_possible_cpus() >= 10 ? 2 : 1); /* digits + '#' */
    if (cpu == 1) {
        printk("x86: Booting SMP configuration:\n");
        printk(".... node  #0, CPUs:  ");
        for (unsigned int i = 0; i < width + 1; i++)
            printk(" ");
    }
    for (unsigned int i = 0; i < width - (cpu >= 10 ? 2 : 1); i++)
        printk(" ");
    printk("#%u", cpu);
}

/* mirrors arch/x86/kernel/smpboot.c: start_secondary() -- the AP's first C
 * function, on its idle stack, %fs already on its own unit. */
static void __noreturn start_secondary(void)
{
    unsigned int cpu = smp_processor_id();

    cpu_init();                     /* TSS, IDT */
    /* smp_callin() */
    setup_local_APIC();
    cpu_data(cpu).apicid = read_apic_id();
    cpu_data(cpu).cpu_index = cpu;
    percpu_selftest_record();
    cpumask_set_cpu(cpu, &cpu_callin_mask);

    set_cpu_online(cpu, true);
    set_cpu_active(cpu, true);
    setup_APIC_timer();
    local_irq_enable();
    cpu_startup_entry();            /* the idle loop */
}

/* mirrors arch/x86/kernel/smpboot.c: common_cpu_up() -- before the AP
 * runs, its per-CPU "current" state already names its idle task. */
static void common_cpu_up(unsigned int cpu, struct task_struct *idle)
{
    per_cpu(current_task, cpu) = idle;
    per_cpu(cpu_current_top_of_stack, cpu) = task_top_of_stack(idle);
}

/* mirrors arch/x86/kernel/smpboot.c: do_boot_cpu() */
static int do_boot_cpu(unsigned int apicid, unsigned int cpu, struct task_struct *idle)
{
    unsigned long start_ip = TRAMPOLINE_BASE;
    int boot_error;

    idle->thread.sp = task_top_of_stack(idle);
    early_gdt_descr.address = (unsigned long)get_cpu_gdt_rw(cpu);
    initial_code = (unsigned long)start_secondary;
    initial_stack = idle->thread.sp;

    announce_cpu(cpu);
    smpboot_setup_warm_reset_vector(start_ip);
    /* Be paranoid about clearing APIC errors. */
    apic_write(APIC_ESR, 0);
    apic_read(APIC_ESR);

    boot_error = wakeup_secondary_cpu_via_init(apicid, start_ip);
    if (!boot_error) {
        /* Wait for the first sign of life: 1 s at the nominal TSC rate
         * (Linux waits 10 s; an emulator that never starts the AP would
         * otherwise spend 10^10 cycles here). */
        u64 start = rdtsc();
        while (!cpumask_test_cpu((int)cpu, &cpu_callin_mask)) {
            if (rdtsc() - start > 1000ULL * TSC_NOMINAL_KHZ) {
                boot_error = -1;
                break;
            }
            cpu_relax();
        }
    }
    smpboot_restore_warm_reset_vector();
    if (boot_error) {
        printk("\n");
        pr_err("CPU%u: failed to boot (APIC id %u)\n", cpu, apicid);
    }
    return boot_error;
}

/* mirrors arch/x86/kernel/smpboot.c: native_cpu_up() and kernel/cpu.c:
 * cpu_up() with idle_thread_get() */
static int cpu_up(unsigned int cpu)
{
    struct task_struct *idle = per_cpu(idle_threads, cpu);
    if (!idle) {
        idle = fork_idle(cpu);
        per_cpu(idle_threads, cpu) = idle;
    }
    common_cpu_up(cpu, idle);
    int err = do_boot_cpu(per_cpu(x86_cpu_to_apicid, cpu), cpu, idle);
    if (err)
        return err;
    while (!cpu_online(cpu))
        cpu_relax();
    return 0;
}

/* mirrors arch/x86/kernel/smpboot.c: native_smp_prepare_boot_cpu() */
void smp_prepare_boot_cpu(void)
{
    unsigned int me = smp_processor_id();
    switch_to_new_gdt(me);  /* already done in setup_per_cpu_areas(); harmless */
    cpumask_set_cpu(me, &cpu_callin_mask);
    set_cpu_online(me, true);
    set_cpu_active(me, true);
    cpu_data(me).apicid = (u32)boot_cpu_physical_apicid;
    cpu_data(me).cpu_index = me;
}

/* mirrors arch/x86/kernel/smpboot.c: native_smp_prepare_cpus() */
void smp_prepare_cpus(void)
{
    setup_real_mode();
}

/* mirrors kernel/smp.c: smp_init() + arch/x86/kernel/smpboot.c: smp_cpus_done() */
void smp_init(void)
{
    unsigned int cpu;
    printk("smp: Bringing up secondary CPUs ...\n");
    for_each_present_cpu(cpu) {
        if (!cpu_online(cpu))
            cpu_up(cpu);
    }
    if (num_online_cpus() > 1)
        printk("\n");
    unsigned int n = num_online_cpus();
    printk("smp: Brought up %d node%s, %u CPU%s\n", 1, "", n, n > 1 ? "s" : "");
    pr_info("Total of %u processors activated\n", n);
}
