/*
 * A small printf-like formatter: %s %c %d %i %u %x %X %p %%, with the '0' and
 * '-' flags, a field width, and the l / ll length modifiers (64-bit values
 * are printed with libgcc's __udivdi3/__umoddi3).
 */
#ifndef PERCPU_FORMAT_H
#define PERCPU_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*format_sink)(void *ctx, char c);

/* Formats into the sink; returns the number of characters produced. */
int kvformat(format_sink sink, void *ctx, const char *fmt, va_list ap);

/* Like snprintf: always NUL-terminates when cap > 0; returns the full length. */
int ksnprintf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
