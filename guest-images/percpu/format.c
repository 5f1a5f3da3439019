#include <stdint.h>

#include "format.h"

struct out {
    format_sink sink;
    void *ctx;
    int count;
};

static void emit(struct out *o, char c)
{
    o->sink(o->ctx, c);
    o->count++;
}

static void emit_padding(struct out *o, char c, int n)
{
    while (n-- > 0)
        emit(o, c);
}

/* Converts v to digits (reversed) in buf; returns the number of digits. */
static int to_digits(char *buf, uint64_t v, unsigned base, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        buf[n++] = digits[v % base];
        v /= base;
    } while (v != 0);
    return n;
}

int kvformat(format_sink sink, void *ctx, const char *fmt, va_list ap)
{
    struct out o = { sink, ctx, 0 };

    for (const char *p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            emit(&o, *p);
            continue;
        }
        p++;

        int left = 0;
        int zero = 0;
        for (;; p++) {
            if (*p == '-')
                left = 1;
            else if (*p == '0')
                zero = 1;
            else
                break;
        }
        int width = 0;
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (*p++ - '0');
        int longs = 0;
        while (*p == 'l') {
            longs++;
            p++;
        }

        char digits[24];
        int ndigits = 0;
        const char *str = NULL;
        int len = 0;
        int negative = 0;
        int numeric = 1;

        switch (*p) {
        case '\0':
            return o.count;
        case '%':
            emit(&o, '%');
            continue;
        case 'c':
            digits[0] = (char)va_arg(ap, int);
            str = digits;
            len = 1;
            numeric = 0;
            break;
        case 's':
            str = va_arg(ap, const char *);
            if (str == NULL)
                str = "(null)";
            while (str[len] != '\0')
                len++;
            numeric = 0;
            break;
        case 'd':
        case 'i': {
            int64_t v;
            if (longs >= 2)
                v = va_arg(ap, long long);
            else if (longs == 1)
                v = va_arg(ap, long);
            else
                v = va_arg(ap, int);
            uint64_t mag = (uint64_t)v;
            if (v < 0) {
                negative = 1;
                mag = 0 - mag;
            }
            ndigits = to_digits(digits, mag, 10, 0);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v;
            if (longs >= 2)
                v = va_arg(ap, unsigned long long);
            else if (longs == 1)
                v = va_arg(ap, unsigned long);
            else
                v = va_arg(ap, unsigned int);
            ndigits = to_digits(digits, v, *p == 'u' ? 10 : 16, *p == 'X');
            break;
        }
        case 'p':
            emit(&o, '0');
            emit(&o, 'x');
            ndigits = to_digits(digits, (uintptr_t)va_arg(ap, void *), 16, 0);
            break;
        default:
            /* Unknown conversion: print it verbatim. */
            emit(&o, '%');
            emit(&o, *p);
            continue;
        }

        if (!numeric) {
            if (!left)
                emit_padding(&o, ' ', width - len);
            for (int i = 0; i < len; i++)
                emit(&o, str[i]);
            if (left)
                emit_padding(&o, ' ', width - len);
            continue;
        }

        int total = ndigits + negative;
        if (left) {
            if (negative)
                emit(&o, '-');
            while (ndigits > 0)
                emit(&o, digits[--ndigits]);
            emit_padding(&o, ' ', width - total);
        } else if (zero) {
            if (negative)
                emit(&o, '-');
            emit_padding(&o, '0', width - total);
            while (ndigits > 0)
                emit(&o, digits[--ndigits]);
        } else {
            emit_padding(&o, ' ', width - total);
            if (negative)
                emit(&o, '-');
            while (ndigits > 0)
                emit(&o, digits[--ndigits]);
        }
    }
    return o.count;
}

struct buffer {
    char *buf;
    size_t cap;
    size_t len;
};

static void buffer_sink(void *ctx, char c)
{
    struct buffer *b = ctx;
    if (b->len + 1 < b->cap)
        b->buf[b->len] = c;
    b->len++;
}

int ksnprintf(char *buf, size_t cap, const char *fmt, ...)
{
    struct buffer b = { buf, cap, 0 };
    va_list ap;
    va_start(ap, fmt);
    int n = kvformat(buffer_sink, &b, fmt, ap);
    va_end(ap);
    if (cap > 0)
        buf[b.len < cap ? b.len : cap - 1] = '\0';
    return n;
}
