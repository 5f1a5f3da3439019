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
    public void ProgramEndsCleanly(FuzzEnv env, string hex)
    {
        string? problem = FuzzTests.RunWithWatchdog(env, Convert.FromHexString(hex));
        Assert.True(problem is null, problem);
    }
}
