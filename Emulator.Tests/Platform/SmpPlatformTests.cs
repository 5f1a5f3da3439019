using Emulator.Platform;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Platform;

/// <summary>SMP bring-up, IPIs and the local APIC timer, driven by small Iced-assembled guests (each run twice: the second must end identically).</summary>
public class SmpPlatformTests
{
    private const uint Apic = 0xFEE00000;
    private const uint IcrLow = Apic + 0x300;
    private const uint IcrHigh = Apic + 0x310;
    private const uint Counter = 0x6000; // below the Multiboot information at 0x9000
    private const uint Trampoline = 0x8000;

    /// <summary>Enough for these guests; a small RAM keeps the state hash of each run cheap.</summary>
    private const uint SmallRam = 16u << 20;

    /// <summary>The AP start-up code: count in, then halt with interrupts off.</summary>
    private static byte[] ApTrampoline() => FlatGuest.Assemble16(Trampoline, a =>
    {
        a.xor(ax, ax);
        a.mov(ds, ax);
        a.@lock.inc(__dword_ptr[Counter]);
        a.cli();
        a.hlt();
    });

    private static Machine WithTrampoline(Machine m)
    {
        m.Memory.Write(Trampoline, ApTrampoline());
        return m;
    }

    private static void WaitForCount(Iced.Intel.Assembler a, uint expected)
    {
        var spin = a.CreateLabel();
        a.Label(ref spin);
        a.pause();
        a.cmp(__dword_ptr[Counter], expected);
        a.jne(spin);
    }

    private static void ExitWithCounter(Iced.Intel.Assembler a)
    {
        a.mov(eax, __dword_ptr[Counter]);
        a.@out(0xF4, al);
        a.hlt();
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void BroadcastInitSipiSipiStartsEveryAp(int cpus)
    {
        var (m, r) = Determinism.RunTwice(() => WithTrampoline(FlatGuest.Boot(new MachineConfig { Cpus = cpus, MemoryBytes = SmallRam, MaxInstructions = 5_000_000 }, a =>
        {
            a.mov(__dword_ptr[IcrLow], 0x000C4500); // INIT, level assert, all excluding self
            a.mov(__dword_ptr[IcrLow], 0x000C4608); // STARTUP vector 8 (0x8000)
            a.mov(__dword_ptr[IcrLow], 0x000C4608); // the second STARTUP is ignored by running APs
            WaitForCount(a, (uint)(cpus - 1));
            ExitWithCounter(a);
        })));
        using var disposeMachine = m;
        Assert.True(r.Reason == StopReason.GuestExit, $"{r.Message}; " + string.Join("; ", m.Cpus.Select(c => $"cpu{c.Id} {c.State} eip={c.Eip:x} n={c.Instructions} cs={c.Seg(1).Base:x}")));
        Assert.Equal(((cpus - 1) << 1) | 1, r.GuestExitStatus);
        for (int i = 1; i < cpus; i++)
        {
            Assert.True(m.Cpus[i].Instructions >= 5, $"CPU {i} did not run the trampoline");
            Assert.Equal(Emulator.Cpu.RunState.Halted, m.Cpus[i].State);
        }
    }

    [Fact]
    public void OneByOneStartupReachesOnlyTheNamedCpu()
    {
        var (m, r) = Determinism.RunTwice(() => WithTrampoline(FlatGuest.Boot(new MachineConfig { Cpus = 4, MemoryBytes = SmallRam, MaxInstructions = 5_000_000 }, a =>
        {
            // Start CPU 2 only (physical destination 2 in ICR high).
            a.mov(__dword_ptr[IcrHigh], 2u << 24);
            a.mov(__dword_ptr[IcrLow], 0x00004500); // INIT, level assert, physical
            a.mov(__dword_ptr[IcrHigh], 2u << 24);
            a.mov(__dword_ptr[IcrLow], 0x00004608); // STARTUP vector 8
            WaitForCount(a, 1);
            ExitWithCounter(a);
        })));
        using var disposeMachine = m;
        Assert.Equal(3, r.GuestExitStatus);
        Assert.Equal(Emulator.Cpu.RunState.WaitForSipi, m.Cpus[1].State);
        Assert.Equal(Emulator.Cpu.RunState.Halted, m.Cpus[2].State);
        Assert.Equal(Emulator.Cpu.RunState.WaitForSipi, m.Cpus[3].State);
        Assert.Equal(0, m.Cpus[1].Instructions);
    }

    [Fact]
    public void PeriodicLocalApicTimerFiresOncePerPeriod()
    {
        const uint idt = 0x20000;
        const uint gdt = 0x21000;
        const uint pseudo = 0x7000;
        const int period = 5000;
        const long cycles = 1_000_000;
        // The handler sits right after a 2-byte short jump over it, at a known address.
        const uint handlerAt = FlatGuest.Entry + 2;
        byte[] handler = FlatGuest.Assemble32(handlerAt, h =>
        {
            h.inc(__dword_ptr[Counter]);
            h.mov(__dword_ptr[Apic + 0xB0], 0);          // EOI
            h.iretd();
        });
        var (m, r) = Determinism.RunTwice(() => FlatGuest.Boot(new MachineConfig { Cpus = 1, MemoryBytes = SmallRam, MaxCycles = cycles }, a =>
        {
            var idle = a.CreateLabel();
            a.db(0xEB, (byte)handler.Length);            // jmp short over the handler
            a.db(handler);
            a.mov(esp, 0x80000);                         // Multiboot leaves ESP undefined

            // GDT with the Multiboot selectors (0x08 flat code, 0x10 flat data), then an IDT with
            // one 32-bit interrupt gate for vector 0x40.
            a.mov(__dword_ptr[gdt + 8], 0x0000FFFF);
            a.mov(__dword_ptr[gdt + 12], 0x00CF9A00);
            a.mov(__dword_ptr[gdt + 16], 0x0000FFFF);
            a.mov(__dword_ptr[gdt + 20], 0x00CF9200);
            a.mov(__word_ptr[pseudo], 23);
            a.mov(__dword_ptr[pseudo + 2], gdt);
            a.lgdt(__[pseudo]);
            a.mov(eax, handlerAt);
            a.mov(__word_ptr[idt + (0x40 * 8)], ax);
            a.mov(__word_ptr[idt + (0x40 * 8) + 2], 0x08);
            a.mov(__word_ptr[idt + (0x40 * 8) + 4], 0x8E00);
            a.shr(eax, 16);
            a.mov(__word_ptr[idt + (0x40 * 8) + 6], ax);
            a.mov(__word_ptr[pseudo], 0x7FF);
            a.mov(__dword_ptr[pseudo + 2], idt);
            a.lidt(__[pseudo]);

            a.mov(__dword_ptr[Apic + 0xF0], 0x1FF);      // SVR: software enable
            a.mov(__dword_ptr[Apic + 0x3E0], 0xB);       // divide by 1
            a.mov(__dword_ptr[Apic + 0x320], 0x20040);   // LVT timer: periodic, vector 0x40
            a.mov(__dword_ptr[Apic + 0x380], period);    // initial count
            a.sti();
            a.Label(ref idle);
            a.hlt();
            a.jmp(idle);
        }));
        using var disposeMachine = m;
        Assert.True(r.Reason == StopReason.CycleLimit, r.Message + " eip=" + m.Cpus[0].Eip.ToString("x") + " idtr=" + m.Cpus[0].Idtr + " gdtr=" + m.Cpus[0].Gdtr);
        uint fired = m.Memory.Read32(Counter);

        // The timer starts within the first few dozen cycles; it then fires every period.
        Assert.InRange(fired, (uint)((cycles / period) - 2), (uint)(cycles / period));
    }
}
