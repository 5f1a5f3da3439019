/* The local APIC: arch/x86/include/asm/apic.h and apicdef.h. Each CPU sees
 * its OWN local APIC at the same physical address (0xFEE00000). */
#ifndef _ASM_X86_APIC_H
#define _ASM_X86_APIC_H

#include "linux/types.h"

#define APIC_DEFAULT_PHYS_BASE 0xFEE00000UL

#define APIC_ID 0x20
#define APIC_LVR 0x30
#define APIC_LVR_MASK 0xFF00FF
#define GET_APIC_VERSION(x) ((x) & 0xFFu)
#define GET_APIC_MAXLVT(x) (((x) >> 16) & 0xFFu)
#define APIC_INTEGRATED(x) ((x) & 0xF0u)
#define APIC_TASKPRI 0x80
#define APIC_EOI 0xB0
#define APIC_LDR 0xD0
#define APIC_DFR 0xE0
#define APIC_SPIV 0xF0
#define APIC_SPIV_APIC_ENABLED (1 << 8)
#define APIC_ESR 0x280
#define APIC_ICR 0x300
#define APIC_DEST_PHYSICAL 0x00000
#define APIC_INT_LEVELTRIG 0x08000
#define APIC_INT_ASSERT 0x04000
#define APIC_ICR_BUSY 0x01000
#define APIC_DM_FIXED 0x00000
#define APIC_DM_INIT 0x00500
#define APIC_DM_STARTUP 0x00600
#define APIC_ICR2 0x310
#define SET_APIC_DEST_FIELD(x) ((x) << 24)
#define APIC_LVTT 0x320
#define APIC_LVT_TIMER_PERIODIC (1 << 17)
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_LVTERR 0x370
#define APIC_LVT_MASKED (1 << 16)
#define APIC_DM_NMI 0x00400
#define APIC_TMICT 0x380
#define APIC_TMCCT 0x390
#define APIC_TDCR 0x3E0
#define APIC_TDR_DIV_16 0x3

extern unsigned long mp_lapic_addr;
extern int boot_cpu_physical_apicid;
extern unsigned int num_processors;
extern unsigned int disabled_cpus;
extern unsigned int boot_cpu_apic_version;

u32 apic_read(u32 reg);
void apic_write(u32 reg, u32 v);
unsigned int read_apic_id(void);
void register_lapic_address(unsigned long address);
int generic_processor_info(int apicid, int version);
void setup_local_APIC(void);
void setup_APIC_timer(void);
void apic_icr_write(u32 low, u32 id);
int safe_apic_wait_icr_idle(void);
void apic_send_IPI(unsigned int apicid, unsigned int vector);
static inline void ack_APIC_irq(void) { apic_write(APIC_EOI, 0); }

#endif
