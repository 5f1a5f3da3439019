using Emulator.Platform;
using Xunit.Abstractions;

namespace Emulator.Tests.Oracle;

/// <summary>
/// <see cref="FuzzTests.SharedCpus"/> CPUs, each in a mode drawn at random (at most one in real
/// mode) with its own random program, on the same memory: they overwrite each other's code,
/// tables and stacks, and in cycle timing contend for the same cache lines. A class of its own
/// so that xunit runs it in parallel with the other fuzz classes.
/// </summary>
public class SharedMemoryFuzzTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(TimingMode.Functional)]
    [InlineData(TimingMode.Cycle)]
    public void DifferentStreamsOnSharedMemory(TimingMode timing) =>
        FuzzTests.Campaign(output, $"{timing} shared x{FuzzTests.SharedCpus}", unchecked((FuzzTests.Seed * 41) + (int)timing), FuzzTests.Programs(timing == TimingMode.Cycle ? 25 : 50), rng => FuzzTests.Shared(timing, rng));
}
