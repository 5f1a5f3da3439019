/*
 * Machine setup before the per-CPU areas exist: arch/x86/kernel/setup.c
 * (setup_arch) -- memory, the early IDT, and finding the CPUs.
 */
#include "asm/apic.h"
#include "asm/mpspec.h"
#include "linux/init.h"
#include "linux/irq.h"
#include "linux/memblock.h"
#include "linux/printk.h"
#include "linux/string.h"

/* mirrors arch/x86/kernel/setup.c: setup_arch() */
void setup_arch(void)
{
    /* Boot-time memory: from the first MiB boundary after the kernel up to
     * the end of the RAM the boot loader reported (16 MiB if it did not). */
    unsigned long mem_end = boot_mem_valid ? 0x100000UL + boot_mem_upper_kb * 1024UL : 16UL << 20;
    memblock_init(ALIGN((unsigned long)_end, 0x100000UL), mem_end);
    printk("mem: lower=%u KiB upper=%u KiB\n", boot_mem_lower_kb, boot_mem_upper_kb);
    printk("memblock: kernel 0x%08lx-0x%08lx, allocations from 0x%08lx\n", (unsigned long)_text,
           (unsigned long)_end - 1, ALIGN((unsigned long)_end, 0x100000UL));

    /* Faults during boot should be reported, not triple-fault
     * (mirrors idt_setup_early_traps()). */
    idt_setup();
    load_current_idt();

    /* Find the CPUs: ACPI's MADT first, the MP table if there is none
     * (or with acpi=off), as Linux does. */
    const char *acpi = cmdline_find_option("acpi");
    if (acpi && strcmp(acpi, "off") == 0)
        acpi_disabled = 1;
    if (!acpi_boot_init()) {
        if (default_find_smp_config())
            default_get_smp_config();
    }
    if (num_processors == 0) {
        /* mirrors the "SMP motherboard not detected" path: just the boot CPU */
        printk("smpboot: no MADT and no MP table: using the boot CPU only\n");
        register_lapic_address(APIC_DEFAULT_PHYS_BASE);
        generic_processor_info(boot_cpu_physical_apicid, 0x14);
    }
    prefill_possible_map();
}
