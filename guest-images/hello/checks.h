/*
 * Self-checking computations. Each writes its result as text; the text is
 * compared with the expected text, which was produced by running the same
 * code natively on the host (see host/host_main.c and the README).
 */
#ifndef HELLO_CHECKS_H
#define HELLO_CHECKS_H

#include <stddef.h>

#define CHECK_TEXT_MAX 160

struct check {
    const char *name;
    void (*run)(char *out, size_t cap);
    const char *expected;
};

extern const struct check checks[];
extern const unsigned check_count;

#endif
