/*
 * The local APIC: arch/x86/kernel/apic/apic.c (and ipi.c).
 *
 * Every CPU has its own local APIC at the same physical address; an access
 * to 0xFEE00000 from CPU n reaches CPU n's APIC. It gives each CPU its
 * timer interrupt and lets CPUs interrupt each other (IPIs) -- including
 * INIT and STARTUP, which is how the boot CPU wakes the others.
 */
#define pr_fmt(fmt) "APIC: " fmt

#include "asm/apic.h"
#include "asm/io.h"
#include "asm/irqflags.h"
#include "asm/irq_vectors.h"
#include "linux/irq.h"
#include "linux/printk.h"
#include "linux/smp.h"

unsigned long mp_lapic_addr = APIC_DEFAULT_PHYS_BASE;
int boot_cpu_physical_apicid = -1;
unsigned int boot_cpu_apic_version;
unsigned int num_processors;  /* CPUs found enabled in the firmware tables */
unsigned int disabled_cpus;   /* CPUs listed but not enabled (hotpluggable) */
static unsigned int nr_logical_cpuids = 1;  /* 0 is the boot CPU's */

/* CPU number -> local APIC id. An early per-CPU map: filled while the
 * firmware tables are read, before setup_per_cpu_areas(). */
DEFINE_EARLY_PER_CPU_READ_MOSTLY(u16, x86_cpu_to_apicid, BAD_APICID);

/* The timer: no calibration (Linux measures the APIC clock against the PIT).
 * Divide by 16 and count down from a fixed value: on QEMU (1 GHz APIC clock)
 * that is a tick every 1 ms. */
#define APIC_TIMER_INITIAL_COUNT 62500

/* mirrors arch/x86/include/asm/apic.h: native_apic_mem_read() */
u32 apic_read(u32 reg)
{
    return readl((const volatile void *)(mp_lapic_addr + reg));
}

/* mirrors arch/x86/include/asm/apic.h: native_apic_mem_write() */
void apic_write(u32 reg, u32 v)
{
    writel(v, (volatile void *)(mp_lapic_addr + reg));
}

/* mirrors arch/x86/kernel/apic/apic_flat_64.c: flat_get_apic_id() -- bits 24-31 */
unsigned int read_apic_id(void)
{
    return apic_read(APIC_ID) >> 24;
}

/* mirrors arch/x86/kernel/apic/apic.c: register_lapic_address() -- the
 * address from the MP table or MADT, and the boot CPU's APIC id. */
void register_lapic_address(unsigned long address)
{
    mp_lapic_addr = address;
    if (boot_cpu_physical_apicid == -1) {
        boot_cpu_physical_apicid = (int)read_apic_id();
        boot_cpu_apic_version = GET_APIC_VERSION(apic_read(APIC_LVR));
    }
}

/* mirrors arch/x86/kernel/apic/apic.c: generic_processor_info() -- a CPU
 * the firmware listed: give it a CPU number (the boot CPU is always 0, the
 * others get 1, 2, ... in table order) and mark it possible and present.
 * Runs before the per-CPU areas exist, so the APIC id goes into the EARLY
 * map of x86_cpu_to_apicid. */
int generic_processor_info(int apicid, int version)
{
    unsigned int cpu;

    if (num_processors >= NR_CPUS) {
        pr_warn("NR_CPUS limit of %d reached. Processor %u/0x%x ignored.\n", NR_CPUS, num_processors, apicid);
        return -1;
    }
    if (apicid == boot_cpu_physical_apicid)
        cpu = 0;
    else
        cpu = nr_logical_cpuids++;
    (void)version;
    num_processors++;
    early_per_cpu(x86_cpu_to_apicid, cpu) = (u16)apicid;
    set_cpu_possible(cpu, true);
    set_cpu_present(cpu, true);
    return (int)cpu;
}

/* mirrors arch/x86/kernel/apic/apic.c: setup_local_APIC() -- runs on each CPU
 * for its own APIC: accept all priorities, mask the LINT pins (the 8259 is
 * masked, no NMI watchdog), error interrupts on, software-enable the APIC. */
void setup_local_APIC(void)
{
    apic_write(APIC_TASKPRI, 0);
    apic_write(APIC_LVT0, APIC_LVT_MASKED);
    apic_write(APIC_LVT1, APIC_LVT_MASKED);
    apic_write(APIC_LVTERR, ERROR_APIC_VECTOR);
    apic_write(APIC_ESR, 0);
    apic_write(APIC_ESR, 0);
    /* The spurious interrupt vector register: bit 8 enables the APIC. */
    apic_write(APIC_SPIV, APIC_SPIV_APIC_ENABLED | SPURIOUS_APIC_VECTOR);
}

/* mirrors arch/x86/kernel/apic/apic.c: setup_APIC_timer() / __setup_APIC_LVTT() --
 * a periodic tick on LOCAL_TIMER_VECTOR, on this CPU only. */
void setup_APIC_timer(void)
{
    apic_write(APIC_TDCR, APIC_TDR_DIV_16);
    apic_write(APIC_LVTT, LOCAL_TIMER_VECTOR | APIC_LVT_TIMER_PERIODIC);
    apic_write(APIC_TMICT, APIC_TIMER_INITIAL_COUNT);
}

/* mirrors arch/x86/kernel/apic/apic.c: native_apic_icr_write() -- the
 * destination goes into ICR2; writing the low word sends the IPI. */
void apic_icr_write(u32 low, u32 id)
{
    unsigned long flags;
    local_irq_save(flags);
    apic_write(APIC_ICR2, SET_APIC_DEST_FIELD(id));
    apic_write(APIC_ICR, low);
    local_irq_restore(flags);
}

/* mirrors arch/x86/kernel/apic/apic.c: safe_apic_wait_icr_idle() --
 * wait until the APIC has sent the previous IPI; non-zero on timeout. */
int safe_apic_wait_icr_idle(void)
{
    for (int timeout = 0; timeout < 100000; timeout++) {
        if (!(apic_read(APIC_ICR) & APIC_ICR_BUSY))
            return 0;
        __asm__ volatile("rep; nop");
    }
    return apic_read(APIC_ICR) & APIC_ICR_BUSY;
}

/* mirrors arch/x86/kernel/apic/ipi.c: __default_send_IPI_dest_field() --
 * a fixed-delivery IPI to one CPU, by physical APIC id. */
void apic_send_IPI(unsigned int apicid, unsigned int vector)
{
    unsigned long flags;
    local_irq_save(flags);
    safe_apic_wait_icr_idle();
    apic_icr_write(APIC_DM_FIXED | APIC_DEST_PHYSICAL | vector, apicid);
    local_irq_restore(flags);
}

/* mirrors arch/x86/kernel/smp.c: native_smp_send_reschedule() */
void smp_send_reschedule(unsigned int cpu)
{
    apic_send_IPI(per_cpu(x86_cpu_to_apicid, cpu), RESCHEDULE_VECTOR);
}
