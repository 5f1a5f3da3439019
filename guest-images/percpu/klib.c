/*
 * The few C library functions the kernel needs (lib/string.c). GCC may emit
 * calls to memcpy/memset itself, even in freestanding code, so they must
 * exist under their standard names. Copied from the hello guest, plus
 * strncmp, strlcpy and simple_strtoul.
 */
#include "linux/string.h"
#include "linux/types.h"

void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    size_t words = n / 4;
    size_t bytes = n % 4;
    __asm__ volatile("rep movsl\n\t"
                     "movl %[bytes], %%ecx\n\t"
                     "rep movsb"
                     : "+D"(d), "+S"(src), "+c"(words)
                     : [bytes] "r"(bytes)
                     : "memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    if ((uintptr_t)dst <= (uintptr_t)src || (uintptr_t)dst >= (uintptr_t)src + n)
        return memcpy(dst, src, n);
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n-- > 0)
        d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a;
    const unsigned char *q = b;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != q[i])
            return p[i] < q[i] ? -1 : 1;
    }
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n > 0; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (*a == '\0')
            break;
    }
    return 0;
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);
    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

unsigned long simple_strtoul(const char *cp, char **endp, unsigned int base)
{
    unsigned long v = 0;
    if (base == 0) {
        base = 10;
        if (cp[0] == '0' && (cp[1] == 'x' || cp[1] == 'X')) {
            base = 16;
            cp += 2;
        }
    }
    for (;; cp++) {
        unsigned int d;
        if (*cp >= '0' && *cp <= '9')
            d = (unsigned)(*cp - '0');
        else if (*cp >= 'a' && *cp <= 'f')
            d = (unsigned)(*cp - 'a' + 10);
        else if (*cp >= 'A' && *cp <= 'F')
            d = (unsigned)(*cp - 'A' + 10);
        else
            break;
        if (d >= base)
            break;
        v = v * base + d;
    }
    if (endp)
        *endp = (char *)cp;
    return v;
}
