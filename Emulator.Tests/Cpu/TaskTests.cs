using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using K = Emulator.Tests.Cpu.SystemKernel;

namespace Emulator.Tests.Cpu;

public class TaskTests
{
    private const ushort Tss2Sel = 0x50;
    private const ushort TaskGateSel = 0x58;
    private const uint Tss2 = K.SpareTssBase;

    private static byte AccessByte(K k, int index) => (byte)(k.GetGdt(index) >> 40);

    [Fact]
    public void DoubleFaultThroughTaskGateRunsOnItsOwnStack()
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            a.mov(ax, 0x50);
            a.mov(ss, ax);                  // a 16-byte stack...
            a.mov(esp, 2);
            a.Label(ref bad);
            a.push(eax);                    // ... overflows: #SS, whose delivery overflows again: #DF
            a.hlt();
        });
        k.SetGdt(10, Descriptor.Build(0x70000, 0xF, 0x93, 0x4));
        k.SetIdt(8, Descriptor.Gate(Descriptor.TaskGate, K.DfTssSel, 0, 0));
        k.Run();
        var c = k.Cpu;
        Assert.Equal(8u, k.Vector);
        Assert.Equal(0u, k.ErrorCode);               // popped from the double-fault task's stack
        Assert.Equal(1u, k.Count);
        Assert.Equal(K.DfStackTop, c.Esp);
        Assert.Equal(K.DfTssSel, c.Tr.Selector);
        Assert.Equal(0x8B, AccessByte(k, 6));         // new task busy
        Assert.Equal(0x8B, AccessByte(k, 5));         // the interrupted task stays busy (nesting)
        Assert.Equal((uint)K.TssSel, k.Read32(K.DfTssBase) & 0xFFFF); // back link
        Assert.Equal(EFlags.NT, c.GetEflags() & EFlags.NT);
        Assert.Equal(Cr0Bits.TS, c.Cr0 & Cr0Bits.TS);
        Assert.Equal(k.Addr(bad), k.Read32(K.TssBase + 0x20));   // the faulting instruction
        Assert.Equal(2u, k.Read32(K.TssBase + 0x38));              // its ESP
        Assert.Equal(0x50u, k.Read32(K.TssBase + 0x50) & 0xFFFF);   // and SS
        Assert.Equal(K.KernelCode, c.Seg(SegReg.CS).Selector);
        Assert.Equal(K.KernelData, c.Seg(SegReg.SS).Selector);
        Assert.Equal(1, c.ExceptionCounts[8]);
        Assert.Equal(1, c.TaskSwitches);
    }

    [Fact]
    public void JumpToTssAndBackSavesAndRestoresState()
    {
        Label back = default;
        Label task2 = default;
        Label task2Jump = default;
        using var k = new K(a =>
        {
            back = a.CreateLabel();
            task2 = a.CreateLabel();
            task2Jump = a.CreateLabel();
            a.mov(eax, 0x11111111);
            a.mov(ebx, 0x22222222);
            a.jmp(Tss2Sel, 0);
            a.Label(ref back);
            a.mov(esi, 0x55);
            a.hlt();

            a.Label(ref task2);
            a.mov(__dword_ptr[K.Scratch], eax);
            a.str(ecx);
            a.mov(__dword_ptr[K.Scratch + 4], ecx);
            a.mov(__dword_ptr[K.Scratch + 8], esp);
            a.mov(edx, 0x99);
            a.Label(ref task2Jump);
            a.jmp(K.TssSel, 0);
        });
        k.SetGdt(10, Descriptor.Build(Tss2, 0x67, 0x89, 0));
        k.WriteTss(Tss2, k.Addr(task2), 0x68000);
        k.Write32(Tss2 + 0x28, 0xAAAA0000);
        k.Run();
        var c = k.Cpu;
        Assert.Equal(0xAAAA0000u, k.Read32(K.Scratch));
        Assert.Equal((uint)Tss2Sel, k.Read32(K.Scratch + 4));
        Assert.Equal(0x68000u, k.Read32(K.Scratch + 8));
        Assert.Equal(0x11111111u, c.Eax);
        Assert.Equal(0x22222222u, c.Ebx);
        Assert.Equal(0x55u, c.Esi);
        Assert.Equal(K.TssSel, c.Tr.Selector);
        Assert.Equal(0x8B, AccessByte(k, 5));
        Assert.Equal(0x89, AccessByte(k, 10));        // JMP clears the old task's busy bit
        Assert.Equal(k.Addr(task2Jump) + 7, k.Read32(Tss2 + 0x20)); // saved EIP: after the JMP
        Assert.Equal(0x99u, k.Read32(Tss2 + 0x30));
        Assert.Equal(0u, k.Read32(Tss2) & 0xFFFF);    // no back link for JMP
        Assert.Equal(0u, c.GetEflags() & EFlags.NT);
        Assert.Equal(Cr0Bits.TS, c.Cr0 & Cr0Bits.TS);
        Assert.Equal(2, c.TaskSwitches);
        Assert.Equal(0u, k.Count);
    }

    [Fact]
    public void CallThroughTaskGateNestsAndIretReturns()
    {
        Label after = default;
        Label task2 = default;
        Label resume = default;
        using var k = new K(a =>
        {
            after = a.CreateLabel();
            task2 = a.CreateLabel();
            resume = a.CreateLabel();
            a.call(TaskGateSel, 0);
            a.Label(ref after);
            a.mov(esi, 0x77);
            a.hlt();

            a.Label(ref task2);
            a.mov(ebx, __dword_ptr[Tss2]);   // back link
            a.mov(__dword_ptr[K.Scratch], ebx);
            a.@int(0x60);                     // the stub records EFLAGS (NT set)
            a.iretd();                        // NT = 1: return to the linked task
            a.Label(ref resume);
            a.iretd();
        });
        k.SetGdt(10, Descriptor.Build(Tss2, 0x67, 0x89, 0));
        k.SetGdt(11, Descriptor.Gate(Descriptor.TaskGate, Tss2Sel, 0, 0));
        k.WriteTss(Tss2, k.Addr(task2), 0x68000);
        k.Hook(0x60, resume);
        k.Run();
        var c = k.Cpu;
        Assert.Equal((uint)K.TssSel, k.Read32(K.Scratch) & 0xFFFF);
        Assert.Equal(0x60u, k.Vector);
        Assert.Equal(EFlags.NT, k.FaultEflags & EFlags.NT);
        Assert.Equal(0x77u, c.Esi);
        Assert.Equal(K.TssSel, c.Tr.Selector);
        Assert.Equal(0x8B, AccessByte(k, 5));
        Assert.Equal(0x89, AccessByte(k, 10));          // IRET clears the returning task's busy bit
        Assert.Equal(0u, k.Read32(Tss2 + 0x24) & EFlags.NT); // and NT in its saved image
        Assert.Equal(0u, c.GetEflags() & EFlags.NT);
        Assert.Equal(K.Ring0StackTop, c.Esp);
        Assert.Equal(2, c.TaskSwitches);
    }

    [Fact]
    public void JumpToBusyTssIsGp()
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            a.Label(ref bad);
            a.jmp(K.TssSel, 0);
            a.hlt();
        });
        k.Run();
        Assert.Equal(13u, k.Vector);
        Assert.Equal((uint)K.TssSel, k.ErrorCode);
        Assert.Equal(k.Addr(bad), k.FaultEip);
        Assert.Equal(0, k.Cpu.TaskSwitches);
    }

    [Fact]
    public void TssLimitBelowMinimumIsTsBeforeAnythingChanges()
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            a.Label(ref bad);
            a.jmp(Tss2Sel, 0);
            a.hlt();
        });
        k.SetGdt(10, Descriptor.Build(Tss2, 0x60, 0x89, 0));
        k.Run();
        Assert.Equal(10u, k.Vector);
        Assert.Equal((uint)Tss2Sel, k.ErrorCode);
        Assert.Equal(k.Addr(bad), k.FaultEip);
        Assert.Equal(K.TssSel, k.Cpu.Tr.Selector);
        Assert.Equal(0x8B, AccessByte(k, 5));
    }

    [Fact]
    public void BadStackInNewTaskFaultsAfterTheCommitPoint()
    {
        Label task2 = default;
        using var k = new K(a =>
        {
            task2 = a.CreateLabel();
            a.jmp(Tss2Sel, 0);
            a.hlt();
            a.Label(ref task2);
            a.hlt();
        });
        k.SetGdt(10, Descriptor.Build(Tss2, 0x67, 0x89, 0));
        k.WriteTss(Tss2, k.Addr(task2), 0x68000);
        k.Write16(Tss2 + 0x50, K.UserData);            // SS RPL 3 with CS RPL 0: #TS(SS)
        k.Run();
        var c = k.Cpu;
        Assert.Equal(10u, k.Vector);
        Assert.Equal(0x20u, k.ErrorCode);
        Assert.Equal(k.Addr(task2), k.FaultEip);        // the new task's EIP
        Assert.Equal((uint)K.KernelCode, k.FaultCs);
        Assert.Equal(Tss2Sel, c.Tr.Selector);           // the switch completed
        Assert.Equal((uint)K.UserData, k.Read32(K.RecSs) & 0xFFFF); // delivered through the ring-0 stack
        Assert.Equal(0x89, AccessByte(k, 5));
        Assert.Equal(0x8B, AccessByte(k, 10));
    }

    [Fact]
    public void BadRing0StackInTssEndsInTheDoubleFaultTask()
    {
        Label user = default;
        using var k = new K(a =>
        {
            user = a.CreateLabel();
            K.EnterRing3(a, 0);
            a.Label(ref user);
            a.@int(0x80);
            a.hlt();
        });
        k.SetSymbol(0, user);
        k.SetInterruptGate(0x80, k.Addr(user), dpl: 3);
        k.Write16(K.TssBase + 8, K.UserData);              // SS0 with RPL 3: #TS(0x20)...
        k.SetIdt(8, Descriptor.Gate(Descriptor.TaskGate, K.DfTssSel, 0, 0));
        k.Run();
        var c = k.Cpu;
        Assert.Equal(8u, k.Vector);                        // ... #TS again delivering it: #DF
        Assert.Equal(2, c.ExceptionCounts[Vectors.TS]);
        Assert.Equal(K.DfTssSel, c.Tr.Selector);
        Assert.Equal(k.Addr(user), k.Read32(K.TssBase + 0x20));  // the INT, as the first #TS is a fault
        Assert.Equal((uint)K.UserCode, k.Read32(K.TssBase + 0x4C) & 0xFFFF);
    }
}
