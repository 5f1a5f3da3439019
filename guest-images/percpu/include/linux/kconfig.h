/*
 * The kernel configuration. Linux gets these from Kconfig; this kernel has
 * exactly one configuration. Every file includes it first (through the
 * headers that need it).
 */
#ifndef _LINUX_KCONFIG_H
#define _LINUX_KCONFIG_H

#define CONFIG_SMP 1
#define CONFIG_X86_32 1
#define CONFIG_PREEMPTION 1   /* the kernel is preemptible (CONFIG_PREEMPT) */

/* CONFIG_NR_CPUS: the most CPUs this kernel can run (Debian's 686 kernel uses
 * 32 too). cpumasks have NR_CPUS bits; __per_cpu_offset[] has NR_CPUS entries. */
#define NR_CPUS 32

#endif
