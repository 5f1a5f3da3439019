/*
 * memcpy/memmove/memset via the string instructions (REP MOVS/STOS, also with
 * DF=1 for the overlapping backward copy), the rest as plain C loops. GCC may
 * emit calls to memcpy/memset itself, even in freestanding code, so these
 * must exist under their standard names.
 */
#include <stdint.h>

#include "klib.h"

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
    if (n == 0)
        return dst;
    /* Overlapping with dst above src: copy backwards, from the last byte. */
    void *d = (char *)dst + n - 1;
    const void *s = (const char *)src + n - 1;
    __asm__ volatile("std\n\t"
                     "rep movsb\n\t"
                     "cld"
                     : "+D"(d), "+S"(s), "+c"(n)
                     :
                     : "memory");
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
