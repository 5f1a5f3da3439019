using Emulator.Cpu;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Cpu;

public class AluTests
{
    private const uint Arith = EFlags.Arith;

    [Theory]
    [InlineData(0x7FFFFFFFu, 1u, 0x80000000u, EFlags.OF | EFlags.SF | EFlags.AF | EFlags.PF)]
    [InlineData(0xFFFFFFFFu, 1u, 0u, EFlags.CF | EFlags.ZF | EFlags.AF | EFlags.PF)]
    [InlineData(1u, 2u, 3u, EFlags.PF)]
    public void Add32SetsResultAndEveryFlag(uint a, uint b, uint result, uint flags)
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, a);
            asm.mov(ebx, b);
            asm.add(eax, ebx);
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(result, h.Cpu.Eax);
        Assert.Equal(flags, h.Flags & Arith);
    }

    [Fact]
    public void SubAndCmpFlagsDriveSignedAndUnsignedBranches()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            var less = asm.CreateLabel();
            var done = asm.CreateLabel();
            asm.xor(ecx, ecx);
            asm.mov(eax, unchecked((uint)-5));
            asm.cmp(eax, 3);
            asm.jl(less);
            asm.jmp(done);
            asm.Label(ref less);
            asm.or(ecx, 1);
            asm.cmp(eax, 3);
            asm.jb(done);
            asm.or(ecx, 2); // -5 is above 3 unsigned
            asm.Label(ref done);
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(3u, h.Cpu.Ecx);
    }

    [Fact]
    public void IncKeepsCarryAndSetsOverflow()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.stc();
            asm.mov(al, 0x7F);
            asm.inc(al);
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0x80u, h.Cpu.Eax & 0xFF);
        Assert.Equal(EFlags.CF | EFlags.OF | EFlags.SF | EFlags.AF, h.Flags & Arith);
    }

    [Fact]
    public void AdcSbbChainAcross64Bits()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, 0xFFFFFFFF);
            asm.mov(edx, 1);
            asm.add(eax, 1);
            asm.adc(edx, 0);
            asm.mov(ebx, 0);
            asm.mov(ecx, 0);
            asm.sub(ebx, 1);
            asm.sbb(ecx, 0);
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0u, h.Cpu.Eax);
        Assert.Equal(2u, h.Cpu.Edx);
        Assert.Equal(0xFFFFFFFFu, h.Cpu.Ebx);
        Assert.Equal(0xFFFFFFFFu, h.Cpu.Ecx);
        Assert.Equal(EFlags.CF | EFlags.SF | EFlags.PF | EFlags.AF, h.Flags & Arith);
    }

    [Fact]
    public void MemoryReadModifyWriteAndHighByteRegisters()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(__dword_ptr[CpuHarness.DataBase], 0x1234);
            asm.add(__dword_ptr[CpuHarness.DataBase], 0x10);
            asm.mov(eax, 0x11223344);
            asm.add(ah, 0x01);
            asm.neg(__byte_ptr[CpuHarness.DataBase + 4]);
            asm.not(__word_ptr[CpuHarness.DataBase + 6]);
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0x1244u, h.Memory.Read32(CpuHarness.DataBase));
        Assert.Equal(0x11223444u, h.Cpu.Eax);
        Assert.Equal(0xFFFFu, h.Memory.Read16(CpuHarness.DataBase + 6));
    }

    [Fact]
    public void SixteenBitCodeUsesSixteenBitOperandsAndAddressing()
    {
        using var h = CpuHarness.Real16(asm =>
        {
            asm.mov(bx, 0x2000);
            asm.mov(si, 0x10);
            asm.mov(__word_ptr[bx + si], 0xFFFF);
            asm.add(__word_ptr[bx + si], 2);
            asm.mov(ax, __word_ptr[bx + si]);
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(1u, h.Cpu.Eax & 0xFFFF);
        Assert.Equal(1u, h.Memory.Read16(0x2010));
        Assert.Equal(EFlags.CF, h.Flags & EFlags.CF);
    }
}
