using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using K = Emulator.Tests.Cpu.SystemKernel;

namespace Emulator.Tests.Cpu;

/// <summary>
/// #DB (vector 1) as on hardware (SDM Vol. 3 ch. 17): single-step, DR0-DR3 instruction, data and
/// I/O breakpoints, general detect, the TSS T bit and EFLAGS.RF. Each guest installs a #DB
/// handler that logs the saved EIP, DR6, the saved EFLAGS and DR7, clears DR6 and returns
/// (optionally setting RF in the frame, as a debugger does to step over an instruction breakpoint).
/// </summary>
public class DebugExceptionTests
{
    private const uint LogCount = 0x30000;
    private const uint SetRf = 0x30004;
    private const uint LogBase = 0x30010;
    private const uint Data = K.DataBase;
    private const int MaxLog = 32;

    private readonly record struct DbEntry(uint Eip, uint Dr6, uint Eflags, uint Dr7);

    /// <summary>Emits the logging #DB handler at the current position (call after the body's last instruction).</summary>
    private static void EmitHandler(Assembler a, ref Label handler)
    {
        var tooMany = a.CreateLabel();
        var noRf = a.CreateLabel();
        a.Label(ref handler);
        a.push(eax);
        a.push(ebx);
        a.mov(ebx, __dword_ptr[LogCount]);
        a.cmp(ebx, MaxLog);
        a.jae(tooMany);
        a.shl(ebx, 4);
        a.mov(eax, __dword_ptr[esp + 8]);
        a.mov(__dword_ptr[ebx + LogBase], eax);
        a.mov(eax, dr6);
        a.mov(__dword_ptr[ebx + LogBase + 4], eax);
        a.mov(eax, __dword_ptr[esp + 16]);
        a.mov(__dword_ptr[ebx + LogBase + 8], eax);
        a.mov(eax, dr7);
        a.mov(__dword_ptr[ebx + LogBase + 12], eax);
        a.inc(__dword_ptr[LogCount]);
        a.xor(eax, eax);
        a.mov(dr6, eax);
        a.cmp(__dword_ptr[SetRf], 0);
        a.je(noRf);
        a.or(__dword_ptr[esp + 16], (int)EFlags.RF);
        a.Label(ref noRf);
        a.pop(ebx);
        a.pop(eax);
        a.iretd();
        a.Label(ref tooMany);
        a.hlt();
    }

    private static K Kernel(Action<Assembler> body, bool setRf = false)
    {
        Label handler = default;
        var k = new K(a =>
        {
            handler = a.CreateLabel();
            body(a);
            a.hlt();
            EmitHandler(a, ref handler);
        });
        k.SetInterruptGate(Vectors.DB, handler);
        k.Write32(LogCount, 0);
        k.Write32(SetRf, setRf ? 1u : 0);
        return k;
    }

    private static List<DbEntry> Log(K k)
    {
        var list = new List<DbEntry>();
        uint n = k.Read32(LogCount);
        Assert.True(n < MaxLog, "the #DB handler was entered too often");
        for (uint i = 0; i < n; i++)
        {
            uint at = LogBase + (16 * i);
            list.Add(new DbEntry(k.Read32(at), k.Read32(at + 4), k.Read32(at + 8), k.Read32(at + 12)));
        }

        return list;
    }

    /// <summary>DR6 as read in the handler: the fixed ones (0xFFFF0FF0) plus the reported bits.</summary>
    private static uint Dr6(uint bits) => 0xFFFF0FF0 | bits;

    private static void SetTf(Assembler a)
    {
        a.pushfd();
        a.or(__dword_ptr[esp], (int)EFlags.TF);
        a.popfd();
    }

    private static void ClearTf(Assembler a)
    {
        a.pushfd();
        a.and(__dword_ptr[esp], ~(int)EFlags.TF);
        a.popfd();
    }

    private static void HaltedCleanly(K k)
    {
        Assert.Equal(RunState.Halted, k.Cpu.State);
        Assert.Equal(0u, k.Read32(K.RecCount)); // no other exception reached the kernel's stubs
    }

    [Fact]
    public void SingleStepTrapsAfterEachInstructionButNotAfterThePopfThatSetsTf()
    {
        Label a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
        using var k = Kernel(a =>
        {
            a1 = a.CreateLabel();
            a2 = a.CreateLabel();
            a3 = a.CreateLabel();
            a4 = a.CreateLabel();
            a5 = a.CreateLabel();
            SetTf(a);
            a.Label(ref a1);
            a.nop();
            a.Label(ref a2);
            a.mov(eax, 1);
            a.Label(ref a3);
            a.pushfd();
            a.Label(ref a4);
            a.and(__dword_ptr[esp], ~(int)EFlags.TF);
            a.popfd();                  // clears TF: still traps after itself (TF was set when it began)
            a.Label(ref a5);
            a.nop();
        });
        k.Run();
        HaltedCleanly(k);
        var log = Log(k);
        Assert.Equal([k.Addr(a2), k.Addr(a3), k.Addr(a4), k.Addr(a4) + 7, k.Addr(a5)], log.Select(e => e.Eip));
        Assert.All(log, e => Assert.Equal(Dr6(DebugBits.BS), e.Dr6));
        Assert.All(log.Take(4), e => Assert.Equal(EFlags.TF, e.Eflags & (EFlags.TF | EFlags.RF)));
        Assert.Equal(0u, log[4].Eflags & (EFlags.TF | EFlags.RF)); // the image after the POPF that cleared TF
        Assert.Equal(5, k.Cpu.DebugExceptions);
        Assert.Equal(1u, k.Cpu.Eax);
    }

    [Fact]
    public void IntNClearsTfForItsHandlerAndIsNotSingleStepped()
    {
        Label intAt = default, after = default, next = default, svc = default;
        using var k = Kernel(a =>
        {
            intAt = a.CreateLabel();
            after = a.CreateLabel();
            next = a.CreateLabel();
            svc = a.CreateLabel();
            var go = a.CreateLabel();
            a.jmp(go);
            a.Label(ref svc);
            a.inc(ecx);                 // runs with TF clear: never logged
            a.inc(ecx);
            a.iretd();                  // restores TF; no trap after it (TF was clear when it began)
            a.Label(ref go);
            a.xor(edx, edx);
            SetTf(a);
            a.Label(ref intAt);
            a.@int(0x30);
            a.Label(ref after);
            a.inc(edx);
            a.Label(ref next);
            ClearTf(a);
        });
        k.SetInterruptGate(0x30, svc);
        k.Run();
        HaltedCleanly(k);
        var log = Log(k);
        Assert.Equal(k.Addr(next), log[0].Eip);   // the first trap follows the instruction after INT
        Assert.DoesNotContain(log, e => e.Eip == k.Addr(after) || e.Eip < k.Addr(intAt));
        Assert.Equal(2u, k.Cpu.Ecx);
        Assert.Equal(1u, k.Cpu.Edx);
    }

    [Fact]
    public void MovSsDelaysTheSingleStepTrapByOneInstruction()
    {
        Label movSs = default, first = default, second = default;
        using var k = Kernel(a =>
        {
            movSs = a.CreateLabel();
            first = a.CreateLabel();
            second = a.CreateLabel();
            a.mov(eax, K.KernelData);
            SetTf(a);
            a.Label(ref movSs);
            a.mov(ss, ax);
            a.Label(ref first);
            a.nop();
            a.Label(ref second);
            a.nop();
            ClearTf(a);
        });
        k.Run();
        HaltedCleanly(k);
        var eips = Log(k).Select(e => e.Eip).ToList();
        Assert.Equal(k.Addr(second), eips[0]);     // one trap for MOV SS and the NOP after it
        Assert.Equal(k.Addr(second) + 1, eips[1]);
        Assert.DoesNotContain(k.Addr(first), eips);
    }

    [Fact]
    public void InstructionBreakpointFaultsBeforeExecutionAndRfStepsOverIt()
    {
        Label loop = default, target = default;
        using var k = Kernel(
            a =>
            {
                loop = a.CreateLabel();
                target = a.CreateLabel();
                a.mov(eax, __dword_ptr[K.Symbol(0)]);
                a.mov(dr0, eax);
                a.mov(eax, 0x1);         // L0, R/W = 00 (execute), LEN = 00
                a.mov(dr7, eax);
                a.xor(eax, eax);
                a.mov(ecx, 2);
                a.Label(ref loop);
                a.add(ebx, 1);           // the breakpoint is in the middle of the loop's block
                a.Label(ref target);
                a.inc(eax);
                a.dec(ecx);
                a.jnz(loop);
            },
            setRf: true);
        k.SetSymbol(0, target);
        k.Run();
        HaltedCleanly(k);
        var log = Log(k);
        Assert.Equal(2, log.Count);
        Assert.All(log, e => Assert.Equal(k.Addr(target), e.Eip));      // a fault: EIP at the instruction
        Assert.All(log, e => Assert.Equal(Dr6(DebugBits.B0), e.Dr6));
        Assert.All(log, e => Assert.Equal(0u, e.Eflags & EFlags.RF));    // RF is not set for this fault
        Assert.Equal(2u, k.Cpu.Eax);                                     // RF let it run after each #DB
        Assert.Equal(0u, k.Cpu.GetEflags() & EFlags.RF);                  // cleared once it retired
    }

    [Fact]
    public void DataWriteBreakpointTrapsAfterTheWriteWithAlignmentMasking()
    {
        Label store = default, after = default;
        using var k = Kernel(a =>
        {
            store = a.CreateLabel();
            after = a.CreateLabel();
            a.mov(__dword_ptr[Data + 0x100], 7);  // puts the page in the TLB before the breakpoint is armed
            a.mov(eax, Data + 0x102);             // LEN 4 masks it to Data + 0x100
            a.mov(dr1, eax);
            a.mov(eax, 0x00D0_0004);              // G1... L1 (bit 2), R/W1 = 01 (write), LEN1 = 11
            a.mov(dr7, eax);
            a.mov(__dword_ptr[Data + 0x104], 1);  // next dword: no hit
            a.mov(ebx, __dword_ptr[Data + 0x100]); // a read: no hit for a write breakpoint
            a.Label(ref store);
            a.mov(__byte_ptr[Data + 0x103], 5);
            a.Label(ref after);
            a.nop();
        });
        k.Run();
        HaltedCleanly(k);
        var log = Log(k);
        Assert.Single(log);
        Assert.Equal(k.Addr(after), log[0].Eip);          // a trap: after the store
        Assert.Equal(Dr6(DebugBits.B0 << 1), log[0].Dr6);
        Assert.Equal(0u, log[0].Eflags & EFlags.RF);
        Assert.Equal(0x05000007u, k.Read32(Data + 0x100)); // the store happened
    }

    [Fact]
    public void ReadWriteBreakpointsOfLengthOneAndTwoCatchOverlappingAccesses()
    {
        Label read = default, write = default;
        using var k = Kernel(a =>
        {
            read = a.CreateLabel();
            write = a.CreateLabel();
            a.mov(eax, Data + 0x200);
            a.mov(dr2, eax);
            a.mov(eax, Data + 0x301);
            a.mov(dr3, eax);
            // L2 (bit 4), R/W2 = 11, LEN2 = 01; L3 (bit 6), R/W3 = 01, LEN3 = 00.
            a.mov(eax, (int)(0x10u | 0x40u | (0x3u << 24) | (0x1u << 26) | (0x1u << 28)));
            a.mov(dr7, eax);
            a.mov(ebx, __dword_ptr[Data + 0x1FC]);  // ends just before: no hit
            a.mov(ebx, __dword_ptr[Data + 0x1FF]);  // covers 0x1FF-0x202: B2
            a.Label(ref read);
            a.mov(__word_ptr[Data + 0x302], ax);    // after the byte at 0x301: no hit
            a.mov(__word_ptr[Data + 0x300], ax);    // covers 0x301: B3
            a.Label(ref write);
            a.nop();
        });
        k.Run();
        HaltedCleanly(k);
        var log = Log(k);
        Assert.Equal(2, log.Count);
        Assert.Equal(k.Addr(read), log[0].Eip);
        Assert.Equal(Dr6(1u << 2), log[0].Dr6);
        Assert.Equal(k.Addr(write), log[1].Eip);
        Assert.Equal(Dr6(1u << 3), log[1].Dr6);
    }

    [Fact]
    public void RepStringTrapsAfterTheIterationThatHitWithEipAtTheInstruction()
    {
        Label rep = default;
        using var k = Kernel(a =>
        {
            rep = a.CreateLabel();
            a.mov(eax, Data + 0x408);
            a.mov(dr0, eax);
            a.mov(eax, 0x000D_0001);     // L0, R/W0 = 01, LEN0 = 11
            a.mov(dr7, eax);
            a.mov(edi, Data + 0x400);
            a.mov(ecx, 8);
            a.mov(eax, 0xABCDABCD);
            a.cld();
            a.Label(ref rep);
            a.rep.stosd();
            a.mov(esi, __dword_ptr[LogBase]);   // resumes and completes after the #DB
        });
        k.Run();
        HaltedCleanly(k);
        var log = Log(k);
        Assert.Single(log);
        Assert.Equal(k.Addr(rep), log[0].Eip);
        Assert.Equal(Dr6(DebugBits.B0), log[0].Dr6);
        Assert.Equal(0u, k.Cpu.Ecx);
        Assert.Equal(0xABCDABCDu, k.Read32(Data + 0x41C));
    }

    [Fact]
    public void SingleStepAndDataBreakpointReportTogether()
    {
        Label after = default;
        using var k = Kernel(a =>
        {
            after = a.CreateLabel();
            a.mov(eax, Data);
            a.mov(dr0, eax);
            a.mov(eax, 0x0001_0001);     // L0, R/W0 = 01, LEN0 = 00
            a.mov(dr7, eax);
            SetTf(a);
            a.mov(__byte_ptr[Data], 1);
            a.Label(ref after);
            ClearTf(a);
        });
        k.Run();
        HaltedCleanly(k);
        var hit = Log(k)[0];
        Assert.Equal(k.Addr(after), hit.Eip);
        Assert.Equal(Dr6(DebugBits.BS | DebugBits.B0), hit.Dr6);
    }

    [Fact]
    public void IoBreakpointTrapsOnlyWithCr4De()
    {
        Label first = default, second = default;
        using var k = Kernel(a =>
        {
            first = a.CreateLabel();
            second = a.CreateLabel();
            a.mov(eax, 0x80);
            a.mov(dr0, eax);
            a.mov(eax, 0x0002_0001);     // L0, R/W0 = 10 (I/O with CR4.DE), LEN0 = 00
            a.mov(dr7, eax);
            a.@out(0x80, al);           // CR4.DE clear: R/W = 10 is undefined, nothing happens
            a.Label(ref first);
            a.mov(eax, cr4);
            a.or(eax, (int)Cr4Bits.DE);
            a.mov(cr4, eax);
            a.mov(dx, 0x80);
            a.@in(al, dx);
            a.Label(ref second);
            a.nop();
        });
        k.Run();
        HaltedCleanly(k);
        var log = Log(k);
        Assert.Single(log);
        Assert.Equal(k.Addr(second), log[0].Eip);
        Assert.Equal(Dr6(DebugBits.B0), log[0].Dr6);
    }

    [Fact]
    public void GeneralDetectFaultsOnMovDrAndClearsGd()
    {
        Label mov = default;
        using var k = Kernel(a =>
        {
            mov = a.CreateLabel();
            a.mov(eax, (int)DebugBits.GD);
            a.mov(dr7, eax);
            a.mov(ebx, 0x55);
            a.Label(ref mov);
            a.mov(ebx, dr0);            // #DB fault; re-executed after the handler (GD now clear)
        });
        k.Run();
        HaltedCleanly(k);
        var log = Log(k);
        Assert.Single(log);
        Assert.Equal(k.Addr(mov), log[0].Eip);
        Assert.Equal(Dr6(DebugBits.BD), log[0].Dr6);
        Assert.Equal(0u, log[0].Dr7 & DebugBits.GD);
        Assert.Equal(0u, k.Cpu.Ebx);     // DR0 read on the second try
    }

    [Fact]
    public void TaskSwitchIntoTssWithTBitTrapsBeforeTheFirstInstruction()
    {
        Label task = default;
        using var k = Kernel(a =>
        {
            task = a.CreateLabel();
            var skip = a.CreateLabel();
            a.jmp(0x50, 0);
            a.Label(ref task);
            a.mov(esi, 0x77);
            a.hlt();
            a.Label(ref skip);
        });
        k.SetGdt(10, Descriptor.Build(K.SpareTssBase, 0x67, 0x89, 0));
        k.WriteTss(K.SpareTssBase, k.Addr(task), 0x68000);
        k.Write16(K.SpareTssBase + 0x64, 1); // T
        k.Run();
        HaltedCleanly(k);
        var log = Log(k);
        Assert.Single(log);
        Assert.Equal(k.Addr(task), log[0].Eip);
        Assert.Equal(Dr6(DebugBits.BT), log[0].Dr6);
        Assert.Equal(0x77u, k.Cpu.Esi);
    }

    [Fact]
    public void FaultsPushRfSetAndTrapsDoNot()
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            a.Label(ref bad);
            a.ud2();
            a.hlt();
        });
        k.Run();
        Assert.Equal((uint)Vectors.UD, k.Vector);
        Assert.Equal(k.Addr(bad), k.FaultEip);
        Assert.Equal(EFlags.RF, k.FaultEflags & EFlags.RF);

        using var t = new K(a =>
        {
            a.int3();
            a.hlt();
        });
        t.Run();
        Assert.Equal((uint)Vectors.BP, t.Vector);
        Assert.Equal(0u, t.FaultEflags & EFlags.RF);
    }

    [Fact]
    public void CpuidReportsDe()
    {
        using var k = new K(a =>
        {
            a.mov(eax, 1);
            a.cpuid();
            a.hlt();
        });
        k.Run();
        Assert.Equal(1u << 2, k.Cpu.Edx & (1u << 2));
    }

    [Fact]
    public void SingleStepTrapsAfterEachIterationOfARepString()
    {
        Label rep = default, after = default;
        using var k = Kernel(a =>
        {
            rep = a.CreateLabel();
            after = a.CreateLabel();
            a.mov(edi, Data + 0x600);
            a.mov(ecx, 3);
            a.mov(al, 0x5A);
            a.cld();
            SetTf(a);
            a.Label(ref rep);
            a.rep.stosb();
            a.Label(ref after);
            ClearTf(a);
        });
        k.Run();
        HaltedCleanly(k);
        var eips = Log(k).Select(e => e.Eip).Take(3).ToList();
        Assert.Equal([k.Addr(rep), k.Addr(rep), k.Addr(after)], eips);
        Assert.Equal(0x005A5A5Au, k.Read32(Data + 0x600));
    }
}
