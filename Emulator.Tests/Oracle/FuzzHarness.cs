using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Emulator.Platform;
using Emulator.Tests.Cpu;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Oracle;

/// <summary>Where a fuzz program runs.</summary>
public enum FuzzEnv
{
    /// <summary>Real mode at 0000:1000; every IVT vector resumes inside the program.</summary>
    Real,

    /// <summary>Flat ring-0 protected mode; every IDT vector resumes inside the program.</summary>
    Ring0,

    /// <summary>Ring 0 with paging on (the first 4 MiB identity-mapped).</summary>
    Ring0Paging,

    /// <summary>Ring 3 (DPL-3 gates, a TSS for the stack switch); handlers IRET back to ring 3.</summary>
    Ring3,

    /// <summary>Ring 3 with paging: only the program page and the user stack page are user pages.</summary>
    Ring3Paging,

    /// <summary>A 2-CPU <see cref="Machine"/>: the BSP runs the program in protected mode, the AP (after INIT/SIPI) runs it in real mode.</summary>
    Smp2,
}

/// <summary>
/// Runs one random byte program in one environment with an instruction budget and reports
/// anything wrong: a .NET exception out of the core, a run that does not end (a watchdog), or
/// an inconsistent CPU afterwards (an exception left pending, an unknown run state). Exception
/// handlers count and resume the program at another offset (8 times), then halt, so a program
/// exercises more than its first fault.
/// </summary>
public static class FuzzHarness
{
    public const int Budget = 20_000;
    public const int MaxResumes = 8;

    private const uint Gdt = 0x1000;
    private const uint Idt = 0x2000;
    private const uint Tss = 0x3000;
    private const uint Stub = 0x4000;
    private const uint Counter = 0x5000;
    private const uint Prologue = 0x6000;
    private const uint Program = 0x10000;
    private const uint UserStackTop = 0x70000;
    private const uint KernelStackTop = 0x80000;
    private const uint PageDirectory = 0x100000;
    private const uint PageTable = 0x101000;

    private const uint RealProgram = 0x1000;
    private const uint RealStub = 0x0500;
    private const uint RealCounter = 0x0600;

    /// <summary>Runs the program; returns null when all is well, else what went wrong.</summary>
    public static string? Run(FuzzEnv env, byte[] program)
    {
        try
        {
            return env == FuzzEnv.Smp2 ? RunMachine(program) : RunCpu(env, program);
        }
        catch (Exception ex)
        {
            return $".NET exception: {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}";
        }
    }

    /// <summary>The program as C# that can be pasted into <see cref="FuzzRegressions"/>.</summary>
    public static string AsRegression(FuzzEnv env, byte[] program) =>
        $"[InlineData(FuzzEnv.{env}, \"{Convert.ToHexString(program)}\")]";

    private static string? RunCpu(FuzzEnv env, byte[] program)
    {
        using var h = new CpuHarness(4 << 20);
        if (env == FuzzEnv.Real)
        {
            SetUpReal(h, program);
        }
        else
        {
            SetUpProtected(h, program, env is FuzzEnv.Ring3 or FuzzEnv.Ring3Paging, env is FuzzEnv.Ring0Paging or FuzzEnv.Ring3Paging);
        }

        var cpu = h.Cpu;
        // Both limits: an exception storm (a handler whose first fetch faults again) retires
        // nothing, so only the clock (one cycle per delivered exception) can end it.
        long ran = cpu.Run(4 * Budget, Budget);
        return Check(cpu, ran, Budget);
    }

    private static string? Check(Emulator.Cpu.Cpu cpu, long ran, long budget)
    {
        if (cpu.PendingVector != -1)
        {
            return $"CPU {cpu.Id}: exception {cpu.PendingVector} left pending after Run";
        }

        return cpu.State switch
        {
            RunState.Halted or RunState.Shutdown or RunState.WaitForSipi => null,
            RunState.Running when ran >= budget || budget == long.MaxValue || cpu.Cycles >= 4 * Budget => null,
            _ => $"CPU {cpu.Id}: Run returned in state {cpu.State} after {ran} of {budget} instructions",
        };
    }

    private static void SetUpReal(CpuHarness h, byte[] program)
    {
        var m = h.Memory;
        m.Write(RealProgram, program);
        var a = new Assembler(16);
        var halt = a.CreateLabel();
        a.xor(ax, ax);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(ss, ax);
        a.mov(sp, 0x7000);
        a.inc(__word_ptr[(long)RealCounter]);
        a.mov(ax, __word_ptr[(long)RealCounter]);
        a.cmp(ax, (short)MaxResumes);
        a.jae(halt);
        a.imul(ax, ax, 13);
        a.and(ax, 63);
        a.add(ax, (short)RealProgram);
        a.jmp(ax);
        a.Label(ref halt);
        a.cli();
        a.hlt();
        a.jmp(halt);
        m.Write(RealStub, Assemble(a, RealStub));
        for (uint v = 0; v < 256; v++)
        {
            m.Write32(v * 4, RealStub);
        }

        m.Write32(RealCounter, 0);
        var c = h.Cpu;
        c.Reset();
        c.Seg(SegReg.CS) = SegmentCache.RealModeData(0);
        c.Eip = RealProgram;
        c.Esp = 0x7000;
    }

    private static void SetUpProtected(CpuHarness h, byte[] program, bool ring3, bool paging)
    {
        var m = h.Memory;
        m.Write(Program, program);
        ulong tss = 0x67 | ((ulong)(Tss & 0xFFFFFF) << 16) | (0x89UL << 40) | ((ulong)(Tss >> 24) << 56);
        ulong[] gdt = [0, 0x00CF9B000000FFFF, 0x00CF93000000FFFF, 0x00CFFB000000FFFF, 0x00CFF3000000FFFF, tss];
        for (int i = 0; i < gdt.Length; i++)
        {
            m.Write(Gdt + (uint)(i * 8), BitConverter.GetBytes(gdt[i]));
        }

        m.Write(Tss, new byte[0x68]);
        m.Write32(Tss + 4, KernelStackTop);
        m.Write32(Tss + 8, 0x10);

        // The handler: flat segments, a fresh stack, count, resume at another offset (in ring 3
        // through IRET) or halt after MaxResumes.
        var a = new Assembler(32);
        var halt = a.CreateLabel();
        a.mov(ax, 0x10);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(fs, ax);
        a.mov(gs, ax);
        a.mov(ss, ax);
        a.mov(esp, KernelStackTop);
        a.inc(__dword_ptr[(long)Counter]);
        a.mov(eax, __dword_ptr[(long)Counter]);
        a.cmp(eax, MaxResumes);
        a.jae(halt);
        a.imul(eax, eax, 13);
        a.and(eax, 63);
        a.add(eax, Program);
        if (ring3)
        {
            EmitIretToRing3(a);
        }
        else
        {
            a.jmp(eax);
        }

        a.Label(ref halt);
        a.cli();
        a.hlt();
        a.jmp(halt);
        m.Write(Stub, Assemble(a, Stub));
        for (uint v = 0; v < 256; v++)
        {
            // 32-bit interrupt gates, DPL 3 so that INT n from ring 3 reaches them too.
            ulong gate = (Stub & 0xFFFF) | (0x08UL << 16) | (0xEEUL << 40) | ((ulong)(Stub >> 16) << 48);
            m.Write(Idt + (v * 8), BitConverter.GetBytes(gate));
        }

        m.Write32(Counter, 0);

        var p = new Assembler(32);
        p.mov(ax, 0x28);
        p.ltr(ax);
        if (ring3)
        {
            p.mov(eax, Program);
            EmitIretToRing3(p);
        }
        else
        {
            p.jmp(Program);
        }

        m.Write(Prologue, Assemble(p, Prologue));

        var c = h.Cpu;
        c.SetMultibootEntryState(Prologue, 0, 0);
        c.Esp = KernelStackTop;
        c.Gdtr = new DescriptorTableRegister(Gdt, (ushort)((gdt.Length * 8) - 1));
        c.Idtr = new DescriptorTableRegister(Idt, (256 * 8) - 1);
        if (paging)
        {
            m.Write32(PageDirectory, PageTable | 7);
            var table = new byte[4096];
            for (uint i = 0; i < 1024; i++)
            {
                uint page = i << 12;
                bool user = !ring3 || page == Program || page == UserStackTop - 0x1000;
                BitConverter.GetBytes(page | (user ? 7u : 3u)).CopyTo(table, (int)(i * 4));
            }

            m.Write(PageTable, table);
            c.Cr3 = PageDirectory;
            c.Cr0 |= Cr0Bits.PG;
            c.FlushTlb(true);
        }
    }

    /// <summary>IRET to ring 3 at EAX with the user stack and user data segments (clobbers EBX).</summary>
    private static void EmitIretToRing3(Assembler a)
    {
        a.push(0x23);
        a.push(UserStackTop);
        a.push(0x2);
        a.push(0x1B);
        a.push(eax);
        a.mov(bx, 0x23);
        a.mov(ds, bx);
        a.mov(es, bx);
        a.mov(fs, bx);
        a.mov(gs, bx);
        a.iretd();
    }

    /// <summary>
    /// A flat Multiboot image (address-fields form) at 1 MiB: the BSP copies the program to
    /// 0x8000, starts the AP there with INIT and STARTUP (so the AP runs it in real mode), then
    /// runs it itself in protected mode. No IDT: a fault ends the machine with a triple fault.
    /// </summary>
    private static string? RunMachine(byte[] program)
    {
        const uint load = 0x100000, entry = load + 0x20, bspCode = load + 0x100, apCopy = load + 0x200;
        var img = new byte[0x200 + program.Length];
        void U32(int at, uint v) => BitConverter.GetBytes(v).CopyTo(img, at);
        const uint flags = 1u << 16;
        U32(0, 0x1BADB002);
        U32(4, flags);
        U32(8, unchecked(0u - 0x1BADB002u - flags));
        U32(12, load);
        U32(16, load);
        U32(20, 0);
        U32(24, 0);
        U32(28, entry);
        var a = new Assembler(32);
        a.mov(esi, apCopy);
        a.mov(edi, 0x8000);
        a.mov(ecx, (uint)program.Length);
        a.cld();
        a.rep.movsb();
        a.mov(__dword_ptr[0xFEE00310L], 0x01000000);
        a.mov(__dword_ptr[0xFEE00300L], 0x00004500);
        a.mov(__dword_ptr[0xFEE00300L], 0x00004608);
        a.jmp(bspCode);
        Assemble(a, entry).CopyTo(img, 0x20);
        program.CopyTo(img, 0x100);
        program.CopyTo(img, 0x200);

        using var machine = new Machine(new MachineConfig { Cpus = 2, MemoryBytes = 8u << 20, MaxInstructions = 2 * Budget, MaxCycles = 4 * Budget, Quantum = 97 });
        machine.Load("fuzz", img);
        var result = machine.Run();
        if (result.Reason is not (StopReason.Halted or StopReason.InstructionLimit or StopReason.TripleFault or StopReason.GuestExit or StopReason.CycleLimit))
        {
            return $"machine stopped with {result.Reason}: {result.Message}";
        }

        foreach (var cpu in machine.Cpus)
        {
            string? bad = Check(cpu, 0, long.MaxValue);
            if (bad is not null)
            {
                return bad;
            }
        }

        return null;
    }

    private static byte[] Assemble(Assembler a, uint at)
    {
        var w = new BytesWriter();
        a.Assemble(w, at);
        return [.. w.Bytes];
    }

    private sealed class BytesWriter : CodeWriter
    {
        public List<byte> Bytes { get; } = [];

        public override void WriteByte(byte value) => Bytes.Add(value);
    }
}
