/*
 * Making the per-CPU areas and pointing each CPU's %fs at its own:
 * arch/x86/kernel/setup_percpu.c (x86_32).
 */
#define pr_fmt(fmt) "setup_percpu: " fmt

#include "asm/desc.h"
#include "linux/init.h"
#include "linux/percpu.h"
#include "linux/printk.h"
#include "linux/sched.h"
#include "linux/smp.h"

/* This CPU's number and offset, in every unit. this_cpu_off starts as
 * BOOT_PERCPU_OFFSET: in the template (the boot CPU's area until the switch)
 * the offset is 0. */
DEFINE_PER_CPU_READ_MOSTLY(int, cpu_number);
DEFINE_PER_CPU_READ_MOSTLY(unsigned long, this_cpu_off) = BOOT_PERCPU_OFFSET;

unsigned long __per_cpu_offset[NR_CPUS] = {
    [0 ... NR_CPUS - 1] = BOOT_PERCPU_OFFSET,
};

/*
 * The only DEFINE_PER_CPU_FIRST variable: .data..percpu..first puts it at
 * offset 0 of every unit, i.e. at __per_cpu_start, so CPU n's copy is the
 * first word of its unit. (x86_64 Linux uses _FIRST for fixed_percpu_data,
 * whose stack canary must sit at %gs:40.) setup_per_cpu_areas() checks it.
 */
#define PERCPU_FIRST_MAGIC 0x50435055UL /* "UPCP" */
DEFINE_PER_CPU_FIRST(unsigned long, percpu_first_magic) = PERCPU_FIRST_MAGIC;

/*
 * x86_32 Linux passes PERCPU_FIRST_CHUNK_RESERVE = 0 and folds the module
 * reserve into the dynamic size (that is why a Debian 686 kernel prints
 * "r0 d31852"). This kernel reserves PERCPU_MODULE_RESERVE like x86_64 does,
 * so the reserved region and __alloc_reserved_percpu() can be shown.
 */
#define PERCPU_FIRST_CHUNK_RESERVE PERCPU_MODULE_RESERVE

/* mirrors arch/x86/kernel/setup_percpu.c: setup_percpu_segment().
 * Entry GDT_ENTRY_PERCPU of CPU cpu's OWN GDT: a 32-bit read/write data
 * segment with base __per_cpu_offset[cpu], limit 0xFFFFF pages (4 GiB), so
 * %fs:x is x + __per_cpu_offset[cpu] for every x.
 *
 * Flags DESC_DATA32 = 0xc093: G = 1, D/B = 1, P = 1, S = 1, type 3 (data,
 * read/write, accessed). Until 2023 Linux wrote flags 0x8092 here
 * (pack_descriptor(&gdt, base, 0xFFFFF, 0x2 | DESCTYPE_S, 0x8) in older
 * kernels, GDT_ENTRY_INIT(0x8092, base, 0xFFFFF) later): D/B = 0, and the
 * accessed bit clear, so the CPU sets it in the GDT on the first load of
 * %fs. D/B = 1 came after Linus pointed out that the SDM wants it for 32-bit
 * data segments; for a data segment it only matters for expand-down limits
 * and when the segment is loaded into SS. */
static void setup_percpu_segment(unsigned int cpu)
{
    struct desc_struct d = GDT_ENTRY_INIT(DESC_DATA32, per_cpu_offset(cpu), 0xFFFFF);
    write_gdt_entry(get_cpu_gdt_rw(cpu), GDT_ENTRY_PERCPU, &d, 0);
}

/* mirrors arch/x86/kernel/setup_percpu.c: setup_per_cpu_areas() */
void setup_per_cpu_areas(void)
{
    unsigned int cpu;
    unsigned long delta;
    const size_t dyn_size = PERCPU_MODULE_RESERVE + PERCPU_DYNAMIC_RESERVE - PERCPU_FIRST_CHUNK_RESERVE;
    const size_t atom_size = PAGE_SIZE; /* x86_32: no large-page atoms */

    pr_info("NR_CPUS:%d nr_cpumask_bits:%u nr_cpu_ids:%u nr_node_ids:%d\n", NR_CPUS, nr_cpumask_bits,
            nr_cpu_ids, 1);

    /* The embedding first-chunk allocator: one unit per possible CPU, each a
     * copy of .data..percpu followed by the reserved and dynamic areas. */
    if (pcpu_embed_first_chunk(PERCPU_FIRST_CHUNK_RESERVE, dyn_size, atom_size) < 0)
        panic("cannot initialize percpu area");

    /* alrighty, percpu areas up and running */
    delta = (unsigned long)pcpu_base_addr - (unsigned long)__per_cpu_start;
    for_each_possible_cpu(cpu) {
        per_cpu_offset(cpu) = delta + pcpu_unit_offsets[cpu];
        per_cpu(this_cpu_off, cpu) = per_cpu_offset(cpu);
        per_cpu(cpu_number, cpu) = (int)cpu;
        setup_percpu_segment(cpu);
        /* Copy data used in early init routines from the initial arrays to
         * the per cpu data areas. These arrays then become empty. */
        per_cpu(x86_cpu_to_apicid, cpu) = early_per_cpu_map(x86_cpu_to_apicid, cpu);
        /* Up to this point, the boot CPU has been using the template (the
         * init data area). Reload any changed state for the boot CPU. */
        if (!cpu)
            switch_to_new_gdt(cpu);
    }
    early_per_cpu_ptr(x86_cpu_to_apicid) = NULL;

    /* Show every CPU's offset, and read its %fs base back from ITS GDT. */
    for_each_possible_cpu(cpu) {
        const struct desc_struct *d = &get_cpu_gdt_rw(cpu)[GDT_ENTRY_PERCPU];
        unsigned long *unit = (unsigned long *)((unsigned long)pcpu_base_addr + pcpu_unit_offsets[cpu]);
        printk("percpu: cpu%u unit 0x%08lx __per_cpu_offset 0x%08lx gdt 0x%08lx "
               "GDT_ENTRY_PERCPU base 0x%08lx limit 0x%05lx flags 0x%04x\n",
               cpu, (unsigned long)unit, per_cpu_offset(cpu), (unsigned long)get_cpu_gdt_rw(cpu),
               get_desc_base(d), get_desc_limit(d), get_desc_flags(d));
        if (*unit != PERCPU_FIRST_MAGIC || per_cpu(percpu_first_magic, cpu) != PERCPU_FIRST_MAGIC)
            panic("percpu: cpu%u: the ..first variable is not at offset 0 of its unit", cpu);
    }
}
