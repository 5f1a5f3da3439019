/*
 * Finding the CPUs through the Intel MultiProcessor Specification tables:
 * arch/x86/kernel/mpparse.c.
 *
 * The firmware leaves a 16-byte "MP floating pointer" ("_MP_") on a 16-byte
 * boundary in one of a few places; it points at the "MP configuration table"
 * ("PCMP"), whose entries list the processors (with their local APIC ids),
 * buses and I/O APICs.
 */
#define pr_fmt(fmt) "mpparse: " fmt

#include "asm/apic.h"
#include "asm/io.h"
#include "asm/mpspec.h"
#include "linux/printk.h"
#include "linux/string.h"

static struct mpf_intel *mpf_found;

/* mirrors arch/x86/kernel/mpparse.c: mpf_checksum() */
static int mpf_checksum(const unsigned char *mp, int len)
{
    int sum = 0;
    while (len--)
        sum += *mp++;
    return sum & 0xFF;
}

/* mirrors arch/x86/kernel/mpparse.c: smp_scan_config() -- look for "_MP_"
 * in [base, base + length). */
static int smp_scan_config(unsigned long base, unsigned long length)
{
    unsigned int *bp = phys_to_virt(base);
    while (length > 0) {
        struct mpf_intel *mpf = (struct mpf_intel *)bp;
        if (memcmp(mpf->signature, "_MP_", 4) == 0 && mpf->length == 1 &&
            !mpf_checksum((unsigned char *)bp, 16) && (mpf->specification == 1 || mpf->specification == 4)) {
            mpf_found = mpf;
            pr_info("found SMP MP-table at [mem 0x%08lx-0x%08lx]\n", base, base + sizeof(*mpf) - 1);
            return 1;
        }
        bp += 4;
        length -= 16;
        base += 16;
    }
    return 0;
}

/* mirrors arch/x86/kernel/mpparse.c: default_find_smp_config() -- the places
 * the MP specification allows, in Linux's order: the first KiB of memory,
 * the last KiB of base memory (639 KiB), the BIOS ROM (0xF0000-0xFFFFF), and
 * the first KiB of the EBDA (its segment is the word at 0x40E). */
int default_find_smp_config(void)
{
    if (smp_scan_config(0x0, 0x400) || smp_scan_config(639 * 0x400, 0x400) ||
        smp_scan_config(0xF0000, 0x10000))
        return 1;
    unsigned long ebda = (unsigned long)*(volatile u16 *)phys_to_virt(0x40E) << 4;
    if (ebda && smp_scan_config(ebda, 0x400))
        return 1;
    return 0;
}

/* mirrors arch/x86/kernel/mpparse.c: MP_processor_info() */
static void MP_processor_info(const struct mpc_cpu *m)
{
    if (!(m->cpuflag & CPU_ENABLED)) {
        disabled_cpus++;
        return;
    }
    generic_processor_info(m->apicid, m->apicver);
}

/* mirrors arch/x86/kernel/mpparse.c: smp_read_mpc() -- walk the entries; only
 * the processors matter here (Linux also reads buses, I/O APICs and the
 * interrupt routing). */
static int smp_read_mpc(struct mpc_table *mpc)
{
    char str[16];
    if (memcmp(mpc->signature, "PCMP", 4) != 0 ||
        mpf_checksum((unsigned char *)mpc, mpc->length) != 0) {
        pr_err("MPTABLE: bad signature or checksum\n");
        return 0;
    }
    memcpy(str, mpc->oem, 8);
    str[8] = 0;
    printk("MPTABLE: OEM ID: %s\n", str);
    memcpy(str, mpc->productid, 12);
    str[12] = 0;
    printk("MPTABLE: Product ID: %s\n", str);
    printk("MPTABLE: APIC at: 0x%X\n", (unsigned)mpc->lapic);
    register_lapic_address(mpc->lapic);

    unsigned char *mpt = (unsigned char *)mpc + sizeof(*mpc);
    unsigned char *end = (unsigned char *)mpc + mpc->length;
    while (mpt < end) {
        switch (*mpt) {
        case MP_PROCESSOR:
            MP_processor_info((const struct mpc_cpu *)mpt);
            mpt += sizeof(struct mpc_cpu);
            break;
        case MP_BUS:
        case MP_IOAPIC:
        case MP_INTSRC:
        case MP_LINTSRC:
            mpt += 8;
            break;
        default:
            pr_err("MPTABLE: unknown entry type %u\n", *mpt);
            return 1;
        }
    }
    return 1;
}

/* mirrors arch/x86/kernel/mpparse.c: default_get_smp_config() */
int default_get_smp_config(void)
{
    struct mpf_intel *mpf = mpf_found;
    if (!mpf)
        return 0;
    pr_info("Intel MultiProcessor Specification v1.%d\n", mpf->specification);
    if (mpf->feature1) {
        pr_err("default configuration %d not supported\n", mpf->feature1);
        return 0;
    }
    if (!mpf->physptr)
        return 0;
    return smp_read_mpc(phys_to_virt(mpf->physptr));
}
