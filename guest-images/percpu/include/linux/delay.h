/* Busy-wait delays: include/linux/delay.h, arch/x86/lib/delay.c. */
#ifndef _LINUX_DELAY_H
#define _LINUX_DELAY_H

#include "linux/types.h"

/* Not calibrated: this kernel assumes a nominal 1 GHz time stamp counter
 * (see delay.c). Only used for the INIT/STARTUP IPI pauses and timeouts. */
#define TSC_NOMINAL_KHZ 1000000ULL

void __delay(u64 cycles);
void udelay(unsigned long usecs);
void mdelay(unsigned long msecs);

#endif
