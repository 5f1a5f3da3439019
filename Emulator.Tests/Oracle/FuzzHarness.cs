using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Emulator.Memory;
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
    private const uint PageDirectory = 0x90000;
    private const uint PageTable = 0x91000;

    /// <summary>Protected-mode CPUs of a shared machine each get their own 1 MiB slot (tables, handlers, stacks, program); slot 0 is the real-mode CPU's.</summary>
    private const uint SlotSize = 0x100000;

    private const uint RealProgram = 0x1000;
    private const uint RealStub = 0x0500;
    private const uint RealCounter = 0x0600;

    /// <summary>Runs the program on a bare CPU in functional timing (<see cref="FuzzEnv.Smp2"/>: on its 2-CPU machine).</summary>
    public static string? Run(FuzzEnv env, byte[] program) => Run(new FuzzCase(TimingMode.Functional, [new FuzzCpu(env, program)]));

    /// <summary>Runs the case; returns null when all is well, else what went wrong.</summary>
    public static string? Run(FuzzCase fuzz)
    {
        try
        {
            if (fuzz.Cpus.Length == 1 && fuzz.Cpus[0].Env == FuzzEnv.Smp2)
            {
                return RunMachine(fuzz.Cpus[0].Program, fuzz.Timing);
            }

            return fuzz.Timing == TimingMode.Functional && fuzz.Cpus.Length == 1 ? RunCpu(fuzz.Cpus[0].Env, fuzz.Cpus[0].Program) : RunShared(fuzz);
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
            SetUpReal(h.Memory, h.Cpu, program);
        }
        else
        {
            SetUpProtected(h.Memory, h.Cpu, 0, program, env is FuzzEnv.Ring3 or FuzzEnv.Ring3Paging, env is FuzzEnv.Ring0Paging or FuzzEnv.Ring3Paging);
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

    /// <summary>
    /// One or more CPUs of a <see cref="Machine"/> (so in either timing mode, with the coherent
    /// caches in cycle timing), each running its own program in its own mode on the same
    /// memory: they can overwrite each other's code, tables and stacks, as real CPUs can.
    /// </summary>
    internal static string? RunShared(FuzzCase fuzz, int? jitThreshold = null, Action<Machine>? inspect = null, int kernelFactor = Emulator.Cpu.Cpu.DefaultJitKernelFactor)
    {
        int n = fuzz.Cpus.Length;
        if (n is < 1 or > 4 || fuzz.Cpus.Count(c => c.Env == FuzzEnv.Real) > 1 || fuzz.Cpus.Any(c => c.Env == FuzzEnv.Smp2))
        {
            throw new ArgumentException("a shared machine runs 1 to 4 CPUs, at most one in real mode, none Smp2");
        }

        using var machine = new Machine(new MachineConfig
        {
            Cpus = n,
            MemoryBytes = 8u << 20,
            Timing = fuzz.Timing,
            MaxInstructions = n * (long)Budget,
            MaxCycles = CycleLimit(fuzz.Timing),
        });
        uint slot = 1;
        for (int i = 0; i < n; i++)
        {
            var (env, program) = fuzz.Cpus[i];
            var cpu = machine.Cpus[i];
            if (env == FuzzEnv.Real)
            {
                SetUpReal(machine.Memory, cpu, program);
            }
            else
            {
                SetUpProtected(machine.Memory, cpu, slot++ * SlotSize, program, env is FuzzEnv.Ring3 or FuzzEnv.Ring3Paging, env is FuzzEnv.Ring0Paging or FuzzEnv.Ring3Paging);
            }

            if (jitThreshold is int threshold)
            {
                cpu.JitThreshold = threshold;
                cpu.JitKernelFactor = kernelFactor;
            }
        }

        string? problem = CheckMachine(machine, machine.Run());
        inspect?.Invoke(machine);
        return problem;
    }

    /// <summary>
    /// The clock limit of a machine run. An exception storm retires nothing, so only the clock
    /// ends it; in cycle timing an instruction costs many cycles (misses), so the limit is higher.
    /// </summary>
    private static long CycleLimit(TimingMode timing) => timing == TimingMode.Cycle ? 100 * Budget : 4 * Budget;

    private static string? CheckMachine(Machine machine, RunResult result)
    {
        // Every stop the guest can cause is a clean one (a halt, an exit or reset request, a
        // triple fault, a limit); only the host's own reasons cannot come out of a fuzz run.
        if (result.Reason is StopReason.HostRequest or StopReason.Breakpoint)
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

    private static void SetUpReal(PhysicalMemory m, Emulator.Cpu.Cpu c, byte[] program)
    {
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
        c.Reset();
        c.Seg(SegReg.CS) = SegmentCache.RealModeData(0);
        c.Eip = RealProgram;
        c.Esp = 0x7000;
    }

    /// <summary>Protected mode with every table, handler, stack and the program in the slot at <paramref name="o"/>.</summary>
    private static void SetUpProtected(PhysicalMemory m, Emulator.Cpu.Cpu c, uint o, byte[] program, bool ring3, bool paging)
    {
        uint gdtAt = o + Gdt, idtAt = o + Idt, tssAt = o + Tss, stub = o + Stub, counter = o + Counter, prologue = o + Prologue, code = o + Program;
        uint userStack = o + UserStackTop, kernelStack = o + KernelStackTop;
        m.Write(code, program);
        ulong tss = 0x67 | ((ulong)(tssAt & 0xFFFFFF) << 16) | (0x89UL << 40) | ((ulong)(tssAt >> 24) << 56);
        ulong[] gdt = [0, 0x00CF9B000000FFFF, 0x00CF93000000FFFF, 0x00CFFB000000FFFF, 0x00CFF3000000FFFF, tss];
        for (int i = 0; i < gdt.Length; i++)
        {
            m.Write(gdtAt + (uint)(i * 8), BitConverter.GetBytes(gdt[i]));
        }

        m.Write(tssAt, new byte[0x68]);
        m.Write32(tssAt + 4, kernelStack);
        m.Write32(tssAt + 8, 0x10);

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
        a.mov(esp, kernelStack);
        a.inc(__dword_ptr[(long)counter]);
        a.mov(eax, __dword_ptr[(long)counter]);
        a.cmp(eax, MaxResumes);
        a.jae(halt);
        a.imul(eax, eax, 13);
        a.and(eax, 63);
        a.add(eax, code);
        if (ring3)
        {
            EmitIretToRing3(a, userStack);
        }
        else
        {
            a.jmp(eax);
        }

        a.Label(ref halt);
        a.cli();
        a.hlt();
        a.jmp(halt);
        m.Write(stub, Assemble(a, stub));
        for (uint v = 0; v < 256; v++)
        {
            // 32-bit interrupt gates, DPL 3 so that INT n from ring 3 reaches them too.
            ulong gate = (stub & 0xFFFF) | (0x08UL << 16) | (0xEEUL << 40) | ((ulong)(stub >> 16) << 48);
            m.Write(idtAt + (v * 8), BitConverter.GetBytes(gate));
        }

        m.Write32(counter, 0);

        var p = new Assembler(32);
        p.mov(ax, 0x28);
        p.ltr(ax);
        if (ring3)
        {
            p.mov(eax, code);
            EmitIretToRing3(p, userStack);
        }
        else
        {
            p.jmp(code);
        }

        m.Write(prologue, Assemble(p, prologue));

        c.SetMultibootEntryState(prologue, 0, 0);
        c.Esp = kernelStack;
        c.Gdtr = new DescriptorTableRegister(gdtAt, (ushort)((gdt.Length * 8) - 1));
        c.Idtr = new DescriptorTableRegister(idtAt, (256 * 8) - 1);
        if (paging)
        {
            // The first 4 MiB identity-mapped (every slot of a shared machine).
            uint directory = o + PageDirectory, pageTable = o + PageTable;
            m.Write32(directory, pageTable | 7);
            var table = new byte[4096];
            for (uint i = 0; i < 1024; i++)
            {
                uint page = i << 12;
                bool user = !ring3 || page == code || page == userStack - 0x1000;
                BitConverter.GetBytes(page | (user ? 7u : 3u)).CopyTo(table, (int)(i * 4));
            }

            m.Write(pageTable, table);
            c.Cr3 = directory;
            c.Cr0 |= Cr0Bits.PG;
            c.FlushTlb(true);
        }
    }

    /// <summary>IRET to ring 3 at EAX with the user stack and user data segments (clobbers EBX).</summary>
    private static void EmitIretToRing3(Assembler a, uint userStack)
    {
        a.push(0x23);
        a.push(userStack);
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
    internal static string? RunMachine(byte[] program, TimingMode timing, int? jitThreshold = null, Action<Machine>? inspect = null, int kernelFactor = Emulator.Cpu.Cpu.DefaultJitKernelFactor)
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

        using var machine = new Machine(new MachineConfig { Cpus = 2, MemoryBytes = 8u << 20, Timing = timing, MaxInstructions = 2 * Budget, MaxCycles = CycleLimit(timing), QuantumOverride = timing == TimingMode.Functional ? 97 : null });
        machine.Load("fuzz", img);
        if (jitThreshold is int threshold)
        {
            foreach (var cpu in machine.Cpus)
            {
                cpu.JitThreshold = threshold;
                cpu.JitKernelFactor = kernelFactor;
            }
        }

        string? problem = CheckMachine(machine, machine.Run());
        inspect?.Invoke(machine);
        return problem;
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
