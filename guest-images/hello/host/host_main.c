/*
 * Development helper, not part of the guest image: runs the guest's checks
 * natively on the host (with the host C library's snprintf and string
 * functions) and reports every result that differs from the expected text
 * in checks.c. Built and run by `make -C guest-images host-check`.
 */
#include <stdio.h>
#include <string.h>

#include "../checks.h"

int main(void)
{
    unsigned failed = 0;
    for (unsigned i = 0; i < check_count; i++) {
        char out[CHECK_TEXT_MAX];
        checks[i].run(out, sizeof out);
        int ok = strcmp(out, checks[i].expected) == 0;
        printf("%s: %s%s\n", checks[i].name, out, ok ? "" : "  <-- differs from expected");
        if (!ok)
            failed++;
    }
    printf("host: %u passed, %u failed\n", check_count - failed, failed);
    return failed != 0;
}
