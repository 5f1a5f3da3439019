/*
 * demo stalefs: a segment register caches its descriptor.
 *
 * Loading %fs copies GDT entry GDT_ENTRY_PERCPU into a hidden part of %fs
 * (base, limit, flags); %fs:x then uses that cached base. Rewriting the GDT
 * entry changes nothing until %fs is loaded again. The demo, on one CPU with
 * interrupts off (interrupt entry and exit reload %fs, see entry_32.S):
 *   1. reads this_cpu_off and stalefs_marker through %fs;
 *   2. writes base 0 into this CPU's GDT_ENTRY_PERCPU: base 0 makes %fs:x
 *      the template copy at __per_cpu_load (what the boot CPU used before
 *      setup_per_cpu_areas);
 *   3. reads again: still this CPU's values -- the old base;
 *   4. reloads %fs: now the template's values -- the new base;
 *   5. puts the entry back and reloads %fs.
 * Between 4 and 5 nothing may touch per-CPU data for real, so the values
 * are only printed afterwards.
 */
#include "asm/desc.h"
#include "demo.h"
#include "linux/completion.h"
#include "linux/printk.h"
#include "linux/sched.h"

#define STALEFS_TEMPLATE_MARKER 0xdeadUL
#define STALEFS_MARKER(cpu) (0x5000UL + (cpu))

/* The template keeps the initial value; every CPU's copy gets its own. */
DEFINE_PER_CPU(unsigned long, stalefs_marker) = STALEFS_TEMPLATE_MARKER;

struct stalefs_result {
    unsigned int cpu;
    unsigned long gdt;
    unsigned long old_base, new_base, desc_base_written;
    unsigned long before_off, before_marker;
    unsigned long stale_off, stale_marker;
    unsigned long reloaded_off, reloaded_marker;
    unsigned long restored_off, restored_marker;
    struct completion done;
};

static int stalefs_thread(void *data)
{
    struct stalefs_result *r = data;
    unsigned int cpu = smp_processor_id();
    struct desc_struct *gdt = get_cpu_gdt_rw(cpu);   /* this CPU's own GDT */
    struct desc_struct saved = gdt[GDT_ENTRY_PERCPU];
    struct desc_struct d = GDT_ENTRY_INIT(DESC_DATA32, 0UL, 0xFFFFF);
    unsigned long flags;

    r->cpu = cpu;
    r->gdt = (unsigned long)gdt;
    r->old_base = get_desc_base(&saved);
    r->new_base = 0;

    local_irq_save(flags);
    r->before_off = this_cpu_read(this_cpu_off);
    r->before_marker = this_cpu_read(stalefs_marker);

    write_gdt_entry(gdt, GDT_ENTRY_PERCPU, &d, 0);     /* 2. new base in the table */
    barrier();
    r->desc_base_written = get_desc_base(&gdt[GDT_ENTRY_PERCPU]);
    r->stale_off = this_cpu_read(this_cpu_off);        /* 3. still the old base */
    r->stale_marker = this_cpu_read(stalefs_marker);

    loadsegment(fs, __KERNEL_PERCPU);                  /* 4. reload: the new base */
    r->reloaded_off = this_cpu_read(this_cpu_off);
    r->reloaded_marker = this_cpu_read(stalefs_marker);

    write_gdt_entry(gdt, GDT_ENTRY_PERCPU, &saved, 0); /* 5. put it back */
    barrier();
    loadsegment(fs, __KERNEL_PERCPU);
    r->restored_off = this_cpu_read(this_cpu_off);
    r->restored_marker = this_cpu_read(stalefs_marker);
    local_irq_restore(flags);

    complete(&r->done);
    return 0;
}

const char *demo_stalefs(void)
{
    struct stalefs_result r = { 0 };
    unsigned int cpu, target = 0;

    for_each_online_cpu(cpu)
        target = cpu;   /* the last online CPU */
    for_each_possible_cpu(cpu)
        per_cpu(stalefs_marker, cpu) = STALEFS_MARKER(cpu);

    printk("demo stalefs: rewrite this CPU's GDT_ENTRY_PERCPU and watch %%fs keep its cached base until reloaded\n");
    init_completion(&r.done);
    kthread_run_on_cpu(stalefs_thread, &r, target, "stalefs");
    wait_for_completion(&r.done);

    printk("stalefs: on cpu%u, its GDT at 0x%08lx (per_cpu(gdt_page, %u)), interrupts off\n", r.cpu, r.gdt, r.cpu);
    printk("stalefs: 1. GDT_ENTRY_PERCPU base 0x%08lx: this_cpu_read(this_cpu_off)=0x%08lx "
           "this_cpu_read(stalefs_marker)=0x%lx\n", r.old_base, r.before_off, r.before_marker);
    printk("stalefs: 2. wrote base 0x%08lx (the template at __per_cpu_load) into GDT_ENTRY_PERCPU; "
           "the GDT now says 0x%08lx\n", r.new_base, r.desc_base_written);
    printk("stalefs: 3. without reloading %%fs: this_cpu_read(this_cpu_off)=0x%08lx "
           "this_cpu_read(stalefs_marker)=0x%lx (%s)\n", r.stale_off, r.stale_marker,
           r.stale_marker == r.before_marker ? "the OLD base: %fs kept its cached descriptor" : "changed?");
    printk("stalefs: 4. after mov %%ax,%%fs (0x%02x): this_cpu_read(this_cpu_off)=0x%08lx "
           "this_cpu_read(stalefs_marker)=0x%lx (%s)\n", __KERNEL_PERCPU, r.reloaded_off, r.reloaded_marker,
           r.reloaded_marker == STALEFS_TEMPLATE_MARKER ? "the NEW base: the template" : "not the template?");
    printk("stalefs: 5. restored the entry and reloaded %%fs: this_cpu_read(this_cpu_off)=0x%08lx "
           "this_cpu_read(stalefs_marker)=0x%lx\n", r.restored_off, r.restored_marker);

    if (r.old_base != per_cpu_offset(r.cpu) || r.before_off != per_cpu_offset(r.cpu) ||
        r.before_marker != STALEFS_MARKER(r.cpu))
        return "the starting state is wrong";
    if (r.desc_base_written != r.new_base)
        return "the GDT entry was not rewritten";
    if (r.stale_off != r.before_off || r.stale_marker != r.before_marker)
        return "the new base took effect without reloading %fs";
    if (r.reloaded_off != BOOT_PERCPU_OFFSET || r.reloaded_marker != STALEFS_TEMPLATE_MARKER)
        return "reloading %fs did not pick up the new base";
    if (r.restored_off != per_cpu_offset(r.cpu) || r.restored_marker != STALEFS_MARKER(r.cpu))
        return "restoring the entry did not bring the old base back";
    return NULL;
}
