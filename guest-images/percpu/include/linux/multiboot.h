/* The parts of the Multiboot v1 boot information this kernel reads. */
#ifndef _LINUX_MULTIBOOT_H
#define _LINUX_MULTIBOOT_H

#include "linux/types.h"

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002
#define MULTIBOOT_INFO_MEMORY 0x00000001
#define MULTIBOOT_INFO_CMDLINE 0x00000004

struct multiboot_info {
    u32 flags;
    u32 mem_lower;   /* KiB below 1 MiB */
    u32 mem_upper;   /* KiB from 1 MiB to the first hole */
    u32 boot_device;
    u32 cmdline;     /* physical address of a NUL-terminated string */
};

#endif
