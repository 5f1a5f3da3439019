using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using K = Emulator.Tests.Cpu.SystemKernel;

namespace Emulator.Tests.Cpu;

public class InterruptTests
{
    [Fact]
    public void IntNPushesNextEipAndIretReturns()
    {
        Label after = default;
        Label handler = default;
        using var k = new K(a =>
        {
            after = a.CreateLabel();
            handler = a.CreateLabel();
            a.stc();
            a.@int(0x30);
            a.Label(ref after);
            a.mov(ebx, esp);
            a.hlt();
            a.Label(ref handler);
            a.mov(esi, __dword_ptr[esp]);
            a.mov(ecx, __dword_ptr[esp + 4]);
            a.mov(edi, __dword_ptr[esp + 8]);
            a.clc();
            a.iretd();
        });
        k.SetInterruptGate(0x30, handler);
        k.Run();
        var c = k.Cpu;
        Assert.Equal(k.Addr(after), c.Esi);
        Assert.Equal((uint)K.KernelCode, c.Ecx);
        Assert.Equal(EFlags.CF, c.Edi & EFlags.CF);
        Assert.Equal(K.Ring0StackTop, c.Ebx);
        Assert.Equal(EFlags.CF, c.GetEflags() & EFlags.CF); // restored by IRET
        Assert.Equal(0u, k.Count);
    }

    [Fact]
    public void Ring3InterruptSwitchesToTheTssStackAndIretReturnsToRing3()
    {
        Label user = default;
        Label handler = default;
        Label userHalt = default;
        using var k = new K(a =>
        {
            user = a.CreateLabel();
            handler = a.CreateLabel();
            userHalt = a.CreateLabel();
            K.EnterRing3(a, 0, interrupts: true);

            a.Label(ref user);
            a.mov(eax, 0x1234);
            a.@int(0x80);
            a.mov(ebp, esp);
            a.mov(__word_ptr[K.Scratch], ss);
            a.Label(ref userHalt);
            a.hlt();

            a.Label(ref handler);
            a.mov(ebx, esp);
            a.mov(ecx, __dword_ptr[esp + 12]);  // user ESP
            a.mov(edx, __dword_ptr[esp + 16]);  // user SS
            a.mov(esi, ss);
            a.mov(edi, __dword_ptr[esp + 8]);   // user EFLAGS
            a.iretd();
        });
        k.SetSymbol(0, user);
        k.SetInterruptGate(0x80, handler, dpl: 3);
        k.Run();
        var c = k.Cpu;
        Assert.Equal(K.Ring0StackTop - 20, c.Ebx);
        Assert.Equal(K.Ring3StackTop, c.Ecx);
        Assert.Equal((uint)K.UserData, c.Edx);
        Assert.Equal((uint)K.KernelData, c.Esi);
        Assert.Equal(EFlags.IF, c.Edi & EFlags.IF);
        Assert.Equal(K.Ring3StackTop, c.Ebp);
        Assert.Equal((uint)K.UserData, k.Read32(K.Scratch) & 0xFFFF);
        Assert.Equal(13u, k.Vector);                 // the ring-3 HLT
        Assert.Equal(k.Addr(userHalt), k.FaultEip);
    }

    [Fact]
    public void SoftwareInterruptThroughGateOfLowerDplIsGp()
    {
        Label user = default;
        using var k = new K(a =>
        {
            user = a.CreateLabel();
            K.EnterRing3(a, 0);
            a.Label(ref user);
            a.@int(0x31);
            a.hlt();
        });
        k.SetSymbol(0, user);
        k.Run();
        Assert.Equal(13u, k.Vector);
        Assert.Equal((0x31u << 3) | 2, k.ErrorCode);
        Assert.Equal(k.Addr(user), k.FaultEip);
        Assert.Equal((uint)K.UserCode, k.FaultCs);
    }

    [Fact]
    public void GateNotPresentIsNpAndBeyondIdtLimitIsGp()
    {
        Label first = default;
        using var k = new K(a =>
        {
            first = a.CreateLabel();
            a.Label(ref first);
            a.@int(0x32);
            a.hlt();
        });
        k.SetIdt(0x32, Descriptor.Gate(Descriptor.InterruptGate32, K.KernelCode, 0, 0) & ~(1UL << 47));
        k.Run();
        Assert.Equal(11u, k.Vector);
        Assert.Equal((0x32u << 3) | 2, k.ErrorCode);
        Assert.Equal(k.Addr(first), k.FaultEip);

        using var k2 = new K(a =>
        {
            a.@int(0x40);
            a.hlt();
        });
        k2.Write16(K.Records + 0x108, (0x40 * 8) - 1);
        k2.Run();
        Assert.Equal(13u, k2.Vector);
        Assert.Equal((0x40u << 3) | 2, k2.ErrorCode);
    }

    [Fact]
    public void Int3AndIntoAreTrapsWithNextEip()
    {
        Label afterInt3 = default;
        Label afterInto = default;
        Label handler3 = default;
        using var k = new K(a =>
        {
            afterInt3 = a.CreateLabel();
            afterInto = a.CreateLabel();
            handler3 = a.CreateLabel();
            a.int3();
            a.Label(ref afterInt3);
            a.xor(eax, eax);
            a.into();                          // OF clear: nothing
            a.mov(eax, 0x7FFFFFFF);
            a.add(eax, 1);                     // OF set
            a.into();
            a.Label(ref afterInto);
            a.hlt();
            a.Label(ref handler3);
            a.mov(ebx, __dword_ptr[esp]);
            a.iretd();
        });
        k.Hook(3, handler3);
        k.Run();
        Assert.Equal(k.Addr(afterInt3), k.Cpu.Ebx);
        Assert.Equal(4u, k.Vector);
        Assert.Equal(k.Addr(afterInto), k.FaultEip);
        Assert.Equal(2u, k.Count);
    }

    [Fact]
    public void BoundOutOfRangeIsBrFaultAtTheBound()
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            a.mov(__dword_ptr[K.DataBase], unchecked((uint)-5));
            a.mov(__dword_ptr[K.DataBase + 4], 10);
            a.mov(eax, unchecked((uint)-5));
            a.bound(eax, __[K.DataBase]);
            a.mov(eax, 10);
            a.bound(eax, __[K.DataBase]);
            a.mov(eax, 11);
            a.Label(ref bad);
            a.bound(eax, __[K.DataBase]);
            a.hlt();
        });
        k.Run();
        Assert.Equal(5u, k.Vector);
        Assert.Equal(0xFFFFFFFFu, k.ErrorCode);
        Assert.Equal(k.Addr(bad), k.FaultEip);
    }

    [Fact]
    public void FaultDuringDeliveryOfAnExceptionCarriesTheExtBit()
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            a.Label(ref bad);
            a.ud2();
            a.hlt();
        });
        // #UD's gate names a data segment: delivering #UD raises #GP(0x10 | EXT), which is benign
        // after #UD and so is delivered on its own.
        k.SetIdt(6, Descriptor.Gate(Descriptor.InterruptGate32, K.KernelData, 0x1000, 0));
        k.Run();
        Assert.Equal(13u, k.Vector);
        Assert.Equal(0x11u, k.ErrorCode);
        Assert.Equal(k.Addr(bad), k.FaultEip);
    }

    [Fact]
    public void ContributoryDuringContributoryIsDoubleFault()
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            a.xor(eax, eax);
            a.mov(ds, ax);
            a.Label(ref bad);
            a.mov(eax, __dword_ptr[0]);         // #GP(0) ...
            a.hlt();
        });
        // ... whose gate is not present: #NP during #GP gives #DF (error code 0).
        k.SetIdt(13, Descriptor.Gate(Descriptor.InterruptGate32, K.KernelCode, 0, 0) & ~(1UL << 47));
        k.Run();
        Assert.Equal(8u, k.Vector);
        Assert.Equal(0u, k.ErrorCode);
        Assert.Equal(k.Addr(bad), k.FaultEip);
        Assert.Equal(1, k.Cpu.ExceptionCounts[8]);
    }

    [Fact]
    public void TripleFaultShutsDownCleanly()
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            a.xor(eax, eax);
            a.lidt(__[K.Scratch]);             // an empty IDT
            a.Label(ref bad);
            a.ud2();
            a.hlt();
        });
        k.Run();
        var c = k.Cpu;
        Assert.Equal(RunState.Shutdown, c.State);
        Assert.NotNull(c.Shutdown);
        Assert.Equal("triple fault", c.Shutdown!.Reason);
        Assert.Equal(Vectors.DF, c.Shutdown.FirstVector);
        Assert.Equal(Vectors.GP, c.Shutdown.SecondVector);
        Assert.Equal(k.Addr(bad), c.Shutdown.Eip);
        Assert.Equal(k.Addr(bad), c.Eip);
        Assert.Equal(K.KernelCode, c.Shutdown.Cs);
        Assert.Equal(-1, c.PendingVector);
        Assert.Equal(0u, k.Count);
        Assert.Equal(0, c.Run(long.MaxValue, 100));  // a shut-down CPU runs nothing more
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InterruptGateClearsIfAndTrapGateKeepsIt(bool trap)
    {
        Label handler = default;
        using var k = new K(a =>
        {
            handler = a.CreateLabel();
            a.sti();
            a.@int(0x50);
            a.Label(ref handler);
            a.hlt();
        });
        k.SetInterruptGate(0x50, handler, trap: trap);
        k.Run();
        Assert.Equal(trap ? EFlags.IF : 0u, k.Cpu.GetEflags() & EFlags.IF);
        Assert.Equal(0u, k.Cpu.GetEflags() & EFlags.TF);
    }

    [Fact]
    public void IretToRing3NullsKernelDataSegmentsAndLoadsIopl()
    {
        Label user = default;
        using var k = new K(a =>
        {
            user = a.CreateLabel();
            a.mov(ax, K.UserData);
            a.mov(fs, ax);
            a.mov(ax, K.KernelData);
            a.mov(gs, ax);
            a.mov(es, ax);
            a.push(K.UserData);
            a.push(K.Ring3StackTop);
            a.push(0x3002);                    // IOPL 3 from CPL 0: allowed
            a.push(K.UserCode);
            a.push(__dword_ptr[K.Symbol(0)]);
            a.iretd();
            a.Label(ref user);
            a.mov(ebx, gs);
            a.mov(ecx, es);
            a.mov(edx, fs);
            a.mov(edi, cs);
            a.hlt();
        });
        k.SetSymbol(0, user);
        k.Run();
        var c = k.Cpu;
        Assert.Equal(0u, c.Ebx);
        Assert.Equal(0u, c.Ecx);
        Assert.Equal((uint)K.UserData, c.Edx);
        Assert.Equal((uint)K.UserCode, c.Edi);
        Assert.Equal(13u, k.Vector);
        Assert.Equal(0x3000u, k.FaultEflags & EFlags.IOPL);
        Assert.Equal((uint)K.UserCode, k.FaultCs);
    }

    [Fact]
    public void IretAtCpl3CannotRaiseIoplOrChangeIf()
    {
        Label user = default;
        Label back = default;
        using var k = new K(a =>
        {
            user = a.CreateLabel();
            back = a.CreateLabel();
            K.EnterRing3(a, 0, interrupts: true);
            a.Label(ref user);
            a.push(0x3002);                    // IOPL 3, IF 0: both ignored at CPL 3 with IOPL 0
            a.push(K.UserCode);
            a.push(__dword_ptr[K.Symbol(1)]);
            a.iretd();
            a.Label(ref back);
            a.hlt();
        });
        k.SetSymbol(0, user);
        k.SetSymbol(1, back);
        k.Run();
        Assert.Equal(13u, k.Vector);
        Assert.Equal(k.Addr(back), k.FaultEip);
        Assert.Equal(0u, k.FaultEflags & EFlags.IOPL);
        Assert.Equal(EFlags.IF, k.FaultEflags & EFlags.IF);
    }

    [Fact]
    public void RealModeIntUsesTheIvtAndIretReturns()
    {
        using var h = CpuHarness.Real16(a =>
        {
            a.sti();
            a.@int(0x21);
            a.mov(bx, ax);
            a.hlt();
        });
        h.Load(16, 0x3000, a =>
        {
            a.mov(bp, sp);
            a.mov(dx, __word_ptr[bp + 4]);     // pushed FLAGS
            a.mov(si, __word_ptr[bp + 2]);     // pushed CS
            a.mov(ax, 0x4321);
            a.iret();
        });
        h.Memory.Write32(0x21 * 4, 0x0300_0000); // 0300:0000
        h.RunToHalt();
        var c = h.Cpu;
        Assert.Equal(0x4321u, c.Ebx & 0xFFFF);
        Assert.Equal(EFlags.IF, c.Edx & EFlags.IF);
        Assert.Equal(0u, c.Esi & 0xFFFF);
        Assert.Equal(EFlags.IF, c.GetEflags() & EFlags.IF);
        Assert.Equal(0x8000u, c.Esp);
    }
}
