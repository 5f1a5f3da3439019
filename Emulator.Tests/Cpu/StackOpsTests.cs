using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Cpu;

public class StackOpsTests
{
    private const uint Top = CpuHarness.StackTop;

    // ------------------------------------------------------------------ PUSHA / POPA

    [Fact]
    public void PushadStoresEveryRegisterWithTheOriginalEsp()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, 0xA0);
            asm.mov(ecx, 0xC0);
            asm.mov(edx, 0xD0);
            asm.mov(ebx, 0xB0);
            asm.mov(ebp, 0xBB);
            asm.mov(esi, 0x51);
            asm.mov(edi, 0xD1);
            asm.pushad();
            asm.hlt();
        });
        TestSystem.RunToHlt(h);
        Assert.Equal(Top - 32, h.Cpu.Esp);
        uint[] expected = [0xD1, 0x51, 0xBB, Top, 0xB0, 0xD0, 0xC0, 0xA0];
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(expected[i], h.Memory.Read32(Top - 32 + (uint)(i * 4)));
        }
    }

    [Fact]
    public void PopadRestoresEverythingButEspFromTheStack()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, 1);
            asm.mov(ecx, 2);
            asm.mov(edx, 3);
            asm.mov(ebx, 4);
            asm.mov(ebp, 5);
            asm.mov(esi, 6);
            asm.mov(edi, 7);
            asm.pushad();
            asm.mov(__dword_ptr[esp + 12], 0xDEAD); // the saved ESP slot is ignored by POPAD
            asm.mov(eax, 0);
            asm.mov(ecx, 0);
            asm.mov(edx, 0);
            asm.mov(ebx, 0);
            asm.mov(ebp, 0);
            asm.mov(esi, 0);
            asm.mov(edi, 0);
            asm.popad();
            asm.hlt();
        });
        TestSystem.RunToHlt(h);
        Assert.Equal(Top, h.Cpu.Esp);
        Assert.Equal([1u, 2, 3, 4, Top, 5, 6, 7], Enumerable.Range(0, 8).Select(r => h.Cpu.R(r)).ToArray());
    }

    [Fact]
    public void SixteenBitPushaPopaUseWordsAndKeepUpperHalves()
    {
        using var h = CpuHarness.Real16(asm =>
        {
            asm.mov(eax, 0x11110001);
            asm.mov(ecx, 0x22220002);
            asm.mov(ebx, 0x33330003);
            asm.mov(edi, 0x44440004);
            asm.pusha();
            asm.mov(ax, 0);
            asm.mov(cx, 0);
            asm.mov(bx, 0);
            asm.mov(di, 0);
            asm.popa();
            asm.hlt();
        });
        TestSystem.RunToHlt(h);
        Assert.Equal(0x8000u, h.Cpu.Esp);
        Assert.Equal(0x11110001u, h.Cpu.Eax);
        Assert.Equal(0x22220002u, h.Cpu.Ecx);
        Assert.Equal(0x33330003u, h.Cpu.Ebx);
        Assert.Equal(0x44440004u, h.Cpu.Edi);
        Assert.Equal(0x8000, h.Memory.Read16(0x8000 - 10)); // the SP slot
        Assert.Equal(0x0004, h.Memory.Read16(0x8000 - 16)); // DI pushed last
    }

    [Fact]
    public void PushadThatFaultsPartWayLeavesEspUnchanged()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esp, 0x80008);
            asm.mov(eax, 0x1234);
            asm.pushad();
            asm.hlt();
        });
        TestSystem.EnablePaging(h);
        TestSystem.Map(h, 0x7F000, 0x7F000, flags: 0);
        h.Cpu.Run(long.MaxValue, 1_000_000);

        // The #PF cannot be delivered on that stack either (no IDT here): the CPU shuts down
        // with the registers as the faulting PUSHAD found them.
        Assert.Equal(RunState.Shutdown, h.Cpu.State);
        Assert.True(h.Cpu.ExceptionCounts[Vectors.PF] >= 1);
        Assert.Equal(0x7FFFCu, h.Cpu.Cr2);
        Assert.Equal(0x80008u, h.Cpu.Esp);
        Assert.Equal(0x1234u, h.Cpu.Eax);
    }

    [Fact]
    public void PopadBeyondTheStackLimitChangesNothing()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, 0xAAAA);
            asm.mov(edi, 0xDDDD);
            asm.popad();
            asm.hlt();
        });
        TestSystem.InstallFaultHandlers(h);
        h.Cpu.Seg(SegReg.SS) = TestSystem.DataSegment(0, Top + 0xF);
        TestSystem.RunToHlt(h);
        Assert.Equal(1L, h.Cpu.ExceptionCounts[Vectors.SS]);
        Assert.Equal(Top - 16, h.Cpu.Esp); // just the exception frame
        Assert.Equal(0xAAAAu, h.Cpu.Eax);
        Assert.Equal(0xDDDDu, h.Cpu.Edi);
    }

    // ------------------------------------------------------------------ PUSHF / POPF

    [Fact]
    public void PushfdClearsVmAndRfInTheImage()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.stc();
            asm.pushfd();
            asm.db(0x66, 0x9C); // pushf (16-bit)
            asm.hlt();
        });
        h.Cpu.SetEflags(EFlags.Reserved1 | EFlags.RF | EFlags.AC | EFlags.ID | EFlags.DF);
        TestSystem.RunToHlt(h);
        uint image = h.Memory.Read32(Top - 4);
        Assert.Equal(EFlags.Reserved1 | EFlags.AC | EFlags.ID | EFlags.DF | EFlags.CF, image);
        Assert.Equal(image & 0xFFFF, h.Memory.Read16(Top - 6));
        Assert.Equal(Top - 6, h.Cpu.Esp);
    }

    private const uint R1 = EFlags.Reserved1;
    private const uint AcId = EFlags.AC | EFlags.ID;

    [Theory]
    [InlineData(0, R1, 4, 0x00243AD7u, 0x00243AD7u)] // CPL 0: IF and IOPL change, so do AC, ID, NT and the status flags
    [InlineData(3, R1 | AcId, 4, 0x00003ED7u, R1 | 0xCD5u)] // CPL > IOPL: IF and IOPL kept, silently
    [InlineData(1, R1 | AcId | 0x2000u, 4, 0x00001202u, R1 | 0x2000u | EFlags.IF)] // CPL <= IOPL: IF changes, IOPL kept
    [InlineData(0, R1 | AcId | EFlags.IOPL, 2, 0x00000002u, R1 | AcId)] // 16-bit: the high half is kept
    [InlineData(0, R1 | EFlags.RF | EFlags.VIF, 4, 0x001F0002u, R1 | EFlags.AC | EFlags.VIF)] // VM, VIF, VIP kept; RF cleared
    public void PopfFollowsThePrivilegeRules(int cpl, uint before, int size, uint popped, uint expected)
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            if (size == 4)
            {
                asm.push((int)popped);
                asm.popfd();
            }
            else
            {
                asm.sub(esp, 2);
                asm.mov(__word_ptr[esp], (ushort)popped);
                asm.db(0x66, 0x9D); // popf (16-bit)
            }

            asm.nop();
        });
        h.Cpu.SetEflags(before);
        h.Cpu.SetCpl(cpl);
        h.Cpu.Run(long.MaxValue, instructionLimit: size == 4 ? 2 : 3);
        Assert.Equal(expected, h.Flags);
        Assert.Equal(Top, h.Cpu.Esp);
    }

    [Fact]
    public void PopfThatSetsIfLetsAPendingInterruptInBeforeTheNextInstruction()
    {
        var irq = new Interrupts();
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.push((int)(EFlags.Reserved1 | EFlags.IF));
            asm.popfd();
            asm.mov(eax, 1);
            asm.hlt();
        });
        TestSystem.InstallFaultHandlers(h);
        h.Cpu.Interrupts = irq;
        TestSystem.RunToHlt(h);
        Assert.Equal(TestSystem.FaultHandler + 1, h.Cpu.Eip);
        Assert.Equal(0u, h.Cpu.Eax);
        uint returnEip = h.Memory.Read32(h.Cpu.Esp);
        Assert.Equal(0xB8, h.Memory.Read8(returnEip)); // the MOV after POPFD
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void V86PushfPopfNeedIopl3(bool popf)
    {
        using var h = CpuHarness.Real16(asm =>
        {
            asm.push(0x0202);
            if (popf)
            {
                asm.popf();
            }
            else
            {
                asm.pushf();
            }

            asm.nop();
        });
        EnterV86(h, iopl: 0);
        h.Cpu.Run(long.MaxValue, instructionLimit: 2);
        Assert.True(h.Cpu.ExceptionCounts[Vectors.GP] >= 1);
        Assert.Equal(0x8000u - 2, h.Cpu.Esp);
        Assert.Equal(0u, h.Flags & EFlags.IF);
    }

    [Fact]
    public void V86PopfWithIopl3ChangesIfButNotIopl()
    {
        using var h = CpuHarness.Real16(asm =>
        {
            asm.push(0x0203);
            asm.popf();
            asm.pushf();
            asm.nop();
        });
        EnterV86(h, iopl: 3);
        h.Cpu.Run(long.MaxValue, instructionLimit: 3);
        Assert.Equal(0L, h.Cpu.ExceptionCounts[Vectors.GP]);
        Assert.Equal(EFlags.VM | EFlags.IOPL | EFlags.IF | EFlags.CF | EFlags.Reserved1, h.Flags);
        Assert.Equal(0x3203, h.Memory.Read16(0x8000 - 2));
    }

    private static void EnterV86(CpuHarness h, int iopl)
    {
        h.Cpu.Cr0 |= Cr0Bits.PE;
        h.Cpu.SetEflags(EFlags.Reserved1 | EFlags.VM | ((uint)iopl << 12));
        h.Cpu.SetCpl(3);
    }

    // ------------------------------------------------------------------ ENTER / LEAVE

    [Fact]
    public void EnterLevelZeroBuildsAFrameAndLeaveUndoesIt()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(ebp, 0x12345678);
            asm.enter(0x20, 0);
            asm.mov(ebx, ebp);
            asm.mov(edx, esp);
            asm.leave();
            asm.hlt();
        });
        TestSystem.RunToHlt(h);
        Assert.Equal(Top - 4, h.Cpu.Ebx);
        Assert.Equal(Top - 4 - 0x20, h.Cpu.Edx);
        Assert.Equal(0x12345678u, h.Memory.Read32(Top - 4));
        Assert.Equal(0x12345678u, h.Cpu.Ebp);
        Assert.Equal(Top, h.Cpu.Esp);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(35)] // the level is taken mod 32
    public void EnterWithNestingCopiesTheDisplay(int level)
    {
        const uint outer = 0x70000; // the enclosing frame: [outer] = its saved EBP, below it its display
        int effective = level & 31;
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(ebp, outer);
            asm.enter(8, (byte)level);
            asm.hlt();
        });
        for (uint i = 1; i <= 4; i++)
        {
            h.Memory.Write32(outer - (i * 4), 0xF00 + i);
        }

        TestSystem.RunToHlt(h);
        uint frame = Top - 4;
        Assert.Equal(outer, h.Memory.Read32(frame)); // the old EBP
        for (int i = 1; i < effective; i++)
        {
            Assert.Equal(0xF00u + (uint)i, h.Memory.Read32(frame - (uint)(i * 4)));
        }

        Assert.Equal(frame, h.Memory.Read32(frame - (uint)(effective - 1) * 4 - 4)); // the new frame pointer
        Assert.Equal(frame, h.Cpu.Ebp);
        Assert.Equal(frame - (uint)(effective * 4) - 8, h.Cpu.Esp);
    }

    [Fact]
    public void SixteenBitEnterAndLeaveUseBpAndSp()
    {
        using var h = CpuHarness.Real16(asm =>
        {
            asm.mov(ebp, 0xABCD7000);
            asm.mov(esp, 0x55558000);
            asm.enter(6, 2);
            asm.mov(ebx, ebp);
            asm.mov(edx, esp);
            asm.leave();
            asm.hlt();
        });
        h.Memory.Write16(0x7000 - 2, 0x0BAD);
        TestSystem.RunToHlt(h);
        Assert.Equal(0xABCD7FFEu, h.Cpu.Ebx); // BP = the frame, upper half kept
        Assert.Equal(0x55558000u - 2 - 2 - 2 - 6, h.Cpu.Edx);
        Assert.Equal(0x7000, h.Memory.Read16(0x7FFE));
        Assert.Equal(0x0BAD, h.Memory.Read16(0x7FFC));
        Assert.Equal(0x7FFE, h.Memory.Read16(0x7FFA));
        Assert.Equal(0xABCD7000u, h.Cpu.Ebp);
        Assert.Equal(0x55558000u, h.Cpu.Esp);
    }

    [Fact]
    public void EnterWhoseFinalStackPointerIsOutsideSsFaultsAndChangesNothing()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(ebp, 0x1111);
            asm.enter(0xFFF0, 0);
            asm.hlt();
        });
        TestSystem.InstallFaultHandlers(h);

        // Expand-down stack: offsets above 0x78000 are valid.
        var ss = TestSystem.DataSegment(0, 0x78000);
        ss.AccessRights = 0x97;
        ss.UpdateAccessBounds();
        h.Cpu.Seg(SegReg.SS) = ss;
        TestSystem.RunToHlt(h);
        Assert.Equal(1L, h.Cpu.ExceptionCounts[Vectors.SS]);
        Assert.Equal(Top - 16, h.Cpu.Esp);
        Assert.Equal(0x1111u, h.Cpu.Ebp);
    }

    [Fact]
    public void LeaveOutsideTheStackSegmentFaultsAndKeepsEsp()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(ebp, 0x90000);
            asm.leave();
            asm.hlt();
        });
        TestSystem.InstallFaultHandlers(h);
        h.Cpu.Seg(SegReg.SS) = TestSystem.DataSegment(0, 0x8FFFF);
        TestSystem.RunToHlt(h);
        Assert.Equal(1L, h.Cpu.ExceptionCounts[Vectors.SS]);
        Assert.Equal(Top - 16, h.Cpu.Esp);
        Assert.Equal(0x90000u, h.Cpu.Ebp);
    }

    private sealed class Interrupts : IInterruptSource
    {
        private bool _pending = true;

        public bool HasPendingInterrupt => _pending;

        public int AcknowledgeInterrupt()
        {
            _pending = false;
            return 0x21;
        }
    }
}
