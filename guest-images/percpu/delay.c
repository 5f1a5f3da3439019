/*
 * Busy-wait delays on the time stamp counter: arch/x86/lib/delay.c.
 *
 * Linux calibrates the TSC against the PIT or HPET at boot. This kernel
 * does not: it assumes a nominal 1 GHz (TSC_NOMINAL_KHZ), so "udelay(10)" is
 * 10000 TSC ticks, whatever they take. The delays are only the pauses of the
 * INIT/STARTUP sequence and a timeout while waiting for an AP, so nothing
 * depends on their true length, and the kernel behaves the same on QEMU (TSC
 * at the host's rate) and on the emulator (TSC = cycles).
 */
#include "asm/processor.h"
#include "linux/delay.h"

/* mirrors arch/x86/lib/delay.c: delay_tsc() */
void __delay(u64 cycles)
{
    u64 start = rdtsc();
    while (rdtsc() - start < cycles)
        cpu_relax();
}

/* mirrors arch/x86/lib/delay.c: __udelay() */
void udelay(unsigned long usecs)
{
    __delay((u64)usecs * (TSC_NOMINAL_KHZ / 1000));
}

void mdelay(unsigned long msecs)
{
    __delay((u64)msecs * TSC_NOMINAL_KHZ);
}
