/*
 * Segment descriptors and the GDT: arch/x86/include/asm/desc_defs.h and desc.h.
 */
#ifndef _ASM_X86_DESC_H
#define _ASM_X86_DESC_H

#include "linux/percpu.h"
#include "asm/segment.h"

/* An 8-byte GDT entry (desc_defs.h). */
struct desc_struct {
    u16 limit0;
    u16 base0;
    u16 base1 : 8, type : 4, s : 1, dpl : 2, p : 1;
    u16 limit1 : 4, avl : 1, l : 1, d : 1, g : 1, base2 : 8;
} __packed;

/* The "flags" of GDT_ENTRY_INIT: type (bits 0-3), S, DPL, P, then AVL, L,
 * D/B and G at bits 12-15 (desc_defs.h, Linux 6.x). */
#define _DESC_ACCESSED 0x0001
#define _DESC_DATA_WRITABLE 0x0002
#define _DESC_CODE_READABLE 0x0002
#define _DESC_CODE_EXECUTABLE 0x0008
#define _DESC_S 0x0010
#define _DESC_DPL(dpl) ((dpl) << 5)
#define _DESC_PRESENT 0x0080
#define _DESC_DB 0x4000
#define _DESC_GRANULARITY_4K 0x8000

#define _DESC_DATA (_DESC_S | _DESC_PRESENT | _DESC_ACCESSED | _DESC_DATA_WRITABLE)
#define _DESC_CODE (_DESC_S | _DESC_PRESENT | _DESC_ACCESSED | _DESC_CODE_EXECUTABLE)
#define DESC_DATA16 (_DESC_DATA)
#define DESC_CODE16 (_DESC_CODE)
#define DESC_DATA32 (_DESC_DATA | _DESC_GRANULARITY_4K | _DESC_DB)  /* 0xc093 */
#define DESC_DATA32_BIOS (_DESC_DATA | _DESC_DB)
#define DESC_CODE32 (_DESC_CODE | _DESC_GRANULARITY_4K | _DESC_DB)  /* 0xc09b */
#define DESC_CODE32_BIOS (_DESC_CODE | _DESC_DB)
#define DESC_USER (_DESC_DPL(3))

#define DESC_TSS 0x9      /* system descriptor type: available 32-bit TSS */
#define DESC_TSS_BUSY 0xb /* ...after ltr marked it busy */

#define GDT_ENTRY_INIT(flags, base, limit)                     \
    {                                                          \
        .limit0 = (u16)(limit),                                \
        .limit1 = ((limit) >> 16) & 0x0F,                      \
        .base0 = (u16)(base),                                  \
        .base1 = ((base) >> 16) & 0xFF,                        \
        .base2 = ((base) >> 24) & 0xFF,                        \
        .type = ((flags) & 0x0f),                              \
        .s = ((flags) >> 4) & 0x01,                            \
        .dpl = ((flags) >> 5) & 0x03,                          \
        .p = ((flags) >> 7) & 0x01,                            \
        .avl = ((flags) >> 12) & 0x01,                         \
        .l = ((flags) >> 13) & 0x01,                           \
        .d = ((flags) >> 14) & 0x01,                           \
        .g = ((flags) >> 15) & 0x01,                           \
    }

/* arch/x86/include/asm/desc.h: the GDT of one CPU fills one page. */
struct gdt_page {
    struct desc_struct gdt[GDT_ENTRIES];
} __aligned(PAGE_SIZE);

DECLARE_PER_CPU_PAGE_ALIGNED(struct gdt_page, gdt_page);

/* The GDT of CPU cpu: it lives in that CPU's per-CPU unit. */
static inline struct desc_struct *get_cpu_gdt_rw(unsigned int cpu)
{
    return per_cpu(gdt_page, cpu).gdt;
}

/* The operand of lgdt/lidt/sgdt/sidt. */
struct desc_ptr {
    u16 size;
    unsigned long address;
} __packed;

static inline unsigned long get_desc_base(const struct desc_struct *desc)
{
    return (unsigned)(desc->base0 | ((desc->base1) << 16) | ((desc->base2) << 24));
}

static inline unsigned long get_desc_limit(const struct desc_struct *desc)
{
    return desc->limit0 | (desc->limit1 << 16);
}

/* The flags word of a descriptor in GDT_ENTRY_INIT's encoding (0xc093 ...). */
static inline unsigned int get_desc_flags(const struct desc_struct *desc)
{
    return desc->type | desc->s << 4 | desc->dpl << 5 | desc->p << 7 | desc->avl << 12 |
           desc->l << 13 | desc->d << 14 | desc->g << 15;
}

static inline void write_gdt_entry(struct desc_struct *dt, int entry, const void *desc, int type)
{
    (void)type;
    __builtin_memcpy(&dt[entry], desc, sizeof(struct desc_struct));
}

static inline void native_load_gdt(const struct desc_ptr *dtr)
{
    __asm__ volatile("lgdt %0" : : "m"(*dtr));
}

static inline void native_store_gdt(struct desc_ptr *dtr)
{
    __asm__ volatile("sgdt %0" : "=m"(*dtr));
}

static inline void native_load_idt(const struct desc_ptr *dtr)
{
    __asm__ volatile("lidt %0" : : "m"(*dtr));
}

static inline void native_load_tr_desc(void)
{
    __asm__ volatile("ltr %w0" : : "q"(GDT_ENTRY_TSS * 8));
}

/* An IDT gate (interrupt gate: IF is cleared on entry). */
struct gate_struct {
    u16 offset_low;
    u16 segment;
    u16 bits;          /* 0x8e00: present, DPL 0, 32-bit interrupt gate */
    u16 offset_middle;
} __packed;

#define IDT_ENTRIES 256
extern struct gate_struct idt_table[IDT_ENTRIES];

#endif
