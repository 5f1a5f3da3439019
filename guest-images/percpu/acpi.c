/*
 * Finding the CPUs through ACPI: the RSDP search of
 * drivers/acpi/acpica/tbxfroot.c and the MADT parsing of
 * arch/x86/kernel/acpi/boot.c.
 *
 * The "RSD PTR " structure points at the RSDT, a list of tables; the one
 * with signature "APIC" is the MADT (Multiple APIC Description Table), with
 * one "processor local APIC" entry per CPU. Linux prefers it to the MP table;
 * "acpi=off" on the command line makes this kernel use the MP table instead.
 */
#define pr_fmt(fmt) "ACPI: " fmt

#include "asm/apic.h"
#include "asm/io.h"
#include "asm/mpspec.h"
#include "linux/printk.h"
#include "linux/string.h"

int acpi_disabled;

struct acpi_table_rsdp {
    char signature[8];   /* "RSD PTR " */
    u8 checksum;         /* of the first 20 bytes */
    char oem_id[6];
    u8 revision;
    u32 rsdt_physical_address;
} __attribute__((packed));

struct acpi_table_header {
    char signature[4];
    u32 length;
    u8 revision;
    u8 checksum;
    char oem_id[6];
    char oem_table_id[8];
    u32 oem_revision;
    char asl_compiler_id[4];
    u32 asl_compiler_revision;
} __attribute__((packed));

struct acpi_table_madt {
    struct acpi_table_header header;
    u32 address;   /* local APIC physical address */
    u32 flags;
} __attribute__((packed));

#define ACPI_MADT_TYPE_LOCAL_APIC 0
#define ACPI_MADT_TYPE_LOCAL_APIC_OVERRIDE 5
#define ACPI_MADT_ENABLED 1

struct acpi_madt_local_apic {
    u8 type;
    u8 length;
    u8 processor_id;
    u8 id;         /* the local APIC id */
    u32 lapic_flags;
} __attribute__((packed));

static u8 acpi_checksum(const void *p, unsigned long len)
{
    u8 sum = 0;
    for (const u8 *b = p; len--; b++)
        sum = (u8)(sum + *b);
    return sum;
}

/* mirrors drivers/acpi/acpica/tbxfroot.c: acpi_tb_scan_memory_for_rsdp() */
static struct acpi_table_rsdp *acpi_scan_rsdp(unsigned long start, unsigned long length)
{
    for (unsigned long p = start; p < start + length; p += 16) {
        struct acpi_table_rsdp *rsdp = phys_to_virt(p);
        if (memcmp(rsdp->signature, "RSD PTR ", 8) == 0 && acpi_checksum(rsdp, 20) == 0)
            return rsdp;
    }
    return NULL;
}

/* mirrors drivers/acpi/acpica/tbxfroot.c: acpi_find_root_pointer() -- the
 * first KiB of the EBDA, then the BIOS area 0xE0000-0xFFFFF. */
static struct acpi_table_rsdp *acpi_find_root_pointer(void)
{
    unsigned long ebda = (unsigned long)*(volatile u16 *)phys_to_virt(0x40E) << 4;
    struct acpi_table_rsdp *rsdp = NULL;
    if (ebda >= 0x400)
        rsdp = acpi_scan_rsdp(ebda, 1024);
    if (!rsdp)
        rsdp = acpi_scan_rsdp(0xE0000, 0x20000);
    return rsdp;
}

static void acpi_print_table(const char *sig, unsigned long addr, const struct acpi_table_header *h)
{
    char oem[7];
    memcpy(oem, h->oem_id, 6);
    oem[6] = 0;
    pr_info("%s 0x%08lx %06x (v%02u %s)\n", sig, addr, (unsigned)h->length, h->revision, oem);
}

/* mirrors arch/x86/kernel/acpi/boot.c: acpi_parse_lapic() + acpi_register_lapic() */
static void acpi_parse_lapic(const struct acpi_madt_local_apic *p)
{
    if (!(p->lapic_flags & ACPI_MADT_ENABLED)) {
        ++disabled_cpus;
        return;
    }
    generic_processor_info(p->id, 0x14);
}

/* mirrors arch/x86/kernel/acpi/boot.c: acpi_boot_init() -> acpi_process_madt():
 * returns 1 if the MADT listed the CPUs. */
int acpi_boot_init(void)
{
    if (acpi_disabled)
        return 0;
    struct acpi_table_rsdp *rsdp = acpi_find_root_pointer();
    if (!rsdp)
        return 0;
    {
        char oem[7];
        memcpy(oem, rsdp->oem_id, 6);
        oem[6] = 0;
        pr_info("RSDP 0x%08lx 000014 (v%02u %s)\n", (unsigned long)rsdp, rsdp->revision, oem);
    }
    struct acpi_table_header *rsdt = phys_to_virt(rsdp->rsdt_physical_address);
    if (memcmp(rsdt->signature, "RSDT", 4) != 0 || acpi_checksum(rsdt, rsdt->length) != 0)
        return 0;
    acpi_print_table("RSDT", (unsigned long)rsdt, rsdt);

    struct acpi_table_madt *madt = NULL;
    u32 *entry = (u32 *)(rsdt + 1);
    int n = (int)((rsdt->length - sizeof(*rsdt)) / 4);
    for (int i = 0; i < n; i++) {
        struct acpi_table_header *h = phys_to_virt(entry[i]);
        if (memcmp(h->signature, "APIC", 4) == 0 && acpi_checksum(h, h->length) == 0) {
            madt = (struct acpi_table_madt *)h;
            acpi_print_table("APIC", (unsigned long)h, h);
        }
    }
    if (!madt)
        return 0;

    unsigned long lapic = madt->address;
    const u8 *p = (const u8 *)(madt + 1);
    const u8 *end = (const u8 *)madt + madt->header.length;
    for (; p + 2 <= end && p[1] >= 2; p += p[1])
        if (p[0] == ACPI_MADT_TYPE_LOCAL_APIC_OVERRIDE && p[1] >= 12)
            lapic = (unsigned long)*(const u64 *)(p + 4);
    pr_info("Local APIC address 0x%08lx\n", lapic);
    register_lapic_address(lapic);

    for (p = (const u8 *)(madt + 1); p + 2 <= end && p[1] >= 2; p += p[1])
        if (p[0] == ACPI_MADT_TYPE_LOCAL_APIC && p[1] >= sizeof(struct acpi_madt_local_apic))
            acpi_parse_lapic((const struct acpi_madt_local_apic *)p);
    pr_info("Using ACPI (MADT) for SMP configuration information\n");
    return 1;
}
