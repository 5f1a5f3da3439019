using Emulator.Platform;
using Emulator.Tests.Platform;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Timing;

/// <summary>
/// A small SMP guest for the cycle model's tests: the BSP starts every AP with INIT-SIPI-SIPI;
/// each CPU takes a ticket (its index, in EBP), loads its own GDT whose entry 3 (selector
/// 0x18) is a per-CPU data segment based at <see cref="PerCpuArea"/>(index), enters protected
/// mode and loads %fs with it, as Linux's x86_32 code does with __KERNEL_PERCPU. Then all CPUs
/// run the same phases; each phase starts and ends at a barrier and is timed with RDTSC
/// (which follows the CPU's cycle clock) into <see cref="ResultSlot"/>.
/// </summary>
public static class SmpTimingGuest
{
    private const uint Apic = 0xFEE00000;
    private const uint IcrLow = Apic + 0x300;
    private const uint Trampoline = 0x8000;
    private const uint Ticket = 0x7000;
    private const uint GdtArea = 0x60000;

    /// <summary>Barrier counters, one line each.</summary>
    public const uint Barriers = 0x200000;

    /// <summary>A line of its own for a counter all CPUs share.</summary>
    public const uint SharedLine = 0x201000;

    /// <summary>A second free line area (false-sharing tests).</summary>
    public const uint ScratchArea = 0x280000;

    /// <summary>CPU <paramref name="cpu"/>'s per-CPU area: the base of its %fs segment, a page apart from the next.</summary>
    public static uint PerCpuArea(int cpu) => 0x202000 + ((uint)cpu * 0x1000);

    /// <summary>Where CPU <paramref name="cpu"/> stores phase <paramref name="phase"/>'s start and end TSC (8 bytes each).</summary>
    public static uint ResultSlot(int cpu, int phase) => 0x240000 + ((uint)cpu * 0x100) + ((uint)phase * 16);

    /// <summary>
    /// Boots <paramref name="config"/>.Cpus CPUs through the phases (each emits a loop that may
    /// use EBP = CPU index and must keep EBP) and returns the machine after it stopped.
    /// </summary>
    public static Machine Run(MachineConfig config, params Action<Assembler>[] phases)
    {
        int n = config.Cpus;
        var m = new Machine(config);
        m.Load("smp-timing-guest", FlatGuest.Build(a => Image(a, n, phases)));
        m.Memory.Write(Trampoline, ApTrampoline());
        for (int cpu = 0; cpu < n; cpu++)
        {
            m.Memory.Write(GdtArea + ((uint)cpu * 0x100), Gdt(cpu));
        }

        var r = m.Run();
        if (r.Reason != StopReason.GuestExit || r.GuestExitStatus != 1)
        {
            m.Dispose();
            throw new InvalidOperationException($"the timing guest did not finish: {r.Reason} {r.Message} status {r.GuestExitStatus}");
        }

        return m;
    }

    /// <summary>The cycles CPU <paramref name="cpu"/> spent in phase <paramref name="phase"/> (from its RDTSC stores).</summary>
    public static long PhaseCycles(Machine m, int cpu, int phase)
    {
        uint slot = ResultSlot(cpu, phase);
        ulong Tsc(uint at) => m.Memory.Read32(at) | ((ulong)m.Memory.Read32(at + 4) << 32);
        return (long)(Tsc(slot + 8) - Tsc(slot));
    }

    private static byte[] Gdt(int cpu)
    {
        var gdt = new byte[0x48];
        void Put(int index, uint @base, uint limit, byte access, byte flags)
        {
            ulong d = (limit & 0xFFFF) | ((ulong)(@base & 0xFFFFFF) << 16) | ((ulong)access << 40) |
                ((ulong)((limit >> 16) & 0xF) << 48) | ((ulong)flags << 52) | ((ulong)(@base >> 24) << 56);
            BitConverter.TryWriteBytes(gdt.AsSpan(index * 8), d);
        }

        Put(1, 0, 0xFFFFF, 0x9A, 0xC);        // 0x08: flat 32-bit code
        Put(2, 0, 0xFFFFF, 0x92, 0xC);        // 0x10: flat data
        Put(3, PerCpuArea(cpu), 0xFFF, 0x92, 0x4); // 0x18: this CPU's per-CPU segment (byte granular, 4 KiB)

        // The pseudo-descriptor for LGDT at +0x40.
        BitConverter.TryWriteBytes(gdt.AsSpan(0x40), (ushort)31);
        BitConverter.TryWriteBytes(gdt.AsSpan(0x42), GdtArea + ((uint)cpu * 0x100));
        return gdt;
    }

    private static byte[] ApTrampoline() => FlatGuest.Assemble16(Trampoline, a =>
    {
        a.cli();
        a.xor(ax, ax);
        a.mov(ds, ax);
        a.mov(eax, 1);
        a.@lock.xadd(__dword_ptr[Ticket], eax);
        a.mov(ebp, eax);                    // this CPU's index
        a.mov(bx, ax);
        a.shl(bx, 8);
        a.mov(cx, (ushort)(GdtArea >> 4));
        a.mov(ds, cx);
        a.lgdt(__[bx + 0x40]);              // its own GDT
        a.mov(eax, cr0);
        a.or(eax, 1);
        a.mov(cr0, eax);

        // jmp far 0x08:(Entry + 2), the AP entry, with a 32-bit offset (66 EA off32 sel16).
        a.db(0x66, 0xEA);
        a.dd(FlatGuest.Entry + 2);
        a.dw(0x08);
    });

    /// <summary>
    /// The image: at the entry a short jump over the AP prologue (so APs enter at Entry + 2),
    /// the AP prologue ending in a short jump over the BSP's set-up, the BSP's set-up, then the
    /// code every CPU runs. The two prologues are assembled apart so their sizes are known.
    /// </summary>
    private static void Image(Assembler a, int n, Action<Assembler>[] phases)
    {
        byte[] apPrologue = FlatGuest.Assemble32(0, p =>
        {
            p.mov(ax, 0x10);
            p.mov(ds, ax);
            p.mov(es, ax);
            p.mov(ss, ax);
        });
        byte[] bspSetup = FlatGuest.Assemble32(0, b =>
        {
            b.xor(ebp, ebp);                      // the BSP is CPU 0
            b.mov(__dword_ptr[Ticket], 1);
            b.lgdt(__[GdtArea + 0x40]);
            b.mov(ax, 0x10);
            b.mov(ds, ax);
            b.mov(es, ax);
            b.mov(ss, ax);
            if (n > 1)
            {
                b.mov(__dword_ptr[IcrLow], 0x000C4500); // INIT to all excluding self
                b.mov(__dword_ptr[IcrLow], 0x000C4600 | (Trampoline >> 12));
                b.mov(__dword_ptr[IcrLow], 0x000C4600 | (Trampoline >> 12));
            }
        });

        a.db(0xEB, (byte)(apPrologue.Length + 2));
        a.db(apPrologue);
        a.db(0xEB, (byte)bspSetup.Length);
        a.db(bspSetup);

        a.mov(ax, 0x18);
        a.mov(fs, ax);                        // %fs = this CPU's per-CPU segment
        a.mov(esp, ebp);
        a.shl(esp, 12);
        a.add(esp, 0x300000);                 // a stack page per CPU
        Barrier(a, n, 0);
        for (int p = 0; p < phases.Length; p++)
        {
            StoreTsc(a, p, 0);
            phases[p](a);
            StoreTsc(a, p, 8);
            Barrier(a, n, p + 1);
        }

        var ap = a.CreateLabel();
        a.test(ebp, ebp);
        a.jnz(ap);
        a.mov(al, 0);
        a.@out(0xF4, al);                    // exit status (0 << 1) | 1
        a.Label(ref ap);
        a.cli();
        a.hlt();
    }

    private static void Barrier(Assembler a, int n, int index)
    {
        uint at = Barriers + ((uint)index * 64);
        a.@lock.inc(__dword_ptr[at]);
        var spin = a.CreateLabel();
        a.Label(ref spin);
        a.pause();
        a.cmp(__dword_ptr[at], n);
        a.jne(spin);
    }

    private static void StoreTsc(Assembler a, int phase, int offset)
    {
        a.rdtsc();
        a.mov(edi, ebp);
        a.shl(edi, 8);
        a.mov(__dword_ptr[edi + (int)(ResultSlot(0, phase) + offset)], eax);
        a.mov(__dword_ptr[edi + (int)(ResultSlot(0, phase) + offset + 4)], edx);
    }
}
