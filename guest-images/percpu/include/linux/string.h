/* The C library functions the kernel uses (klib.c). */
#ifndef _LINUX_STRING_H
#define _LINUX_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
size_t strlcpy(char *dst, const char *src, size_t size);
unsigned long simple_strtoul(const char *cp, char **endp, unsigned int base);

#endif
