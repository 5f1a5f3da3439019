using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Platform;

/// <summary>
/// Protected-mode scaffolding for platform tests on a whole machine: a flat GDT (0x08 code,
/// 0x10 data, the Multiboot selectors), an IDT the guest fills with 32-bit interrupt gates, and
/// an AP start-up trampoline that enters protected mode on the same tables. Code that is not the
/// boot CPU's entry is assembled at fixed addresses below 1 MiB and written into RAM by the test.
/// </summary>
public static class ProtectedGuest
{
    public const uint Idt = 0x20000;
    public const uint Gdt = 0x21000;
    public const uint GdtPointer = 0x7000;
    public const uint IdtPointer = 0x7010;

    /// <summary>Where the AP trampoline goes (STARTUP vector 8).</summary>
    public const uint Trampoline = 0x8000;

    /// <summary>Where the APs' 32-bit code goes.</summary>
    public const uint ApCode = 0x8100;

    /// <summary>Where interrupt handlers go (each test places its own, from here up to 0x8FFF).</summary>
    public const uint Handlers = 0x8400;

    public const uint Apic = 0xFEE00000;
    public const uint ApicId = Apic + 0x20;
    public const uint ApicEoi = Apic + 0xB0;
    public const uint ApicSvr = Apic + 0xF0;
    public const uint IcrLow = Apic + 0x300;
    public const uint IcrHigh = Apic + 0x310;
    public const uint ApicLint0 = Apic + 0x350;

    /// <summary>Builds and loads the GDT and the (empty) IDT and sets the stack.</summary>
    public static void EnterFlat(Assembler a, uint stack)
    {
        a.mov(__dword_ptr[Gdt + 8], 0x0000FFFF);
        a.mov(__dword_ptr[Gdt + 12], 0x00CF9A00);
        a.mov(__dword_ptr[Gdt + 16], 0x0000FFFF);
        a.mov(__dword_ptr[Gdt + 20], 0x00CF9200);
        a.mov(__word_ptr[GdtPointer], 23);
        a.mov(__dword_ptr[GdtPointer + 2], Gdt);
        a.lgdt(__[GdtPointer]);
        a.mov(__word_ptr[IdtPointer], 0x7FF);
        a.mov(__dword_ptr[IdtPointer + 2], Idt);
        a.lidt(__[IdtPointer]);
        a.mov(esp, stack);
    }

    /// <summary>Points IDT entry <paramref name="vector"/> at <paramref name="handler"/> (a ring-0 interrupt gate). Clobbers EAX.</summary>
    public static void SetGate(Assembler a, int vector, uint handler)
    {
        uint entry = Idt + ((uint)vector * 8);
        a.mov(eax, handler);
        a.mov(__word_ptr[entry], ax);
        a.mov(__word_ptr[entry + 2], 0x08);
        a.mov(__word_ptr[entry + 4], 0x8E00);
        a.shr(eax, 16);
        a.mov(__word_ptr[entry + 6], ax);
    }

    /// <summary>
    /// The AP trampoline (real mode at <see cref="Trampoline"/>): loads the GDT and IDT the boot
    /// CPU built, sets CR0.PE and jumps to <paramref name="entry32"/> with the flat selectors,
    /// where the AP's code must load its data segments and stack.
    /// </summary>
    public static byte[] ApTrampoline(uint entry32) => FlatGuest.Assemble16(Trampoline, a =>
    {
        a.cli();
        a.xor(ax, ax);
        a.mov(ds, ax);
        a.lgdt(__[GdtPointer]);
        a.lidt(__[IdtPointer]);
        a.mov(eax, cr0);
        a.or(eax, 1);
        a.mov(cr0, eax);
        a.db(0x66, 0xEA);                          // jmp far 0x08:entry32 (32-bit offset)
        a.dd(entry32);
        a.dw(0x08);
    });

    /// <summary>The first lines of an AP's 32-bit code: flat data segments and its own stack.</summary>
    public static void ApFlatSegments(Assembler a, uint stack)
    {
        a.mov(ax, 0x10);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(ss, ax);
        a.mov(esp, stack);
    }

    /// <summary>
    /// Waits with interrupts on until the dword at <paramref name="address"/> equals ECX, halting
    /// in between (STI; HLT cannot miss an interrupt: STI's shadow covers the HLT).
    /// </summary>
    public static void WaitForEcx(Assembler a, uint address)
    {
        var wait = a.CreateLabel();
        var done = a.CreateLabel();
        a.Label(ref wait);
        a.cli();
        a.cmp(__dword_ptr[address], ecx);
        a.je(done);
        a.sti();
        a.hlt();
        a.jmp(wait);
        a.Label(ref done);
        a.sti();
    }
}
