/* Console output: printk() and pr_info() (include/linux/printk.h). Lines
 * are written whole, under a lock, so CPUs do not interleave characters. */
#ifndef _LINUX_PRINTK_H
#define _LINUX_PRINTK_H

#include <stdarg.h>

int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintk(const char *fmt, va_list ap);
/* For the oops path: drop the console lock if this CPU died holding it. */
void console_force_unlock(void);

#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif
#define pr_info(fmt, ...) printk(pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...) printk(pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...) printk(pr_fmt(fmt), ##__VA_ARGS__)
#define pr_cont(fmt, ...) printk(fmt, ##__VA_ARGS__)

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#endif
