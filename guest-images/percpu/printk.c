/*
 * printk(): kernel/printk/printk.c, reduced to its core: format, and write
 * to the console (the UART) under a lock with interrupts off, so that lines
 * from different CPUs never mix. Only the boot CPU's kernel_init prints during
 * normal operation; the lock matters for oops reports from other CPUs.
 */
#include <stdarg.h>

#include "format.h"
#include "linux/init.h"
#include "linux/printk.h"
#include "linux/spinlock.h"
#include "uart.h"

static arch_spinlock_t console_lock = __ARCH_SPIN_LOCK_UNLOCKED;

static void console_sink(void *ctx, char c)
{
    (void)ctx;
    uart_putc(c);
}

/* mirrors kernel/printk/printk.c: vprintk() -> console_unlock() -> the console driver.
 * The lock is taken with arch_spin_lock() (no preempt_disable(), so printk
 * can be used before the per-CPU areas and the scheduler exist). */
int vprintk(const char *fmt, va_list ap)
{
    unsigned long flags;
    local_irq_save(flags);
    arch_spin_lock(&console_lock);
    int n = kvformat(console_sink, NULL, fmt, ap);
    arch_spin_unlock(&console_lock);
    local_irq_restore(flags);
    return n;
}

/* mirrors kernel/printk/printk.c: printk() */
int printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk(fmt, ap);
    va_end(ap);
    return n;
}

/* mirrors bust_spinlocks(): an oops must print even if this CPU faulted
 * while holding the console lock. */
void console_force_unlock(void)
{
    console_lock.head = console_lock.tail;
}

/* mirrors kernel/panic.c: panic() -- report and stop the machine (exit 127). */
void panic(const char *fmt, ...)
{
    va_list ap;
    local_irq_disable();
    console_force_unlock();
    printk("Kernel panic - not syncing: ");
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
    printk("\n");
    kernel_exit(127);
}
