using Emulator.Platform;
using Xunit.Abstractions;

namespace Emulator.Tests.Oracle;

/// <summary>
/// The fuzz campaign in cycle timing (the cycle model and the coherent caches on): each mode on
/// a 1-CPU <see cref="Machine"/>, and the 2-CPU INIT/SIPI machine. A class of its own so that
/// xunit runs it in parallel with <see cref="FuzzTests"/>.
/// </summary>
public class CycleFuzzTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(FuzzEnv.Real)]
    [InlineData(FuzzEnv.Ring0)]
    [InlineData(FuzzEnv.Ring0Paging)]
    [InlineData(FuzzEnv.Ring3)]
    [InlineData(FuzzEnv.Ring3Paging)]
    [InlineData(FuzzEnv.Smp2)]
    public void RandomProgramsEndCleanlyInCycleTiming(FuzzEnv env) =>
        FuzzTests.Campaign(output, $"Cycle {env}", unchecked((FuzzTests.Seed * 37) + (int)env), FuzzTests.Programs(50), rng => FuzzTests.One(TimingMode.Cycle, env, rng));
}
