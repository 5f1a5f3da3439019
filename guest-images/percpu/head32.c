/*
 * The boot CPU's first C code: arch/x86/kernel/head32.c (i386_start_kernel)
 * and the boot-data copy of arch/x86/kernel/head_32.S / setup.c.
 */
#include "linux/init.h"
#include "linux/multiboot.h"
#include "linux/printk.h"
#include "linux/string.h"
#include "uart.h"

extern u32 multiboot_magic, multiboot_info;

char boot_command_line[COMMAND_LINE_SIZE];
u32 boot_mem_lower_kb, boot_mem_upper_kb;
bool boot_mem_valid;

/* mirrors arch/x86/kernel/head_32.S: copy_bootdata -- save what the boot
 * loader passed before anything can overwrite it (QEMU puts the command
 * line right after the kernel image, where memblock will allocate). */
static void copy_bootdata(void)
{
    if (multiboot_magic != MULTIBOOT_BOOTLOADER_MAGIC)
        return;
    const struct multiboot_info *mbi = (const struct multiboot_info *)(unsigned long)multiboot_info;
    if (mbi->flags & MULTIBOOT_INFO_CMDLINE)
        strlcpy(boot_command_line, (const char *)(unsigned long)mbi->cmdline, COMMAND_LINE_SIZE);
    if (mbi->flags & MULTIBOOT_INFO_MEMORY) {
        boot_mem_lower_kb = mbi->mem_lower;
        boot_mem_upper_kb = mbi->mem_upper;
        boot_mem_valid = true;
    }
}

/* mirrors init/main.c: cmdline_find_option() / parse_args() -- the value of
 * "name=value" among the space-separated words of the command line. The
 * Multiboot command line starts with the kernel's path (QEMU and GRUB put it
 * there), which is just a word without '='. */
const char *cmdline_find_option(const char *name)
{
    static char value[COMMAND_LINE_SIZE];
    size_t len = strlen(name);
    const char *p = boot_command_line;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *word = p;
        while (*p && *p != ' ')
            p++;
        if ((size_t)(p - word) > len && strncmp(word, name, len) == 0 && word[len] == '=') {
            size_t n = (size_t)(p - word) - len - 1;
            memcpy(value, word + len + 1, n);
            value[n] = 0;
            return value;
        }
    }
    return NULL;
}

void __attribute__((noreturn)) i386_start_kernel(void);

/* mirrors arch/x86/kernel/head32.c: i386_start_kernel() */
void i386_start_kernel(void)
{
    uart_init();    /* early_serial_console */
    copy_bootdata();
    start_kernel();
}
