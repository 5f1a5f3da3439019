/* The parts of the Multiboot v1 boot information this guest reads. */
#ifndef HELLO_MULTIBOOT_H
#define HELLO_MULTIBOOT_H

#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002

#define MULTIBOOT_INFO_MEMORY 0x00000001  /* mem_lower / mem_upper valid */
#define MULTIBOOT_INFO_CMDLINE 0x00000004 /* cmdline valid */
#define MULTIBOOT_INFO_MEM_MAP 0x00000040 /* mmap_length / mmap_addr valid */

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower;     /* KiB of memory below 1 MiB */
    uint32_t mem_upper;     /* KiB of memory from 1 MiB up to the first hole */
    uint32_t boot_device;
    uint32_t cmdline;       /* physical address of a NUL-terminated string */
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length;   /* bytes of memory map */
    uint32_t mmap_addr;     /* physical address of the first entry */
};

/* One memory map entry; `size` does not count itself. */
struct multiboot_mmap_entry {
    uint32_t size;
    uint64_t base;
    uint64_t length;
    uint32_t type;
} __attribute__((packed));

#endif
