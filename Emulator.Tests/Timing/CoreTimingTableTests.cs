using Emulator.Timing;
using Iced.Intel;

namespace Emulator.Tests.Timing;

public class CoreTimingTableTests
{
    [Theory]
    [InlineData(Code.Nopd, 1, TimingClass.Simple)]
    [InlineData(Code.Mov_r32_rm32, 1, TimingClass.Simple)]
    [InlineData(Code.Add_rm32_imm8, 1, TimingClass.Simple)]
    [InlineData(Code.Imul_r32_rm32, 4, TimingClass.Simple)]
    [InlineData(Code.Div_rm8, 16, TimingClass.Simple)]
    [InlineData(Code.Div_rm32, 39, TimingClass.Simple)]
    [InlineData(Code.Jne_rel8_32, 1, TimingClass.Branch)]
    [InlineData(Code.Call_rel32_32, 2, TimingClass.Branch)]
    [InlineData(Code.Call_m1632, 30, TimingClass.FarTransfer)]
    [InlineData(Code.Jmp_ptr1632, 30, TimingClass.FarTransfer)]
    [InlineData(Code.Iretd, 40, TimingClass.FarTransfer)]
    [InlineData(Code.Int_imm8, 50, TimingClass.Interrupt)]
    [InlineData(Code.Mov_Sreg_r32m16, 10, TimingClass.SegmentLoad)]
    [InlineData(Code.Popd_DS, 10, TimingClass.SegmentLoad)]
    [InlineData(Code.Lss_r32_m1632, 10, TimingClass.SegmentLoad)]
    [InlineData(Code.Movsd_m32_m32, 2, TimingClass.String)]
    [InlineData(Code.Stosd_m32_EAX, 1, TimingClass.String)]
    [InlineData(Code.Out_DX_AL, 100, TimingClass.Io)]
    [InlineData(Code.Insb_m8_DX, 100, TimingClass.Io)]
    [InlineData(Code.Cpuid, 100, TimingClass.System)]
    [InlineData(Code.Rdtsc, 40, TimingClass.System)]
    [InlineData(Code.Mov_cr_r32, 20, TimingClass.System)]
    [InlineData(Code.Hlt, 0, TimingClass.Halt)]
    [InlineData(Code.Movsd_xmm_xmmm64, 2, TimingClass.FloatingPoint)]
    [InlineData(Code.Fdiv_st0_sti, 38, TimingClass.FloatingPoint)]
    public void BaseCostsAndClasses(Code code, int cost, TimingClass cls)
    {
        Assert.Equal(cost, CoreTimingTable.BaseCost(code));
        Assert.Equal(cls, CoreTimingTable.Class(code));
    }

    [Fact]
    public void OnlyXchgWithMemoryIsImplicitlyLocked()
    {
        Assert.True(CoreTimingTable.IsImplicitlyLocked(Code.Xchg_rm32_r32));
        Assert.False(CoreTimingTable.IsImplicitlyLocked(Code.Xchg_r32_EAX));
        Assert.False(CoreTimingTable.IsImplicitlyLocked(Code.Add_rm32_r32));
    }
}
