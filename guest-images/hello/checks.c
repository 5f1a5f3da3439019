/*
 * Computations that exercise a broad mix of compiler-generated integer code:
 * bit loops, byte arrays, 64-bit arithmetic through libgcc, string
 * instructions, signed division, sorting, a jump table, indirect calls,
 * recursion and narrow (8/16-bit) arithmetic.
 *
 * Built for the guest normally; built for the host with -DHOST_CHECK, where
 * the host C library's snprintf and string functions stand in for the guest's
 * own, so the expected texts below were checked independently of them.
 */
#include <stdint.h>

#include "checks.h"

#ifdef HOST_CHECK
#include <stdio.h>
#include <string.h>
#define ksnprintf snprintf
#else
#include "format.h"
#include "klib.h"
#endif

#define NOINLINE __attribute__((noinline))

/* Hides a value from the optimiser so the computation happens at run time. */
#define HIDE(x) __asm__ volatile("" : "+r"(x))

/* ---- CRC-32 (IEEE 802.3, reflected, bit by bit) ---- */

static NOINLINE uint32_t crc32_bitwise(const char *data, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint8_t)data[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void check_crc32(char *out, size_t cap)
{
    const char *text = "The quick brown fox jumps over the lazy dog";
    HIDE(text);
    ksnprintf(out, cap, "0x%08x", (unsigned)crc32_bitwise(text, strlen(text)));
}

/* ---- Sieve of Eratosthenes ---- */

#define SIEVE_LIMIT 10000
static uint8_t sieve[SIEVE_LIMIT + 1];

static void check_primes(char *out, size_t cap)
{
    unsigned limit = SIEVE_LIMIT;
    HIDE(limit);
    memset(sieve, 1, limit + 1);
    sieve[0] = sieve[1] = 0;
    for (unsigned i = 2; i * i <= limit; i++) {
        if (sieve[i]) {
            for (unsigned j = i * i; j <= limit; j += i)
                sieve[j] = 0;
        }
    }
    unsigned count = 0;
    unsigned last = 0;
    for (unsigned i = 0; i <= limit; i++) {
        if (sieve[i]) {
            count++;
            last = i;
        }
    }
    ksnprintf(out, cap, "%u (largest %u)", count, last);
}

/* ---- 64-bit arithmetic (libgcc __udivdi3, __umoddi3, __divdi3, __moddi3) ---- */

static void check_mul64(char *out, size_t cap)
{
    uint64_t a = 0x0123456789ABCDEFull;
    uint64_t b = 0xFEDCBA9876543210ull;
    uint32_t c = 0xFFFFFFFFu;
    uint32_t d = 0xFFFFFFFEu;
    int32_t e = -123456789;
    int32_t f = 987654321;
    HIDE(a);
    HIDE(b);
    HIDE(c);
    HIDE(d);
    HIDE(e);
    HIDE(f);
    ksnprintf(out, cap, "0x%016llx 0x%llx %lld", (unsigned long long)(a * b),
              (unsigned long long)((uint64_t)c * d), (long long)((int64_t)e * f));
}

static void check_udiv64(char *out, size_t cap)
{
    uint64_t a = 0xFEDCBA9876543210ull;
    uint64_t b = 1000000007ull;
    uint64_t c = 0x00000003FFFFFFFFull;
    HIDE(a);
    HIDE(b);
    HIDE(c);
    ksnprintf(out, cap, "%llu r %llu, %llu r %llu", (unsigned long long)(a / b),
              (unsigned long long)(a % b), (unsigned long long)(a / c),
              (unsigned long long)(a % c));
}

static void check_sdiv64(char *out, size_t cap)
{
    int64_t a = -9876543210123ll;
    int64_t b = 12345;
    int64_t c = -7;
    HIDE(a);
    HIDE(b);
    HIDE(c);
    ksnprintf(out, cap, "%lld r %lld, %lld r %lld", (long long)(a / b), (long long)(a % b),
              (long long)(a / c), (long long)(a % c));
}

static void check_shift64(char *out, size_t cap)
{
    uint64_t v = 0x8123456789ABCDEFull;
    int64_t s = (int64_t)0x8123456789ABCDEFull;
    unsigned n1 = 37;
    unsigned n2 = 13;
    HIDE(v);
    HIDE(s);
    HIDE(n1);
    HIDE(n2);
    ksnprintf(out, cap, "0x%llx 0x%llx 0x%llx 0x%llx", (unsigned long long)(v << n1),
              (unsigned long long)(v >> n2), (unsigned long long)(uint64_t)(s >> n1),
              (unsigned long long)(v >> n1 | v << (64 - n1)));
}

/* ---- 32-bit signed and unsigned division ---- */

static void check_div32(char *out, size_t cap)
{
    int32_t m7 = -7;
    int32_t p7 = 7;
    int32_t p2 = 2;
    int32_t m2 = -2;
    int32_t big = -2147483647;
    uint32_t u = 4000000000u;
    HIDE(m7);
    HIDE(p7);
    HIDE(p2);
    HIDE(m2);
    HIDE(big);
    HIDE(u);
    ksnprintf(out, cap, "%d %d %d %d %d %d %d %d %u %u", m7 / p2, m7 % p2, p7 / m2, p7 % m2,
              m7 / m2, m7 % m2, big / 10, big % 10, u / 7u, u % 7u);
}

/* ---- String functions ---- */

static NOINLINE void reverse(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0, j = n - 1; n > 0 && i < j; i++, j--) {
        char t = s[i];
        s[i] = s[j];
        s[j] = t;
    }
}

static void check_strings(char *out, size_t cap)
{
    char a[32];
    char b[32];
    const char *src = "hello, world";
    HIDE(src);
    memcpy(a, src, strlen(src) + 1);
    reverse(a);

    memset(b, '.', sizeof b);
    memcpy(b, "0123456789", 10);
    b[10] = '\0';
    memmove(b + 2, b, 6); /* overlapping, copied backwards: "0101234589" */
    char c[16];
    memcpy(c, "abcdefghij", 11);
    memmove(c, c + 3, 5); /* overlapping, copied forwards: "defghfghij" */
    memset(c + 8, '*', 2);

    ksnprintf(out, cap, "%s len=%u %s %s cmp=%d", a, (unsigned)strlen(a), b, c,
              memcmp(a, src, strlen(src)) > 0 ? 1 : -1);
}

/* ---- Bubble sort ---- */

static NOINLINE void bubble_sort(int32_t *v, unsigned n)
{
    for (unsigned i = 0; i + 1 < n; i++) {
        int swapped = 0;
        for (unsigned j = 0; j + 1 < n - i; j++) {
            if (v[j] > v[j + 1]) {
                int32_t t = v[j];
                v[j] = v[j + 1];
                v[j + 1] = t;
                swapped = 1;
            }
        }
        if (!swapped)
            break;
    }
}

static void check_sort(char *out, size_t cap)
{
    int32_t v[] = { 42, -7, 19, 0, -40, 3, 88, 3, -1, 15, 1000, -999 };
    unsigned n = sizeof v / sizeof v[0];
    HIDE(n);
    bubble_sort(v, n);
    size_t len = 0;
    for (unsigned i = 0; i < n && len < cap; i++)
        len += (size_t)ksnprintf(out + len, cap - len, i == 0 ? "%d" : " %d", (int)v[i]);
}

/* ---- A switch dense enough for a jump table ---- */

static NOINLINE int32_t dispatch(uint32_t op, int32_t x)
{
    switch (op) {
    case 0: return x + 1;
    case 1: return x * 3;
    case 2: return x - 17;
    case 3: return x ^ 0x5A5A;
    case 4: return x << 2;
    case 5: return x >> 1;
    case 6: return -x;
    case 7: return x & 0xFF0F;
    case 8: return x | 0x30;
    case 9: return x / 3;
    case 10: return x % 11;
    case 11: return ~x;
    default: return x + (int32_t)op;
    }
}

static void check_switch(char *out, size_t cap)
{
    int32_t acc = 12345;
    for (uint32_t i = 0; i < 40; i++)
        acc = dispatch((i * 7u) % 15u, acc) + (int32_t)i;
    ksnprintf(out, cap, "%d", (int)acc);
}

/* ---- Calls through function pointers ---- */

static uint32_t op_add(uint32_t a, uint32_t b) { return a + b; }
static uint32_t op_sub(uint32_t a, uint32_t b) { return a - b; }
static uint32_t op_mul(uint32_t a, uint32_t b) { return a * b; }
static uint32_t op_xor(uint32_t a, uint32_t b) { return a ^ (b * 0x9E3779B9u); }
static uint32_t op_rol(uint32_t a, uint32_t b) { b &= 31; return b ? (a << b) | (a >> (32 - b)) : a; }
static uint32_t op_div(uint32_t a, uint32_t b) { return a / b + a % b; }

static uint32_t (*ops[])(uint32_t, uint32_t) = { op_add, op_sub, op_mul, op_xor, op_rol, op_div };

static void check_fnptr(char *out, size_t cap)
{
    uint32_t acc = 0xC0FFEE;
    unsigned n = sizeof ops / sizeof ops[0];
    HIDE(n);
    for (uint32_t i = 0; i < 30; i++)
        acc = ops[i % n](acc, i + 1);
    ksnprintf(out, cap, "0x%08x", (unsigned)acc);
}

/* ---- Recursion ---- */

static NOINLINE uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static NOINLINE uint32_t ackermann(uint32_t m, uint32_t n)
{
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

static void check_recursion(char *out, size_t cap)
{
    uint32_t n = 20;
    uint32_t m = 2;
    HIDE(n);
    HIDE(m);
    ksnprintf(out, cap, "fib(%u)=%u ackermann(%u,3)=%u", (unsigned)n, (unsigned)fib(n),
              (unsigned)m, (unsigned)ackermann(m, 3));
}

/* ---- Bit operations (BSWAP, BSR/BSF, libgcc popcount, rotates) ---- */

static void check_bits(char *out, size_t cap)
{
    uint32_t v = 0xF0F0A5A5u;
    uint32_t w = 0x00012000u;
    unsigned r = 4;
    HIDE(v);
    HIDE(w);
    HIDE(r);
    ksnprintf(out, cap, "pop=%d bswap=0x%08x clz=%d ctz=%d rol=0x%08x ror=0x%08x",
              __builtin_popcount(v), (unsigned)__builtin_bswap32(v), __builtin_clz(w),
              __builtin_ctz(w), (unsigned)((v << r) | (v >> (32 - r))),
              (unsigned)((v >> r) | (v << (32 - r))));
}

/* ---- 8- and 16-bit arithmetic (sign/zero extension, wrap-around) ---- */

static NOINLINE int32_t narrow_mix(const int8_t *b, const uint16_t *h, unsigned n)
{
    int8_t s8 = 0;
    uint8_t u8 = 0;
    int16_t s16 = 1;
    uint16_t u16 = 0;
    for (unsigned i = 0; i < n; i++) {
        s8 = (int8_t)(s8 + b[i]);
        u8 = (uint8_t)(u8 * 3u + (uint8_t)b[i]);
        s16 = (int16_t)(s16 * (int16_t)h[i] + 7);
        u16 = (uint16_t)(u16 + h[i] / (uint16_t)(i + 1));
    }
    return (int32_t)s8 * 1000000 + (int32_t)u8 * 10000 + (int32_t)s16 + (int32_t)u16;
}

static void check_narrow(char *out, size_t cap)
{
    static const int8_t bytes[] = { 100, 100, -128, 77, -3, 127, -50, 9 };
    static const uint16_t halves[] = { 65535, 300, 12345, 2, 40000, 7, 999, 65000 };
    const int8_t *b = bytes;
    const uint16_t *h = halves;
    HIDE(b);
    HIDE(h);
    ksnprintf(out, cap, "%d", (int)narrow_mix(b, h, 8));
}

/* ---- Collatz: longest chain below 10000 ---- */

static void check_collatz(char *out, size_t cap)
{
    uint32_t limit = 10000;
    HIDE(limit);
    uint32_t best = 0;
    uint32_t best_steps = 0;
    for (uint32_t start = 1; start < limit; start++) {
        uint32_t steps = 0;
        for (uint64_t x = start; x != 1; steps++)
            x = (x & 1) ? 3 * x + 1 : x >> 1;
        if (steps > best_steps) {
            best_steps = steps;
            best = start;
        }
    }
    ksnprintf(out, cap, "%u steps from %u", (unsigned)best_steps, (unsigned)best);
}

const struct check checks[] = {
    { "crc32", check_crc32, "0x414fa339" },
    { "primes", check_primes, "1229 (largest 9973)" },
    { "mul64", check_mul64, "0x2236d88fe5618cf0 0xfffffffd00000002 -121932631112635269" },
    { "udiv64", check_udiv64, "18364758415 r 939755815, 1068969638 r 3054198966" },
    { "sdiv64", check_sdiv64, "-800044002 r -5433, 1410934744303 r -2" },
    { "shift64", check_shift64, "0x3579bde000000000 0x4091a2b3c4d5e 0xfffffffffc091a2b 0x3c4d5e6f7c091a2b" },
    { "div32", check_div32, "-3 -1 -3 1 3 -1 -214748364 -7 571428571 3" },
    { "strings", check_strings, "dlrow ,olleh len=12 0101234589 defghfgh** cmp=-1" },
    { "sort", check_sort, "-999 -40 -7 -1 0 3 3 15 19 42 88 1000" },
    { "switch", check_switch, "-23283" },
    { "fnptr", check_fnptr, "0x00217804" },
    { "recursion", check_recursion, "fib(20)=6765 ackermann(2,3)=9" },
    { "bits", check_bits, "pop=16 bswap=0xa5a5f0f0 clz=15 ctz=13 rol=0x0f0a5a5f ror=0x5f0f0a5a" },
    { "narrow", check_narrow, "-22651085" },
    { "collatz", check_collatz, "261 steps from 6171" },
};

const unsigned check_count = sizeof checks / sizeof checks[0];
