/* Boot-time glue: include/linux/init.h, init/main.c, arch/x86/kernel/head32.c. */
#ifndef _LINUX_INIT_H
#define _LINUX_INIT_H

#include "linux/types.h"

#define COMMAND_LINE_SIZE 256
extern char boot_command_line[COMMAND_LINE_SIZE];
extern u32 boot_mem_lower_kb, boot_mem_upper_kb;
extern bool boot_mem_valid;

/* The value a kernel command line parameter has ("acpi=off" -> "off"), or NULL. */
const char *cmdline_find_option(const char *name);

void __attribute__((noreturn)) start_kernel(void);
void setup_arch(void);
void setup_per_cpu_areas(void);
void trap_init(void);
void cpu_init(void);
void switch_to_new_gdt(unsigned int cpu);
void load_percpu_segment(unsigned int cpu);
void __attribute__((noreturn)) kernel_exit(unsigned int failures);

extern char _text[], _etext[], _end[], __bss_start[], __bss_stop[];

#endif
