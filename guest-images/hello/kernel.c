/*
 * The "hello" guest: a Multiboot v1 kernel that talks over the COM1 UART,
 * prints what the boot loader told it, runs self-checking computations and
 * reports the number of failures through the isa-debug-exit port.
 */
#include <stdint.h>

#include "checks.h"
#include "io.h"
#include "klib.h"
#include "multiboot.h"
#include "uart.h"

/* QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,iosize=0x04):
 * writing v makes QEMU exit with status (v << 1) | 1. */
#define DEBUG_EXIT_PORT 0xF4

static void print_boot_info(const struct multiboot_info *mbi)
{
    if (mbi->flags & MULTIBOOT_INFO_MEMORY)
        kprintf("mem: lower=%u KiB upper=%u KiB\n", (unsigned)mbi->mem_lower, (unsigned)mbi->mem_upper);
    else
        kprintf("mem: (not provided)\n");

    if (mbi->flags & MULTIBOOT_INFO_CMDLINE)
        kprintf("cmdline: %s\n", (const char *)(uintptr_t)mbi->cmdline);
    else
        kprintf("cmdline: (not provided)\n");

    if (mbi->flags & MULTIBOOT_INFO_MEM_MAP) {
        uintptr_t p = mbi->mmap_addr;
        uintptr_t end = p + mbi->mmap_length;
        while (p < end) {
            const struct multiboot_mmap_entry *e = (const struct multiboot_mmap_entry *)p;
            kprintf("mmap: base=0x%08llx len=0x%08llx type=%u\n", (unsigned long long)e->base,
                    (unsigned long long)e->length, (unsigned)e->type);
            p += e->size + sizeof e->size;
        }
    } else {
        kprintf("mmap: (not provided)\n");
    }
}

static __attribute__((noreturn)) void finish(unsigned failed)
{
    outb(DEBUG_EXIT_PORT, (uint8_t)(failed > 255 ? 255 : failed));
    /* Still running: there is no exit device. Stop here. */
    for (;;)
        __asm__ volatile("cli; hlt");
}

void __attribute__((noreturn)) kmain(uint32_t magic, const struct multiboot_info *mbi);

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    unsigned passed = 0;
    unsigned failed = 0;

    uart_init();
    uart_puts("hello: multiboot guest\n");

    if (magic == MULTIBOOT_BOOTLOADER_MAGIC) {
        kprintf("multiboot: ok\n");
        passed++;
        print_boot_info(mbi);
    } else {
        /* Not booted by a Multiboot loader: EBX means nothing, so skip it. */
        kprintf("multiboot: bad magic 0x%08x\n", (unsigned)magic);
        failed++;
    }

    for (unsigned i = 0; i < check_count; i++) {
        char out[CHECK_TEXT_MAX];
        checks[i].run(out, sizeof out);
        if (strcmp(out, checks[i].expected) == 0) {
            kprintf("%s: %s\n", checks[i].name, out);
            passed++;
        } else {
            kprintf("%s: %s FAILED (expected %s)\n", checks[i].name, out, checks[i].expected);
            failed++;
        }
    }

    kprintf("checks: %u passed, %u failed\n", passed, failed);
    finish(failed);
}
