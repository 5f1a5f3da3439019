/*
 * The "bench" guest: one measured workload chosen on the kernel command line.
 *
 *   work=alu iters=N                 the ALU loop with %fs-relative accesses
 *   work=walk size=8M passes=N paging=on|off
 *                                    a stride-64 read walk over an array at 16 MiB
 *   work=counter iters=N cpus=N      every CPU: per-CPU %fs increments and a
 *                                    shared lock incl (APs started with
 *                                    broadcast INIT-SIPI-SIPI)
 *
 * It prints one result line on COM1,
 *
 *   bench: work=alu cpus=1 region_instructions=NNN check=ok
 *
 * where region_instructions is the exact number of instructions executed
 * between the marker writes (summed over CPUs), then writes 0 (check=ok) or
 * 1 to the debug-exit port 0xF4 (QEMU's isa-debug-exit and this emulator stop
 * there). Then it waits for the UART to drain and writes "Shutdown" to port
 * 0x8900, which ends a Bochs run (Bochs has no debug-exit device), and halts.
 *
 * The same ELF image also boots from a disk (build/bench-boot.img, see
 * boot-disk/bootsect.S), whose boot sector enters it as a Multiboot loader would.
 */
#include <stdint.h>
#include "bench.h"

struct multiboot_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
};

struct gdtr {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

void load_segments(const struct gdtr *gdtr, unsigned fs_selector);
void bench_alu(uint32_t iters);
uint32_t bench_walk(uint32_t base, uint32_t end, uint32_t passes);
void bench_counter(uint32_t iters, volatile uint32_t *shared);
void ap_main(uint32_t id);

extern const char trampoline_start[], trampoline_end[];
extern struct gdtr tr_gdtr;

volatile uint32_t next_cpu_id = 1;
uint8_t ap_stacks[MAX_CPUS << AP_STACK_SHIFT] __attribute__((aligned(4096)));

static uint64_t gdt[3 + MAX_CPUS] __attribute__((aligned(8)));
static struct gdtr gdt_ptr;
static uint8_t percpu[MAX_CPUS][PCPU_SIZE] __attribute__((aligned(64)));
static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t page_tables[16][1024] __attribute__((aligned(4096)));

static volatile uint32_t cpus_online = 1, go, done, shared_counter;
static uint32_t counter_iters;

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#define COM1 0x3F8
static void uart_init(void)
{
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x80);
    outb(COM1 + 0, 0x01);
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);
    outb(COM1 + 2, 0xC7);
    outb(COM1 + 4, 0x0B);
}

static void putc_(char c)
{
    while (!(inb(COM1 + 5) & 0x20)) {
    }
    outb(COM1, (uint8_t)c);
}

static void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}

static void putu64(uint64_t v)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + (unsigned)(v % 10));
        v /= 10;
    } while (v);
    while (n)
        putc_(buf[--n]);
}

static __attribute__((noreturn)) void finish(const char *work, uint32_t cpus, uint64_t region, int ok)
{
    puts_("bench: work=");
    puts_(work);
    puts_(" cpus=");
    putu64(cpus);
    puts_(" region_instructions=");
    putu64(region);
    puts_(ok ? " check=ok\n" : " check=FAILED\n");
    outb(0xF4, ok ? 0 : 1);
    /*
     * Still running: no debug-exit device (Bochs). Let the UART send its last
     * bytes (LSR bit 6, transmitter empty), then Bochs's shutdown port ends
     * the simulation.
     */
    while (!(inb(COM1 + 5) & 0x40)) {
    }
    for (const char *p = "Shutdown"; *p; p++)
        outb(0x8900, (uint8_t)*p);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* Command line: "key=value" words; returns the value of key or 0. */
static const char *cmdline;
static const char *arg(const char *key)
{
    const char *p = cmdline;
    if (!p)
        return 0;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *k = key, *q = p;
        while (*k && *q == *k)
            k++, q++;
        if (!*k && *q == '=')
            return q + 1;
        while (*p && *p != ' ')
            p++;
    }
    return 0;
}

static int arg_is(const char *key, const char *value)
{
    const char *v = arg(key);
    if (!v)
        return 0;
    while (*value && *v == *value)
        v++, value++;
    return !*value && (*v == ' ' || !*v);
}

/* A number with an optional K/M/G suffix. */
static uint32_t arg_num(const char *key, uint32_t dflt)
{
    const char *v = arg(key);
    if (!v || *v < '0' || *v > '9')
        return dflt;
    uint32_t n = 0;
    while (*v >= '0' && *v <= '9')
        n = n * 10 + (uint32_t)(*v++ - '0');
    if (*v == 'K' || *v == 'k')
        n <<= 10;
    else if (*v == 'M' || *v == 'm')
        n <<= 20;
    else if (*v == 'G' || *v == 'g')
        n <<= 30;
    return n;
}

static uint64_t descriptor(uint32_t base, uint32_t limit, uint32_t access)
{
    /* 4 KiB granularity, 32-bit. */
    return (uint64_t)(limit & 0xFFFF) | ((uint64_t)(base & 0xFFFFFF) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xF) << 48) | ((uint64_t)0xC << 52) | ((uint64_t)(base >> 24) << 56);
}

static void setup_gdt(void)
{
    gdt[1] = descriptor(0, 0xFFFFF, 0x9A);
    gdt[2] = descriptor(0, 0xFFFFF, 0x92);
    for (int i = 0; i < MAX_CPUS; i++) {
        /* As Linux's GDT_ENTRY_PERCPU: a data segment based at this CPU's area. */
        gdt[3 + i] = descriptor((uint32_t)percpu[i], 0xFFFFF, 0x92);
        *(volatile uint32_t *)&percpu[i][PCPU_SEED] = 0x9E3779B9u * (uint32_t)(i + 1);
    }
    gdt_ptr.limit = sizeof(gdt) - 1;
    gdt_ptr.base = (uint32_t)gdt;
}

static uint32_t pcpu_word(int cpu, int off) { return *(volatile uint32_t *)&percpu[cpu][off]; }

static void run_alu(void)
{
    uint32_t iters = arg_num("iters", 1000000);
    if (!iters)
        iters = 1;
    bench_alu(iters);
    finish("alu", 1, (uint64_t)ALU_PER_ITER * iters + REGION_EXTRA, pcpu_word(0, PCPU_COUNT) == 3u * iters);
}

#define WALK_BASE (16u << 20)
#define MAPPED (64u << 20)

static void enable_paging(void)
{
    /* Identity map of the first 64 MiB with 4 KiB pages. */
    for (uint32_t t = 0; t < 16; t++) {
        for (uint32_t i = 0; i < 1024; i++)
            page_tables[t][i] = ((t << 22) | (i << 12)) | 3;
        page_dir[t] = (uint32_t)page_tables[t] | 3;
    }
    __asm__ volatile("movl %0, %%cr3" : : "r"(page_dir) : "memory");
    uint32_t cr0;
    __asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("movl %0, %%cr0" : : "r"(cr0 | 0x80000000u) : "memory");
}

static void run_walk(void)
{
    uint32_t size = arg_num("size", 8u << 20) & ~63u;
    uint32_t passes = arg_num("passes", 4);
    int paging = arg_is("paging", "on");
    if (size < 64 || size > MAPPED - WALK_BASE)
        size = 8u << 20;
    if (!passes)
        passes = 1;
    /* Deterministic contents: the walk's sum checks every element was read. */
    uint32_t expect = 0;
    for (uint32_t off = 0; off < size; off += 64) {
        *(volatile uint32_t *)(WALK_BASE + off) = off ^ 0x5A5A5A5Au;
        expect += off ^ 0x5A5A5A5Au;
    }
    if (paging)
        enable_paging();
    uint32_t sum = bench_walk(WALK_BASE, WALK_BASE + size, passes);
    uint64_t elements = size / 64;
    finish(paging ? "walk-paging" : "walk", 1,
           (uint64_t)passes * (WALK_PER_ELEMENT * elements + WALK_PER_PASS) + REGION_EXTRA, sum == expect * passes);
}

#define APIC_BASE 0xFEE00000u
static inline void apic_write(uint32_t reg, uint32_t v) { *(volatile uint32_t *)(APIC_BASE + reg) = v; }
static inline uint32_t apic_read(uint32_t reg) { return *(volatile uint32_t *)(APIC_BASE + reg); }

static void spin(uint32_t n)
{
    for (volatile uint32_t i = 0; i < n; i++) {
    }
}

static void send_ipi_all_but_self(uint32_t low)
{
    while (apic_read(0x300) & (1u << 12)) {
    }
    apic_write(0x310, 0);
    apic_write(0x300, low | (3u << 18));
}

void ap_main(uint32_t id)
{
    load_segments(&gdt_ptr, PERCPU_SEL(id));
    __atomic_fetch_add(&cpus_online, 1, __ATOMIC_SEQ_CST);
    while (!go)
        __asm__ volatile("pause");
    bench_counter(counter_iters, &shared_counter);
    __atomic_fetch_add(&done, 1, __ATOMIC_SEQ_CST);
}

static void run_counter(void)
{
    uint32_t cpus = arg_num("cpus", 1);
    if (cpus < 1 || cpus > MAX_CPUS)
        cpus = 1;
    counter_iters = arg_num("iters", 1000000);
    if (!counter_iters)
        counter_iters = 1;
    if (cpus > 1) {
        /* Copy the trampoline below 1 MiB and start every other CPU. */
        const char *s = trampoline_start;
        char *d = (char *)TRAMPOLINE_BASE;
        while (s < trampoline_end)
            *d++ = *s++;
        /* The GDT pointer inside the copy (the original is in .rodata). */
        *(struct gdtr *)(TRAMPOLINE_BASE + ((const char *)&tr_gdtr - trampoline_start)) = gdt_ptr;
        apic_write(0xF0, apic_read(0xF0) | 0x100);
        send_ipi_all_but_self(0x00004500);              /* INIT, assert */
        spin(100000);
        send_ipi_all_but_self(0x00004600 | (TRAMPOLINE_BASE >> 12)); /* STARTUP */
        spin(10000);
        if (cpus_online < cpus)
            send_ipi_all_but_self(0x00004600 | (TRAMPOLINE_BASE >> 12));
        while (cpus_online < cpus)
            __asm__ volatile("pause");
    }
    go = 1;
    bench_counter(counter_iters, &shared_counter);
    __atomic_fetch_add(&done, 1, __ATOMIC_SEQ_CST);
    while (done < cpus)
        __asm__ volatile("pause");
    int ok = shared_counter == cpus * counter_iters;
    for (uint32_t i = 0; i < cpus; i++)
        ok = ok && pcpu_word((int)i, PCPU_COUNT) == counter_iters;
    finish("counter", cpus, (uint64_t)cpus * ((uint64_t)COUNTER_PER_ITER * counter_iters + REGION_EXTRA), ok);
}

void bench_main(uint32_t magic, const struct multiboot_info *mbi)
{
    uart_init();
    if (magic == 0x2BADB002u && (mbi->flags & 4))
        cmdline = (const char *)mbi->cmdline;
    setup_gdt();
    load_segments(&gdt_ptr, PERCPU_SEL(0));
    if (arg_is("work", "walk"))
        run_walk();
    else if (arg_is("work", "counter"))
        run_counter();
    else
        run_alu();
}
