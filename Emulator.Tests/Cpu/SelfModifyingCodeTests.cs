using Emulator.Cpu;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Cpu;

/// <summary>
/// Decoded code must never outlive the bytes it came from: stores by the guest (plain, read-modify-
/// write, page-crossing, string instructions, through another linear alias), writes by the loader,
/// and instructions that straddle a page boundary whose second page changes.
/// </summary>
public class SelfModifyingCodeTests
{
    private const uint Code = CpuHarness.CodeBase;

    private static void AssertBytes(CpuHarness h, uint at, params byte[] expected)
    {
        var b = new byte[expected.Length];
        h.Memory.Read(at, b);
        Assert.Equal(expected, b);
    }

    private static void Restart(CpuHarness h, uint eip)
    {
        h.Cpu.Eip = eip;
        h.Cpu.State = RunState.Running;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StorePatchingAnImmediateLaterInTheSameBlockIsSeen(bool readModifyWrite)
    {
        // Code + 0: mov ebx, Code + 12 (5 bytes); Code + 5: the 3-byte store through EBX;
        // Code + 8: mov eax, 0x11111111, whose immediate's top byte is at Code + 12.
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(ebx, Code + 12);
            if (readModifyWrite)
            {
                asm.add(__byte_ptr[ebx], 0x31);
            }
            else
            {
                asm.mov(__byte_ptr[ebx], 0x42);
            }

            asm.mov(eax, 0x11111111);
            asm.hlt();
        });
        AssertBytes(h, Code + 8, 0xB8, 0x11, 0x11, 0x11, 0x11, 0xF4);
        TestSystem.RunToHlt(h);
        Assert.Equal(0x42111111u, h.Cpu.Eax);
        Assert.Equal(1, h.Code.BlocksInvalidated);
    }

    [Fact]
    public void StorePatchingALoopBodyTakesEffectOnTheNextIteration()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            var loop = asm.CreateLabel();
            asm.xor(edx, edx);                      // Code + 0 (2 bytes)
            asm.mov(ecx, 2);                        // Code + 2 (5)
            asm.Label(ref loop);
            asm.mov(eax, 0x11111111);               // Code + 7: immediate at Code + 8 .. 11
            asm.add(edx, eax);
            asm.mov(__byte_ptr[Code + 11], 0x22);
            asm.dec(ecx);
            asm.jne(loop);
            asm.hlt();
        });
        AssertBytes(h, Code + 7, 0xB8, 0x11, 0x11, 0x11, 0x11);
        TestSystem.RunToHlt(h);
        Assert.Equal(0x11111111u + 0x22111111u, h.Cpu.Edx);
        Assert.True(h.Code.BlocksInvalidated >= 1);
    }

    [Fact]
    public void RepMovsbCopyingNewCodeOverASubroutineIsSeen()
    {
        const uint sub = Code + 0x100;
        const uint fresh = CpuHarness.DataBase;
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, sub);
            asm.call(eax);
            asm.mov(edx, ebx);
            asm.mov(esi, fresh);
            asm.mov(edi, sub);
            asm.mov(ecx, 6);
            asm.rep.movsb();
            asm.mov(eax, sub);
            asm.call(eax);
            asm.hlt();
        });
        h.Load(32, sub, asm =>
        {
            asm.mov(ebx, 1);
            asm.ret();
        });
        h.Load(32, fresh, asm =>
        {
            asm.mov(ebx, 2);
            asm.ret();
        });
        long before = h.Code.BlocksInvalidated;
        TestSystem.RunToHlt(h);
        Assert.Equal(1u, h.Cpu.Edx);
        Assert.Equal(2u, h.Cpu.Ebx);
        Assert.True(h.Code.BlocksInvalidated > before);
    }

    [Fact]
    public void RepStosbOverwritingCodeWithNopsIsSeen()
    {
        const uint sub = Code + 0x100;
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, sub);
            asm.call(eax);
            asm.mov(edx, ebx);
            asm.mov(edi, sub);
            asm.mov(ecx, 5);
            asm.mov(al, 0x90);
            asm.rep.stosb();
            asm.mov(ebx, 7);
            asm.mov(eax, sub);
            asm.call(eax);
            asm.hlt();
        });
        h.Load(32, sub, asm =>
        {
            asm.mov(ebx, 1);
            asm.ret();
        });
        TestSystem.RunToHlt(h);
        Assert.Equal(1u, h.Cpu.Edx);
        Assert.Equal(7u, h.Cpu.Ebx);
        AssertBytes(h, sub, 0x90, 0x90, 0x90, 0x90, 0x90, 0xC3);
        Assert.True(h.Code.BlocksInvalidated >= 1);
    }

    [Fact]
    public void CodeRewrittenByTheLoaderAfterItRanIsDecodedAgain()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, 1);
            asm.hlt();
        });
        TestSystem.RunToHlt(h);
        Assert.Equal(1u, h.Cpu.Eax);
        long decoded = h.Code.BlocksDecoded;

        h.Memory.Write(Code + 1, [2, 0, 0, 0]);
        Assert.Equal(1, h.Code.BlocksInvalidated);
        Restart(h, Code);
        TestSystem.RunToHlt(h);
        Assert.Equal(2u, h.Cpu.Eax);
        Assert.True(h.Code.BlocksDecoded > decoded);

        // Unchanged code is not decoded again.
        decoded = h.Code.BlocksDecoded;
        Restart(h, Code);
        TestSystem.RunToHlt(h);
        Assert.Equal(decoded, h.Code.BlocksDecoded);
    }

    [Fact]
    public void PageCrossingStoreIntoTheNextPagesCodeIsSeen()
    {
        const uint sub = Code + 0x1000; // the next page
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, sub);
            asm.call(eax);
            asm.mov(edx, eax);
            asm.mov(__dword_ptr[sub - 2], 0x99B80000); // bytes 00 00 | B8 99: rewrites the MOV's opcode and first immediate byte
            asm.mov(eax, sub);
            asm.call(eax);
            asm.hlt();
        });
        h.Load(32, sub, asm =>
        {
            asm.mov(eax, 0x11111111);
            asm.ret();
        });
        TestSystem.RunToHlt(h);
        Assert.Equal(0x11111111u, h.Cpu.Edx);
        Assert.Equal(0x11111199u, h.Cpu.Eax);
        Assert.True(h.Code.BlocksInvalidated >= 1);
    }

    [Fact]
    public void StoreThroughAnotherLinearAliasOfTheCodePageIsSeen()
    {
        const uint alias = 0x3FF000; // mapped onto the code's physical page
        using var h = CpuHarness.Flat32(asm =>
        {
            var loop = asm.CreateLabel();
            asm.xor(edx, edx);                      // Code + 0 (2)
            asm.mov(ecx, 2);                        // Code + 2 (5)
            asm.Label(ref loop);
            asm.mov(eax, 0x11111111);               // Code + 7: immediate at Code + 8 .. 11
            asm.add(edx, eax);
            asm.mov(__byte_ptr[alias + 11], 0x33);
            asm.dec(ecx);
            asm.jne(loop);
            asm.hlt();
        });
        TestSystem.EnablePaging(h);
        TestSystem.Map(h, alias, Code);
        TestSystem.RunToHlt(h);
        Assert.Equal(0x11111111u + 0x33111111u, h.Cpu.Edx);
    }

    // ------------------------------------------------------------------ instructions straddling pages

    /// <summary>
    /// Puts <c>mov eax, 0x12345678; ret</c> at linear 0x10FFE: the opcode and the low immediate
    /// byte on the first page, the rest on the next page, which is at <paramref name="page2"/>
    /// physically. Main code at <see cref="Code"/> calls it twice, storing one byte of the second
    /// page in between when <paramref name="guestStore"/> is set.
    /// </summary>
    private static CpuHarness Straddle(uint page2, bool guestStore)
    {
        var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, 0x10FFEu);
            asm.call(eax);
            asm.mov(edx, eax);
            if (guestStore)
            {
                asm.mov(__byte_ptr[0x11000], 0x77);
            }

            asm.mov(eax, 0x10FFEu);
            asm.call(eax);
            asm.hlt();
        });
        h.Memory.Write(0x10FFE, [0xB8, 0x78]);
        h.Memory.Write(page2, [0x56, 0x34, 0x12, 0xC3]);
        if (page2 != 0x11000)
        {
            TestSystem.EnablePaging(h);
            TestSystem.Map(h, 0x11000, page2);
        }

        return h;
    }

    [Theory]
    [InlineData(0x11000u)]
    [InlineData(0x50000u)]
    public void InstructionStraddlingAPageBoundaryExecutes(uint page2)
    {
        using var h = Straddle(page2, guestStore: false);
        TestSystem.RunToHlt(h);
        Assert.Equal(0x12345678u, h.Cpu.Edx);
        Assert.Equal(0x12345678u, h.Cpu.Eax);
    }

    [Theory]
    [InlineData(0x11000u)]
    [InlineData(0x50000u)]
    public void GuestStoreToTheSecondPageOfAStraddlingInstructionRedecodesIt(uint page2)
    {
        using var h = Straddle(page2, guestStore: true);
        TestSystem.RunToHlt(h);
        Assert.Equal(0x12345678u, h.Cpu.Edx);
        Assert.Equal(0x12347778u, h.Cpu.Eax);
        Assert.True(h.Code.BlocksInvalidated >= 1);
    }

    [Theory]
    [InlineData(0x11000u)]
    [InlineData(0x50000u)]
    public void LoaderWriteToTheSecondPageOfAStraddlingInstructionRedecodesIt(uint page2)
    {
        using var h = Straddle(page2, guestStore: false);
        TestSystem.RunToHlt(h);
        Assert.Equal(0x12345678u, h.Cpu.Eax);

        long before = h.Code.BlocksInvalidated;
        h.Memory.Write(page2 + 1, [0xAB]);
        Assert.True(h.Code.BlocksInvalidated > before);
        Restart(h, Code);
        TestSystem.RunToHlt(h);
        Assert.Equal(0x12AB5678u, h.Cpu.Edx);
        Assert.Equal(0x12AB5678u, h.Cpu.Eax);
    }

    [Fact]
    public void RemappingTheSecondPageOfAStraddlingInstructionIsSeenAfterATlbFlush()
    {
        using var h = Straddle(0x50000, guestStore: false);
        TestSystem.RunToHlt(h);
        Assert.Equal(0x12345678u, h.Cpu.Eax);

        // The same linear page now maps other physical memory: no byte of the old code was
        // written, but the instruction's tail is now different.
        h.Memory.Write(0x60000, [0x00, 0x00, 0x99, 0xC3]);
        TestSystem.Map(h, 0x11000, 0x60000);
        Restart(h, Code);
        TestSystem.RunToHlt(h);
        Assert.Equal(0x99000078u, h.Cpu.Eax);
    }
}
