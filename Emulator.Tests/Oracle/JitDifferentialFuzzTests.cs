using Emulator.Platform;
using Xunit.Abstractions;

namespace Emulator.Tests.Oracle;

/// <summary>
/// The JIT against the interpreter on the shared-memory fuzz programs (three CPUs rewriting each
/// other's code): every CPU must end with the same state, instruction and cycle counts whether
/// its blocks are interpreted, compiled on their second entry, or compiled with the specialised
/// kernels from their 16th. JIT_PROBE=FILE replays the cases of a fuzz failure file (one per
/// line) instead of drawing new ones, and prints each case's timings.
/// </summary>
public class JitDifferentialFuzzTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(TimingMode.Functional)]
    [InlineData(TimingMode.Cycle)]
    public void CompiledBlocksMatchTheInterpreter(TimingMode timing)
    {
        var cases = new List<FuzzCase>();
        if (Environment.GetEnvironmentVariable("JIT_PROBE") is { } file)
        {
            cases.AddRange(File.ReadAllLines(file).Select(FuzzCase.Parse).OfType<FuzzCase>().Where(c => c.Timing == timing));
        }
        else
        {
            var rng = new Random(unchecked((FuzzTests.Seed * 43) + (int)timing));
            for (int i = 0; i < FuzzTests.Programs(12); i++)
            {
                cases.Add(FuzzTests.Shared(timing, rng));
            }
        }

        bool probe = Environment.GetEnvironmentVariable("JIT_PROBE") is not null;
        long compiledBefore = Emulator.Cpu.Compile.BlockCompiler.Compiled;
        foreach (var fuzz in cases)
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            string interpreted = Digest(fuzz, 0);
            long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
            long c0 = Emulator.Cpu.Compile.BlockCompiler.Compiled;
            string compiled = Digest(fuzz, 2);
            if (probe)
            {
                // Informational (never asserted): where a slow forced-JIT case spends its time.
                output.WriteLine($"interpreted {System.Diagnostics.Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds:F0} ms, compiled {System.Diagnostics.Stopwatch.GetElapsedTime(t1).TotalMilliseconds:F0} ms ({Emulator.Cpu.Compile.BlockCompiler.Compiled - c0} blocks): {interpreted}");
            }

            Assert.True(interpreted == compiled, $"{fuzz.Format()}\ninterpreter: {interpreted}\ncompiled:    {compiled}");
            string kernels = Digest(fuzz, 2, kernelFactor: 8);
            Assert.True(interpreted == kernels, $"{fuzz.Format()}\ninterpreter: {interpreted}\nkernels:     {kernels}");
        }

        output.WriteLine($"{cases.Count} cases, {Emulator.Cpu.Compile.BlockCompiler.Compiled - compiledBefore} blocks compiled (process-wide, other tests included)");
    }

    private static string Digest(FuzzCase fuzz, int jitThreshold, int kernelFactor = Emulator.Cpu.Cpu.DefaultJitKernelFactor)
    {
        string digest = string.Empty;
        void Inspect(Machine m) =>
            digest = $"decoded {m.Code.BlocksDecoded} invalidated {m.Code.BlocksInvalidated}; " +
                string.Join(" | ", m.Cpus.Select(c =>
                    $"cpu{c.Id} {c.State} ins {c.Instructions} cyc {c.Cycles} eip {c.Eip:x} efl {c.GetEflags():x} " +
                    string.Join(" ", Enumerable.Range(0, 8).Select(r => c.RegDword(r * 4).ToString("x")))));
        string? problem = fuzz.Cpus is [{ Env: FuzzEnv.Smp2 } one]
            ? FuzzHarness.RunMachine(one.Program, fuzz.Timing, jitThreshold, Inspect, kernelFactor)
            : FuzzHarness.RunShared(fuzz, jitThreshold, Inspect, kernelFactor);
        return (problem ?? "ok") + "; " + digest;
    }
}
