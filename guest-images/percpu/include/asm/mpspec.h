/* Finding the CPUs: the Intel MultiProcessor Specification tables
 * (arch/x86/include/asm/mpspec_def.h) and the entry points of mpparse.c
 * and acpi/boot.c. */
#ifndef _ASM_X86_MPSPEC_H
#define _ASM_X86_MPSPEC_H

#include "linux/types.h"

/* The MP floating pointer structure, "_MP_", 16 bytes on a 16-byte boundary. */
struct mpf_intel {
    char signature[4];
    u32 physptr;        /* physical address of the MP configuration table */
    u8 length;          /* in 16-byte units: 1 */
    u8 specification;   /* 1 = v1.1, 4 = v1.4 */
    u8 checksum;        /* all 16 bytes sum to 0 */
    u8 feature1;        /* non-zero: a default configuration, no table */
    u8 feature2;        /* bit 7: IMCR present */
    u8 feature3, feature4, feature5;
} __attribute__((packed));

/* The MP configuration table header, "PCMP". */
struct mpc_table {
    char signature[4];
    u16 length;         /* base table length, header included */
    char spec;
    char checksum;
    char oem[8];
    char productid[12];
    u32 oemptr;
    u16 oemsize;
    u16 oemcount;
    u32 lapic;          /* local APIC physical address */
    u32 reserved;
} __attribute__((packed));

#define MP_PROCESSOR 0
#define MP_BUS 1
#define MP_IOAPIC 2
#define MP_INTSRC 3
#define MP_LINTSRC 4

#define CPU_ENABLED 1
#define CPU_BOOTPROCESSOR 2

struct mpc_cpu {
    u8 type;
    u8 apicid;
    u8 apicver;
    u8 cpuflag;
    u32 cpufeature;
    u32 featureflag;
    u32 reserved[2];
} __attribute__((packed));

/* mpparse.c */
int default_find_smp_config(void);
int default_get_smp_config(void);
/* acpi/boot.c */
extern int acpi_disabled;
int acpi_boot_init(void);
/* smpboot.c */
void prefill_possible_map(void);

#endif
