using Emulator.Cpu;
using Emulator.Tests.Cpu;
using Iced.Intel;

namespace Emulator.Tests.Oracle;

/// <summary>The oracle itself: the native executor gives the known answers, and a wrong emulator result would be caught.</summary>
public class OracleSelfTests
{
    [NativeOracleTheory]
    [InlineData(0x7Fu, 0x01u, 0x80u, EFlags.OF | EFlags.SF | EFlags.AF)]
    [InlineData(0xFFu, 0x01u, 0x00u, EFlags.CF | EFlags.ZF | EFlags.AF | EFlags.PF)]
    public void NativeAddGivesTheArchitecturalResult(uint a, uint b, uint sum, uint flags)
    {
        using var native = new NativeExecutor();
        var c = new OracleCase { Flags = 0x202, Eax = 0x12345600 | a, Ebx = 0xABCDEF00 | b };
        var r = native.Run(Instruction.Create(Code.Add_rm8_r8, Register.AL, Register.BL), c, strings: false);
        Assert.Equal(0x12345600 | sum, r.Regs[0]);
        Assert.Equal(c.Ebx, r.Regs[1]);
        Assert.Equal(RefFlags.Describe(flags), RefFlags.Describe(r.Flags));
    }

    [NativeOracleTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void NativeStringOpsUseTheBuffers(bool down)
    {
        using var native = new NativeExecutor();
        var c = new OracleCase { Flags = 0x202 | (down ? EFlags.DF : 0), Ecx = 3, Esi = StateLayout.Src + 8, Edi = StateLayout.Dst + 8 };
        for (int i = 0; i < 64; i++)
        {
            c.Src[i] = (byte)i;
        }

        var r = native.Run(Instruction.CreateRepMovsb(64), c, strings: true);
        Assert.Equal(0u, r.Regs[2]);
        Assert.Equal((uint)(StateLayout.Src + (down ? 5 : 11)), r.Regs[4]);
        Assert.Equal((uint)(StateLayout.Dst + (down ? 5 : 11)), r.Regs[5]);
        byte[] expected = down ? [6, 7, 8] : [8, 9, 10];
        Assert.Equal(expected, r.Dst.Skip(down ? 6 : 8).Take(3).ToArray());
    }

    [NativeOracleTheory]
    [InlineData(0)]
    public void AMismatchIsReported(int unused)
    {
        _ = unused;

        // The same inputs through ADC natively and ADD in the emulator (CF = 1 in): the comparison must notice.
        using var native = new NativeExecutor();
        using var emu = new EmulatorExecutor();
        var c = new OracleCase { Flags = 0x203, Eax = 5, Ebx = 7 };
        var n = native.Run(Instruction.Create(Code.Adc_rm32_r32, Register.EAX, Register.EBX), c, strings: false);
        var e = emu.Run(Instruction.Create(Code.Add_rm32_r32, Register.EAX, Register.EBX), c, strings: false);
        Assert.Equal(13u, n.Regs[0]);
        Assert.Equal(12u, e.Regs[0]);
        Assert.Equal(-1, e.Vector);
    }
}
