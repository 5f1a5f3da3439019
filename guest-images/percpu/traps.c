/*
 * The IDT and the CPU exceptions: arch/x86/kernel/idt.c and traps.c, and the
 * oops report of arch/x86/kernel/dumpstack.c.
 *
 * One IDT for all CPUs (like Linux's idt_table); every gate is an interrupt
 * gate in __KERNEL_CS pointing at that vector's stub in entry_32.S. An
 * exception in this kernel is always a bug: it is reported and the machine
 * stops with exit code 127.
 */
#include "asm/desc.h"
#include "asm/ptrace.h"
#include "linux/init.h"
#include "linux/irq.h"
#include "linux/printk.h"
#include "linux/sched.h"

struct gate_struct idt_table[IDT_ENTRIES] __aligned(PAGE_SIZE);
extern const char vector_entries_start[];
#define VECTOR_STUB_SIZE 16

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
    "#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor segment overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack segment", "#GP general protection",
    "#PF page fault", "reserved (15)", "#MF x87 FPU error", "#AC alignment check", "#MC machine check",
    "#XM SIMD exception", "#VE virtualization", "#CP control protection", "reserved (22)", "reserved (23)",
    "reserved (24)", "reserved (25)", "reserved (26)", "reserved (27)", "reserved (28)", "#VC", "#SX",
    "reserved (31)",
};

/* mirrors arch/x86/kernel/idt.c: idt_setup_from_table() for all 256 vectors */
void idt_setup(void)
{
    for (unsigned int v = 0; v < IDT_ENTRIES; v++) {
        unsigned long addr = (unsigned long)vector_entries_start + v * VECTOR_STUB_SIZE;
        idt_table[v].offset_low = (u16)addr;
        idt_table[v].segment = __KERNEL_CS;
        idt_table[v].bits = 0x8e00;  /* present, DPL 0, 32-bit interrupt gate */
        idt_table[v].offset_middle = (u16)(addr >> 16);
    }
}

/* mirrors arch/x86/kernel/idt.c: load_current_idt() */
void load_current_idt(void)
{
    struct desc_ptr idt_descr = { .size = sizeof(idt_table) - 1, .address = (unsigned long)idt_table };
    native_load_idt(&idt_descr);
}

/* mirrors arch/x86/kernel/traps.c: trap_init() -- the boot CPU's TSS and IDT */
void trap_init(void)
{
    cpu_init();
}

/* mirrors arch/x86/kernel/dumpstack.c: die() / __show_regs() -- print what
 * happened, where, on which CPU and in which task, then stop the machine. */
void __noreturn die(const char *str, struct pt_regs *regs)
{
    unsigned long cr0, cr2;
    unsigned short fs_sel;
    local_irq_disable();
    console_force_unlock();
    __asm__ volatile("movl %%cr0, %0; movl %%cr2, %1" : "=r"(cr0), "=r"(cr2));
    savesegment(fs, fs_sel);
    /* %fs may be the thing that is broken: read the CPU number and task
     * through it only if it holds the per-CPU selector. */
    int cpu = fs_sel == __KERNEL_PERCPU ? (int)raw_smp_processor_id() : -1;
    printk("\n------------[ cut here ]------------\n");
    printk("traps: %s (vector %lu), error_code 0x%04lx [#1] SMP\n", str, regs->vector, regs->error_code);
    printk("CPU: %d  PID: %d  Comm: %s\n", cpu, cpu >= 0 ? current->pid : -1, cpu >= 0 ? current->comm : "?");
    printk("EIP: %04lx:0x%08lx EFLAGS: 0x%08lx\n", regs->cs & 0xffff, regs->ip, regs->flags);
    printk("EAX: %08lx EBX: %08lx ECX: %08lx EDX: %08lx\n", regs->ax, regs->bx, regs->cx, regs->dx);
    printk("ESI: %08lx EDI: %08lx EBP: %08lx ESP: %08lx\n", regs->si, regs->di, regs->bp,
           (unsigned long)regs + sizeof(*regs));
    printk("DS: %04lx ES: %04lx FS: %04lx GS: %04lx CR0: %08lx CR2: %08lx\n", regs->ds & 0xffff,
           regs->es & 0xffff, regs->fs & 0xffff, regs->gs & 0xffff, cr0, cr2);
    printk("---[ end trace ]---\n");
    printk("Kernel panic - not syncing: Fatal exception\n");
    kernel_exit(127);
}

/* mirrors the exc_*() handlers of arch/x86/kernel/traps.c: all fatal here */
void do_trap(struct pt_regs *regs)
{
    die(exception_names[regs->vector & 31], regs);
}
