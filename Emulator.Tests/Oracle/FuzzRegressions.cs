using Emulator.Cpu;
using Emulator.Tests.Cpu;

namespace Emulator.Tests.Oracle;

/// <summary>
/// Programs the fuzzer once found failing (and hand-picked hard cases), kept as regression
/// tests: each must run in its environment without a .NET exception, end, and leave the CPU
/// consistent. New failures from tools/run-fuzz.sh are pasted here as InlineData lines.
/// </summary>
public class FuzzRegressions
{
    [Theory]
    [InlineData(FuzzEnv.Ring0, "F4")]
    [InlineData(FuzzEnv.Ring3, "FA")]
    [InlineData(FuzzEnv.Real, "CD03")]

    // The AP (real mode) ends up at CS:IP = 0120:FFFF on a two-byte instruction that crosses
    // the segment limit, and IVT[13] points there too: a #GP storm that retired nothing and did
    // not advance the clock, so the machine never stopped (fixed: delivery costs a cycle).
    [InlineData(FuzzEnv.Smp2, "84471B113795198FA0CFE7E53FA2E9F0969953CE22E2B9AB64E4D6E4E2A21E86C7465BF542D75F72A2611477B50876B28984300F57BC8AA18E70AD53BE35ACFD")]
    public void ProgramEndsCleanly(FuzzEnv env, string hex)
    {
        string? problem = FuzzTests.RunWithWatchdog(env, Convert.FromHexString(hex));
        Assert.True(problem is null, problem);
    }

    /// <summary>An exception storm (the #UD handler is itself a UD2) still advances the clock, so a cycle limit ends the run.</summary>
    [Fact]
    public async Task ExceptionStormAdvancesTheClock()
    {
        using var h = CpuHarness.Real16(a => a.ud2());
        h.Memory.Write(0x2000, [0x0F, 0x0B]); // ud2
        h.Memory.Write32(6 * 4, 0x2000);      // IVT[6] = 0000:2000
        var run = Task.Run(() => h.Cpu.Run(h.Cpu.Cycles + 500));
        var first = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.True(first == run, "Run did not return: delivering exceptions does not advance the clock");
        Assert.Equal(0, await run);
        Assert.True(h.Cpu.Cycles >= 500);
        Assert.Equal(RunState.Running, h.Cpu.State);
        Assert.True(h.Cpu.ExceptionCounts[6] >= 500);
    }
}
